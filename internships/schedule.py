"""Beat entries for internships (merged into config/celery.py). Times are UTC."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "internships-close-postings": {"task": "internships.tasks.close_postings", "schedule": crontab(hour=7, minute=30)},
    # Offers expire to the hour they were given; hourly keeps that within the hour.
    "internships-expire-offers": {"task": "internships.tasks.expire_offers", "schedule": crontab(minute=15)},
    "internships-reminders": {"task": "internships.tasks.send_reminders", "schedule": crontab(hour=13, minute=30)},
    "internships-watch-mentoring": {
        "task": "internships.tasks.watch_mentoring",
        "schedule": crontab(hour=7, minute=40),
    },
}
