"""iCalendar out (invites and personal feeds) parsed back with ``icalendar``, and bounded,
idempotent import of academic calendars."""

import hashlib
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from accounts.enums import OrganizationKind, Role
from accounts.models import AuditEntry, Organization
from notifications.models import OutboundMessage
from partnerships.models import Agreement
from programs import ics, selectors, services
from programs.enums import BookingStatus, LocationKind, SessionStatus
from programs.models import BlackoutPeriod, CalendarFeedToken, Facilitation, Program, Session, Term
from tests.factories import member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 2, 12, tzinfo=LA)
JOIN = "https://meet.example.test/rpd-online-safety"


def at(day, hour, minute=0, zone=LA):
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def parse(text: str):
    """(METHOD, the one VEVENT) of an invite."""
    calendar = Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    return str(calendar.get("method", "")), event


def events_of(text: str) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(text).walk("VEVENT")}


@pytest.fixture
def program(world):
    return ProgramFactory(
        agreement=active_agreement(world.agency, world.school_a),
        title="Online safety",
        description="Staying safe on social media.",
    )


def schedule(world, program, *, day=date(2026, 3, 17), hour=9, **fields):
    fields.setdefault("location_kind", LocationKind.SCHOOL)
    fields.setdefault("school", world.school_a if fields["location_kind"] == LocationKind.SCHOOL else None)
    fields.setdefault("facilitators", [world.officer])
    return services.schedule_session(
        program=program,
        by=world.agency_coordinator,
        starts_at=at(day, hour),
        ends_at=at(day, hour + 1),
        **fields,
    )


def outbox_invites(person):
    """The .ics attachments a person received, oldest first."""
    return [
        m.ics_content
        for m in OutboundMessage.objects.filter(to_email=person.email).exclude(ics_content="").order_by("pk")
    ]


# Invites.


def test_one_uid_for_life_and_a_higher_sequence_on_every_change(world, program):
    session = schedule(world, program)
    services.book_session(session=session, institution=world.school_a, by=world.staff_a, group_name="9B", seats=20)
    for day in (date(2026, 3, 18), date(2026, 3, 19)):
        services.reschedule_session(
            session=session, by=world.agency_coordinator, starts_at=at(day, 10), ends_at=at(day, 11)
        )
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Assembly moved")

    for person, sequences in ((world.officer, [0, 1, 2, 3]), (world.staff_a, [0, 1, 2, 3])):
        parsed = [parse(text) for text in outbox_invites(person)]
        assert {str(event["uid"]) for _method, event in parsed} == {session.ical_uid_text}
        assert [int(event["sequence"]) for _method, event in parsed] == sequences
        assert [method for method, _event in parsed] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
        assert [str(event["status"]) for _method, event in parsed][-1] == "CANCELLED"
        assert [event.decoded("dtstart") for _method, event in parsed][1:3] == [
            at(date(2026, 3, 18), 10),
            at(date(2026, 3, 19), 10),
        ]


def test_the_cancelled_invite_carries_no_join_link(world, program):
    session = schedule(world, program, location_kind=LocationKind.VIRTUAL, join_url=JOIN)
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Officer ill")
    method, event = parse(outbox_invites(world.officer)[-1])
    assert method == "CANCEL"
    assert "url" not in event
    assert JOIN not in event.to_ical().decode()


def test_dtstart_is_in_the_schools_time_zone_and_the_same_instant(world, program):
    world.school_a.time_zone = "America/Denver"
    world.school_a.save(update_fields=["time_zone"])
    session = schedule(world, program)  # 9:00 in Los Angeles is 10:00 in Denver
    session.refresh_from_db()
    calendar = Calendar.from_ical(ics.session_calendar(session))
    (event,) = calendar.walk("VEVENT")
    assert event["dtstart"].params["TZID"] == "America/Denver"
    assert event["dtend"].params["TZID"] == "America/Denver"
    assert event["dtstart"].to_ical() == b"20260317T100000"
    assert event.decoded("dtstart") == session.starts_at
    assert event.decoded("dtend") == session.ends_at
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Denver"]
    assert str(event["location"]) == "Lincoln High School"


def test_a_virtual_session_is_shown_in_the_agencys_time_zone(world, program):
    world.agency.time_zone = "America/Chicago"
    world.agency.save(update_fields=["time_zone"])
    session = schedule(world, program, location_kind=LocationKind.VIRTUAL, join_url=JOIN)
    session.refresh_from_db()
    _method, event = parse(ics.session_calendar(session))
    assert event["dtstart"].params["TZID"] == "America/Chicago"
    assert event.decoded("dtstart") == session.starts_at
    assert str(event["location"]) == "Online"


