"""Beat entries for partnerships (merged into config/celery.py). Times are UTC: 07:00 UTC is
the small hours across the continental US, before anyone opens the dashboard."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "partnerships-end-due-agreements": {
        "task": "partnerships.tasks.end_due_agreements",
        "schedule": crontab(hour=7, minute=0),
    },
    "partnerships-expiry-reminders": {
        "task": "partnerships.tasks.send_expiry_reminders",
        "schedule": crontab(hour=7, minute=10),
    },
    "partnerships-review-reminders": {
        "task": "partnerships.tasks.send_review_reminders",
        "schedule": crontab(hour=7, minute=20),
    },
    "partnerships-overdue-action-nudges": {
        "task": "partnerships.tasks.send_overdue_action_nudges",
        "schedule": crontab(hour=13, minute=0),
    },
    # Meetings are reminded about a day ahead; hourly keeps that within the hour.
    "partnerships-meeting-reminders": {
        "task": "partnerships.tasks.send_meeting_reminders",
        "schedule": crontab(minute=5),
    },
}
