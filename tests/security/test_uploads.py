"""Uploads are checked by content, size and name; calendar imports are bounded; CSV exports are
escaped against spreadsheet formulas.

Every place a file comes in (the résumé, on the page and through the API; the paper consent
scan; an agreement's signed PDF; the .ics import) gets the same attacks: an HTML page, an
executable, a PNG+HTML polyglot and an SVG named .pdf, a file one byte over the limit, a NUL in
the name. Each is refused with a field error (or 400/413) and leaves nothing in the private
files or the upload temp folder. A valid PDF named ../../x.pdf, or with a 300-character name,
is stored under a name the server makes. Bad .ics files (huge, 100,000 events, deeply nested,
a 400 KB line, a rule without an end) are refused or capped in under two seconds.
"""

import csv
import io
import re
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from evaluations.results import FORMULA_STARTS
from internships import services as internship_services
from internships.models import Application
from partnerships.models import AgreementDocument
from programs import ics
from programs.models import BlackoutPeriod
from tests.internships import factories as f
from tests.security.test_hostile_input import Sweep, isolated, submitter, writes
from tests.test_permission_matrix import API, PAGES

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HOSTILE_CONTENT = {
    "HTML named .pdf": b"<html><script>alert(1)</script></html>",
    "EXE named .pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200,
    "PNG+HTML polyglot": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR<html><script>alert(1)</script></html>",
    "SVG named .pdf": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
}
SERVER_NAME = re.compile(r"^[0-9a-f]{32}\.pdf$")


def _files(root):
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def storage(settings, tmp_path):
    """Private files and upload temp files in folders of the test's own, to be counted."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "upload-tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    return tmp_path


def _resume_page(world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    url = reverse("internships:application_create", args=[posting.pk])
    return student, url, {"statement": "I want to serve.", "availability": "Afternoons", "action": "submit"}


def _from_matrix(rows, key):
    row = rows[key]

    def build(world, sweep):
        url = row.url(world) if row.url else key[1]
        data = {k: v for k, v in (row.data(world) if row.data else {}).items() if not hasattr(v, "read")}
        role = sweep.allowed(submitter(row), "POST", url, {**data, **_valid_file(key)}, api=False)
        return world.user(role), url, data

    return build


def _valid_file(key):
    return {UPLOAD_FIELDS[key]: SimpleUploadedFile("ok.pdf", PDF, "application/pdf")}


def _api_resume(world, sweep):
    row = API[("POST", "/api/v1/applications/")]
    data = row.data(world)
    return world.user(submitter(row)), "/api/v1/applications/", data


UPLOAD_FIELDS = {
    "résumé (page)": "resume",
    ("POST", "/api/v1/applications/"): "resume",
    "internships:consent_paper": "scan",
    "partnerships:document_upload": "file",
}
UPLOAD_POINTS = {
    "résumé (page)": (lambda world, sweep: _resume_page(world), internship_services.MAX_RESUME_BYTES, "resumes"),
    ("POST", "/api/v1/applications/"): (_api_resume, internship_services.MAX_RESUME_BYTES, "resumes"),
    "internships:consent_paper": (
        _from_matrix(PAGES, "internships:consent_paper"),
        internship_services.MAX_SCAN_BYTES,
        "consents",
    ),
    "partnerships:document_upload": (
        _from_matrix(PAGES, "partnerships:document_upload"),
        10 * 1024 * 1024,
        "agreements",
    ),
}


def _shown_names():
    """The uploaded files' names as the pages show them (kept apart from the stored name)."""
    yield from Application.objects.exclude(resume_name="").values_list("resume_name", flat=True)
    yield from AgreementDocument.objects.values_list("original_name", flat=True)


def _field_error(response, field):
    """The refusal names the file field: a form of the page's context, or the API's JSON."""
    if response.get("Content-Type", "").startswith("application/json"):
        return field in response.json()
    forms = [value for context in response.context or [] for value in context.flatten().values()]
    return any(getattr(form, "errors", None) and form.errors.get(field) for form in forms if hasattr(form, "is_bound"))