def test_the_join_link_only_when_asked_for(world, program):
    session = schedule(world, program, location_kind=LocationKind.VIRTUAL, join_url=JOIN)
    _method, without = parse(ics.session_calendar(session))
    assert "url" not in without
    assert JOIN not in ics.session_calendar(session)
    _method, with_link = parse(ics.session_calendar(session, include_join_link=True))
    assert str(with_link["url"]) == JOIN
    assert JOIN in str(with_link["description"])


def test_invites_by_email_show_the_link_only_to_confirmed_people(world, program):
    session = schedule(world, program, location_kind=LocationKind.VIRTUAL, join_url=JOIN, capacity_seats=10)
    (waiting,) = [member(world.school_a, Role.STAFF)]
    confirmed = services.book_session(
        session=session, institution=world.school_a, by=world.staff_a, group_name="9B", seats=10
    )
    waitlisted = services.book_session(
        session=session, institution=world.school_a, by=waiting, group_name="9C", seats=5
    )
    assert waitlisted.status == BookingStatus.WAITLISTED
    assert JOIN in outbox_invites(world.staff_a)[0]
    assert JOIN in outbox_invites(world.officer)[0]
    assert outbox_invites(waiting) == []  # the waitlist notice has no invite
    assert all(JOIN not in m.body_text for m in OutboundMessage.objects.filter(to_email=waiting.email))

    services.cancel_booking(booking=confirmed, by=world.staff_a)  # the waitlisted group moves up
    promoted = outbox_invites(waiting)
    assert len(promoted) == 1 and JOIN in promoted[0]
    cancelled = outbox_invites(world.staff_a)[-1]
    assert parse(cancelled)[0] == "CANCEL" and JOIN not in cancelled


# The personal feed.


def feed_for(user) -> str:
    """The feed as the feed view serves it."""
    return ics.feed_calendar(
        selectors.feed_sessions_for(user), join_link_for=lambda session: selectors.can_see_join_link(user, session)
    )


# What icalendar writes: the reference for the invites and feeds, which are written line by
# line (programs/ics.py). Properties go on as icalendar's components; zones as VTIMEZONE components.


def _icalendar_event(session, *, include_join_link, cancelled) -> Event:
    zone = ics.location_zone(session)
    event = Event()
    event.add("uid", session.ical_uid_text)
    event.add("sequence", session.ical_sequence)
    event.add("dtstamp", session.updated_at or session.created_at)
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    event.add("summary", session.program.title)
    event.add("location", ics.location_text(session))
    description = session.program.description
    if include_join_link and session.join_link and not cancelled:
        event.add("url", session.join_link)
        description = f"{description}\n\nJoin: {session.join_link}".strip()
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _icalendar_text(calendar: Calendar, sessions) -> str:
    years = [s.starts_at.year for s in sessions] or [datetime.now(UTC).year]
    zones = []
    for tzid in sorted(calendar.get_missing_tzids()):
        try:
            zones.append(ics._vtimezone(tzid, min(years) - 1, max(years) + 2))
        except ValueError:
            continue
    calendar.subcomponents[:0] = zones
    return calendar.to_ical().decode()


