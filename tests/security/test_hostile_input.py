"""Hostile values in every form field and API parameter: 400 (or 413) with a message, never a 500,
and nothing written.

The forms and operations come from the permission matrix (tests/<app>/matrix.py, every route and
every API operation with the role that may use it) and the API parameters from the OpenAPI
schema, so a new form or operation is covered without a new line here. Each hostile value goes
into every field of a form (or operation) at once; the body-level attacks (3 MB, 1,001 fields,
10,000 levels of JSON) go once to each. Run it on PostgreSQL too: a NUL that reaches PostgreSQL
is a ValueError there and nothing at all on SQLite.
"""

import json
import re
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import quote, urljoin

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from tests.test_permission_matrix import API, PAGES

NUL = "a\x00b"
LONG = "x" * 10_240  # 10 KiB: over every limit but the minutes' 20,000 characters
# A lone surrogate: raw UTF-8-style bytes in forms and query strings (ED A0 80), an escape in JSON.
SURROGATE_BYTES = "%ED%A0%80"
SURROGATE = "\ud800"
BIG = "x" * 3 * 1024 * 1024
TOO_MANY = 1001
DEEP = 10_000

# Who submits: the first of these the matrix lets through; for the rows that only the agency's
# people may use (a mentor's), the first of theirs a valid request shows to be allowed.
SUBMITTERS = ["coordinator", "staff", "student", "admin", "loner", "outsider"]
AGENCY_PEOPLE = ["officer", "agency_coordinator"]
REFUSED = {400, 413}
# The free-text names an action without a form may read from request.POST directly.
UNFORMED = ["note", "reason", "comment"]
# Forms whose text may be longer than 10 KiB, by design.
LONG_TEXT_ALLOWED = {"partnerships:meeting_minutes": "meeting minutes take up to 20,000 characters"}


def submitter(row):
    for role in SUBMITTERS:
        if row.expected[role] < 400:
            return role
    return None


WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# The session row is the login itself, not a change the request made.
NOT_A_CHANGE = {"django_session"}


@contextmanager
def writes():
    """The tables the requests inside write to (INSERT, UPDATE, DELETE), as a list."""
    written = []

    def record(execute, sql, params, many, context):
        if (match := WRITE.match(sql)) and match.group(2) not in NOT_A_CHANGE:
            written.append(match.group(2))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield written


@contextmanager
def isolated(world):
    """Each row builds its own objects (an application at some stage, a booking) and is rolled
    back afterwards, so the rows of one test do not meet; what the rows cached on the world goes too."""
    savepoint = transaction.savepoint_create()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)
        for key in [key for key in vars(world) if key.startswith("_")]:
            del vars(world)[key]
        for role in SUBMITTERS + AGENCY_PEOPLE:
            world.user(role).refresh_from_db()


class Sweep:
    """Counts the requests and collects whatever went wrong, to report them all at once."""

    def __init__(self, client, world):
        self.client, self.world = client, world
        client.raise_request_exception = False
        self.requests = self.server_errors = 0
        self.problems = []
        self.page_forms, self.seen_forms = 0, set()

    def allowed(self, role, method, url, data, *, api):
        """The role that a valid request shows to be allowed (tried, then rolled back)."""
        if role is not None:
            return role
        for candidate in AGENCY_PEOPLE:
            savepoint = transaction.savepoint_create()
            self.login(candidate)
            kwargs = {"data": _json(data), "content_type": "application/json"} if api and data else {"data": data}
            response = getattr(self.client, method.lower())(url, **kwargs)
            transaction.savepoint_rollback(savepoint)
            if response.status_code < 400 and "/accounts/login/" not in response.get("Location", ""):
                return candidate
        return None

    def login(self, role):
        self.client.logout()
        user = self.world.user(role)
        if user is not None:
            self.client.force_login(user)

    def send(self, label, method, url, *, expect=REFUSED, api=False, **kwargs):
        # A 500 is counted, not raised; on PostgreSQL it leaves the transaction aborted, so each
        # request has a savepoint of its own to go back to.
        savepoint = transaction.savepoint_create()
        with writes() as written:
            response = getattr(self.client, method.lower())(url, **kwargs)
        if response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        self.requests += 1
        status = response.status_code
        if status >= 500:
            self.server_errors += 1
        if expect and status == 302 and not api and not written and _error_message(response):
            pass  # an in-page action refused: back to the page with the error, as the others do
        elif expect and status not in expect:
            body = b"" if response.streaming else response.content[:200]
            self.problems.append(f"{label}: {status} (expected {sorted(expect)}): {body!r}")
        elif status >= 500:
            self.problems.append(f"{label}: {status}")
        if api and status != 204 and not response.get("Content-Type", "").startswith("application/json"):
            self.problems.append(f"{label}: {response['Content-Type']} on an API path")
        if expect and written:
            self.problems.append(f"{label}: {status}, and wrote to {sorted(set(written))}")
        return response


