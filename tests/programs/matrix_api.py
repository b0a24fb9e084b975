"""Permission rows for the programs API (imported by tests/programs/matrix.py).

The agreement is active between world.agency and school A. "coordinator" is school A's
coordinator (a coordinator of a party: publishes, schedules, decides requests), "staff"
school A's staff (books, requests and keeps the school's calendar, may not schedule),
"student" a student of school A (sees no program data), "outsider" staff of school B.
An id in the body that the caller cannot see is a field error (400), like a missing one.
"""

from datetime import time, timedelta

from django.utils import timezone

from programs import services
from programs.enums import BlackoutKind, LocationKind
from tests.matrix import HIDDEN, Row, signed_in
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

NO_STUDENTS = {**HIDDEN, "student": 404}
LIST = signed_in(200, anonymous=401)
READ = {"anonymous": 401, **NO_STUDENTS, "staff": 200, "coordinator": 200, "admin": 200}
# Coordinator-only changes of a visible object: staff see it and are refused.
MANAGE = {"anonymous": 401, **NO_STUDENTS, "staff": 403}
# Creating under an object named in the body: a stranger's id is a field error.
UNSEEN_IN_BODY = {"anonymous": 401, **dict.fromkeys(NO_STUDENTS, 400)}
HIDDEN_IN_LISTS = {"loner", "outsider", "student"}


def manage(status):
    return {**MANAGE, "coordinator": status, "admin": status}


def _once(w, build):
    """Build an object once per test, for rows whose URL, body and marker refer to it."""
    cache = w.__dict__.setdefault("_programs_matrix_cache", {})
    if build not in cache:
        cache[build] = build(w)
    return cache[build]


def _api(path, *args):
    return "/api/v1/" + path.format(*args)


def _soon(days=10, hour=10):
    """A future weekday-agnostic moment, on the hour, in the current time zone."""
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def _agreement(w):
    return active_agreement(w.agency, w.school_a)


def _program(w):
    return ProgramFactory(agreement=_once(w, _agreement), title="Visible Only To Parties Workshop")


def _session(w):
    starts = _soon()
    return services.schedule_session(
        program=_once(w, _program),
        by=w.agency_coordinator,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        location_kind=LocationKind.SCHOOL,
        school=w.school_a,
        capacity_seats=25,
    )


def _past_session(w):
    starts = timezone.now() - timedelta(hours=2)
    return SessionFactory(program=_once(w, _program), starts_at=starts, ends_at=starts + timedelta(hours=1))


def _booking(w):
    return services.book_session(
        session=_once(w, _session), institution=w.school_a, by=w.staff_a, group_name="Marker Group 7Q", seats=4
    )


def _request(w):
    today = timezone.localdate()
    return services.request_session(
        program=_once(w, _program),
        institution=w.school_a,
        by=w.staff_a,
        window_starts_on=today + timedelta(days=7),
        window_ends_on=today + timedelta(days=21),
        preferred_start_time=time(10, 0),
        group_name="Requested Marker Group",
        seats=20,
    )


def _term(w):
    today = timezone.localdate()
    return services.add_term(
        institution=w.school_a,
        by=w.coordinator_a,
        name="Marker Spring Term",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=300),
    )


def _blackout(w):
    day = timezone.localdate() + timedelta(days=60)
    return services.add_blackout(
        organization=w.school_a,
        by=w.coordinator_a,
        name="Marker Testing Week",
        kind=BlackoutKind.TESTING,
        starts_on=day,
        ends_on=day + timedelta(days=4),
    )


def _marker(build, attribute):
    return lambda w: getattr(_once(w, build), attribute)


def _days(first, last):
    today = timezone.localdate()
    return str(today + timedelta(days=first)), str(today + timedelta(days=last))