def icalendar_invite(session, *, method="REQUEST", include_join_link=False) -> str:
    calendar = Calendar()
    calendar.add("prodid", ics.PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(_icalendar_event(session, include_join_link=include_join_link, cancelled=method == "CANCEL"))
    return _icalendar_text(calendar, [session])


def icalendar_feed(sessions, *, join_link_for) -> str:
    calendar = Calendar()
    calendar.add("prodid", ics.PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", ics.FEED_NAME)
    for session in sessions:
        calendar.add_component(
            _icalendar_event(
                session, include_join_link=join_link_for(session), cancelled=session.status == SessionStatus.CANCELLED
            )
        )
    return _icalendar_text(calendar, sessions)


def test_invites_and_feeds_are_byte_for_byte_what_icalendar_writes(world, program):
    """For saved sessions in two zones: every kind of invite, a feed of both, an empty feed."""
    world.agency.time_zone = "America/Chicago"
    world.agency.save(update_fields=["time_zone"])
    at_school = schedule(world, program)
    online = schedule(world, program, day=date(2027, 1, 12), location_kind=LocationKind.VIRTUAL, join_url=JOIN)
    for session in (at_school, online):
        session.refresh_from_db()
        for method, join in (("REQUEST", False), ("REQUEST", True), ("CANCEL", False)):
            expected = icalendar_invite(session, method=method, include_join_link=join)
            assert ics.session_calendar(session, method=method, include_join_link=join) == expected
    both = [at_school, online]
    feed = ics.feed_calendar(both, join_link_for=lambda s: True)
    assert feed == icalendar_feed(both, join_link_for=lambda s: True)
    assert [str(tz["tzid"]) for tz in Calendar.from_ical(feed).walk("VTIMEZONE")] == [
        "America/Chicago",
        "America/Los_Angeles",
    ]
    assert ics.feed_calendar([], join_link_for=lambda s: True) == icalendar_feed([], join_link_for=lambda s: True)


# Any text a coordinator may type (commas, semicolons, backslashes, line breaks, accents, emoji,
# lines long enough to fold), in any zone an organization may have.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
ZONES = st.sampled_from(
    [
        "America/New_York",
        "America/Los_Angeles",
        "UTC",
        "Etc/UTC",
        "Asia/Kolkata",
        "Europe/London",
        "Pacific/Chatham",
        "America/St_Johns",
    ]
)


@given(
    title=TEXT,
    description=TEXT,
    venue=TEXT,
    zone=ZONES,
    start=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)),
    minutes=st.integers(min_value=5, max_value=600),
    sequence=st.integers(min_value=0, max_value=10_000),
    join=st.sampled_from(["", JOIN, "https://meet.example.test/a,b;c\\d?" + "x" * 90]),
    method=st.sampled_from(["REQUEST", "CANCEL"]),
)
@settings(max_examples=300, deadline=None)
def test_any_session_is_written_as_icalendar_writes_it(
    title, description, venue, zone, start, minutes, sequence, join, method
):
    agency = Organization(name="Agency", kind=OrganizationKind.AGENCY, time_zone=zone)
    agreement = Agreement(lead_agency=agency)
    session = Session(
        program=Program(agreement=agreement, title=title, description=description),
        starts_at=start.replace(microsecond=0),
        ends_at=start.replace(microsecond=0) + timedelta(minutes=minutes),
        location_kind=LocationKind.VIRTUAL if join else LocationKind.VENUE,
        venue=venue,
        join_url=join,
        ical_uid=uuid.UUID(int=sequence),
        ical_sequence=sequence,
        created_at=start,
        updated_at=None,
    )
    for include_join_link in (False, True):
        text = ics.session_calendar(session, method=method, include_join_link=include_join_link)
        assert text == icalendar_invite(session, method=method, include_join_link=include_join_link)
    assert ics.feed_calendar([session, session], join_link_for=lambda s: True) == icalendar_feed(
        [session, session], join_link_for=lambda s: True
    )


@pytest.fixture
def sessions(world, program):
    """Four virtual sessions; staff A's bookings: confirmed, waitlisted, cancelled, none."""

    def virtual(day, **fields):
        return SessionFactory(
            program=program,
            starts_at=at(day, 9),
            ends_at=at(day, 10),
            location_kind=LocationKind.VIRTUAL,
            venue="",
            join_url=JOIN,
            **fields,
        )

    booked, waiting, dropped, other = (virtual(date(2026, 3, d)) for d in (17, 18, 19, 20))
    colleague = member(world.school_a, Role.STAFF)
    booking(booked, institution=world.school_a, by=world.staff_a, seats=5)
    booking(booked, institution=world.school_a, by=colleague, seats=5, status=BookingStatus.WAITLISTED)
    booking(waiting, institution=world.school_a, by=world.staff_a, seats=5, status=BookingStatus.WAITLISTED)
    booking(dropped, institution=world.school_a, by=world.staff_a, seats=5, status=BookingStatus.CANCELLED)
    booking(other, institution=world.school_a, by=colleague, seats=5)
    for session in (booked, other):
        Facilitation.objects.create(
            session=session, officer=world.officer, starts_at=session.starts_at, ends_at=session.ends_at
        )
    return {"booked": booked, "waiting": waiting, "dropped": dropped, "other": other, "colleague": colleague}


