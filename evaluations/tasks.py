"""Periodic work of evaluations: thin wrappers that scan the database (never ``eta``).

Each is safe to run twice: surveys are unique per template and subject, reminders and emails
carry dedupe keys, closing is a conditional update."""

from celery import shared_task

from evaluations import surveys


@shared_task(ignore_result=True)
def generate_surveys() -> int:
    """Surveys about sessions delivered and placements completed, with their invitations."""
    return surveys.generate_surveys()


@shared_task(ignore_result=True)
def send_survey_reminders() -> int:
    """At most two reminders to people who have not answered (3 days and 1 day before closing)."""
    return surveys.send_survey_reminders()


@shared_task(ignore_result=True)
def close_surveys() -> int:
    """Surveys past their closing time close; their links stop working."""
    return surveys.close_due_surveys()


@shared_task(ignore_result=True)
def snapshot_targets() -> int:
    """Nightly: each target's actual value and status for the current month."""
    from evaluations.services import take_snapshots  # noqa: PLC0415 -- metrics load only when the task runs

    return take_snapshots()