def _error_message(response):
    from django.contrib.messages import ERROR

    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    return any(message.level == ERROR for message in queued)


def _form_fields(data):
    return {name: value for name, value in data.items() if not isinstance(value, SimpleUploadedFile)}


def _fresh_files(data):
    """A fresh copy of each file of a row's data (a file is read to its end by one request)."""
    return {
        name: SimpleUploadedFile(value.name, value.file.getvalue(), value.content_type)
        if isinstance(value, SimpleUploadedFile)
        else value
        for name, value in data.items()
    }


def test_hostile_values_in_every_form_field_are_refused(client, world):
    sweep = Sweep(client, world)
    forms = 0
    for name, row in sorted(PAGES.items()):
        if row.method != "POST" or name == "set_language":
            continue
        with isolated(world):
            forms += _hostile_form(sweep, name, row, submitter(row))
    pages = _get_pages_with_hostile_queries(sweep)
    print(
        f"hostile input (forms): {sweep.requests} requests over {forms} form actions of the matrix, "
        f"{sweep.page_forms} forms found on {pages} pages, and those pages' queries: "
        f"{sweep.server_errors} x 5xx, {len(sweep.problems)} problems"
    )
    assert sweep.problems == [], "\n".join(sweep.problems)
    assert forms > 30


def _hostile_form(sweep, name, row, role):
    world = sweep.world
    url = row.url(world) if row.url else _reverse(name)
    data = row.data(world) if row.data else {}
    role = sweep.allowed(role, "POST", url, _fresh_files(data), api=False)
    if role is None:
        return 0
    sweep.login(role)
    fields = _form_fields(data)
    if not fields:
        # An action with no form may still read a note straight from request.POST.
        for label, value in (("NUL", NUL), ("surrogate", SURROGATE_BYTES)):
            raw = "&".join(f"{n}=a{quote(value) if value is NUL else value}" for n in UNFORMED)
            sweep.send(f"{name} {label}", "POST", url, data=raw, content_type="application/x-www-form-urlencoded")
    if fields:
        for label, value in (("NUL", NUL), ("10 kB", LONG)):
            hostile = {**_fresh_files(data), **dict.fromkeys(fields, value)}
            expect = None if label == "10 kB" and name in LONG_TEXT_ALLOWED else REFUSED
            sweep.send(f"{name} {label}", "POST", url, data=hostile, expect=expect)
        raw = "&".join(f"{quote(field)}=a{SURROGATE_BYTES}" for field in fields)
        sweep.send(f"{name} surrogate", "POST", url, data=raw, content_type="application/x-www-form-urlencoded")
    sweep.send(f"{name} 3 MB", "POST", url, data={**_fresh_files(data), "pad": BIG})
    many = "&".join(f"f{i}=1" for i in range(TOO_MANY))
    sweep.send(f"{name} 1,001 fields", "POST", url, data=many, content_type="application/x-www-form-urlencoded")
    return 1