def _attacks(limit):
    for label, content in HOSTILE_CONTENT.items():
        yield label, "cv.pdf", content, False
    yield "limit + 1 byte", "big.pdf", PDF[:5] + b"0" * (limit + 1 - 5), False
    yield "over the request limit", "huge.pdf", PDF[:5] + b"0" * (12 * 1024 * 1024), False
    # Django drops what is not printable from a file name, so the app sees "cv.html.pdf".
    yield "NUL in the name", "cv\x00.html.pdf", PDF, True
    yield "path traversal name", "../../x.pdf", PDF, True
    yield "300-character name", "a" * 300 + ".pdf", PDF, True


def test_uploads_are_checked_by_content_size_and_name(client, world, storage):
    sweep = Sweep(client, world)
    problems, refused, stored, attempts = [], 0, 0, 0
    for point, (build, limit, folder) in UPLOAD_POINTS.items():
        field = UPLOAD_FIELDS[point]
        for label, name, content, acceptable in _attacks(limit):
            with isolated(world):
                user, url, data = build(world, sweep)
                client.force_login(user)
                before = _files(storage / "private")
                upload = SimpleUploadedFile(name, content, "application/pdf")
                with writes() as written:
                    response = client.post(url, {**data, field: upload})
                attempts += 1
                new = _files(storage / "private") - before
                left = _files(storage / "upload-tmp")
                where = f"{point} / {label}"
                if left:
                    problems.append(f"{where}: {len(left)} temp files left")
                if not acceptable:
                    refused += response.status_code in {400, 413}
                    if response.status_code not in {400, 413}:
                        problems.append(f"{where}: {response.status_code}, expected a refusal")
                    if new or written:
                        problems.append(f"{where}: stored {sorted(p.name for p in new)}, wrote {sorted(set(written))}")
                    if response.status_code == 400 and not _field_error(response, field):
                        problems.append(f"{where}: no error on the {field} field")
                    continue
                if response.status_code == 400 and _field_error(response, field) and not new and not written:
                    refused += 1  # a name it will not take, said on the field: as good as a server-made name
                    continue
                if response.status_code >= 400:
                    problems.append(f"{where}: {response.status_code} for a valid PDF")
                    continue
                stored += 1
                for shown in _shown_names():
                    if "/" in shown or "\\" in shown or "\x00" in shown or len(shown) > 200:
                        problems.append(f"{where}: the name shown is {shown[:60]!r}")
                if len(new) != 1:
                    problems.append(f"{where}: {len(new)} files stored")
                for path in new:
                    relative = path.relative_to(storage / "private")
                    if relative.parts[0] != folder or not SERVER_NAME.match(path.name):
                        problems.append(f"{where}: stored as {relative}, not under a name the server made")
    print(
        f"uploads: {attempts} uploads to {len(UPLOAD_POINTS)} upload points: "
        f"{refused} refused with a field error or 413 "
        f"(0 stored, 0 temp files left), {stored} valid PDFs with hostile names stored under server-made names; "
        f"{len(problems)} problems"
    )
    assert problems == [], "\n".join(problems)


# Calendar imports.


def _event(uid, day=0, summary="Closed", extra=""):
    start = (timezone.localdate() + timedelta(days=30 + day)).strftime("%Y%m%d")
    end = (timezone.localdate() + timedelta(days=31 + day)).strftime("%Y%m%d")
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;VALUE=DATE:{start}\r\nDTEND;VALUE=DATE:{end}\r\n"
        f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\n"
    )


def _calendar(*events, head=""):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n" + head + "".join(events) + "END:VCALENDAR\r\n"
    ).encode()


HOSTILE_CALENDARS = {
    # label: (content, at most this many entries may be stored)
    "12 MB file": (b"X" * (12 * 1024 * 1024), 0),
    "600 KB file": (_calendar(_event("pad", extra="X-PAD:" + "y" * 600_000 + "\r\n")), 0),
    "100,000 events": (_calendar(*(_event(f"e{i}", i % 300) for i in range(100_000))), 0),
    "501 events": (_calendar(*(_event(f"e{i}", i % 300) for i in range(501))), 0),
    "10,000 nested components": (("BEGIN:VCALENDAR\r\n" * 10_000 + "END:VCALENDAR\r\n" * 10_000).encode(), 0),
    "a 400 KB unfolded line": (_calendar(_event("long", summary="z" * 400_000)), 1),
    "40,000 folded lines": (_calendar(_event("folded", summary="w" * 70 + "\r\n w" * 40_000)), 1),
    "a NUL in the summary": (_calendar(_event("nul", summary="Closed\x00day")), 0),
    "FREQ=SECONDLY without an end": (
        _calendar(_event("sec", extra="RRULE:FREQ=SECONDLY\r\n")),
        ics.MAX_OCCURRENCES_PER_RULE,
    ),
    "FREQ=DAILY without an end": (_calendar(_event("day", extra="RRULE:FREQ=DAILY\r\n")), ics.MAX_OCCURRENCES_PER_RULE),
}


