"""Bookings: seats within capacity, the waitlist and its order, who may book and until
when, capacity changes, attendance, and staff's session requests."""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.enums import Role
from accounts.errors import ConflictError, DomainError
from accounts.models import Membership
from notifications.models import OutboundMessage
from programs import selectors, services
from programs.enums import BlackoutKind, BookingStatus, RequestStatus, SessionStatus
from programs.models import Booking, Facilitation, Session, SessionRequest
from tests.factories import member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, staff_of

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 2, 12, tzinfo=LA)  # a Monday, noon at the school
SESSION_DAY = date(2026, 3, 12)


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LA)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def program(world):
    return ProgramFactory(agreement=active_agreement(world.agency, world.school_a), title="Online safety")


@pytest.fixture
def session(program):
    """Ten seats on Thursday 12 March at 9:00 in Los Angeles; booking closes 48 hours before."""
    return SessionFactory(program=program, starts_at=at(SESSION_DAY, 9), ends_at=at(SESSION_DAY, 10), capacity_seats=10)


def book(session, by, seats, *, institution=None, group="Class 9B"):
    institution = institution or Membership.objects.filter(user=by).first().organization
    return services.book_session(session=session, institution=institution, by=by, group_name=group, seats=seats)


def statuses(*bookings):
    return [Booking.objects.get(pk=b.pk).status for b in bookings]


def assert_seats_add_up(session):
    """The counter equals the confirmed seats, never exceeds capacity, and no waitlisted
    group would fit the free seats."""
    session.refresh_from_db()
    bookings = Booking.objects.filter(session=session)
    confirmed = sum(b.seats for b in bookings if b.status == BookingStatus.CONFIRMED)
    assert session.confirmed_seats == confirmed
    assert confirmed <= session.capacity_seats
    free = session.capacity_seats - confirmed
    if session.status == SessionStatus.SCHEDULED:
        assert all(b.seats > free for b in bookings if b.status == BookingStatus.WAITLISTED)


# Capacity and the waitlist.


def test_bookings_are_confirmed_while_they_fit_then_waitlisted(world, session):
    first = book(session, world.staff_a, 6)
    second = book(session, world.coordinator_a, 4, group="Class 10A")
    assert statuses(first, second) == [BookingStatus.CONFIRMED, BookingStatus.CONFIRMED]
    assert first.confirmed_at == NOW
    confirmation = OutboundMessage.objects.get(dedupe_key=f"booking:{first.pk}:confirmed")
    assert confirmation.to_email == world.staff_a.email
    assert "METHOD:REQUEST" in confirmation.ics_content

    late = book(session, world.staff_a, 1, group="Class 11C")
    assert late.status == BookingStatus.WAITLISTED
    assert late.waitlisted_at == NOW and late.confirmed_at is None
    notice = OutboundMessage.objects.get(dedupe_key=f"booking:{late.pk}:waitlisted")
    assert "waitlist" in notice.body_text and notice.ics_content == ""
    assert selectors.waitlist_position(late) == 1
    assert_seats_add_up(session)
    assert session.confirmed_seats == 10


def test_a_group_larger_than_the_session_is_refused(world, session):
    with pytest.raises(services.ProgramsError, match="10 seats in total") as caught:
        book(session, world.staff_a, 11)
    assert caught.value.field == "seats"
    assert not Booking.objects.exists()


@pytest.mark.parametrize(("seats", "group"), [(0, "Class 9B"), (None, "Class 9B"), (3, "   ")])
def test_a_booking_names_a_group_and_at_least_one_seat(world, session, seats, group):
    with pytest.raises(services.ProgramsError):
        services.book_session(
            session=session, institution=world.school_a, by=world.staff_a, group_name=group, seats=seats
        )
    assert not Booking.objects.exists()


def test_without_a_waitlist_a_booking_that_does_not_fit_is_refused(world, session):
    Session.objects.filter(pk=session.pk).update(waitlist_enabled=False)
    session.refresh_from_db()
    book(session, world.staff_a, 8)
    with pytest.raises(ConflictError) as caught:
        book(session, world.staff_a, 3, group="Class 10A")
    assert caught.value.code == "full"
    assert "Only 2 seats are left" in caught.value.message
    assert "no waitlist" in caught.value.message
    assert Booking.objects.count() == 1
    assert book(session, world.staff_a, 2, group="Class 10A").status == BookingStatus.CONFIRMED
    assert_seats_add_up(session)