def _reverse(name):
    from django.urls import reverse

    return reverse(name)


def _get_pages_with_hostile_queries(sweep):
    """Every page read as its reader, with a NUL, a lone surrogate and 10 kB in its query."""
    pages = 0
    for name, row in sorted(PAGES.items()):
        if row.method != "GET" or name.startswith("admin:"):
            continue
        with isolated(sweep.world):
            pages += _hostile_query(sweep, name, row, submitter(row))
    return pages


class _Forms(HTMLParser):
    """The POST forms of a page: action, and each field's name, kind and value."""

    def __init__(self):
        super().__init__()
        self.forms, self.current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self.current = {"action": attrs.get("action") or "", "fields": {}, "files": False}
                self.forms.append(self.current)
            return
        if self.current is None or not attrs.get("name") or attrs["name"] == "csrfmiddlewaretoken":
            return
        kind = attrs.get("type", "text") if tag == "input" else tag
        if kind == "file":
            self.current["files"] = True
        elif kind not in {"submit", "button", "reset", "image"}:
            self.current["fields"][attrs["name"]] = (kind, attrs.get("value", ""))
            self.current.setdefault("maxlength", {})[attrs["name"]] = int(attrs.get("maxlength") or 0)

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def _page_forms(html, page_url):
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        action = urljoin(page_url, form["action"]) if form["action"] else page_url
        if form["fields"] and not action.startswith(("http:", "https:", "/accounts/", "/i18n/")):
            yield action, form["fields"], form.get("maxlength", {})


def _hostile_page_forms(sweep, name, html, url, seen):
    """Every POST form the page shows (creating and editing live on GET pages): each hostile
    value in each of its visible fields, the hidden ones as the page gave them."""
    count = 0
    for action, fields, maxlength in _page_forms(html, url):
        key = (action.split("?")[0], tuple(sorted(fields)))
        if key in seen:
            continue
        seen.add(key)
        count += 1
        hidden = {n: v for n, (kind, v) in fields.items() if kind in {"hidden", "checkbox", "radio"}}
        visible = [n for n, (kind, _v) in fields.items() if kind not in {"hidden", "checkbox", "radio"}]
        if not visible:
            continue
        for label, value in (("NUL", NUL), ("10 kB", LONG)):
            # 10 KiB is a fair value for fields that say they take more (maxlength).
            fair = value is LONG and all(maxlength.get(n, 0) >= len(LONG) for n in visible)
            data = {**hidden, **dict.fromkeys(visible, value)}
            sweep.send(f"{name} form {action} {label}", "POST", action, data=data, expect=None if fair else REFUSED)
        raw = "&".join(
            [f"{quote(n)}={quote(v)}" for n, v in hidden.items()] + [f"{quote(n)}=a{SURROGATE_BYTES}" for n in visible]
        )
        sweep.send(
            f"{name} form {action} surrogate",
            "POST",
            action,
            data=raw,
            content_type="application/x-www-form-urlencoded",
        )
    return count


def _query_names(html):
    """The names of the page's own inputs (its filters), and the common ones."""
    return sorted(set(re.findall(r'name="([\w-]+)"', html)) - {"csrfmiddlewaretoken"} | {"q", "page", "status"})


def _hostile_query(sweep, name, row, role):
    url = row.url(sweep.world) if row.url else _reverse(name)
    role = sweep.allowed(role, "GET", url, {}, api=False)
    if role is None:
        return 0
    sweep.login(role)
    page = sweep.client.get(url)
    html = page.content.decode(errors="replace") if page.status_code == 200 and not page.streaming else ""
    names = _query_names(html)
    sweep.page_forms += _hostile_page_forms(sweep, name, html, url, sweep.seen_forms)
    joiner = "&" if "?" in url else "?"
    for label, value in (("NUL", "a%00b"), ("surrogate", SURROGATE_BYTES)):
        query = "&".join(f"{n}={value}" for n in names)
        sweep.send(f"GET {name} {label}", "GET", f"{url}{joiner}{query}", expect={400})
    query = "&".join(f"{n}={LONG[:1000]}" for n in names)
    sweep.send(f"GET {name} long", "GET", f"{url}{joiner}{query}", expect=None)
    return 1


