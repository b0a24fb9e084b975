"""A marked script payload in every text a person can edit, then every page, email and .ics that
shows it: 0 unescaped markers.

The fields are found by model introspection (every CharField and TextField of the project's apps,
less choices, e-mail addresses, hashes, tokens and keys). The demo world is built with the payload
already in each of them (so the emails and calendar files made along the way carry it), and the
fields the demo build looks things up by get it afterwards. Then the site is crawled, link by
link, as a person in every role, and the outbox's HTML bodies and every .ics are read. In the
browser half, headless Chromium visits the busiest pages with the corpus loaded and counts the
alert dialogs: 0.
"""

import re
from collections import Counter
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.db.models.signals import pre_save
from django.urls import Resolver404, resolve

from accounts.models import User
from notifications.models import OutboundMessage

PROJECT_APPS = {"accounts", "partnerships", "programs", "internships", "evaluations"}
# Not text a person writes: secrets and their hashes, keys the code matches on, stored files.
NOT_FREE_TEXT = re.compile(r"token|hash|key|uid|lineage|code|password|time_zone|language|filename|file|ics_")
# The demo build finds these again by their exact value, so they are marked after it.
LOOKED_UP = {("partnerships", "agreement", "title"), ("programs", "program", "title")}
MARKER = re.compile(r"<svg onload=alert\(\d+\)>|<script>alert\(\"xss-\d+\"\)|<img src=x onerror=alert\(\d+\)>")
INJECTED_ICS_LINE = re.compile(r"^X-INJECTED", re.MULTILINE)
# A link, image, frame or form target that runs script (the page's own favicon is a constant "data:,").
DANGEROUS_URL = re.compile(
    r"""<(?:a|area|img|iframe|form|embed|object)\b[^>]*?\b(?:href|src|action|data)\s*=\s*["']?\s*(?:javascript|data|vbscript):""",
    re.IGNORECASE,
)
CRAWLERS = [
    "admin@demo.test",
    "coordinator.rpd@demo.test",
    "coordinator.rusd@demo.test",
    "coordinator.stateu@demo.test",
    "principal.lincoln@demo.test",
    "staff.lincoln@demo.test",
    "officer.rpd@demo.test",
]
PER_ROUTE = 3  # instances of one route (three sessions, not all fifty) per person
MAX_PAGES = 180  # per person


def text_fields():
    """(model, field) for every field a person can type into."""
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if (
                isinstance(field, (models.CharField, models.TextField))
                and not isinstance(field, (models.EmailField, models.SlugField))
                and not field.choices
                and not NOT_FREE_TEXT.search(field.name)
            ):
                yield model, field


def payload(number: int, field) -> str:
    """The longest payload the column takes: a script tag, an attribute break-out, an SVG."""
    if isinstance(field, models.URLField):
        return f"javascript:alert({number})//"
    full = f'<script>alert("xss-{number}")</script>"><img src=x onerror=alert({number})>\r\nX-INJECTED:{number}'
    for candidate in (full, f'"><svg onload=alert({number})>', f"<svg onload=alert({number})>"):
        if field.max_length is None or len(candidate) <= field.max_length:
            return candidate
    return ""


class Corpus:
    def __init__(self):
        self.fields = list(text_fields())
        self.number = {(m._meta.label, f.name): i for i, (m, f) in enumerate(self.fields, start=1)}
        self.marked = set()

    def value(self, model, field, current):
        mark = payload(self.number[(model._meta.label, field.name)], field)
        if not mark or (current and mark in current):
            return current
        self.marked.add((model._meta.label, field.name))
        if isinstance(field, models.URLField):
            return mark
        room = None if field.max_length is None else field.max_length - len(mark)
        kept = (current or "")[: room if room is not None else None] if room is None or room > 0 else ""
        return kept + mark

    @contextmanager
    def while_saving(self):
        """Every row saved inside gets the payload appended to each of its text fields."""

        def mark(sender, instance, **kwargs):
            for model, field in self.fields:
                if model is sender and (model._meta.app_label, model._meta.model_name, field.name) not in LOOKED_UP:
                    setattr(instance, field.attname, self.value(model, field, getattr(instance, field.attname)))

        pre_save.connect(mark)
        try:
            yield
        finally:
            pre_save.disconnect(mark)

    def everywhere(self):
        """The payload in every text field of every row (those the build skipped, and rows made
        by bulk_create or update)."""
        for model, field in self.fields:
            for pk, current in model._default_manager.values_list("pk", field.name):
                marked = self.value(model, field, current)
                if marked != current:
                    model._default_manager.filter(pk=pk).update(**{field.name: marked})


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _route(path):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def crawl(client, start="/home/"):
    """Every page reachable by links from the home page (GET, same site, not the admin or the
    sign-out), at most PER_ROUTE instances of a route."""
    seen, queue, per_route, pages = set(), [start], Counter(), []
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        route = _route(path)
        if url in seen or route is None or route.startswith(("admin:", "account_", "api")):
            continue
        seen.add(url)
        per_route[route] += 1
        if per_route[route] > PER_ROUTE:
            continue
        response = client.get(url)
        if response.streaming:
            body = b"".join(response.streaming_content).decode(errors="replace")
        else:
            body = response.content.decode(errors="replace")
        pages.append((url, response.status_code, response.get("Content-Type", ""), body))
        if "html" in response.get("Content-Type", "") and response.status_code == 200:
            parser = _Links()
            parser.feed(body)
            for href in parser.links:
                absolute = urljoin(url, href)
                if absolute.startswith("/") and not absolute.startswith("//"):
                    queue.append(absolute.split("#")[0])
    return pages


