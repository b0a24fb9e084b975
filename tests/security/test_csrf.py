"""CSRF on every unsafe route, and no database write caused by any GET.

The routes come from the permission matrix (every page and every API operation, each with a role
that may use it), so a new route is covered without a new line here. A POST without the token is
a 403 whatever the role, and writes nothing; the API's session-authenticated writes need the
X-CSRFToken header just the same. Each GET is made with the database's writes recorded
(INSERT, UPDATE, DELETE), and the only ones allowed are the reads that are recorded by design.
"""

from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.views import APIView

from tests.security.test_hostile_input import Sweep, isolated, submitter, writes
from tests.test_permission_matrix import API, PAGES

# Writes that a GET makes by design, and why.
GET_WRITES_BY_DESIGN = {
    # ASVS 16.3.2 / FERPA: every read of a student's record is logged (internships.selectors).
    "internships_studentrecordaccess": "a read of a student's record is logged",
    # The private calendar feed remembers when a calendar app last fetched it (shown on the feed
    # settings page, so a forgotten subscription can be spotted and revoked).
    "programs_calendarfeedtoken": "the feed's last use is recorded",
}
# A forged POST carries the victim's CSRF cookie (the browser sends it) but not the token.
CSRF_REFUSED = 403
COOKIE_SECRET = "k" * 32


def _unsafe_api(method):
    return method in {"POST", "PUT", "PATCH", "DELETE"}


def _send(client, method, url, data, *, api):
    if api and data:
        return getattr(client, method.lower())(url, data, content_type="application/json")
    if method == "DELETE":
        return client.delete(url)
    return getattr(client, method.lower())(url, data or {})


def test_every_unsafe_route_refuses_a_post_without_the_csrf_token(client, world):
    checked = refused = 0
    problems = []
    forged = Client(enforce_csrf_checks=True)
    probe = Sweep(client, world)
    rows = [(name, row, False) for name, row in PAGES.items() if row.method != "GET"]
    rows += [(f"{method} {path}", row, True) for (method, path), row in API.items() if _unsafe_api(method)]
    for name, row, api in sorted(rows, key=lambda r: r[0]):
        with isolated(world):
            url = row.url(world) if row.url else (name.split(" ", 1)[1] if api else reverse(name))
            data = row.data(world) if row.data else {}
            # CSRF is checked before the view: a role the matrix refuses would be refused anyway,
            # so the rows no matrix role may use are sent as the coordinator.
            role = probe.allowed(submitter(row), row.method, url, data, api=api) or "coordinator"
            forged.logout()
            forged.cookies[settings.CSRF_COOKIE_NAME] = COOKIE_SECRET
            if (user := world.user(role)) is not None:
                forged.force_login(user)
            with writes() as written:
                response = _send(forged, row.method, url, data, api=api)
            checked += 1
            refused += response.status_code == CSRF_REFUSED
            if response.status_code != CSRF_REFUSED:
                problems.append(f"{name} as {role}: {response.status_code} without a CSRF token")
            if written:
                problems.append(f"{name} as {role}: wrote {sorted(set(written))} without a CSRF token")
    print(f"CSRF: {refused}/{checked} unsafe routes answered 403 to a POST without the token (pages and API)")
    assert problems == [], "\n".join(problems)
    assert checked > 100


def _views(patterns=None, namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _views(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", pattern.callback


def test_no_page_is_csrf_exempt():
    """DRF marks its views exempt and checks CSRF itself for session authentication (tested
    above; the schema and its docs are DRF views too); nothing else may be exempt."""
    exempt = sorted(
        name
        for name, view in _views()
        if getattr(view, "csrf_exempt", False) and not issubclass(getattr(view, "cls", object), APIView)
    )
    print(f"CSRF: {len(exempt)} csrf_exempt views outside the API")
    assert exempt == []


def test_no_get_writes_to_the_database(client, world):
    probe = Sweep(client, world)
    routes = by_design = 0
    problems, allowed = [], {}
    rows = [(name, row, False) for name, row in PAGES.items() if row.method == "GET"]
    rows += [(f"GET {path}", row, True) for (method, path), row in API.items() if method == "GET"]
    for name, row, api in sorted(rows, key=lambda r: r[0]):
        with isolated(world):
            url = row.url(world) if row.url else (name.split(" ", 1)[1] if api else reverse(name))
            role = probe.allowed(submitter(row), "GET", url, {}, api=api) or "anonymous"
            probe.login(role)
            with writes() as written:
                response = client.get(url)
            routes += 1
            if response.status_code >= 500:
                problems.append(f"{name}: {response.status_code}")
            unexpected = sorted(set(written) - set(GET_WRITES_BY_DESIGN))
            if unexpected:
                problems.append(f"{name} as {role}: GET wrote to {unexpected}")
            for table in set(written) & set(GET_WRITES_BY_DESIGN):
                allowed.setdefault(table, []).append(name)
                by_design += 1
    print(
        f"GET writes: {routes} GET routes (pages and API), {len(problems)} with a write; "
        f"{by_design} by design: "
        + "; ".join(f"{t} on {len(n)} ({GET_WRITES_BY_DESIGN[t]})" for t, n in allowed.items())
    )
    assert problems == [], "\n".join(problems)
    assert routes > 100
