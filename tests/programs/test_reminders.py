"""Session reminders 7 days and 24 hours ahead: once per person even when the beat runs
twice, following a rescheduled session, never to cancelled sessions or to cancelled or
waitlisted bookings."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from accounts.enums import Role
from notifications.models import OutboundMessage
from programs import services, tasks
from programs.enums import BookingStatus, LocationKind
from programs.models import Facilitation
from tests.factories import member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 2, 12, tzinfo=LA)
START = datetime(2026, 3, 19, 9, tzinfo=LA)  # a Thursday morning at the school
JOIN = "https://meet.example.test/rpd-bullying"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(world):
    return {
        "booker": world.staff_a,
        "officer": world.officer,
        "waitlisted": member(world.school_a, Role.STAFF, full_name="Wendy Waitlist"),
        "cancelled": member(world.school_a, Role.STAFF, full_name="Carl Cancelled"),
    }


@pytest.fixture
def session(world, people):
    program = ProgramFactory(agreement=active_agreement(world.agency, world.school_a), title="Bullying prevention")
    session = SessionFactory(
        program=program,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        location_kind=LocationKind.VIRTUAL,
        venue="",
        join_url=JOIN,
        capacity_seats=10,
    )
    Facilitation.objects.create(session=session, officer=world.officer, starts_at=START, ends_at=session.ends_at)
    booking(session, institution=world.school_a, by=people["booker"], seats=6)
    booking(session, institution=world.school_a, by=people["booker"], seats=4, group_name="Class 9C")
    booking(session, institution=world.school_a, by=people["waitlisted"], seats=3, status=BookingStatus.WAITLISTED)
    booking(session, institution=world.school_a, by=people["cancelled"], seats=2, status=BookingStatus.CANCELLED)
    return session


def reminders(label=None):
    qs = OutboundMessage.objects.filter(dedupe_key__startswith="session-reminder:")
    if label:
        qs = qs.filter(dedupe_key__contains=f":{label}:")
    return qs


def received(label=None):
    return sorted(m.to_email for m in reminders(label))


def run_at(clock, moment, times=2):
    clock.move_to(moment)
    return [services.send_session_reminders() for _ in range(times)]


def test_each_reminder_goes_once_to_confirmed_bookers_and_facilitators(world, session, people, clock):
    """The beat every hour for eight days, each run twice: one 7-day and one 24-hour reminder
    per person, and none to the waitlisted or cancelled bookers."""
    expected = sorted([people["booker"].email, people["officer"].email])
    moment = START - timedelta(days=8)
    while moment < START:
        run_at(clock, moment)
        moment += timedelta(hours=1)
    assert received("7d") == expected
    assert received("24h") == expected
    assert reminders().count() == 4
    for person in (people["waitlisted"], people["cancelled"]):
        assert not OutboundMessage.objects.filter(to_email=person.email).exists()


def test_the_second_run_writes_nothing(world, session, people, clock):
    assert run_at(clock, START - timedelta(days=7) + timedelta(minutes=10)) == [2, 0]
    week = reminders("7d").get(to_email=people["booker"].email)
    stamp = START.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    assert week.dedupe_key == f"session-reminder:{session.pk}:7d:{stamp}:to:{people['booker'].pk}"
    assert week.subject.startswith("In a week: Bullying prevention")
    assert tasks.send_session_reminders() == 0  # the beat's task is the same scan

    assert run_at(clock, START - timedelta(hours=23)) == [2, 0]
    day = reminders("24h").get(to_email=people["officer"].email)
    assert day.subject.startswith("Tomorrow: Bullying prevention")


def test_reminders_wait_for_their_window(world, session, clock):
    assert run_at(clock, START - timedelta(days=7, minutes=1)) == [0, 0]
    assert run_at(clock, START - timedelta(days=3)) == [0, 0]  # between the two reminders
    assert run_at(clock, START - timedelta(hours=24, minutes=1)) == [0, 0]
    assert not reminders().exists()


def test_the_reminders_invite_shows_the_join_link_only_to_confirmed_people(world, session, people, clock):
    run_at(clock, START - timedelta(hours=2))
    for person in (people["booker"], people["officer"]):
        invite = Calendar.from_ical(reminders("24h").get(to_email=person.email).ics_content)
        (event,) = invite.walk("VEVENT")
        assert str(event["url"]) == JOIN
        assert str(event["uid"]) == session.ical_uid_text
    assert not any(
        JOIN in m.body_text + m.ics_content
        for m in OutboundMessage.objects.exclude(user__in=[people["booker"], people["officer"]])
    )


def test_reminders_follow_a_rescheduled_session(world, session, people, clock):
    run_at(clock, START - timedelta(days=7) + timedelta(hours=1))
    assert reminders("7d").count() == 2

    new_start = datetime(2026, 3, 23, 13, tzinfo=LA)  # the next Monday, 1 p.m.
    services.reschedule_session(
        session=session, by=world.agency_coordinator, starts_at=new_start, ends_at=new_start + timedelta(hours=1)
    )

    # The old time's 24-hour mark passes without a reminder.
    run_at(clock, START - timedelta(hours=23))
    assert reminders("24h").count() == 0

    # The new time gets its own 7-day and 24-hour reminders, naming the new time.
    run_at(clock, new_start - timedelta(days=7) + timedelta(minutes=30))
    run_at(clock, new_start - timedelta(hours=20))
    new_stamp = new_start.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    for label in ("7d", "24h"):
        fresh = reminders(label).filter(dedupe_key__contains=new_stamp)
        assert sorted(m.to_email for m in fresh) == sorted([people["booker"].email, people["officer"].email])
    latest = reminders("24h").get(to_email=people["booker"].email)
    assert "March 23, 2026, 1 p.m." in latest.body_text
    (event,) = Calendar.from_ical(latest.ics_content).walk("VEVENT")
    assert event.decoded("dtstart") == new_start
    assert int(event["sequence"]) == 1
    assert reminders().count() == 6  # 7d for the old time, 7d and 24h for the new one


def test_a_session_moved_inside_the_last_day_is_reminded_of_its_new_time(world, session, people, clock):
    run_at(clock, START - timedelta(hours=20))
    assert reminders("24h").count() == 2
    later = START + timedelta(hours=2)
    services.reschedule_session(
        session=session, by=world.agency_coordinator, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    run_at(clock, START - timedelta(hours=19))
    assert reminders("24h").count() == 4
    newest = reminders("24h").filter(to_email=people["booker"].email).order_by("-pk").first()
    assert "11 a.m." in newest.body_text


def test_no_reminders_for_a_cancelled_session(world, session, clock):
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Officer reassigned")
    run_at(clock, START - timedelta(days=7) + timedelta(minutes=10))
    run_at(clock, START - timedelta(hours=2))
    assert not reminders().exists()


def test_a_booking_cancelled_after_the_first_reminder_gets_no_second(world, session, people, clock):
    run_at(clock, START - timedelta(days=7) + timedelta(minutes=10))
    assert people["booker"].email in received("7d")
    for mine in session.bookings.filter(booked_by=people["booker"]):
        services.cancel_booking(booking=mine, by=people["booker"])
    # The waitlisted group (3 seats) moved up when the seats were freed.
    run_at(clock, START - timedelta(hours=2))
    assert received("24h") == sorted([people["officer"].email, people["waitlisted"].email])


def test_sessions_outside_the_windows_are_not_reminded(world, session, clock):
    far = SessionFactory(program=session.program, starts_at=START + timedelta(days=30))
    run_at(clock, START - timedelta(hours=2))
    assert not reminders().filter(dedupe_key__startswith=f"session-reminder:{far.pk}:").exists()


def _more_sessions(world, n, *, offset=0):
    program = ProgramFactory(agreement=active_agreement(world.agency, world.school_b))
    for k in range(n):
        starts = START - timedelta(minutes=5 * (k + 1) + offset)
        extra = SessionFactory(
            program=program, starts_at=starts, ends_at=starts + timedelta(hours=1), capacity_seats=50
        )
        for j in range(3):
            booking(
                extra, institution=world.school_b, by=member(world.school_b, Role.STAFF), seats=1, group_name=f"G{j}"
            )


def test_the_scan_costs_the_same_queries_for_3_sessions_as_for_30(world, session, clock):
    """Batched: sessions, their bookings and facilitators, the keys already sent, and one
    INSERT per batch; rendering once per session and kind of recipient."""
    clock.move_to(START - timedelta(days=7) + timedelta(minutes=10))
    _more_sessions(world, 2)
    with CaptureQueriesContext(connection) as few:
        assert services.send_session_reminders() == 2 + 2 * 3
    OutboundMessage.objects.all().delete()
    _more_sessions(world, 27, offset=30)
    with CaptureQueriesContext(connection) as many:
        assert services.send_session_reminders() == 2 + 29 * 3
    assert len(many) == len(few)
    # A rerun reads what is there and writes nothing.
    assert services.send_session_reminders() == 0
