"""iCalendar in and out: session invites and feeds, and bounded import of academic calendars."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice

from dateutil.rrule import rrulestr
from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Timezone
from icalendar.timezone import tzid_from_tzinfo

from programs.enums import LocationKind, SessionStatus
from programs.models import Session

PRODID = "-//Police-school partnership manager//programs//EN"
FEED_NAME = "Partnership sessions"
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


# Invites and feeds are written line by line, as icalendar writes them: a reminder scan writes
# thousands, and icalendar's components (a parameter object and a content line object for every
# property) cost a third of the scan (bench/background.py). tests/programs/test_ics.py holds the
# text byte for byte to what icalendar writes for the same session, for any text and zone.


def _text(value: str) -> str:
    """A TEXT value escaped by RFC 5545 3.3.11, as icalendar escapes it."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def _fold(line: str, limit: int = 75) -> str:
    """A content line folded under 75 octets (RFC 5545 3.1), never inside a UTF-8 character
    and, like icalendar, never between a backslash or caret and the character it escapes."""
    if len(line) < limit and line.isascii():
        return line
    folded, current, size = [], [], 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                folded.append("".join(current))
                current, size = [carried], len(carried.encode())
            else:
                folded.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    folded.append("".join(current))
    return "\r\n ".join(folded)


@lru_cache(maxsize=256)
def _tzid(zone) -> str:
    """The TZID icalendar gives a zone ("UTC" for UTC and its aliases)."""
    return tzid_from_tzinfo(zone) or ""


def _moment(name: str, moment: datetime) -> tuple[str, str | None]:
    """A DATE-TIME property line and the TZID it names (None for UTC, written with Z)."""
    stamp = f"{moment.year:04}{moment.month:02}{moment.day:02}T{moment.hour:02}{moment.minute:02}{moment.second:02}"
    tzid = _tzid(moment.tzinfo) or moment.tzname()
    if tzid == "UTC":
        return f"{name}:{stamp}Z", None
    return f"{name};TZID={tzid}:{stamp}", tzid


def _event_lines(session: Session, *, include_join_link: bool, cancelled: bool, zones: set) -> list[str]:
    """A session as a VEVENT, in icalendar's order of properties; adds the TZIDs it uses to ``zones``."""
    zone = location_zone(session)
    description = session.program.description
    url = None
    if include_join_link and session.join_link and not cancelled:
        url = session.join_link
        description = f"{description}\n\nJoin: {url}".strip()
    lines = ["BEGIN:VEVENT", f"SUMMARY:{_text(session.program.title)}"]
    for name, moment in (
        ("DTSTART", session.starts_at.astimezone(zone)),
        ("DTEND", session.ends_at.astimezone(zone)),
        ("DTSTAMP", session.updated_at or session.created_at),
    ):
        line, tzid = _moment(name, moment)
        lines.append(line)
        if tzid:
            zones.add(tzid)
    lines += [
        f"UID:{_text(session.ical_uid_text)}",
        f"SEQUENCE:{int(session.ical_sequence)}",
        f"DESCRIPTION:{_text(description)}",
        f"LOCATION:{_text(location_text(session))}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
    ]
    if url:
        lines.append(f"URL:{url}")
    lines.append("END:VEVENT")
    return lines


def _zones(zones: set, sessions) -> list[tuple[str, int, int]]:
    """The VTIMEZONE of every zone the events use, covering the years around them."""
    years = [s.starts_at.year for s in sessions] or [datetime.now(UTC).year]
    return [(tzid, min(years) - 1, max(years) + 2) for tzid in sorted(zones)]


def _calendar(header: list[str], events: list[str], zones: set, sessions) -> str:
    """A VCALENDAR: its properties, the VTIMEZONEs of the zones its events use, then the events."""
    timezones = []
    for zone in _zones(zones, sessions):
        try:
            timezones.append(_vtimezone_text(*zone))
        except ValueError:
            continue
    head = "".join(f"{_fold(line)}\r\n" for line in ["BEGIN:VCALENDAR", *header])
    body = "".join(f"{_fold(line)}\r\n" for line in events)
    return f"{head}{''.join(timezones)}{body}END:VCALENDAR\r\n"


def session_calendar(session: Session, *, method: str = "REQUEST", include_join_link: bool = False) -> str:
    """One session as an invite: UID stable for life, SEQUENCE from the session, CANCEL on cancellation."""
    zones = set()
    event = _event_lines(session, include_join_link=include_join_link, cancelled=method == "CANCEL", zones=zones)
    header = ["VERSION:2.0", f"PRODID:{_text(PRODID)}", f"METHOD:{_text(method)}"]
    return _calendar(header, event, zones, [session])


def feed_calendar(sessions, *, join_link_for) -> str:
    """A person's feed; ``join_link_for(session)`` says whether to show the link."""
    sessions = list(sessions)
    zones, events = set(), []
    for session in sessions:
        events += _event_lines(
            session,
            include_join_link=join_link_for(session),
            cancelled=session.status == SessionStatus.CANCELLED,
            zones=zones,
        )
    header = ["VERSION:2.0", f"PRODID:{_text(PRODID)}", f"X-WR-CALNAME:{_text(FEED_NAME)}"]
    return _calendar(header, events, zones, sessions)


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