# Who may book, and until when.


@pytest.mark.parametrize(
    ("person", "school", "allowed"),
    [
        ("staff_a", "school_a", True),
        ("coordinator_a", "school_a", True),
        ("staff_a", "school_b", False),  # a party, but not theirs
        ("staff_b", "school_b", True),
        ("student_a", "school_a", False),
        ("officer", "school_a", False),
        ("agency_coordinator", "school_a", False),
        ("loner", "school_a", False),
    ],
)
def test_staff_book_only_for_their_own_institution_that_is_a_party(world, person, school, allowed):
    agreement = active_agreement(world.agency, world.school_a, world.school_b)
    session = SessionFactory(program=ProgramFactory(agreement=agreement), starts_at=at(SESSION_DAY, 9))
    attempt = lambda: services.book_session(  # noqa: E731
        session=session, institution=getattr(world, school), by=getattr(world, person), group_name="G", seats=2
    )
    if allowed:
        assert attempt().status == BookingStatus.CONFIRMED
    else:
        with pytest.raises(services.ProgramsError) as caught:
            attempt()
        assert caught.value.field == "institution"
        assert not Booking.objects.exists()


def test_staff_of_a_school_outside_the_agreement_cannot_book(world, session):
    with pytest.raises(services.ProgramsError, match="a party of this session's agreement"):
        book(session, world.staff_b, 2)
    assert not Booking.objects.exists()


def test_an_inactive_membership_gives_no_right_to_book(world, session):
    Membership.objects.filter(user=world.staff_a).update(is_active=False)
    with pytest.raises(services.ProgramsError):
        book(session, world.staff_a, 2, institution=world.school_a)


def test_no_booking_for_a_session_that_has_started(world, session, clock):
    clock.move_to(at(SESSION_DAY, 9, 5))
    with pytest.raises(services.ProgramsError, match="already started"):
        book(session, world.staff_a, 2)
    assert not Booking.objects.exists()


def test_booking_closes_at_the_cut_off_shown_in_the_schools_time(world, session, clock):
    """The cut-off is 48 hours before 9:00 on 12 March in Los Angeles: 9:00 on 10 March there
    (noon in New York, the server's zone)."""
    clock.move_to(at(date(2026, 3, 10), 8, 59))
    assert book(session, world.staff_a, 2).status == BookingStatus.CONFIRMED

    clock.move_to(at(date(2026, 3, 10), 9, 0))
    with pytest.raises(services.ProgramsError) as caught:
        book(session, world.staff_a, 2, group="Class 10A")
    assert "Booking closed at March 10, 2026, 9 a.m." in caught.value.message
    assert "48 hours" in caught.value.message
    assert Booking.objects.count() == 1


def test_a_school_in_another_time_zone_sees_the_cut_off_in_its_own(world, session, clock):
    world.school_a.time_zone = "America/New_York"
    world.school_a.save(update_fields=["time_zone"])
    clock.move_to(at(date(2026, 3, 10), 10))
    with pytest.raises(services.ProgramsError, match=r"Booking closed at March 10, 2026, noon"):
        book(session, world.staff_a, 2, institution=world.school_a)


def test_no_booking_for_a_cancelled_session_or_under_an_expired_agreement(world, session, program):
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Assembly moved")
    with pytest.raises(services.ProgramsError, match="cancelled"):
        book(session, world.staff_a, 2)

    later = SessionFactory(program=program, starts_at=at(SESSION_DAY, 13), ends_at=at(SESSION_DAY, 14))
    program.agreement.status = "expired"
    program.agreement.save(update_fields=["status"])
    with pytest.raises(DomainError, match="only an active agreement"):
        book(later, world.staff_a, 2)
    assert not Booking.objects.exists()


# Cancelling, and the waitlist moving up.