API = {
    # --- the catalog ---------------------------------------------------------------------------
    ("GET", "/api/v1/programs/"): Row("GET", LIST, shown=_marker(_program, "title"), hidden_from=HIDDEN_IN_LISTS),
    ("POST", "/api/v1/programs/"): Row(
        "POST",
        {**UNSEEN_IN_BODY, "staff": 403, "coordinator": 201, "admin": 201},
        data=lambda w: {
            "agreement": _once(w, _agreement).pk,
            "title": "Staying safe online",
            "topic": "online_safety",
            "grade_band": "middle",
            "format": "virtual",
            "duration_minutes": 45,
        },
    ),
    ("GET", "/api/v1/programs/{id}/"): Row("GET", READ, url=lambda w: _api("programs/{}/", _once(w, _program).pk)),
    # --- sessions ------------------------------------------------------------------------------
    ("GET", "/api/v1/sessions/"): Row(
        "GET",
        LIST,
        shown=lambda w: (_once(w, _session), _once(w, _program).title)[1],
        hidden_from=HIDDEN_IN_LISTS,
    ),
    ("POST", "/api/v1/sessions/"): Row(
        "POST",
        {**UNSEEN_IN_BODY, "staff": 403, "coordinator": 201, "admin": 201},
        data=lambda w: {
            "program": _once(w, _program).pk,
            "starts_at": _soon(days=12).isoformat(),
            "ends_at": (_soon(days=12) + timedelta(hours=1)).isoformat(),
            "location_kind": LocationKind.SCHOOL,
            "school": w.school_a.pk,
            "capacity_seats": 20,
        },
    ),
    ("GET", "/api/v1/sessions/{id}/"): Row("GET", READ, url=lambda w: _api("sessions/{}/", _once(w, _session).pk)),
    ("POST", "/api/v1/sessions/{id}/reschedule/"): Row(
        "POST",
        manage(200),
        url=lambda w: _api("sessions/{}/reschedule/", _once(w, _session).pk),
        data=lambda w: {
            "starts_at": _soon(days=14).isoformat(),
            "ends_at": (_soon(days=14) + timedelta(hours=1)).isoformat(),
        },
    ),
    ("POST", "/api/v1/sessions/{id}/cancel/"): Row(
        "POST",
        manage(200),
        url=lambda w: _api("sessions/{}/cancel/", _once(w, _session).pk),
        data=lambda w: {"reason": "The gym is flooded."},
    ),
    ("POST", "/api/v1/sessions/{id}/capacity/"): Row(
        "POST",
        manage(200),
        url=lambda w: _api("sessions/{}/capacity/", _once(w, _session).pk),
        data=lambda w: {"capacity_seats": 40},
    ),
    # Facilitators and the agreement's coordinators record attendance; the booking's staff may not.
    ("POST", "/api/v1/sessions/{id}/attendance/"): Row(
        "POST",
        manage(200),
        url=lambda w: _api("sessions/{}/attendance/", _once(w, _past_session).pk),
        data=lambda w: {
            "attended": {
                str(
                    booking(
                        _once(w, _past_session), institution=w.school_a, by=w.staff_a, seats=3, group_name="Class 8A"
                    ).pk
                ): 3
            },
            "notes": "Lively questions about phishing.",
        },
    ),
    # --- bookings ------------------------------------------------------------------------------
    ("GET", "/api/v1/bookings/"): Row("GET", LIST, shown=_marker(_booking, "group_name"), hidden_from=HIDDEN_IN_LISTS),
    # Staff and coordinators book for their own school, a party; an admin belongs to no school.
    ("POST", "/api/v1/bookings/"): Row(
        "POST",
        {**UNSEEN_IN_BODY, "staff": 201, "coordinator": 201, "admin": 403},
        data=lambda w: {
            "session": _once(w, _session).pk,
            "institution": w.school_a.pk,
            "group_name": "Class 10C",
            "seats": 5,
        },
    ),
    ("GET", "/api/v1/bookings/{id}/"): Row("GET", READ, url=lambda w: _api("bookings/{}/", _once(w, _booking).pk)),
    # School A's staff made the booking: the booker, the school's coordinator and admins cancel it.
    ("POST", "/api/v1/bookings/{id}/cancel/"): Row(
        "POST",
        {"anonymous": 401, **NO_STUDENTS, "staff": 200, "coordinator": 200, "admin": 200},
        url=lambda w: _api("bookings/{}/cancel/", _once(w, _booking).pk),
        data=lambda w: {"reason": "The class has an exam."},
    ),
    # --- session requests ----------------------------------------------------------------------
    ("GET", "/api/v1/session-requests/"): Row(
        "GET", LIST, shown=_marker(_request, "group_name"), hidden_from=HIDDEN_IN_LISTS
    ),
    ("POST", "/api/v1/session-requests/"): Row(
        "POST",
        {**UNSEEN_IN_BODY, "staff": 201, "coordinator": 201, "admin": 403},
        data=lambda w: {
            "program": _once(w, _program).pk,
            "institution": w.school_a.pk,
            "window_starts_on": _days(7, 21)[0],
            "window_ends_on": _days(7, 21)[1],
            "preferred_start_time": "09:30",
            "group_name": "Grade 9",
            "seats": 25,
        },
    ),
    ("GET", "/api/v1/session-requests/{id}/"): Row(
        "GET", READ, url=lambda w: _api("session-requests/{}/", _once(w, _request).pk)
    ),
    ("POST", "/api/v1/session-requests/{id}/schedule/"): Row(
        "POST",
        manage(201),
        url=lambda w: _api("session-requests/{}/schedule/", _once(w, _request).pk),
        data=lambda w: {"starts_at": _soon(days=10).isoformat()},
    ),
    ("POST", "/api/v1/session-requests/{id}/decline/"): Row(
        "POST",
        manage(200),
        url=lambda w: _api("session-requests/{}/decline/", _once(w, _request).pk),
        data=lambda w: {"reason": "No officer is free in that window."},
    ),
    ("GET", "/api/v1/session-requests/{id}/proposed-slots/"): Row(
        "GET", manage(200), url=lambda w: _api("session-requests/{}/proposed-slots/", _once(w, _request).pk)
    ),
    # --- academic calendars --------------------------------------------------------------------
    ("GET", "/api/v1/terms/"): Row("GET", LIST, shown=_marker(_term, "name"), hidden_from=HIDDEN_IN_LISTS),
    # A school's staff keep its calendar.
    ("POST", "/api/v1/terms/"): Row(
        "POST",
        {**UNSEEN_IN_BODY, "staff": 201, "coordinator": 201, "admin": 201},
        data=lambda w: {
            "institution": w.school_a.pk,
            "name": "Fall term",
            "starts_on": _days(100, 200)[0],
            "ends_on": _days(100, 200)[1],
        },
    ),
    ("GET", "/api/v1/terms/{id}/"): Row("GET", READ, url=lambda w: _api("terms/{}/", _once(w, _term).pk)),
    ("DELETE", "/api/v1/terms/{id}/"): Row(
        "DELETE",
        {"anonymous": 401, **NO_STUDENTS, "staff": 204, "coordinator": 204, "admin": 204},
        url=lambda w: _api("terms/{}/", _once(w, _term).pk),
    ),
    ("GET", "/api/v1/blackouts/"): Row("GET", LIST, shown=_marker(_blackout, "name"), hidden_from=HIDDEN_IN_LISTS),
    ("POST", "/api/v1/blackouts/"): Row(
        "POST",
        {**UNSEEN_IN_BODY, "staff": 201, "coordinator": 201, "admin": 201},
        data=lambda w: {
            "organization": w.school_a.pk,
            "name": "Winter break",
            "kind": BlackoutKind.HOLIDAY,
            "starts_on": _days(90, 100)[0],
            "ends_on": _days(90, 100)[1],
        },
    ),
    ("GET", "/api/v1/blackouts/{id}/"): Row("GET", READ, url=lambda w: _api("blackouts/{}/", _once(w, _blackout).pk)),
    ("DELETE", "/api/v1/blackouts/{id}/"): Row(
        "DELETE",
        {"anonymous": 401, **NO_STUDENTS, "staff": 204, "coordinator": 204, "admin": 204},
        url=lambda w: _api("blackouts/{}/", _once(w, _blackout).pk),
    ),
}
