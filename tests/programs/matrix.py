"""Permission rows for the programs pages (merged into tests/test_permission_matrix.py); the API
rows live in tests/programs/matrix_api.py.

The workshop runs under an active agreement between world.agency and school A: "coordinator"
is school A's coordinator (a party coordinator, who also books for school A), "staff" school A's
staff (books, may not schedule), "student" a student of school A (no programs pages at all).
"""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from programs import services
from programs.enums import LocationKind
from tests.matrix import HIDDEN, Row, everyone, signed_in
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

try:
    from tests.programs.matrix_api import API
except ImportError:  # pragma: no cover -- while the API rows are being written
    API = {}

NO_STUDENTS = {**HIDDEN, "student": 404}
READERS = {"anonymous": 302, **NO_STUDENTS, "staff": 200, "coordinator": 200, "admin": 200}
CHANGE = {"anonymous": 302, **NO_STUDENTS, "staff": 403, "coordinator": 302, "admin": 302}
# People of school A book and ask for workshops; an admin belongs to no school.
BOOKERS = {"anonymous": 302, **NO_STUDENTS, "staff": 302, "coordinator": 302, "admin": 403}
CALENDAR_KEEPERS = {"anonymous": 302, **HIDDEN, "student": 403, "staff": 302, "coordinator": 302, "admin": 302}


def _url(name, *args):
    return reverse(f"programs:{name}", args=args)


def _once(w, build):
    cache = w.__dict__.setdefault("_programs_matrix", {})
    if build not in cache:
        cache[build] = build(w)
    return cache[build]


def _program(w):
    return ProgramFactory(agreement=active_agreement(w.agency, w.school_a), title="Visible Only To Parties Workshop")


def _session(w):
    return SessionFactory(program=_once(w, _program), location_kind=LocationKind.VENUE, venue="Community hall")


def _booking(w):
    return booking(_once(w, _session), institution=w.school_a, by=w.staff_a, group_name="Class 9B Marker")


def _request(w):
    today = timezone.localdate()
    return services.request_session(
        program=_once(w, _program),
        institution=w.school_a,
        by=w.staff_a,
        window_starts_on=today + timedelta(days=10),
        window_ends_on=today + timedelta(days=30),
        preferred_start_time=timezone.datetime(2026, 1, 1, 10, 0).time(),
        group_name="Grade 8",
        seats=20,
    )


def _blackout(w):
    today = timezone.localdate()
    return services.add_blackout(
        organization=w.school_a,
        by=w.coordinator_a,
        name="Winter break",
        kind="holiday",
        starts_on=today + timedelta(days=40),
        ends_on=today + timedelta(days=50),
    )


def _local(days, hour):
    return (timezone.localtime() + timedelta(days=days)).replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:break-2027@district\r\n"
    b"DTSTART;VALUE=DATE:20271220\r\nDTEND;VALUE=DATE:20280103\r\nSUMMARY:Winter break\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)