def test_cancelling_promotes_the_waitlist_in_join_order_skipping_groups_that_do_not_fit(world, session, clock):
    teachers = staff_of(world.school_a, 6)
    big = book(session, teachers[0], 6, group="Grade 9 assembly")
    small = book(session, teachers[1], 4, group="Class 10A")
    waiting = []
    for teacher, seats in zip(teachers[2:], (8, 3, 3, 1), strict=True):
        clock.shift(timedelta(minutes=5))
        waiting.append(book(session, teacher, seats, group=f"Group of {seats}"))
    too_big, first, second, last = waiting
    assert [selectors.waitlist_position(b) for b in waiting] == [1, 2, 3, 4]

    services.cancel_booking(booking=big, by=teachers[0], reason="Field trip")

    # Six seats free: 8 does not fit and is skipped; 3 and 3 fill them; 1 joined later and waits.
    assert statuses(big, small, too_big, first, second, last) == [
        BookingStatus.CANCELLED,
        BookingStatus.CONFIRMED,
        BookingStatus.WAITLISTED,
        BookingStatus.CONFIRMED,
        BookingStatus.CONFIRMED,
        BookingStatus.WAITLISTED,
    ]
    assert_seats_add_up(session)
    assert session.confirmed_seats == 10
    assert [selectors.waitlist_position(Booking.objects.get(pk=b.pk)) for b in (too_big, last)] == [1, 2]

    promoted = OutboundMessage.objects.filter(dedupe_key__endswith=":promoted")
    assert sorted(m.to_email for m in promoted) == sorted([teachers[3].email, teachers[4].email])
    notice = promoted.get(to_email=teachers[3].email)
    assert notice.dedupe_key == f"booking:{first.pk}:promoted"
    assert "now confirmed" in notice.body_text
    assert "METHOD:REQUEST" in notice.ics_content
    cancelled = OutboundMessage.objects.get(dedupe_key=f"booking:{big.pk}:cancelled")
    assert "METHOD:CANCEL" in cancelled.ics_content


def test_cancelling_a_waitlisted_booking_promotes_nobody(world, session, clock):
    book(session, world.staff_a, 10)
    clock.shift(timedelta(minutes=1))
    first = book(session, world.staff_a, 2, group="A")
    clock.shift(timedelta(minutes=1))
    second = book(session, world.staff_a, 2, group="B")
    services.cancel_booking(booking=first, by=world.staff_a)
    assert statuses(first, second) == [BookingStatus.CANCELLED, BookingStatus.WAITLISTED]
    assert selectors.waitlist_position(Booking.objects.get(pk=second.pk)) == 1
    assert not OutboundMessage.objects.filter(dedupe_key__endswith=":promoted").exists()
    assert_seats_add_up(session)
    with pytest.raises(ConflictError, match="already cancelled"):
        services.cancel_booking(booking=first, by=world.staff_a)


@pytest.mark.parametrize(
    ("person", "allowed"),
    [
        ("staff_a", True),  # booked it
        ("coordinator_a", True),  # coordinates the booking school
        ("agency_coordinator", True),  # coordinates the agreement
        ("admin", True),
        ("staff_b", False),
        ("officer", False),
        ("student_a", False),
    ],
)
def test_who_may_cancel_a_booking(world, session, person, allowed):
    booking = book(session, world.staff_a, 3)
    if allowed:
        services.cancel_booking(booking=booking, by=getattr(world, person))
        assert statuses(booking) == [BookingStatus.CANCELLED]
    else:
        with pytest.raises(services.ProgramsError):
            services.cancel_booking(booking=booking, by=getattr(world, person))
        assert statuses(booking) == [BookingStatus.CONFIRMED]
    assert_seats_add_up(session)


def test_another_teacher_of_the_school_cannot_cancel_a_colleagues_booking(world, session):
    booking = book(session, world.staff_a, 3)
    (colleague,) = staff_of(world.school_a, 1)
    with pytest.raises(services.ProgramsError):
        services.cancel_booking(booking=booking, by=colleague)


def test_cancelling_a_booking_of_a_cancelled_session_keeps_the_count_right(world, session):
    booking = book(session, world.staff_a, 4)
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Snow day")
    services.cancel_booking(booking=booking, by=world.staff_a)
    assert_seats_add_up(session)
    assert session.confirmed_seats == 0


# Capacity changes.


