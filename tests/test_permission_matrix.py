"""The permission matrix: every page and every API operation, for every role.

The rows are checked against the URL resolver and the OpenAPI schema, so a new route
or endpoint without a row here fails the suite. Objects in the URLs belong to school A;
"outsider" is staff of school B, "loner" a signed-in person with no membership.
Another organization's object answers 404, exactly like a missing one.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import services
from accounts.enums import Role
from accounts.models import Membership
from config.plugins import DOMAIN_APPS, app_modules
from notifications.models import OutboundMessage
from tests.matrix import FORBIDDEN_BUT_VISIBLE, HIDDEN, ROLES, SIGNED_IN, Row, everyone, signed_in


def _invitation(world):
    invitation, _ = services.invitation_create(
        organization=world.school_a, email="invitee@example.test", role=Role.STAFF, by=world.coordinator_a
    )
    return invitation


def _staff_membership(world):
    return Membership.objects.get(user=world.staff_a, organization=world.school_a)


def _message(world):
    return OutboundMessage.objects.create(
        dedupe_key="matrix",
        to_email=world.staff_a.email,
        user=world.staff_a,
        subject="Secret subject",
        body_text="x",
    )


PAGES = {
    "landing": Row("GET", {"anonymous": 200, **dict.fromkeys(SIGNED_IN, 302)}),
    "healthz": Row("GET", everyone(200)),
    "set_language": Row("POST", everyone(302), data=lambda w: {"language": "es", "next": "/"}),
    "home": Row("GET", signed_in(200)),
    "accounts:organization_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: w.school_a.name,
        hidden_from={"loner", "outsider"},
    ),
    "accounts:organization_detail": Row(
        "GET",
        {"anonymous": 302, **HIDDEN, "student": 200, "staff": 200, "coordinator": 200, "admin": 200},
        url=lambda w: reverse("accounts:organization_detail", args=[w.school_a.pk]),
    ),
    "accounts:invitation_create": Row(
        "POST",
        {"anonymous": 302, **HIDDEN, **FORBIDDEN_BUT_VISIBLE, "coordinator": 302, "admin": 302},
        url=lambda w: reverse("accounts:invitation_create", args=[w.school_a.pk]),
        data=lambda w: {"email": "someone@example.test", "role": Role.STAFF},
    ),
    "accounts:invitation_revoke": Row(
        "POST",
        {"anonymous": 302, **HIDDEN, "student": 404, "staff": 404, "coordinator": 302, "admin": 302},
        url=lambda w: reverse("accounts:invitation_revoke", args=[_invitation(w).pk]),
    ),
    "accounts:invitation_accept": Row("GET", everyone(410)),
    "accounts:invitation_open": Row(
        "GET", everyone(302), url=lambda w: reverse("accounts:invitation_open", args=["x" * 43])
    ),
    "accounts:membership_deactivate": Row(
        "POST",
        {"anonymous": 302, **HIDDEN, "student": 404, "staff": 403, "coordinator": 302, "admin": 302},
        url=lambda w: reverse("accounts:membership_deactivate", args=[_staff_membership(w).pk]),
    ),
    "accounts:membership_reactivate": Row(
        "POST",
        {"anonymous": 302, **HIDDEN, "student": 404, "staff": 403, "coordinator": 302, "admin": 302},
        url=lambda w: reverse("accounts:membership_reactivate", args=[_staff_membership(w).pk]),
    ),
    "notifications:list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _message(w).subject,
        hidden_from={"loner", "outsider", "student", "coordinator", "admin"},
    ),
    "api-schema": Row("GET", everyone(200)),
    "api-docs": Row("GET", everyone(200)),
    "admin:index": Row("GET", {**dict.fromkeys(ROLES, 302), "admin": 200}),
}

# Routes the matrix leaves to their own, tested elsewhere, permission model.
EXEMPT_PREFIXES = {
    "admin:": "Django admin: staff only, by its own checks (tests/test_admin.py)",
    "account_": "django-allauth's sign-in, sign-up and password flows (tests/accounts/)",
    "api:": "the API, checked operation by operation from the OpenAPI schema below",
}

API = {
    ("GET", "/api/v1/me/"): Row("GET", signed_in(200, anonymous=401)),
    ("GET", "/api/v1/organizations/"): Row(
        "GET",
        signed_in(200, anonymous=401),
        shown=lambda w: w.school_a.name,
        hidden_from={"loner", "outsider"},
    ),
    ("GET", "/api/v1/organizations/{id}/"): Row(
        "GET",
        {"anonymous": 401, **HIDDEN, "student": 200, "staff": 200, "coordinator": 200, "admin": 200},
        url=lambda w: f"/api/v1/organizations/{w.school_a.pk}/",
    ),
    ("GET", "/api/v1/memberships/"): Row(
        "GET",
        signed_in(200, anonymous=401),
        shown=lambda w: w.staff_a.email,
        hidden_from={"loner", "outsider", "student"},
    ),
    ("GET", "/api/v1/memberships/{id}/"): Row(
        "GET",
        {"anonymous": 401, **HIDDEN, "student": 404, "staff": 200, "coordinator": 200, "admin": 200},
        url=lambda w: f"/api/v1/memberships/{_staff_membership(w).pk}/",
    ),
    ("POST", "/api/v1/memberships/{id}/deactivate/"): Row(
        "POST",
        {"anonymous": 401, **HIDDEN, "student": 404, "staff": 403, "coordinator": 200, "admin": 200},
        url=lambda w: f"/api/v1/memberships/{_staff_membership(w).pk}/deactivate/",
    ),
    ("POST", "/api/v1/memberships/{id}/reactivate/"): Row(
        "POST",
        {"anonymous": 401, **HIDDEN, "student": 404, "staff": 403, "coordinator": 200, "admin": 200},
        url=lambda w: f"/api/v1/memberships/{_staff_membership(w).pk}/reactivate/",
    ),
    ("GET", "/api/v1/invitations/"): Row(
        "GET",
        signed_in(200, anonymous=401),
        shown=lambda w: _invitation(w).email,
        hidden_from={"loner", "outsider", "student", "staff"},
    ),
    ("POST", "/api/v1/invitations/"): Row(
        "POST",
        # the organization field only accepts organizations one can see: 400 for strangers
        {
            "anonymous": 401,
            "loner": 400,
            "outsider": 400,
            **FORBIDDEN_BUT_VISIBLE,
            "coordinator": 201,
            "admin": 201,
        },
        data=lambda w: {"organization": w.school_a.pk, "email": "new@example.test", "role": Role.STAFF},
    ),
    ("GET", "/api/v1/invitations/{id}/"): Row(
        "GET",
        {"anonymous": 401, **HIDDEN, "student": 404, "staff": 404, "coordinator": 200, "admin": 200},
        url=lambda w: f"/api/v1/invitations/{_invitation(w).pk}/",
    ),
    ("POST", "/api/v1/invitations/{id}/revoke/"): Row(
        "POST",
        {"anonymous": 401, **HIDDEN, "student": 404, "staff": 404, "coordinator": 200, "admin": 200},
        url=lambda w: f"/api/v1/invitations/{_invitation(w).pk}/revoke/",
    ),
    ("GET", "/api/v1/notifications/"): Row(
        "GET",
        signed_in(200, anonymous=401),
        shown=lambda w: _message(w).subject,
        hidden_from={"loner", "outsider", "student", "coordinator", "admin"},
    ),
    ("GET", "/api/v1/notifications/{id}/"): Row(
        "GET",
        {
            "anonymous": 401,
            "loner": 404,
            "outsider": 404,
            "student": 404,
            "staff": 200,
            "coordinator": 404,
            "admin": 404,
        },
        url=lambda w: f"/api/v1/notifications/{_message(w).pk}/",
    ),
}


# Each domain app adds its rows in tests/<app>/matrix.py (PAGES and API dicts).
for _rows in app_modules("matrix", apps=[f"tests.{app}" for app in DOMAIN_APPS]):
    PAGES.update(getattr(_rows, "PAGES", {}))
    API.update(getattr(_rows, "API", {}))


def _route_names(patterns=None, namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or f'<unnamed {pattern.pattern}>'}"


def _schema_operations(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_route_has_a_row_in_the_matrix():
    names = set(_route_names())
    missing = sorted(n for n in names if n not in PAGES and not n.startswith(tuple(EXEMPT_PREFIXES)))
    assert missing == [], f"Routes without a row in the permission matrix: {missing}"
    stale = sorted(set(PAGES) - names)
    assert stale == [], f"Matrix rows for routes that no longer exist: {stale}"


def test_every_api_operation_has_a_row_in_the_matrix(client, db):
    operations = _schema_operations(client)
    assert operations, "the schema lists no operations"
    assert sorted(operations - set(API)) == [], "API operations without a row in the permission matrix"
    assert sorted(set(API) - operations) == [], "Matrix rows for API operations that no longer exist"


def _api_route_paths(patterns=None, prefix="", namespace=""):
    """Every API route as the schema would spell it: /api/v1/agreements/{id}/sign/."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _api_route_paths(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and namespace.startswith("api:"):
            route = prefix + str(pattern.pattern)
            if "format" in pattern.pattern.regex.groupindex:
                continue  # DRF's ".json" suffix twin of a route that is checked itself
            route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("{pk}", "{id}")
            route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{pk}", "{id}")
            yield pattern.name, "/" + route.replace("^", "").replace("$", "")


