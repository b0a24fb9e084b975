"""iCalendar in and out: session invites and feeds, and bounded import of academic calendars."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice

from dateutil.rrule import rrulestr
from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event, Timezone

from programs.enums import LocationKind, SessionStatus
from programs.models import Session

PRODID = "-//Police-school partnership manager//programs//EN"
MAX_IMPORT_BYTES = 512 * 1024
MAX_IMPORT_EVENTS = 500
MAX_OCCURRENCES_PER_RULE = 60
RECURRENCE_HORIZON_DAYS = 2 * 366


class CalendarImportError(ValueError):
    """The file is not a calendar we accept (too big, not iCalendar, too many events)."""


def location_zone(session: Session):
    """A session is shown in its location's time zone: the school's, else the lead agency's."""
    if session.location_kind == LocationKind.SCHOOL and session.school is not None:
        return session.school.zone
    return session.program.agreement.lead_agency.zone


def location_text(session: Session) -> str:
    if session.location_kind == LocationKind.SCHOOL and session.school is not None:
        return session.school.name
    if session.location_kind == LocationKind.VENUE:
        return session.venue
    return "Online"


@lru_cache(maxsize=128)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A zone's VTIMEZONE over whole years; building one takes milliseconds (icalendar asks
    for its results to be cached), and a scan writes thousands of invites in a few zones."""
    return Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1))


@lru_cache(maxsize=128)
def _vtimezone_text(tzid: str, first_year: int, last_year: int) -> str:
    """The same VTIMEZONE as text: its lines are most of an invite's, and writing them out again
    for every invite was a third of the reminder scan's time (bench/background.py)."""
    return _vtimezone(tzid, first_year, last_year).to_ical().decode()


def _zones(calendar: Calendar, sessions) -> list[tuple[str, int, int]]:
    """The VTIMEZONE of every zone the events use, covering the years around them."""
    years = [s.starts_at.year for s in sessions] or [datetime.now(UTC).year]
    return [(tzid, min(years) - 1, max(years) + 2) for tzid in sorted(calendar.get_missing_tzids())]


def _with_timezones(calendar: Calendar, sessions) -> str:
    """The calendar as text with its zones' VTIMEZONEs before the first event, where icalendar
    writes the components of a calendar they were added to (tests/programs/test_ics.py)."""
    zones = []
    for zone in _zones(calendar, sessions):
        try:
            zones.append(_vtimezone_text(*zone))
        except ValueError:
            continue
    text = calendar.to_ical().decode()
    at = text.find("\r\nBEGIN:VEVENT\r\n")
    if not zones or at < 0:
        return text
    return text[: at + 2] + "".join(zones) + text[at + 2 :]


def _event(session: Session, *, include_join_link: bool, cancelled: bool) -> Event:
    zone = location_zone(session)
    event = Event()
    event.add("uid", session.ical_uid_text)
    event.add("sequence", session.ical_sequence)
    event.add("dtstamp", session.updated_at or session.created_at)
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    event.add("summary", session.program.title)
    event.add("location", location_text(session))
    description = session.program.description
    if include_join_link and session.join_link and not cancelled:
        event.add("url", session.join_link)
        description = f"{description}\n\nJoin: {session.join_link}".strip()
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _invite(session: Session, *, method: str, include_join_link: bool) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(_event(session, include_join_link=include_join_link, cancelled=method == "CANCEL"))
    return calendar


def session_calendar(session: Session, *, method: str = "REQUEST", include_join_link: bool = False) -> str:
    """One session as an invite: UID stable for life, SEQUENCE from the session, CANCEL on cancellation."""
    return _with_timezones(_invite(session, method=method, include_join_link=include_join_link), [session])


def _feed(sessions, *, join_link_for) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Partnership sessions")
    for session in sessions:
        calendar.add_component(
            _event(
                session,
                include_join_link=join_link_for(session),
                cancelled=session.status == SessionStatus.CANCELLED,
            )
        )
    return calendar


def feed_calendar(sessions, *, join_link_for) -> str:
    """A person's feed; ``join_link_for(session)`` says whether to show the link."""
    sessions = list(sessions)
    return _with_timezones(_feed(sessions, join_link_for=join_link_for), sessions)


def feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("programs:feed", args=[token])


@dataclass(frozen=True)
class ImportedEvent:
    uid: str
    name: str
    starts_on: date
    ends_on: date  # inclusive


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _decoded(component, name: str, kind):
    """A date, date-time or duration of an event; icalendar keeps an unreadable one as text."""
    value = component.decoded(name)
    if not isinstance(value, kind):
        summary = str(component.get("summary") or component.get("uid"))
        raise CalendarImportError(f"The event “{summary[:80]}” has a {name.upper()} that cannot be read.")
    return value


def _occurrences(rule: str, first: date):
    # UNTIL may be given in UTC or floating; dateutil wants DTSTART to match it.
    for tzinfo in (UTC, None):
        try:
            return rrulestr(rule, dtstart=datetime.combine(first, time.min, tzinfo=tzinfo))
        except ValueError:
            continue
    raise CalendarImportError("A recurrence rule in the file cannot be read.")


def parse_calendar(content: bytes) -> list[ImportedEvent]:
    """Events of an .ics file as day ranges; size, event count and recurrences are bounded.

    A recurring event becomes one range per occurrence (UID#date), at most
    MAX_OCCURRENCES_PER_RULE of them and none past RECURRENCE_HORIZON_DAYS, so an
    RRULE without an end cannot flood the calendar.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise CalendarImportError(f"The file is larger than {MAX_IMPORT_BYTES // 1024} KB.")
    if b"\x00" in content:  # text never holds one, and PostgreSQL cannot store it
        raise CalendarImportError("This is not an iCalendar (.ics) file: it contains NUL characters.")
    try:
        calendar = Calendar.from_ical(content)
    except Exception as error:
        raise CalendarImportError("This is not an iCalendar (.ics) file.") from error
    events = []
    for component in calendar.walk("VEVENT"):
        if component.get("dtstart") is None or not component.get("uid"):
            continue
        start = _decoded(component, "dtstart", date)
        if component.get("dtend") is not None:
            end = _decoded(component, "dtend", date)
        elif component.get("duration") is not None:
            end = start + _decoded(component, "duration", timedelta)
        else:
            end = start
        # An all-day DTEND is exclusive; a timed event ends on the day it ends.
        span = _as_date(end) - _as_date(start)
        if not isinstance(start, datetime) and span.days >= 1:
            span -= timedelta(days=1)
        span = max(span, timedelta(0))
        uid = str(component.get("uid"))[:200]
        name = str(component.get("summary") or "Imported event")[:150]
        rule = component.get("rrule")
        if rule is None:
            events.append(ImportedEvent(uid, name, _as_date(start), _as_date(start) + span))
        elif isinstance(rule, list):  # RFC 5545: at most one RRULE per event
            raise CalendarImportError(f"The event “{name[:80]}” has more than one recurrence rule.")
        else:
            first = _as_date(start)
            horizon = first + timedelta(days=RECURRENCE_HORIZON_DAYS)
            occurrences = _occurrences(rule.to_ical().decode(), first)
            for occurrence in islice(occurrences, MAX_OCCURRENCES_PER_RULE):
                day = occurrence.date()
                if day > horizon:
                    break
                events.append(ImportedEvent(f"{uid}#{day.isoformat()}", name, day, day + span))
        if len(events) > MAX_IMPORT_EVENTS:
            raise CalendarImportError(f"The file has more than {MAX_IMPORT_EVENTS} events.")
    if not events:
        raise CalendarImportError("The file has no events to import (each needs a UID and a DTSTART).")
    return events