def test_capacity_cannot_go_below_the_confirmed_seats(world, session):
    book(session, world.staff_a, 6)
    book(session, world.staff_a, 2, group="B")
    with pytest.raises(services.ProgramsError, match="8 seats are already confirmed") as caught:
        services.change_capacity(session=session, capacity_seats=7, by=world.agency_coordinator)
    assert caught.value.field == "capacity_seats"
    session.refresh_from_db()
    assert session.capacity_seats == 10
    services.change_capacity(session=session, capacity_seats=8, by=world.agency_coordinator)
    assert_seats_add_up(session)
    assert session.capacity_seats == 8


def test_raising_capacity_promotes_the_waitlist_in_order(world, session, clock):
    teachers = staff_of(world.school_a, 3)
    book(session, teachers[0], 10)
    clock.shift(timedelta(minutes=1))
    five = book(session, teachers[1], 5, group="Five")
    clock.shift(timedelta(minutes=1))
    three = book(session, teachers[2], 3, group="Three")

    services.change_capacity(session=session, capacity_seats=13, by=world.agency_coordinator)
    assert statuses(five, three) == [BookingStatus.WAITLISTED, BookingStatus.CONFIRMED]
    assert OutboundMessage.objects.filter(dedupe_key=f"booking:{three.pk}:promoted", to_email=teachers[2].email)
    assert_seats_add_up(session)

    services.change_capacity(session=session, capacity_seats=18, by=world.agency_coordinator)
    assert statuses(five, three) == [BookingStatus.CONFIRMED, BookingStatus.CONFIRMED]
    assert_seats_add_up(session)
    assert session.confirmed_seats == 18


@pytest.mark.parametrize("person", ["staff_a", "officer", "coordinator_b"])
def test_only_coordinators_of_the_agreement_change_capacity(world, session, person):
    with pytest.raises(services.ProgramsError) as caught:
        services.change_capacity(session=session, capacity_seats=20, by=getattr(world, person))
    assert caught.value.code == "forbidden"


def test_the_seat_counter_always_equals_the_confirmed_bookings(world, session, clock):
    """A long random run of bookings, cancellations and capacity changes."""
    chance = random.Random(20260302)
    teachers = staff_of(world.school_a, 4)
    for step in range(120):
        clock.shift(timedelta(seconds=30))
        action = chance.choice(["book", "book", "cancel", "capacity"])
        try:
            if action == "book":
                book(session, chance.choice(teachers), chance.randint(1, 6), group=f"Group {step}")
            elif action == "cancel":
                active = list(Booking.objects.filter(session=session, status__in=BookingStatus.active))
                if active:
                    target = chance.choice(active)
                    services.cancel_booking(booking=target, by=world.agency_coordinator)
            else:
                session.refresh_from_db()
                wanted = max(1, session.confirmed_seats + chance.randint(-3, 6))
                services.change_capacity(session=session, capacity_seats=wanted, by=world.agency_coordinator)
        except services.ProgramsError as error:
            assert "already confirmed" in error.message or "seats in total" in error.message
        assert_seats_add_up(session)
    assert Booking.objects.filter(session=session, status=BookingStatus.CONFIRMED).exists()
    assert Booking.objects.filter(session=session, status=BookingStatus.CANCELLED).exists()


# Attendance.


@pytest.fixture
def delivered_setup(world, session):
    Facilitation.objects.create(
        session=session, officer=world.officer, starts_at=session.starts_at, ends_at=session.ends_at
    )
    confirmed = book(session, world.staff_a, 6)
    other = book(session, world.staff_a, 4, group="B")
    waitlisted = book(session, world.staff_a, 2, group="C")
    return confirmed, other, waitlisted


def test_attendance_marks_the_session_delivered(world, session, delivered_setup, clock):
    confirmed, other, _waitlisted = delivered_setup
    with pytest.raises(services.ProgramsError, match="once the session has started"):
        services.record_attendance(session=session, by=world.officer, attended={confirmed.pk: 5})
    clock.move_to(at(SESSION_DAY, 10, 15))
    services.record_attendance(
        session=session, by=world.officer, attended={confirmed.pk: 5, other.pk: 4}, notes="Good questions."
    )
    session.refresh_from_db()
    assert session.status == SessionStatus.DELIVERED
    assert session.facilitator_notes == "Good questions."
    assert [Booking.objects.get(pk=b.pk).attended_count for b in (confirmed, other)] == [5, 4]