def test_the_feed_lists_only_the_persons_own_sessions(world, sessions):
    staff_feed = events_of(feed_for(world.staff_a))
    assert list(staff_feed) == [sessions["booked"].ical_uid_text]
    assert str(staff_feed[sessions["booked"].ical_uid_text]["url"]) == JOIN

    officer_feed = events_of(feed_for(world.officer))
    assert sorted(officer_feed) == sorted([sessions["booked"].ical_uid_text, sessions["other"].ical_uid_text])
    assert all(str(event["url"]) == JOIN for event in officer_feed.values())

    colleague_feed = events_of(feed_for(sessions["colleague"]))
    assert list(colleague_feed) == [sessions["other"].ical_uid_text]  # waitlisted on "booked": not listed

    for outsider in (world.staff_b, world.coordinator_a, world.agency_coordinator, world.loner):
        assert events_of(feed_for(outsider)) == {}


def test_the_join_link_never_reaches_people_who_are_not_confirmed(world, sessions):
    booked = sessions["booked"]
    assert selectors.can_see_join_link(world.staff_a, booked)
    assert selectors.can_see_join_link(world.officer, booked)
    for person in (sessions["colleague"], world.coordinator_a, world.agency_coordinator, world.staff_b):
        assert not selectors.can_see_join_link(person, booked)
    assert not selectors.can_see_join_link(world.staff_a, sessions["waiting"])
    assert not selectors.can_see_join_link(world.staff_a, sessions["dropped"])


def test_a_cancelled_session_stays_in_the_feed_as_cancelled_without_its_link(world, sessions):
    booked = sessions["booked"]
    services.cancel_session(session=booked, by=world.agency_coordinator, reason="Officer ill")
    event = events_of(feed_for(world.staff_a))[booked.ical_uid_text]
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1
    assert "url" not in event


def test_feed_tokens_are_stored_hashed_and_can_be_revoked(world):
    token = services.issue_feed_token(user=world.staff_a)
    stored = CalendarFeedToken.objects.get(user=world.staff_a)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.token_hash, str(stored.pk)}
    assert len(token) >= 40

    assert services.feed_user(token) == world.staff_a
    assert CalendarFeedToken.objects.get(user=world.staff_a).last_used_at == NOW
    assert services.feed_user(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert services.feed_user("") is None

    fresh = services.issue_feed_token(user=world.staff_a)  # a new URL replaces the old one
    assert services.feed_user(token) is None
    assert services.feed_user(fresh) == world.staff_a
    assert CalendarFeedToken.objects.filter(user=world.staff_a).count() == 1

    services.revoke_feed_token(user=world.staff_a)
    assert services.feed_user(fresh) is None
    assert not CalendarFeedToken.objects.filter(user=world.staff_a).exists()


def test_a_deactivated_persons_feed_stops(world):
    token = services.issue_feed_token(user=world.officer)
    world.officer.is_active = False
    world.officer.save(update_fields=["is_active"])
    assert services.feed_user(token) is None


# Import of academic calendars.


def vevent(uid, summary, start, end=None, *, rrule=None, all_day=True):
    fmt = (lambda d: f";VALUE=DATE:{d:%Y%m%d}") if all_day else (lambda d: f":{d:%Y%m%dT%H%M%SZ}")
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary}", f"DTSTART{fmt(start)}"]
    if end is not None:
        lines.append(f"DTEND{fmt(end)}")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def calendar_file(*events) -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//District//Calendar//EN", *events, "END:VCALENDAR"])
    return (body + "\r\n").encode()


DISTRICT_CALENDAR = calendar_file(
    vevent("winter-break-2026@rusd", "Winter break", date(2026, 12, 21), date(2027, 1, 2)),
    vevent("cst-2027@rusd", "State testing", date(2027, 4, 12), date(2027, 4, 17)),
    vevent(
        "early-release-1@rusd",
        "Early release",
        datetime(2026, 11, 25, 20),
        datetime(2026, 11, 25, 23),
        all_day=False,
    ),
)


def imported(organization):
    return sorted(
        (b.ical_uid, b.name, b.starts_on, b.ends_on) for b in BlackoutPeriod.objects.filter(organization=organization)
    )


def test_import_is_idempotent(world):
    assert services.import_calendar(organization=world.school_a, by=world.staff_a, content=DISTRICT_CALENDAR) == (3, 0)
    first = imported(world.school_a)
    assert first == [
        ("cst-2027@rusd", "State testing", date(2027, 4, 12), date(2027, 4, 16)),
        ("early-release-1@rusd", "Early release", date(2026, 11, 25), date(2026, 11, 25)),
        ("winter-break-2026@rusd", "Winter break", date(2026, 12, 21), date(2027, 1, 1)),  # DTEND is exclusive
    ]
    assert services.import_calendar(organization=world.school_a, by=world.staff_a, content=DISTRICT_CALENDAR) == (0, 3)
    assert imported(world.school_a) == first
    assert AuditEntry.objects.filter(action="calendar.imported").count() == 2


