"""Periodic work on agreements. Each task calls a service that scans for what is due and
writes outbox rows with dedupe keys, so a task run twice (or after a missed day) is harmless."""

from celery import shared_task

from partnerships import services


@shared_task(ignore_result=True)
def end_due_agreements() -> int:
    return services.end_due_agreements()


@shared_task(ignore_result=True)
def send_expiry_reminders() -> int:
    return services.send_expiry_reminders()


@shared_task(ignore_result=True)
def send_review_reminders() -> int:
    return services.send_review_reminders()


@shared_task(ignore_result=True)
def send_meeting_reminders() -> int:
    return services.send_meeting_reminders()


@shared_task(ignore_result=True)
def send_overdue_action_nudges() -> int:
    return services.send_overdue_action_nudges()
