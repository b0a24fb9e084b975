"""Test-only overrides, for speed and isolation; everything else is config.settings."""

import os
import re
from pathlib import Path

# Under pytest-xdist each worker process gets its own var/ folder and, with Redis, its own
# database numbers: cache.clear() flushes a whole Redis database, and must not flush a neighbour's.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_INDEX = int(_WORKER[2:]) if _WORKER.startswith("gw") else 0
if _WORKER:
    _base = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parents[1] / "var")
    os.environ["VAR_DIR"] = str(_base / f"xdist-{_WORKER}")


def _own_redis_db(url: str) -> str:
    """redis://host:port/N becomes N + 8 × worker index, so two workers never share a database."""
    if not _WORKER_INDEX or not url.startswith("redis"):
        return url
    return re.sub(r"/(\d+)$", lambda m: f"/{int(m.group(1)) + 8 * _WORKER_INDEX}", url)


for _name in ("CACHE_URL", "CELERY_BROKER_URL"):
    if os.environ.get(_name):
        os.environ[_name] = _own_redis_db(os.environ[_name])

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every API list read with kept SQL is compared with the reader's own query (config/compiled.py).
COMPILED_QUERIES_CHECK = True

# Without a Redis URL, rate limits and caches live in this process only.
if not os.environ.get("CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tests publish to memory unless a real broker is named; a test that needs a worker
# starts one on the real broker itself (tests/notifications/test_worker.py).
if not os.environ.get("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}

LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 -- whitenoise looks for it
