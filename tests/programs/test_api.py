"""The programs API: field errors that change nothing, bookings and the waitlist, who sees a
join link, scope (404) before permission (403) before the body (400), bounded list queries."""

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.enums import Role
from accounts.models import Membership
from programs import selectors, services
from programs.enums import BookingStatus, LocationKind, RequestStatus, SessionStatus
from programs.models import BlackoutPeriod, Booking, Facilitation, Program, Session, SessionRequest, Term
from tests.factories import member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking, staff_of

pytestmark = pytest.mark.django_db

JOIN = "https://meet.example.test/online-safety-9b"


def _soon(days=10, hour=10):
    return (timezone.localtime() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def program(world):
    return ProgramFactory(agreement=active_agreement(world.agency, world.school_a), title="Online Safety 101")


def _schedule(world, program, *, capacity=10, virtual=False, facilitators=(), days=10):
    starts = _soon(days)
    return services.schedule_session(
        program=program,
        by=world.agency_coordinator,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        location_kind=LocationKind.VIRTUAL if virtual else LocationKind.SCHOOL,
        school=None if virtual else world.school_a,
        join_url=JOIN if virtual else "",
        capacity_seats=capacity,
        facilitators=facilitators,
    )


def _book(client, user, session, institution, seats, group="Class 9B"):
    client.force_login(user)
    return client.post(
        "/api/v1/bookings/",
        {"session": session.pk, "institution": institution.pk, "group_name": group, "seats": seats},
        content_type="application/json",
    )


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response.json()


# --- bad input: field errors, nothing changed ------------------------------------------------------


def test_session_ending_before_it_starts_is_a_field_error(client, world, program):
    client.force_login(world.coordinator_a)
    starts = _soon()
    response = _post(
        client,
        "/api/v1/sessions/",
        {
            "program": program.pk,
            "starts_at": starts.isoformat(),
            "ends_at": (starts - timedelta(minutes=30)).isoformat(),
            "location_kind": LocationKind.SCHOOL,
            "school": world.school_a.pk,
        },
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()
    assert not Session.objects.exists()


def test_reschedule_ending_before_it_starts_is_a_field_error(client, world, program):
    session = _schedule(world, program)
    scheduled = session.starts_at  # not _soon() again: the request leaves its school's zone active
    client.force_login(world.coordinator_a)
    starts = _soon(20)
    response = _post(
        client,
        f"/api/v1/sessions/{session.pk}/reschedule/",
        {"starts_at": starts.isoformat(), "ends_at": starts.isoformat()},
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()
    session.refresh_from_db()
    assert session.starts_at == scheduled and session.ical_sequence == 0


@pytest.mark.parametrize(
    ("url", "field"),
    [("/api/v1/bookings/", "seats"), ("/api/v1/sessions/{}/capacity/", "capacity_seats")],
)
def test_zero_seats_is_a_field_error(client, world, program, url, field):
    session = _schedule(world, program)
    client.force_login(world.coordinator_a)
    data = {"session": session.pk, "institution": world.school_a.pk, "group_name": "9B", field: 0}
    response = _post(client, url.format(session.pk), data)
    assert response.status_code == 400
    assert field in response.json()
    session.refresh_from_db()
    assert session.capacity_seats == 10
    assert not Booking.objects.exists()


def test_new_session_with_zero_seats_is_a_field_error(client, world, program):
    client.force_login(world.coordinator_a)
    starts = _soon()
    response = _post(
        client,
        "/api/v1/sessions/",
        {
            "program": program.pk,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "school": world.school_a.pk,
            "capacity_seats": 0,
        },
    )
    assert response.status_code == 400
    assert "capacity_seats" in response.json()
    assert not Session.objects.exists()


def test_scheduling_at_a_school_that_is_not_a_party_is_a_field_error(client, world, program):
    # The agency also works with school B (under another agreement), so its coordinator can name it.
    active_agreement(world.agency, world.school_b)
    client.force_login(world.agency_coordinator)
    starts = _soon()
    response = _post(
        client,
        "/api/v1/sessions/",
        {
            "program": program.pk,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "location_kind": LocationKind.SCHOOL,
            "school": world.school_b.pk,
        },
    )
    assert response.status_code == 400
    assert "is not a party" in response.json()["school"][0]
    assert not Session.objects.exists()


def test_a_school_the_caller_does_not_work_with_does_not_exist(client, world, program):
    """School A's coordinator cannot learn school B's name by probing ids."""
    client.force_login(world.coordinator_a)
    starts = _soon()
    response = _post(
        client,
        "/api/v1/sessions/",
        {
            "program": program.pk,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "school": world.school_b.pk,
        },
    )
    assert response.status_code == 400
    assert world.school_b.name not in response.content.decode()
    assert not Session.objects.exists()


def test_booking_for_a_school_that_is_not_a_party_is_a_field_error(client, world, program):
    session = _schedule(world, program)
    Membership.objects.create(user=world.staff_a, organization=world.school_b, role=Role.STAFF)
    response = _book(client, world.staff_a, session, world.school_b, 3)
    assert response.status_code == 400
    assert "institution" in response.json()
    assert not Booking.objects.exists()


@pytest.mark.parametrize("key", ["999999", "abc"])
def test_attendance_naming_an_unknown_booking_is_a_field_error(client, world, program, key):
    starts = timezone.now() - timedelta(hours=2)
    session = SessionFactory(program=program, starts_at=starts, ends_at=starts + timedelta(hours=1))
    confirmed = booking(session, institution=world.school_a, by=world.staff_a, seats=5)
    client.force_login(world.coordinator_a)
    response = _post(
        client,
        f"/api/v1/sessions/{session.pk}/attendance/",
        {"attended": {str(confirmed.pk): 5, key: 3}, "notes": "Went well."},
    )
    assert response.status_code == 400
    assert "attended" in response.json()
    session.refresh_from_db()
    confirmed.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED and session.facilitator_notes == ""
    assert confirmed.attended_count is None


def test_attendance_is_recorded_by_the_facilitator(client, world, program):
    starts = timezone.now() - timedelta(hours=2)
    session = SessionFactory(program=program, starts_at=starts, ends_at=starts + timedelta(hours=1))
    Facilitation.objects.create(session=session, officer=world.officer, starts_at=starts, ends_at=session.ends_at)
    confirmed = booking(session, institution=world.school_a, by=world.staff_a, seats=5)
    client.force_login(world.officer)
    response = _post(
        client, f"/api/v1/sessions/{session.pk}/attendance/", {"attended": {str(confirmed.pk): 4}, "notes": "Good."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == SessionStatus.DELIVERED
    confirmed.refresh_from_db()
    assert confirmed.attended_count == 4


def test_calendar_entry_ending_before_it_starts_is_a_field_error(client, world):
    client.force_login(world.staff_a)
    today = timezone.localdate()
    for url, owner in [("/api/v1/terms/", "institution"), ("/api/v1/blackouts/", "organization")]:
        response = _post(
            client,
            url,
            {owner: world.school_a.pk, "name": "Oops", "starts_on": str(today), "ends_on": str(today - timedelta(1))},
        )
        assert response.status_code == 400
        assert "ends_on" in response.json()
    assert not Term.objects.exists() and not BlackoutPeriod.objects.exists()


def test_out_of_range_dates_are_field_errors(client, world, program):
    client.force_login(world.coordinator_a)
    response = _post(
        client,
        "/api/v1/sessions/",
        {"program": program.pk, "starts_at": "9999-12-31T23:00:00Z", "ends_at": "9999-12-31T23:30:00Z"},
    )
    assert response.status_code == 400
    assert "starts_at" in response.json()
    assert client.get("/api/v1/sessions/?starts_after=0001-01-01T00:00:00Z").status_code == 400


# --- scope (404) before permission (403) before the body (400) -------------------------------------


def test_outsider_coordinator_gets_404_on_session_and_booking(client, world, program):
    session = _schedule(world, program)
    made = services.book_session(
        session=session, institution=world.school_a, by=world.staff_a, group_name="9B", seats=2
    )
    client.force_login(world.coordinator_b)
    assert client.get(f"/api/v1/sessions/{session.pk}/").status_code == 404
    assert client.get(f"/api/v1/bookings/{made.pk}/").status_code == 404
    assert _post(client, f"/api/v1/bookings/{made.pk}/cancel/").status_code == 404
    assert _post(client, f"/api/v1/sessions/{session.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert client.get("/api/v1/sessions/").json()["results"] == []
    assert client.get("/api/v1/bookings/").json()["results"] == []
    # Booking a session one cannot see: the id is a field error, as if it did not exist.
    response = _book(client, world.coordinator_b, session, world.school_b, 2)
    assert response.status_code == 400
    assert set(response.json()) == {"session"}
    assert Booking.objects.count() == 1
    made.refresh_from_db()
    assert made.status == BookingStatus.CONFIRMED


def test_order_is_scope_then_permission_then_body(client, world, program):
    session = _schedule(world, program)
    bad_body = {"starts_at": "not a date"}
    client.force_login(world.staff_b)
    assert _post(client, f"/api/v1/sessions/{session.pk}/reschedule/", bad_body).status_code == 404
    client.force_login(world.staff_a)
    assert _post(client, f"/api/v1/sessions/{session.pk}/reschedule/", bad_body).status_code == 403
    assert _post(client, "/api/v1/sessions/", {"program": program.pk, "starts_at": "x"}).status_code == 403
    client.force_login(world.coordinator_a)
    response = _post(client, f"/api/v1/sessions/{session.pk}/reschedule/", bad_body)
    assert response.status_code == 400
    assert set(response.json()) == {"starts_at", "ends_at"}


def test_an_agency_blackout_is_visible_to_partners_but_kept_by_the_agency(client, world, program):
    day = timezone.localdate() + timedelta(days=40)
    blackout = services.add_blackout(
        organization=world.agency,
        by=world.agency_coordinator,
        name="Training",
        kind="training",
        starts_on=day,
        ends_on=day,
    )
    for user in (world.staff_a, world.coordinator_a):
        client.force_login(user)
        assert client.get(f"/api/v1/blackouts/{blackout.pk}/").status_code == 200
        assert client.delete(f"/api/v1/blackouts/{blackout.pk}/").status_code == 403
    client.force_login(world.agency_coordinator)
    assert client.delete(f"/api/v1/blackouts/{blackout.pk}/").status_code == 204
    assert not BlackoutPeriod.objects.exists()


# --- bookings and the waitlist ---------------------------------------------------------------------


def test_booking_confirms_then_waitlists_when_full(client, world, program):
    session = _schedule(world, program, capacity=10)
    first, second, third = staff_of(world.school_a, 3)

    response = _book(client, first, session, world.school_a, 6, "9A")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == BookingStatus.CONFIRMED
    assert response.json()["waitlist_position"] is None

    response = _book(client, second, session, world.school_a, 6, "9B")
    assert response.status_code == 201
    assert response.json()["status"] == BookingStatus.WAITLISTED
    assert response.json()["waitlist_position"] == 1

    response = _book(client, third, session, world.school_a, 2, "9C")
    assert response.json()["status"] == BookingStatus.CONFIRMED  # 2 still fit

    response = _book(client, third, session, world.school_a, 3, "9D")
    assert response.json()["status"] == BookingStatus.WAITLISTED
    assert response.json()["waitlist_position"] == 2

    session.refresh_from_db()
    assert session.confirmed_seats == 8
    client.force_login(world.coordinator_a)
    rows = client.get(f"/api/v1/bookings/?session={session.pk}").json()["results"]
    positions = {row["group_name"]: row["waitlist_position"] for row in rows}
    assert positions == {"9A": None, "9B": 1, "9C": None, "9D": 2}
    for row in rows:  # the list's count agrees with the selector
        assert row["waitlist_position"] == selectors.waitlist_position(Booking.objects.get(pk=row["id"]))
    detail = client.get(f"/api/v1/sessions/{session.pk}/").json()
    assert (detail["confirmed_seats"], detail["free_seats"]) == (8, 2)


def test_cancel_frees_seats_and_promotes_the_waitlist(client, world, program):
    session = _schedule(world, program, capacity=10)
    first, second = staff_of(world.school_a, 2)
    confirmed = _book(client, first, session, world.school_a, 6).json()
    waiting = _book(client, second, session, world.school_a, 5).json()
    assert waiting["status"] == BookingStatus.WAITLISTED

    client.force_login(first)
    response = _post(client, f"/api/v1/bookings/{confirmed['id']}/cancel/", {"reason": "Exam week"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == BookingStatus.CANCELLED

    promoted = Booking.objects.get(pk=waiting["id"])
    assert promoted.status == BookingStatus.CONFIRMED
    session.refresh_from_db()
    assert session.confirmed_seats == 5
    client.force_login(second)
    row = client.get(f"/api/v1/bookings/{promoted.pk}/").json()
    assert row["status"] == BookingStatus.CONFIRMED and row["waitlist_position"] is None
    # Cancelling twice is a conflict, not a second cancellation.
    client.force_login(first)
    assert _post(client, f"/api/v1/bookings/{confirmed['id']}/cancel/").status_code == 409


def test_other_staff_cannot_cancel_a_colleagues_booking(client, world, program):
    session = _schedule(world, program)
    made = services.book_session(
        session=session, institution=world.school_a, by=world.staff_a, group_name="9B", seats=2
    )
    (colleague,) = staff_of(world.school_a, 1)
    client.force_login(colleague)
    assert client.get(f"/api/v1/bookings/{made.pk}/").status_code == 200
    assert _post(client, f"/api/v1/bookings/{made.pk}/cancel/").status_code == 403
    made.refresh_from_db()
    assert made.status == BookingStatus.CONFIRMED


def test_raising_capacity_promotes_the_waitlist(client, world, program):
    session = _schedule(world, program, capacity=5)
    first, second = staff_of(world.school_a, 2)
    _book(client, first, session, world.school_a, 5)
    waiting = _book(client, second, session, world.school_a, 4).json()
    client.force_login(world.coordinator_a)
    response = _post(client, f"/api/v1/sessions/{session.pk}/capacity/", {"capacity_seats": 9})
    assert response.status_code == 200
    assert (response.json()["confirmed_seats"], response.json()["free_seats"]) == (9, 0)
    assert Booking.objects.get(pk=waiting["id"]).status == BookingStatus.CONFIRMED
    # Below the confirmed seats: refused by the service, on the field.
    response = _post(client, f"/api/v1/sessions/{session.pk}/capacity/", {"capacity_seats": 3})
    assert response.status_code == 400 and "capacity_seats" in response.json()


def test_cancelling_a_session_with_a_reason(client, world, program):
    session = _schedule(world, program)
    client.force_login(world.coordinator_a)
    assert _post(client, f"/api/v1/sessions/{session.pk}/cancel/", {"reason": ""}).status_code == 400
    response = _post(client, f"/api/v1/sessions/{session.pk}/cancel/", {"reason": "Snow day"})
    assert response.status_code == 200
    assert response.json()["status"] == SessionStatus.CANCELLED
    assert response.json()["cancel_reason"] == "Snow day"


# --- the join link -----------------------------------------------------------------------------------


def test_join_url_only_for_the_facilitator_and_confirmed_bookers(client, world, program):
    session = _schedule(world, program, capacity=5, virtual=True, facilitators=[world.officer])
    booker, waiting, other = staff_of(world.school_a, 3)
    assert _book(client, booker, session, world.school_a, 5).json()["status"] == BookingStatus.CONFIRMED
    assert _book(client, waiting, session, world.school_a, 2).json()["status"] == BookingStatus.WAITLISTED

    expectations = {
        world.officer: JOIN,
        booker: JOIN,
        waiting: None,
        other: None,
        world.coordinator_a: None,
        world.agency_coordinator: None,
        world.admin: None,
    }
    for user, expected in expectations.items():
        client.force_login(user)
        detail = client.get(f"/api/v1/sessions/{session.pk}/").json()
        listed = client.get("/api/v1/sessions/").json()["results"]
        assert detail["join_url"] == expected, user
        assert [row["join_url"] for row in listed] == [expected], user
        assert (expected is not None) == selectors.can_see_join_link(user, session), user
        if expected is None:
            for url in (
                "/api/v1/sessions/",
                f"/api/v1/sessions/{session.pk}/",
                "/api/v1/programs/",
                "/api/v1/bookings/",
            ):
                assert JOIN not in client.get(url).content.decode(), (user, url)


def test_a_list_shows_each_join_link_only_on_the_sessions_whose_link_the_caller_may_see(client, world, program):
    """The list asks once for the page which of its sessions with a link the caller may join:
    on a page that mixes them, each row keeps its own answer."""
    mine = _schedule(world, program, virtual=True, facilitators=[world.officer], days=10)
    theirs = _schedule(world, program, virtual=True, days=11)
    at_school = _schedule(world, program, facilitators=[world.officer], days=12)
    client.force_login(world.officer)
    listed = {row["id"]: row["join_url"] for row in client.get("/api/v1/sessions/").json()["results"]}
    assert listed == {mine.pk: JOIN, theirs.pk: None, at_school.pk: None}
    _book(client, world.staff_a, theirs, world.school_a, 2)
    listed = {row["id"]: row["join_url"] for row in client.get("/api/v1/sessions/").json()["results"]}
    assert listed == {mine.pk: None, theirs.pk: JOIN, at_school.pk: None}


def test_both_forms_of_the_join_link_rule_give_the_same_answer(world, program):
    """Homes and feeds ask ``with_join_link_flag`` (EXISTS in SQL); lists and details ask
    ``join_link_session_ids`` (plain parts, with or without the facilitator ids a list has read).
    For every person and every kind of session they must agree."""
    other_officer = member(world.agency, Role.OFFICER)
    sessions = [
        _schedule(world, program, virtual=True, facilitators=[world.officer], days=10),
        _schedule(world, program, virtual=True, facilitators=[other_officer], days=11),
        _schedule(world, program, virtual=True, days=12),
        _schedule(world, program, facilitators=[world.officer], days=13),  # at a school: no link
    ]
    booking(sessions[1], institution=world.school_a, by=world.staff_a, seats=2)
    booking(sessions[2], institution=world.school_a, by=world.staff_a, seats=1, status=BookingStatus.WAITLISTED)
    booking(sessions[2], institution=world.school_a, by=world.coordinator_a, seats=1)
    booking(sessions[0], institution=world.school_a, by=world.coordinator_a, seats=1, status=BookingStatus.CANCELLED)
    people = [world.officer, other_officer, world.staff_a, world.coordinator_a, world.agency_coordinator, world.admin]
    pks = [s.pk for s in sessions]
    answers = []
    for person in people:
        flagged = selectors.with_join_link_flag(Session.objects.filter(pk__in=pks), person)
        in_sql = {s.pk for s in flagged if selectors.may_join(s)}
        fresh = list(Session.objects.filter(pk__in=pks))
        plain = selectors.join_link_session_ids(person, fresh)
        selectors.attach_facilitator_ids(fresh)
        from_ids = selectors.join_link_session_ids(person, fresh)
        assert in_sql == plain == from_ids, person
        answers.append(in_sql)
    assert answers == [{pks[0]}, {pks[1]}, {pks[1]}, {pks[2]}, set(), set()]


def test_the_catalog_never_carries_a_join_link(client, world, program):
    _schedule(world, program, virtual=True, facilitators=[world.officer])
    client.force_login(world.officer)
    body = (
        client.get("/api/v1/programs/").content.decode()
        + client.get(f"/api/v1/programs/{program.pk}/").content.decode()
    )
    assert "Online Safety 101" in body and JOIN not in body


def test_a_cancelled_booking_loses_the_join_link(client, world, program):
    session = _schedule(world, program, virtual=True)
    made = _book(client, world.staff_a, session, world.school_a, 3).json()
    assert client.get(f"/api/v1/sessions/{session.pk}/").json()["join_url"] == JOIN
    _post(client, f"/api/v1/bookings/{made['id']}/cancel/")
    assert client.get(f"/api/v1/sessions/{session.pk}/").json()["join_url"] is None


# --- the catalog and session requests ------------------------------------------------------------------


def test_catalog_filters_and_creation(client, world, program):
    ProgramFactory(agreement=program.agreement, title="Careers", topic="careers", grade_band="college")
    client.force_login(world.staff_a)
    titles = [row["title"] for row in client.get("/api/v1/programs/?topic=careers").json()["results"]]
    assert titles == ["Careers"]
    ProgramFactory(agreement=program.agreement, title="Webinar", format="virtual")
    # ?format= filters the delivery format here; it is not DRF's renderer override.
    response = client.get("/api/v1/programs/?format=virtual")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert [row["title"] for row in response.json()["results"]] == ["Webinar"]
    assert client.get("/api/v1/programs/?topic=").status_code == 400
    assert client.get("/api/v1/programs/?grade_band=nursery").status_code == 400
    client.force_login(world.coordinator_a)
    response = _post(
        client,
        "/api/v1/programs/",
        {"agreement": program.agreement_id, "title": "Bullying", "topic": "bullying", "grade_band": "middle"},
    )
    assert response.status_code == 201, response.content
    assert Program.objects.get(pk=response.json()["id"]).created_by == world.coordinator_a


def test_session_filters(client, world, program):
    full = _schedule(world, program, capacity=2, days=10)
    later = _schedule(world, program, capacity=5, days=20)
    booking(full, institution=world.school_a, by=world.staff_a, seats=2)
    client.force_login(world.staff_a)

    def ids(query):
        response = client.get(f"/api/v1/sessions/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("has_seats=true") == [later.pk]
    assert ids("has_seats=false") == [full.pk]
    assert ids(f"starts_after={_soon(15).isoformat().replace('+', '%2B')}") == [later.pk]
    assert ids(f"program={program.pk}&status=scheduled&topic=online_safety&format=in_person") == [full.pk, later.pk]
    assert ids("status=cancelled") == []
    # An offset no real zone has, but Python parses: the same instant in UTC, never a 500
    # (PostgreSQL refuses offsets beyond 15:59; the schema fuzz found "+19:05").
    moment = _soon(15).astimezone(timezone.get_fixed_timezone(19 * 60 + 5))
    assert ids(f"starts_after={moment.isoformat().replace('+', '%2B')}") == [later.pk]


def test_session_request_scheduled_from_a_proposed_slot(client, world, program):
    client.force_login(world.staff_a)
    today = timezone.localdate()
    response = _post(
        client,
        "/api/v1/session-requests/",
        {
            "program": program.pk,
            "institution": world.school_a.pk,
            "window_starts_on": str(today + timedelta(days=7)),
            "window_ends_on": str(today + timedelta(days=21)),
            "preferred_start_time": "10:00",
            "group_name": "Grade 9",
            "seats": 12,
        },
    )
    assert response.status_code == 201, response.content
    request_id = response.json()["id"]
    assert client.get(f"/api/v1/session-requests/{request_id}/proposed-slots/").status_code == 403

    client.force_login(world.agency_coordinator)
    slots = client.get(f"/api/v1/session-requests/{request_id}/proposed-slots/?facilitators={world.officer.pk}")
    assert slots.status_code == 200, slots.content
    assert 1 <= len(slots.json()["slots"]) <= 5
    response = _post(
        client,
        f"/api/v1/session-requests/{request_id}/schedule/",
        {"starts_at": slots.json()["slots"][0], "facilitators": [world.officer.pk]},
    )
    assert response.status_code == 201, response.content
    session = Session.objects.get(pk=response.json()["id"])
    assert list(session.facilitators.all()) == [world.officer]
    assert session.bookings.get().status == BookingStatus.CONFIRMED
    assert SessionRequest.objects.get(pk=request_id).status == RequestStatus.SCHEDULED
    # Answered once: a second answer is a conflict.
    assert _post(client, f"/api/v1/session-requests/{request_id}/decline/", {"reason": "x"}).status_code == 409


def test_session_request_with_an_inverted_window_is_a_field_error(client, world, program):
    client.force_login(world.staff_a)
    today = timezone.localdate()
    response = _post(
        client,
        "/api/v1/session-requests/",
        {
            "program": program.pk,
            "institution": world.school_a.pk,
            "window_starts_on": str(today + timedelta(days=9)),
            "window_ends_on": str(today + timedelta(days=8)),
            "preferred_start_time": "10:00",
            "group_name": "Grade 9",
            "seats": 12,
        },
    )
    assert response.status_code == 400 and "window_ends_on" in response.json()
    assert not SessionRequest.objects.exists()


# --- bounded queries ---------------------------------------------------------------------------------


def _grow_sessions(world, program, n, *, start=0):
    """n sessions, each with a facilitator, a confirmed booking by staff A and a waitlisted one."""
    for i in range(start, start + n):
        starts = timezone.now() + timedelta(days=5 + i, hours=1)
        session = SessionFactory(
            program=program,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            location_kind=LocationKind.VIRTUAL,
            venue="",
            join_url=JOIN,
            capacity_seats=3,
        )
        Facilitation.objects.create(session=session, officer=world.officer, starts_at=starts, ends_at=session.ends_at)
        booking(session, institution=world.school_a, by=world.staff_a, seats=3, group_name=f"G{i}")
        booking(session, institution=world.school_a, by=world.coordinator_a, seats=2, status=BookingStatus.WAITLISTED)


@pytest.mark.parametrize("role", ["staff", "coordinator", "officer", "admin"])
@pytest.mark.parametrize(
    "url", ["/api/v1/sessions/?page_size=100", "/api/v1/bookings/?page_size=100", "/api/v1/programs/?page_size=100"]
)
def test_lists_do_the_same_number_of_queries_for_5_and_50_rows(client, world, program, url, role):
    _grow_sessions(world, program, 5)
    client.force_login(world.user(role))
    few, body = _queries(client, url)
    assert body["count"] >= 1
    _grow_sessions(world, program, 45, start=5)
    for i in range(10):
        ProgramFactory(agreement=program.agreement, title=f"More {i}")
    many, body = _queries(client, url)
    assert body["count"] >= 11
    assert many == few <= 8


def _every_page(client, url):
    """The count the list reports, and the rows of all its pages."""
    body = client.get(url).json()
    rows, page = list(body["results"]), 1
    while body["next"]:
        page += 1
        body = client.get(f"{url}&page={page}").json()
        rows += body["results"]
    return body["count"], rows


@pytest.mark.parametrize("role", ["staff", "coordinator", "officer", "admin", "outsider"])
@pytest.mark.parametrize("query", ["", "status=waitlisted", "status=confirmed&session={session}", "session=999999"])
def test_the_bookings_count_is_the_number_of_bookings_listed(client, world, program, role, query):
    """The list counts its bookings apart from the names it shows (config.api.Pagination): the
    count must be the rows the pages hold, for every role and filter."""
    _grow_sessions(world, program, 7)
    first = Session.objects.order_by("pk").first()
    booking(first, institution=world.school_b, by=world.staff_b, seats=1, status=BookingStatus.WAITLISTED)
    session = Session.objects.order_by("pk").last()
    client.force_login(world.user(role))
    count, rows = _every_page(client, "/api/v1/bookings/?page_size=3&" + query.format(session=session.pk))
    assert count == len(rows) == len({row["id"] for row in rows})
    if role in {"staff", "admin"} and query == "":
        assert len(rows) >= 14


@pytest.mark.parametrize("role", ["staff", "officer", "admin", "outsider"])
@pytest.mark.parametrize(
    "query", ["", "status=cancelled", "has_seats=false", "format=virtual&program={program}", "topic=careers"]
)
def test_the_sessions_count_is_the_number_of_sessions_listed(client, world, program, role, query):
    """As for bookings: the list counts its sessions apart from the names it shows."""
    _grow_sessions(world, program, 4)
    for i in range(3):
        starts = _soon(30 + i)
        SessionFactory(program=program, starts_at=starts, ends_at=starts + timedelta(hours=1), school=world.school_a)
    Session.objects.filter(pk=Session.objects.order_by("pk").first().pk).update(status=SessionStatus.CANCELLED)
    client.force_login(world.user(role))
    count, rows = _every_page(client, "/api/v1/sessions/?page_size=2&" + query.format(program=program.pk))
    assert count == len(rows) == len({row["id"] for row in rows})
    if role in {"staff", "admin"} and query == "":
        assert len(rows) == 7


@pytest.mark.parametrize("url", ["/api/v1/session-requests/", "/api/v1/terms/", "/api/v1/blackouts/"])
def test_request_and_calendar_lists_are_bounded(client, world, program, url):
    def grow(n, start=0):
        today = timezone.localdate()
        for i in range(start, start + n):
            services.request_session(
                program=program,
                institution=world.school_a,
                by=world.staff_a,
                window_starts_on=today + timedelta(days=7),
                window_ends_on=today + timedelta(days=21),
                preferred_start_time=time(9, 0),
                group_name=f"Group {i}",
                seats=10,
            )
            day = today + timedelta(days=100 + 3 * i)
            services.add_term(institution=world.school_a, by=world.staff_a, name=f"T{i}", starts_on=day, ends_on=day)
            services.add_blackout(
                organization=world.school_a, by=world.staff_a, name=f"B{i}", kind="holiday", starts_on=day, ends_on=day
            )

    grow(5)
    client.force_login(world.coordinator_a)
    few, _ = _queries(client, url + "?page_size=100")
    grow(45, start=5)
    many, body = _queries(client, url + "?page_size=100")
    assert body["count"] == 50
    assert many == few


def test_on_postgresql_the_page_query_reads_the_facilitators(client, world, program, on_postgres):
    """PostgreSQL reads each session's facilitators as an array in the page query; other
    databases read them for the page in one query of their own."""
    _grow_sessions(world, program, 3)
    client.force_login(world.staff_a)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/sessions/")
    apart = [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "programs_facilitation"')]
    assert len(apart) == (0 if on_postgres else 1)
    assert [row["facilitators"] for row in response.json()["results"]] == [[world.officer.pk]] * 3


def test_a_session_list_names_the_same_facilitators_as_the_detail(client, world, program):
    """The list reads facilitator ids as (session, officer) pairs; the detail asks the session.
    Both give every facilitator once, in the same order (by name)."""
    zed = member(world.agency, Role.OFFICER, full_name="Zed Officer")
    abe = member(world.agency, Role.OFFICER, full_name="Abe Officer")
    both = _schedule(world, program, facilitators=[zed, world.officer, abe])
    alone = _schedule(world, program, facilitators=[world.officer], days=12)
    client.force_login(world.agency_coordinator)
    listed = {row["id"]: row["facilitators"] for row in client.get("/api/v1/sessions/").json()["results"]}
    for session in (both, alone):
        detail = client.get(f"/api/v1/sessions/{session.pk}/").json()["facilitators"]
        assert listed[session.pk] == detail
    assert listed[both.pk] == [abe.pk, world.officer.pk, zed.pk]
    assert listed[alone.pk] == [world.officer.pk]
