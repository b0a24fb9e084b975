import os
import shutil
from dataclasses import dataclass

import pytest
from django.db import connection

from accounts.enums import Role
from accounts.models import Organization, User
from tests.factories import AgencyFactory, SchoolFactory, UserFactory, member

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
    has_redis = os.environ.get("CELERY_BROKER_URL", "").startswith("redis")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://…)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (CELERY_BROKER_URL=redis://…)"))


def pytest_sessionfinish(session, exitstatus):
    """With the services up, a skipped test is a failed test: nothing may hide."""
    if not REQUIRE_SERVICES:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"REQUIRE_SERVICES=1: {len(skipped)} test(s) skipped; that is a failure here.", red=True)
        session.exitstatus = 1


@dataclass
class World:
    """Two schools and an agency, one person per role; B's people are outsiders to A."""

    school_a: Organization
    school_b: Organization
    agency: Organization
    coordinator_a: User
    staff_a: User
    student_a: User
    coordinator_b: User
    staff_b: User
    officer: User
    agency_coordinator: User
    admin: User
    loner: User

    def user(self, role: str) -> User | None:
        return {
            "anonymous": None,
            "loner": self.loner,
            "outsider": self.staff_b,
            "outsider_coordinator": self.coordinator_b,
            "student": self.student_a,
            "staff": self.staff_a,
            "officer": self.officer,
            "agency_coordinator": self.agency_coordinator,
            "coordinator": self.coordinator_a,
            "admin": self.admin,
        }[role]


@pytest.fixture
def world(db) -> World:
    school_a = SchoolFactory(name="Lincoln High School")
    school_b = SchoolFactory(name="Jefferson High School")
    agency = AgencyFactory(name="Riverside Police Department")
    return World(
        school_a=school_a,
        school_b=school_b,
        agency=agency,
        coordinator_a=member(school_a, Role.COORDINATOR, full_name="Cora Coordinator"),
        staff_a=member(school_a, Role.STAFF, full_name="Sam Staff"),
        student_a=member(school_a, Role.STUDENT, full_name="Stu Student"),
        coordinator_b=member(school_b, Role.COORDINATOR, full_name="Bea Coordinator"),
        staff_b=member(school_b, Role.STAFF, full_name="Ben Outsider"),
        officer=member(agency, Role.OFFICER, full_name="Officer Olive"),
        agency_coordinator=member(agency, Role.COORDINATOR, full_name="Sgt. Agnes"),
        admin=UserFactory(full_name="Ada Admin", is_superuser=True, is_staff=True),
        loner=UserFactory(full_name="Lonnie Nobody"),
    )


@pytest.fixture(autouse=True)
def _builtin_evaluation_data(request):
    """Migration 0002 ships the built-in metrics and survey templates, but a transactional test
    empties every table: a test with database access gets them back first (two queries when
    they are there)."""
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        return
    request.getfixturevalue("_django_db_helper")
    from evaluations import defaults

    defaults.install()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; each test starts from none."""
    from django.core.cache import cache

    cache.clear()
    yield


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process, shared by tests/e2e and tests/security (two
    fixtures would start Playwright twice in one process, which its sync API refuses)."""
    # Playwright's sync API runs an event loop in this thread; ORM calls stay synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not shutil.which(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