def test_a_changed_event_is_updated_in_place(world):
    services.import_calendar(organization=world.school_a, by=world.staff_a, content=DISTRICT_CALENDAR)
    moved = calendar_file(vevent("cst-2027@rusd", "State testing (CAASPP)", date(2027, 4, 19), date(2027, 4, 24)))
    assert services.import_calendar(organization=world.school_a, by=world.staff_a, content=moved) == (0, 1)
    testing = BlackoutPeriod.objects.get(organization=world.school_a, ical_uid="cst-2027@rusd")
    assert (testing.name, testing.starts_on, testing.ends_on) == (
        "State testing (CAASPP)",
        date(2027, 4, 19),
        date(2027, 4, 23),
    )
    assert BlackoutPeriod.objects.filter(organization=world.school_a).count() == 3


def test_the_same_file_for_two_schools_is_two_calendars(world):
    services.import_calendar(organization=world.school_a, by=world.staff_a, content=DISTRICT_CALENDAR)
    assert services.import_calendar(organization=world.school_b, by=world.staff_b, content=DISTRICT_CALENDAR) == (3, 0)


def test_terms_can_be_imported_too(world):
    terms = calendar_file(
        vevent("fall-2026@rusd", "Fall semester", date(2026, 8, 17), date(2026, 12, 19)),
        vevent("spring-2027@rusd", "Spring semester", date(2027, 1, 6), date(2027, 6, 5)),
    )
    assert services.import_calendar(
        organization=world.school_a, by=world.coordinator_a, content=terms, as_terms=True
    ) == (2, 0)
    assert list(Term.objects.values_list("name", "starts_on", "ends_on")) == [
        ("Fall semester", date(2026, 8, 17), date(2026, 12, 18)),
        ("Spring semester", date(2027, 1, 6), date(2027, 6, 4)),
    ]
    assert not BlackoutPeriod.objects.exists()
    with pytest.raises(services.ProgramsError, match="Only institutions have terms"):
        services.import_calendar(organization=world.agency, by=world.agency_coordinator, content=terms, as_terms=True)


