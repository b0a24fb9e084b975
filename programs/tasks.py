"""Periodic work of programs: thin wrappers that scan the database (never ``eta``)."""

from celery import shared_task

from programs import services


@shared_task(ignore_result=True)
def send_session_reminders() -> int:
    """Reminders 7 days and 24 hours ahead; safe to run twice or to skip a run."""
    return services.send_session_reminders()