def _build_corpus(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    corpus = Corpus()
    with corpus.while_saving():
        call_command("seed_demo", verbosity=0)
    corpus.everywhere()
    return corpus


@pytest.fixture
def corpus(db, settings):
    return _build_corpus(settings)


def test_no_unescaped_marker_in_any_page_email_or_ics(client, corpus):
    problems, pages, html_pages, ics_files = [], set(), 0, 0
    showing = 0
    for email in CRAWLERS:
        client.force_login(User.objects.get(email=email))
        for url, status, content_type, body in crawl(client):
            pages.add(url)
            showing += "alert(" in body
            if status >= 500:
                problems.append(f"{email} {url}: {status}")
            if "html" in content_type:
                html_pages += 1
                for found in MARKER.findall(body):
                    problems.append(f"{email} {url}: unescaped {found!r}")
                for found in DANGEROUS_URL.findall(body):
                    problems.append(f"{email} {url}: {found!r}")
            if "calendar" in content_type:
                ics_files += 1
                if INJECTED_ICS_LINE.search(body):
                    problems.append(f"{email} {url}: a line injected into the .ics")
    messages = list(OutboundMessage.objects.all())
    for message in messages:
        for found in MARKER.findall(message.body_html):
            problems.append(f"email {message.dedupe_key}: unescaped {found!r} in the HTML body")
        for found in DANGEROUS_URL.findall(message.body_html):
            problems.append(f"email {message.dedupe_key}: {found!r} in the HTML body")
        if message.ics_content:
            ics_files += 1
            if INJECTED_ICS_LINE.search(message.ics_content):
                problems.append(f"email {message.dedupe_key}: a line injected into its .ics")
        if "\n" in message.subject or "\r" in message.subject:
            problems.append(f"email {message.dedupe_key}: a line break in the subject")
    shown = sum(1 for *_, body in _all_bodies(messages) if "alert(" in body)
    print(
        f"XSS: {len(corpus.marked)} of {len(corpus.fields)} text fields marked; {len(pages)} pages "
        f"({html_pages} HTML renderings as {len(CRAWLERS)} people, {showing} showing the payload), "
        f"{len(messages)} outbox emails, "
        f"{ics_files} .ics: {len(problems)} unescaped markers"
    )
    assert problems == [], "\n".join(problems[:50])
    assert len(pages) > 100 and showing > 100 and shown > 10, "too little of the corpus was shown to prove anything"


def _all_bodies(messages):
    for message in messages:
        yield message.dedupe_key, message.body_html or message.body_text


BUSIEST = 20  # pages per person in the browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_alert_dialog_fires_in_chromium(live_server, browser, settings, client):
    """The same corpus in a real browser: the pages most people open, as a coordinator, a school's
    staff member and an officer (the join links), with every dialog counted."""
    from django.conf import settings as live_settings

    _build_corpus(settings)
    dialogs, visited, dialogs_counted = [], 0, False
    for email in ["coordinator.rpd@demo.test", "staff.lincoln@demo.test", "officer.rpd@demo.test"]:
        client.force_login(User.objects.get(email=email))
        urls = [url for url, status, kind, _body in crawl(client) if status == 200 and "html" in kind][:BUSIEST]
        context = browser.new_context()
        cookie = client.cookies[live_settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": live_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.on("dialog", lambda dialog, email=email, page=page: _record(dialogs, email, page, dialog))
        if not dialogs_counted:  # the control: a dialog that does fire is counted
            page.evaluate("alert('control')")
            dialogs_counted = dialogs.pop()[2] == "control"
        for url in urls:
            page.goto(live_server.url + url)
            page.wait_for_load_state("load")
            visited += 1
        context.close()
    print(f"XSS in Chromium: {visited} page visits as 3 people with the corpus loaded: {len(dialogs)} alert dialogs")
    assert dialogs_counted
    assert dialogs == []
    assert visited >= 40


def _record(dialogs, email, page, dialog):
    dialogs.append((email, page.url, dialog.message))
    dialog.dismiss()
