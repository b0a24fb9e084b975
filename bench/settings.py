"""Settings for the benchmark: the product's own settings, with DEBUG off and one extra route.

The extra route is the ceiling the load test compares against (``bench/urls.py``); it exists
only here, never in the product's URLs.
"""

from config.settings import *  # noqa: F403
from config.settings import LOGGING

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# The load test's clients come back with the same session for the whole run.
SESSION_SAVE_EVERY_REQUEST = False
# Requests are many and alike: log warnings and errors only.
LOGGING = {
    **LOGGING,
    "root": {**LOGGING.get("root", {}), "level": "WARNING"},
    "loggers": {**LOGGING.get("loggers", {}), "django.request": {"level": "ERROR"}},
}
