"""Schemathesis, in process, over every API operation: no 5xx, responses match the schema."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from accounts.enums import Role
from config.wsgi import application
from tests.factories import SchoolFactory, UserFactory, member

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: a request must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def coordinator_token(db, keep_test_connection):
    school = SchoolFactory()
    coordinator = member(school, Role.COORDINATOR)
    member(school, Role.STAFF)
    UserFactory()
    return Token.objects.create(user=coordinator).key


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, coordinator_token):
    # Every check but one: "positive data acceptance" takes any integer id as valid, while
    # an id outside the caller's scope is rightly refused with a field error (400).
    case.call_and_validate(
        headers={"Authorization": f"Token {coordinator_token}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )


def test_schema_lists_the_operations_of_the_frame(client, db):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert {"/api/v1/me/", "/api/v1/organizations/", "/api/v1/memberships/"} <= set(paths)


def test_docs_are_served_locally_without_a_cdn(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/" in page
