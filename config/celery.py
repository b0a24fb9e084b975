"""The Celery app and the beat schedule, as one readable table.

Periodic tasks scan the database for what is due and write outbox rows with dedupe
keys, so running one twice or skipping one is harmless.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("partnerships")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule():
    from django.conf import settings  # noqa: PLC0415 -- read when Celery configures, not at import

    from config.plugins import app_modules  # noqa: PLC0415 -- imports the apps, which need settings

    schedule = {
        "outbox-sweep": {
            "task": "notifications.tasks.sweep_outbox",
            "schedule": float(settings.OUTBOX_SWEEP_SECONDS),
        },
        # Personal data past its retention period (accounts.retention), at night.
        "retention-purge": {"task": "accounts.tasks.purge_personal_data", "schedule": crontab(hour=8, minute=10)},
    }
    # Each app lists its periodic tasks in <app>/schedule.py as BEAT_SCHEDULE.
    for module in app_modules("schedule"):
        schedule.update(module.BEAT_SCHEDULE)
    return schedule


@app.on_after_configure.connect
def _install_beat_schedule(sender, **kwargs):
    sender.conf.beat_schedule = _beat_schedule()