def test_calendar_imports_are_bounded(client, world, storage):
    row = PAGES["programs:calendar_import"]
    sweep = Sweep(client, world)
    problems, slowest = [], 0.0
    for label, (content, most) in HOSTILE_CALENDARS.items():
        with isolated(world):
            url = row.url(world)
            role = sweep.allowed(submitter(row), "POST", url, row.data(world), api=False)
            client.force_login(world.user(role))
            upload = SimpleUploadedFile("district.ics", content, "text/calendar")
            started = time.perf_counter()
            response = client.post(url, {"file": upload})
            elapsed = time.perf_counter() - started
            slowest = max(slowest, elapsed)
            entries = BlackoutPeriod.objects.filter(organization=world.school_a).count()
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code}")
            if most == 0 and response.status_code not in {400, 413}:
                problems.append(f"{label}: {response.status_code}, expected a refusal")
            if most == 0 and response.status_code == 400 and not _field_error(response, "file"):
                problems.append(f"{label}: refused without a message on the file field")
            if entries > most:
                problems.append(f"{label}: {entries} entries stored (at most {most})")
            if elapsed > 2:
                problems.append(f"{label}: {elapsed:.1f} s")
            for name in BlackoutPeriod.objects.filter(organization=world.school_a).values_list("name", flat=True):
                if len(name) > BlackoutPeriod._meta.get_field("name").max_length:
                    problems.append(f"{label}: a name of {len(name)} characters stored")
    print(
        f"calendar import: {len(HOSTILE_CALENDARS)} hostile .ics files: refused or capped, slowest {slowest:.2f} s; "
        f"{len(problems)} problems"
    )
    assert problems == [], "\n".join(problems)


# CSV exports.


def _csv_links(client, start="/home/"):
    """Every CSV the pages link to, found by following links (not a list kept by hand)."""
    from tests.security.test_xss import crawl

    return [(url, body) for url, status, kind, body in crawl(client, start) if status == 200 and "text/csv" in kind]


def test_every_csv_export_is_escaped_against_formulas(client, db, settings):
    """Every text field of the demo world starts with a formula character; every CSV the site
    offers (on its pages, and through the API with Accept: text/csv) is read back."""
    from tests.security.test_xss import text_fields

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", verbosity=0)
    starts = ["=", "+", "-", "@", "\t", "\r"]
    for model, field in text_fields():
        for i, (pk, current) in enumerate(model._default_manager.values_list("pk", field.name)):
            if current and field.max_length is None or (current and len(current) < field.max_length):
                value = starts[i % len(starts)] + (current or "")
                model._default_manager.filter(pk=pk).update(**{field.name: value[: field.max_length]})
    exports, cells, formulas, escaped = set(), 0, [], 0
    for email in ["coordinator.rusd@demo.test", "coordinator.rpd@demo.test", "admin@demo.test"]:
        client.force_login(User.objects.get(email=email))
        for url, body in _csv_links(client):
            exports.add(url.split("?")[0])
            for row in csv.reader(io.StringIO(body)):
                for cell in row:
                    cells += 1
                    escaped += cell.startswith("'") and cell[1:2] in starts
                    if cell.startswith(FORMULA_STARTS) and not _is_number(cell):
                        formulas.append(f"{url}: {cell[:40]!r}")
    print(
        f"CSV: {len(exports)} CSV exports, {cells} cells read back: {len(formulas)} start with a formula "
        f"character, {escaped} escaped with a leading apostrophe"
    )
    assert formulas == [], "\n".join(formulas[:20])
    assert exports and escaped > 0


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True