@pytest.mark.parametrize("which", ["waitlisted", "another_session", "missing"])
def test_attendance_rejects_unknown_bookings(world, session, program, delivered_setup, clock, which):
    confirmed, _other, waitlisted = delivered_setup
    elsewhere = SessionFactory(program=program, starts_at=at(SESSION_DAY, 13), ends_at=at(SESSION_DAY, 14))
    foreign = book(elsewhere, world.staff_a, 1)
    unknown = {"waitlisted": waitlisted.pk, "another_session": foreign.pk, "missing": 987654}[which]
    clock.move_to(at(SESSION_DAY, 10, 15))
    with pytest.raises(services.ProgramsError) as caught:
        services.record_attendance(session=session, by=world.officer, attended={confirmed.pk: 5, unknown: 1})
    assert caught.value.field == "attended"
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED
    assert Booking.objects.get(pk=confirmed.pk).attended_count is None


@pytest.mark.parametrize("count", [-1, 11, None])
def test_attendance_rejects_impossible_headcounts(world, session, delivered_setup, clock, count):
    confirmed, _other, _waitlisted = delivered_setup
    clock.move_to(at(SESSION_DAY, 10, 15))
    with pytest.raises(services.ProgramsError, match="between 0 and 10"):
        services.record_attendance(session=session, by=world.officer, attended={confirmed.pk: count})
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_only_facilitators_and_coordinators_record_attendance(world, session, delivered_setup, clock):
    confirmed, _other, _waitlisted = delivered_setup
    clock.move_to(at(SESSION_DAY, 10, 15))
    for person in (world.staff_a, world.staff_b, member(world.agency, Role.OFFICER)):
        with pytest.raises(services.ProgramsError) as caught:
            services.record_attendance(session=session, by=person, attended={confirmed.pk: 5})
        assert caught.value.code == "forbidden"
    services.record_attendance(session=session, by=world.agency_coordinator, attended={confirmed.pk: 5})
    assert Session.objects.get(pk=session.pk).status == SessionStatus.DELIVERED


def test_no_attendance_for_a_cancelled_session(world, session, delivered_setup, clock):
    confirmed, _other, _waitlisted = delivered_setup
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Snow day")
    clock.move_to(at(SESSION_DAY, 10, 15))
    with pytest.raises(services.ProgramsError, match="cancelled"):
        services.record_attendance(session=session, by=world.officer, attended={confirmed.pk: 5})


# Session requests.


def ask(world, program, **fields):
    values = {
        "program": program,
        "institution": world.school_a,
        "by": world.staff_a,
        "window_starts_on": date(2026, 3, 3),
        "window_ends_on": date(2026, 3, 13),
        "preferred_start_time": time(10),
        "group_name": " Grade 9 health ",
        "seats": 28,
    }
    values.update(fields)
    return services.request_session(**values)


def test_staff_request_a_session_for_their_school(world, program):
    request = ask(world, program)
    assert (request.status, request.group_name, request.requested_by) == (
        RequestStatus.OPEN,
        "Grade 9 health",
        world.staff_a,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"by": "staff_b", "institution": "school_b"}, "institution"),  # not a party
        ({"institution": "school_b"}, "institution"),  # not theirs
        ({"by": "officer"}, "institution"),
        ({"by": "student_a"}, "institution"),
        ({"window_ends_on": date(2026, 3, 2), "window_starts_on": date(2026, 3, 5)}, "window_ends_on"),
        ({"window_starts_on": date(2026, 2, 20), "window_ends_on": date(2026, 3, 1)}, "window_ends_on"),
        ({"seats": 0}, "seats"),
    ],
)
def test_request_session_validation(world, program, fields, field):
    fields = {key: getattr(world, value) if isinstance(value, str) else value for key, value in fields.items()}
    with pytest.raises(services.ProgramsError) as caught:
        ask(world, program, **fields)
    assert caught.value.field == field
    assert not SessionRequest.objects.exists()