# The API.


def _schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _body_fields(schema, operation):
    """The writable fields of the JSON body, each with its declared maxLength (or None)."""
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    if not body:
        return {}
    properties = _resolve(schema, body).get("properties", {})
    return {name: spec.get("maxLength") for name, spec in properties.items() if not spec.get("readOnly")}


def _query_fields(operation):
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def _json(value):
    return json.dumps(value)  # ensure_ascii: a lone surrogate goes out as the escape \ud800


def _hostile_operation(sweep, schema, method, path, row, role, operation):
    world = sweep.world
    url = row.url(world) if row.url else path
    data = row.data(world) if row.data else {}
    role = sweep.allowed(role, method, url, data, api=True)
    if role is None:
        return 0
    sweep.login(role)
    label = f"{method} {path}"
    query = _query_fields(operation)
    if query:
        for kind, value in (("NUL", "a%00b"), ("surrogate", SURROGATE_BYTES), ("10 kB", LONG)):
            string = "&".join(f"{n}={value}" for n in query)
            expect = {400} if kind != "10 kB" else None
            sweep.send(f"{label} ?{kind}", "GET", f"{url}?{string}", expect=expect, api=True)
    if method == "GET":
        return 1
    limits = {**dict.fromkeys(data), **_body_fields(schema, operation)}
    fields = set(limits)
    send = method.lower()

    def expect(value, names):
        # 10 KiB is a fair value for a field declared to take more (none is unbounded).
        if value is LONG and all((limits[n] or 0) >= len(LONG) for n in names):
            return None
        return REFUSED

    if fields:
        for kind, value in (("NUL", NUL), ("surrogate", SURROGATE), ("10 kB", LONG)):
            body = _json({**data, **dict.fromkeys(fields, value)})
            sweep.send(
                f"{label} {kind}",
                send,
                url,
                data=body,
                content_type="application/json",
                api=True,
                expect=expect(value, fields),
            )
        # Every kind in every field would be the full product; each field gets one kind
        # (in turn), so every field and every kind is covered.
        kinds = [NUL, SURROGATE, LONG]
        for i, field in enumerate(sorted(fields)):
            body = _json({**data, field: kinds[i % 3]})
            sweep.send(
                f"{label} {field}",
                send,
                url,
                data=body,
                content_type="application/json",
                api=True,
                expect=expect(kinds[i % 3], [field]),
            )
    sweep.send(f"{label} 3 MB", send, url, data=_json({**data, "pad": BIG}), content_type="application/json", api=True)
    deep = "[" * DEEP + "]" * DEEP
    sweep.send(f"{label} deep JSON", send, url, data=deep, content_type="application/json", api=True)
    many = "&".join(f"f{i}=1" for i in range(TOO_MANY))
    sweep.send(
        f"{label} 1,001 fields", send, url, data=many, content_type="application/x-www-form-urlencoded", api=True
    )
    return 1


def test_hostile_values_in_every_api_parameter_are_refused(client, world):
    sweep = Sweep(client, world)
    schema = _schema(client)
    operations = 0
    for (method, path), row in sorted(API.items()):
        operation = schema["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue
        with isolated(world):
            operations += _hostile_operation(sweep, schema, method, path, row, submitter(row), operation)
    print(
        f"hostile input (API): {sweep.requests} requests over {operations} API operations: "
        f"{sweep.server_errors} x 5xx, {len(sweep.problems)} problems"
    )
    assert sweep.problems == [], "\n".join(sweep.problems)
    assert operations > 30
