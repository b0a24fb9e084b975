"""Beat entries for evaluations (merged into config/celery.py). Times are UTC."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Hourly, so a survey follows a session within the hour it was marked delivered.
    "evaluations-generate-surveys": {"task": "evaluations.tasks.generate_surveys", "schedule": crontab(minute=20)},
    "evaluations-close-surveys": {"task": "evaluations.tasks.close_surveys", "schedule": crontab(minute=25)},
    "evaluations-survey-reminders": {
        "task": "evaluations.tasks.send_survey_reminders",
        "schedule": crontab(hour=14, minute=0),
    },
    "evaluations-snapshots": {"task": "evaluations.tasks.snapshot_targets", "schedule": crontab(hour=6, minute=10)},
}