PAGES = {
    "programs:catalog": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _program).title,
        hidden_from={"loner", "outsider", "student"},
    ),
    "programs:program_create": Row(
        "GET",
        {
            "anonymous": 302,
            **dict.fromkeys(NO_STUDENTS, 403),
            "staff": 403,
            "coordinator": 200,
            "admin": 200,
        },
        url=lambda w: (_once(w, _program), _url("program_create"))[1],
    ),
    "programs:program_detail": Row("GET", READERS, url=lambda w: _url("program_detail", _once(w, _program).pk)),
    "programs:session_create": Row(
        "GET",
        {**CHANGE, "coordinator": 200, "admin": 200},
        url=lambda w: _url("session_create", _once(w, _program).pk),
    ),
    "programs:request_create": Row(
        "POST",
        BOOKERS,
        url=lambda w: _url("request_create", _once(w, _program).pk),
        data=lambda w: {
            "institution": w.school_a.pk,
            "window_starts_on": str(timezone.localdate() + timedelta(days=7)),
            "window_ends_on": str(timezone.localdate() + timedelta(days=21)),
            "preferred_start_time": "10:00",
            "group_name": "Grade 7",
            "seats": 25,
        },
    ),
    "programs:session_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _session).program.title,
        hidden_from={"loner", "outsider", "student"},
    ),
    "programs:session_detail": Row("GET", READERS, url=lambda w: _url("session_detail", _once(w, _session).pk)),
    "programs:session_book": Row(
        "POST",
        BOOKERS,
        url=lambda w: _url("session_book", _once(w, _session).pk),
        data=lambda w: {"institution": w.school_a.pk, "group_name": "Class 10A", "seats": 3},
    ),
    "programs:session_reschedule": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("session_reschedule", _once(w, _session).pk),
        data=lambda w: {"starts_at": _local(12, 10), "ends_at": _local(12, 11)},
    ),
    "programs:session_cancel": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("session_cancel", _once(w, _session).pk),
        data=lambda w: {"reason": "The officer is needed elsewhere."},
    ),
    "programs:session_capacity": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("session_capacity", _once(w, _session).pk),
        data=lambda w: {"capacity_seats": 40},
    ),
    "programs:session_attendance": Row(
        "GET",
        {**CHANGE, "coordinator": 200, "admin": 200},
        url=lambda w: _url("session_attendance", _once(w, _session).pk),
    ),
    "programs:session_ics": Row("GET", READERS, url=lambda w: _url("session_ics", _once(w, _session).pk)),
    "programs:booking_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _booking).group_name,
        hidden_from={"loner", "outsider", "student"},
    ),
    "programs:booking_cancel": Row(
        "POST",
        {"anonymous": 302, **NO_STUDENTS, "staff": 302, "coordinator": 302, "admin": 302},
        url=lambda w: _url("booking_cancel", _once(w, _booking).pk),
    ),
    "programs:request_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _request).group_name,
        hidden_from={"loner", "outsider", "student"},
    ),
    "programs:request_detail": Row("GET", READERS, url=lambda w: _url("request_detail", _once(w, _request).pk)),
    "programs:request_schedule": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("request_schedule", _once(w, _request).pk),
        data=lambda w: {"starts_at": _local(15, 10)},
    ),
    "programs:request_decline": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("request_decline", _once(w, _request).pk),
        data=lambda w: {"reason": "No officer is free in that window."},
    ),
    "programs:calendar": Row(
        "GET",
        signed_in(200),
        url=lambda w: f"{_url('calendar')}?month={_once(w, _blackout).starts_on:%Y-%m}",
        shown=lambda w: _once(w, _blackout).name,
        hidden_from={"loner", "outsider", "student"},
    ),
    "programs:feed_settings": Row("GET", signed_in(200)),
    # The feed is read by calendar apps: the unguessable token is the credential.
    "programs:feed": Row("GET", everyone(200), url=lambda w: _url("feed", services.issue_feed_token(user=w.staff_a))),
    "programs:calendar_manage": Row(
        "GET",
        {**CALENDAR_KEEPERS, "staff": 200, "coordinator": 200, "admin": 200},
        url=lambda w: _url("calendar_manage", w.school_a.pk),
    ),
    "programs:calendar_entry_add": Row(
        "POST",
        CALENDAR_KEEPERS,
        url=lambda w: _url("calendar_entry_add", w.school_a.pk, "blackouts"),
        data=lambda w: {
            "name": "State testing",
            "kind": "testing",
            "starts_on": str(timezone.localdate() + timedelta(days=60)),
            "ends_on": str(timezone.localdate() + timedelta(days=62)),
        },
    ),
    "programs:calendar_entry_remove": Row(
        "POST",
        CALENDAR_KEEPERS,
        url=lambda w: _url("calendar_entry_remove", w.school_a.pk, "blackouts", _once(w, _blackout).pk),
    ),
    "programs:calendar_import": Row(
        "POST",
        CALENDAR_KEEPERS,
        url=lambda w: _url("calendar_import", w.school_a.pk),
        data=lambda w: {"file": SimpleUploadedFile("district.ics", ICS, content_type="text/calendar")},
    ),
}