@pytest.fixture
def calendars(world, program):
    """Term until Wednesday 11 March; the school tests on Wednesday 4 March; the agency
    trains on Thursday 5 March; the officer already has a session on Friday 6 March at 10:30."""
    services.add_term(
        institution=world.school_a,
        by=world.coordinator_a,
        name="Winter-spring term",
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 3, 11),
    )
    services.add_blackout(
        organization=world.school_a,
        by=world.staff_a,
        name="State testing",
        kind=BlackoutKind.TESTING,
        starts_on=date(2026, 3, 4),
        ends_on=date(2026, 3, 4),
    )
    services.add_blackout(
        organization=world.agency,
        by=world.agency_coordinator,
        name="In-service training",
        kind=BlackoutKind.TRAINING,
        starts_on=date(2026, 3, 5),
        ends_on=date(2026, 3, 5),
    )
    elsewhere = ProgramFactory(agreement=program.agreement, title="Careers in public safety")
    services.schedule_session(
        program=elsewhere,
        by=world.agency_coordinator,
        starts_at=at(date(2026, 3, 6), 10, 30),
        ends_at=at(date(2026, 3, 6), 11, 30),
        location_kind="venue",
        venue="Riverside Library",
        facilitators=[world.officer],
    )


def test_proposed_slots_pass_the_school_calendar_agency_blackouts_and_the_officers_sessions(world, program, calendars):
    request = ask(world, program)
    slots = services.propose_slots(request=request, facilitators=[world.officer])
    # Tue 3; not Wed 4 (testing), Thu 5 (training), Fri 6 (busy), the weekend, or after the term.
    assert slots == [at(date(2026, 3, d), 10) for d in (3, 9, 10, 11)]
    assert services.propose_slots(request=request, facilitators=[world.officer], limit=2) == slots[:2]


def test_proposed_slots_respect_the_agency_blackouts_before_officers_are_chosen(world, program, calendars):
    request = ask(world, program)
    slots = services.propose_slots(request=request)
    assert at(date(2026, 3, 5), 10) not in slots
    assert slots == [at(date(2026, 3, d), 10) for d in (3, 6, 9, 10, 11)]


def test_window_calendars_answer_as_the_database_does(world, program, calendars):
    """Proposals read blackouts and terms once for their window; every answer, inside the window,
    across its edges and beyond it, is the one the database gives."""
    services.add_blackout(
        organization=world.school_a,
        by=world.staff_a,
        name="Spring break",
        kind=BlackoutKind.HOLIDAY,
        starts_on=date(2026, 3, 9),
        ends_on=date(2026, 3, 20),
    )
    # Wholly outside the window: the window must ask the database for these days.
    for organization, by, day in (
        (world.school_a, world.staff_a, date(2026, 2, 27)),
        (world.agency, world.agency_coordinator, date(2026, 3, 23)),
    ):
        services.add_blackout(
            organization=organization,
            by=by,
            name=f"Outside {day.day}",
            kind=BlackoutKind.HOLIDAY,
            starts_on=day,
            ends_on=day,
        )
    window = services.WindowCalendars(
        organizations=[world.school_a, world.agency],
        school=world.school_a,
        first=date(2026, 3, 2),
        last=date(2026, 3, 12),
    )
    plain = services.Calendars()
    days = [date(2026, 2, 27) + timedelta(days=k) for k in range(25)]
    for organization in (world.school_a, world.agency, world.school_b):
        for first in days:
            for last in (first, first + timedelta(days=1)):
                assert window.blackout(organization, first, last) == plain.blackout(organization, first, last)
                assert window.within_terms(organization, first, last) == plain.within_terms(organization, first, last)
    assert window.blackout(world.school_a, date(2026, 3, 4), date(2026, 3, 4)).name == "State testing"
    assert window.blackout(world.school_a, date(2026, 3, 10), date(2026, 3, 10)).name == "Spring break"
    assert window.blackout(world.agency, date(2026, 3, 23), date(2026, 3, 23)).name == "Outside 23"
    assert not window.within_terms(world.school_a, date(2026, 3, 12), date(2026, 3, 12))
    assert window.within_terms(world.school_b, date(2026, 3, 12), date(2026, 3, 12))  # no terms at all


