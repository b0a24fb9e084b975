"""Settings of the worker processes the fault runs start: config.settings with a mail
backend that takes its time, and Redis' unacknowledged messages restored every second
(kombu's default scan is about every 100 s)."""

from config.settings import *  # noqa: F403

MAILERS = {
    "default": {
        "BACKEND": "tests.faults.mailers.SlowFolderEmailBackend",
        "OPTIONS": {"file_path": MAIL_FILE_PATH},  # noqa: F405
    }
}

if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
