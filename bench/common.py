"""What the benchmark scripts share: which database a size lives in, Django set-up, the busiest
user of each role, and signed-in sessions for the load generator."""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# A size is the denominator of the full state-wide dataset: 1 (full), 10 or 100.
SIZES = (100, 10, 1)
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# PostgreSQL runs are production's stack, so their cache is Redis (a database number no CI
# stage uses); SQLite runs are the embedded default, a cache folder of their own.
REDIS_CACHE = os.environ.get("BENCH_REDIS_CACHE", "redis://127.0.0.1:6379/12")


def database_url(engine: str, size: int) -> str:
    if engine == "postgres":
        return f"{PG_SERVER}/partnerships_bench_{size}"
    return f"sqlite:///{ROOT / 'var' / 'bench' / f'bench-{size}.sqlite3'}"


def cache_url(engine: str, size: int) -> str:
    if engine == "postgres":
        return REDIS_CACHE
    return f"filecache://{ROOT / 'var' / 'bench' / f'cache-{size}'}"


def setup(engine: str, size: int):
    """Point Django at the benchmark database of ``size`` and its cache (call before importing
    models)."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url(engine, size)
    os.environ["CACHE_URL"] = cache_url(engine, size)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def machine() -> dict:
    """The machine the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    pg = subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-tAc", "SHOW server_version"], capture_output=True, text=True
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg.stdout.strip() or None,
        "sqlite": __import__("sqlite3").sqlite_version,
        "kernel": platform.release(),
    }


def busiest_users() -> dict:
    """The busiest user of each role: the one whose pages have the most rows behind them."""
    from django.db.models import Count, Q

    from accounts.enums import OrganizationKind, Role
    from accounts.models import Membership, User
    from internships.models import Application, Placement
    from programs.models import Booking, Facilitation

    coordinator = (
        Membership.objects.filter(role=Role.COORDINATOR, organization__kind=OrganizationKind.AGENCY)
        .annotate(n=Count("organization__led_agreements", filter=Q(organization__led_agreements__status="active")))
        .order_by("-n", "pk")
        .first()
        .user
    )
    staff_school = Booking.objects.values("institution").annotate(n=Count("pk")).order_by("-n").first()["institution"]
    staff = (
        Membership.objects.filter(role=Role.STAFF, organization_id=staff_school, is_active=True)
        .order_by("pk")
        .first()
        .user
    )
    # Each role's user has the same shape of data at every size (an officer who mentors nobody,
    # a student never placed), so a count that changes with size is growth, not a new panel.
    mentors = Placement.objects.exclude(mentor=None).values("mentor")
    officer_id = (
        Facilitation.objects.exclude(officer__in=mentors)
        .values("officer")
        .annotate(n=Count("pk"))
        .order_by("-n", "officer")
        .first()["officer"]
    )
    mentor_id = Placement.objects.values("mentor").annotate(n=Count("pk")).order_by("-n", "mentor").first()["mentor"]
    student_id = (
        Application.objects.exclude(student__in=Placement.objects.values("student"))
        .values("student")
        .annotate(n=Count("pk"))
        .order_by("-n", "student")
        .first()["student"]
    )
    placed = Placement.objects.filter(status="active").order_by("pk").values_list("student", flat=True).first()
    placing_school = (
        Placement.objects.values("application__institution")
        .annotate(n=Count("pk"))
        .order_by("-n", "application__institution")
        .first()["application__institution"]
    )
    return {
        "coordinator": coordinator,
        "staff": staff,
        "officer": User.objects.get(pk=officer_id),
        "mentor": User.objects.get(pk=mentor_id),
        "student": User.objects.get(pk=student_id),
        "intern": User.objects.get(pk=placed),
        "admin": User.objects.filter(is_superuser=True).order_by("pk").first(),
        "school_coordinator": Membership.objects.filter(organization_id=placing_school, role=Role.COORDINATOR)
        .order_by("pk")
        .first()
        .user,
    }


def session_cookie(user) -> str:
    """A signed-in session for ``user``, made the way django.contrib.auth.login makes one."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.middleware import LAST_SEEN_KEY, LOGIN_AT_KEY

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # Signed in now, as accounts.middleware.session_timeouts stamps a real sign-in.
    store[LOGIN_AT_KEY] = store[LAST_SEEN_KEY] = int(time.time())
    store.create()
    return store.session_key


def write_result(name: str, data: dict) -> Path:
    """Write ``data`` as results/<name>.json, stamped with the day it was measured."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {**data, "measured_on": time.strftime("%Y-%m-%d")}
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def measured_on(name: str) -> str:
    """The day results/<name>.json was measured: its stamp, or for a file written before the
    stamp existed, the day it was last committed."""
    path = RESULTS / f"{name}.json"
    stamp = json.loads(path.read_text()).get("measured_on")
    if stamp:
        return stamp
    committed = subprocess.run(
        ["git", "log", "-1", "--format=%cs", "--", str(path)], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return committed or "unknown"