def test_proposing_slots_costs_the_same_queries_for_a_week_or_two_months(world, program, calendars, clock):
    """No slot passes after the term ends (11 March), so a longer window tries more days: the
    calendars are read once, not per day."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(last_day):
        request = SessionRequest.objects.select_related("program__agreement__lead_agency", "institution").get(
            pk=ask(world, program, window_ends_on=last_day).pk
        )
        with CaptureQueriesContext(connection) as queries:
            slots = services.propose_slots(request=request, limit=50)
        return len(queries), slots

    week, slots = cost(date(2026, 3, 9))
    months, more = cost(date(2026, 4, 30))
    assert slots == [at(date(2026, 3, d), 10) for d in (3, 6, 9)]
    assert more == [at(date(2026, 3, d), 10) for d in (3, 6, 9, 10, 11)]
    assert months == week <= 6


def test_proposed_slots_start_tomorrow_at_the_earliest(world, program, clock):
    clock.move_to(at(date(2026, 3, 3), 8))
    request = ask(world, program)
    assert services.propose_slots(request=request)[0] == at(date(2026, 3, 4), 10)


def test_scheduling_a_request_confirms_the_schools_group(world, program, calendars):
    request = ask(world, program)
    (slot, *_rest) = services.propose_slots(request=request, facilitators=[world.officer])
    session = services.schedule_from_request(
        request=request, by=world.agency_coordinator, starts_at=slot, facilitators=[world.officer]
    )
    assert (session.school, session.starts_at, session.capacity_seats) == (world.school_a, slot, 30)
    assert session.ends_at == slot + timedelta(minutes=program.duration_minutes)
    booking = Booking.objects.get(session=session)
    assert (booking.institution, booking.booked_by, booking.group_name, booking.seats, booking.status) == (
        world.school_a,
        world.staff_a,
        "Grade 9 health",
        28,
        BookingStatus.CONFIRMED,
    )
    assert_seats_add_up(session)
    request.refresh_from_db()
    assert (request.status, request.session, request.decided_by) == (
        RequestStatus.SCHEDULED,
        session,
        world.agency_coordinator,
    )
    assert OutboundMessage.objects.filter(dedupe_key=f"booking:{booking.pk}:confirmed", to_email=world.staff_a.email)
    with pytest.raises(ConflictError, match="already been answered"):
        services.schedule_from_request(request=request, by=world.agency_coordinator, starts_at=slot)


def test_a_request_larger_than_the_default_gets_enough_seats(world, program):
    request = ask(world, program, seats=45)
    session = services.schedule_from_request(request=request, by=world.agency_coordinator, starts_at=at(SESSION_DAY, 9))
    assert session.capacity_seats == 45
    assert_seats_add_up(session)
    assert session.confirmed_seats == 45


def test_a_request_cannot_be_scheduled_into_a_blocked_slot(world, program, calendars):
    request = ask(world, program)
    with pytest.raises(services.SchedulingError) as caught:
        services.schedule_from_request(request=request, by=world.agency_coordinator, starts_at=at(date(2026, 3, 4), 10))
    assert caught.value.code == "school_blackout"
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    assert not Booking.objects.exists()
    assert Session.objects.count() == 1  # only the officer's other session


def test_only_the_agreements_coordinators_answer_requests(world, program):
    request = ask(world, program)
    for person in (world.staff_a, world.officer, world.coordinator_b):
        with pytest.raises(services.ProgramsError):
            services.schedule_from_request(request=request, by=person, starts_at=at(SESSION_DAY, 9))
        with pytest.raises(services.ProgramsError):
            services.decline_request(request=request, by=person, reason="No officers")
    assert SessionRequest.objects.get(pk=request.pk).status == RequestStatus.OPEN


def test_declining_a_request_needs_a_reason(world, program):
    request = ask(world, program)
    with pytest.raises(services.ProgramsError) as caught:
        services.decline_request(request=request, by=world.agency_coordinator, reason="  ")
    assert caught.value.field == "reason"
    assert SessionRequest.objects.get(pk=request.pk).status == RequestStatus.OPEN

    services.decline_request(
        request=request, by=world.agency_coordinator, reason="No certified officer is free that week."
    )
    request.refresh_from_db()
    assert (request.status, request.decline_reason, request.decided_by) == (
        RequestStatus.DECLINED,
        "No certified officer is free that week.",
        world.agency_coordinator,
    )
    message = OutboundMessage.objects.get(dedupe_key=f"session-request:{request.pk}:declined")
    assert message.to_email == world.staff_a.email
    assert "No certified officer is free that week." in message.body_text
    with pytest.raises(ConflictError):
        services.decline_request(request=request, by=world.agency_coordinator, reason="Again")