def test_every_api_route_is_in_the_schema(client, db):
    operations = {path for _, path in _schema_operations(client)}
    routes = dict(_api_route_paths())
    assert len(routes) > 10
    undocumented = sorted(
        f"{name} {path}" for name, path in routes.items() if path not in operations and name not in {"api-root"}
    )
    assert undocumented == [], f"API routes missing from the schema: {undocumented}"


def _request(client, world, row, role, default_url, *, api):
    row.marker = row.shown(world) if row.shown else None  # create the leakable data first
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    url = row.url(world) if row.url else default_url
    data = row.data(world) if row.data else {}
    if row.method == "GET":
        return client.get(url)
    if row.method in {"PATCH", "DELETE"}:
        return getattr(client, row.method.lower())(url, data, content_type="application/json")
    if api:
        return client.post(url, data, content_type="application/json")
    return client.post(url, data)


def _check(response, row, role, world):
    expected = row.expected[role]
    assert response.status_code == expected, (
        f"{role}: expected {expected}, got {response.status_code}: {response.content[:300]!r}"
    )
    if row.shown and expected == 200:
        marker = row.marker
        body = response.content.decode()
        if role in row.hidden_from:
            assert marker not in body, f"{role} sees {marker!r}"
        else:
            assert marker in body, f"{role} should see {marker!r}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_permissions(client, world, name, role):
    row = PAGES[name]
    default_url = reverse(name) if not row.url else None
    response = _request(client, world, row, role, default_url, api=False)
    _check(response, row, role, world)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(API), ids=lambda op: f"{op[0]} {op[1]}")
def test_api_permissions(client, world, operation, role):
    row = API[operation]
    response = _request(client, world, row, role, operation[1], api=True)
    _check(response, row, role, world)
    if operation[1].startswith("/api/") and response.status_code != 204:
        assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("role", ["loner", "outsider", "student", "staff"])
def test_refused_writes_change_nothing(client, world, role):
    membership = _staff_membership(world)
    client.force_login(world.user(role))
    client.post(reverse("accounts:membership_deactivate", args=[membership.pk]))
    client.post(f"/api/v1/memberships/{membership.pk}/deactivate/")
    membership.refresh_from_db()
    assert membership.is_active is True