def test_a_file_over_the_size_limit_is_refused(world):
    padding = "X-PADDING:" + "x" * 70
    content = calendar_file(
        vevent("a@rusd", "Winter break", date(2026, 12, 21), date(2027, 1, 2)),
        *([padding] * (ics.MAX_IMPORT_BYTES // 70)),
    )
    assert len(content) > ics.MAX_IMPORT_BYTES
    with pytest.raises(services.ProgramsError) as caught:
        services.import_calendar(organization=world.school_a, by=world.staff_a, content=content)
    assert caught.value.field == "file"
    assert caught.value.message == "The file is larger than 512 KB."
    assert not BlackoutPeriod.objects.exists()


def test_a_rule_without_an_end_is_capped_at_the_occurrence_limit(world):
    weekly = calendar_file(vevent("assembly@rusd", "Assembly", date(2026, 9, 2), rrule="FREQ=WEEKLY"))
    created, _updated = services.import_calendar(organization=world.school_a, by=world.staff_a, content=weekly)
    assert created == ics.MAX_OCCURRENCES_PER_RULE
    days = sorted(BlackoutPeriod.objects.values_list("starts_on", flat=True))
    assert days[0] == date(2026, 9, 2)
    assert days[-1] == date(2026, 9, 2) + timedelta(weeks=ics.MAX_OCCURRENCES_PER_RULE - 1)
    assert BlackoutPeriod.objects.filter(ical_uid="assembly@rusd#2026-09-02").exists()
    # Importing it again adds nothing.
    assert services.import_calendar(organization=world.school_a, by=world.staff_a, content=weekly) == (
        0,
        ics.MAX_OCCURRENCES_PER_RULE,
    )


def test_a_rule_without_an_end_stops_at_the_horizon(world):
    yearly = calendar_file(vevent("founders@rusd", "Founders' day", date(2026, 10, 5), rrule="FREQ=YEARLY"))
    services.import_calendar(organization=world.school_a, by=world.staff_a, content=yearly)
    horizon = date(2026, 10, 5) + timedelta(days=ics.RECURRENCE_HORIZON_DAYS)
    days = sorted(BlackoutPeriod.objects.values_list("starts_on", flat=True))
    assert days == [date(2026, 10, 5), date(2027, 10, 5), date(2028, 10, 5)]
    assert all(day <= horizon for day in days)


def test_a_file_with_too_many_events_is_refused(world):
    many = calendar_file(
        *(
            vevent(f"day-{n}@rusd", "Closed", date(2026, 9, 1) + timedelta(days=n))
            for n in range(ics.MAX_IMPORT_EVENTS + 1)
        )
    )
    assert len(many) < ics.MAX_IMPORT_BYTES
    with pytest.raises(services.ProgramsError, match="more than 500 events"):
        services.import_calendar(organization=world.school_a, by=world.staff_a, content=many)
    assert not BlackoutPeriod.objects.exists()


def test_recurrences_count_towards_the_event_limit(world):
    rules = calendar_file(
        *(vevent(f"rule-{n}@rusd", "Weekly", date(2026, 9, 1 + n), rrule="FREQ=WEEKLY") for n in range(9))
    )
    with pytest.raises(services.ProgramsError, match="more than 500 events"):
        services.import_calendar(organization=world.school_a, by=world.staff_a, content=rules)
    assert not BlackoutPeriod.objects.exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"this is not a calendar", "not an iCalendar"),
        (b"\xff\xfe\x00\x01", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "not an iCalendar"),
        (
            calendar_file(
                vevent("ok@rusd", "Winter break", date(2026, 12, 21), date(2027, 1, 2)),
                "BEGIN:VEVENT\r\nUID:bad@rusd\r\nSUMMARY:Spring break\r\nDTSTART:next spring\r\nEND:VEVENT",
            ),
            "“Spring break” has a DTSTART that cannot be read",
        ),
        (
            calendar_file(
                "BEGIN:VEVENT\r\nUID:d@rusd\r\nSUMMARY:Retreat\r\nDTSTART;VALUE=DATE:20261201\r\n"
                "DURATION:three days\r\nEND:VEVENT"
            ),
            "has a DURATION that cannot be read",
        ),
        (
            calendar_file(vevent("r@rusd", "Assembly", date(2026, 9, 2), rrule="FREQ=SOMETIMES")),
            "recurrence rule in the file cannot be read",
        ),
        (
            calendar_file(
                "BEGIN:VEVENT\r\nUID:two@rusd\r\nSUMMARY:Assembly\r\nDTSTART;VALUE=DATE:20260902\r\n"
                "RRULE:FREQ=WEEKLY;COUNT=2\r\nRRULE:FREQ=MONTHLY;COUNT=2\r\nEND:VEVENT"
            ),
            "more than one recurrence rule",
        ),
    ],
)
def test_a_broken_file_gives_a_clear_error_and_changes_nothing(world, content, says):
    services.import_calendar(organization=world.school_a, by=world.staff_a, content=DISTRICT_CALENDAR)
    before = imported(world.school_a)
    with pytest.raises(services.ProgramsError) as caught:
        services.import_calendar(organization=world.school_a, by=world.staff_a, content=content)
    assert caught.value.field == "file"
    assert says in caught.value.message
    assert imported(world.school_a) == before
    assert AuditEntry.objects.filter(action="calendar.imported").count() == 1


@pytest.mark.parametrize(
    ("person", "organization", "allowed"),
    [
        ("staff_a", "school_a", True),
        ("coordinator_a", "school_a", True),
        ("admin", "school_a", True),
        ("staff_b", "school_a", False),
        ("student_a", "school_a", False),
        ("officer", "school_a", False),
        ("agency_coordinator", "school_a", False),
        ("agency_coordinator", "agency", True),
        ("officer", "agency", False),
        ("staff_a", "agency", False),
        ("loner", "school_a", False),
    ],
)
def test_only_people_who_keep_the_calendar_import(world, person, organization, allowed):
    user, org = getattr(world, person), getattr(world, organization)
    assert services.rules.can_manage_calendar(user, org) is allowed
    if allowed:
        assert services.import_calendar(organization=org, by=user, content=DISTRICT_CALENDAR) == (3, 0)
    else:
        with pytest.raises(services.ProgramsError) as caught:
            services.import_calendar(organization=org, by=user, content=DISTRICT_CALENDAR)
        assert caught.value.code == "forbidden"
        assert not BlackoutPeriod.objects.exists()
