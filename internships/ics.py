"""The interview invitation as iCalendar: one UID for life, a higher SEQUENCE on each change."""

from datetime import timedelta

from django.utils import timezone
from icalendar import Calendar, Event

from internships.enums import InterviewStatus
from internships.models import Interview

PRODID = "-//Police-school partnership manager//internships//EN"


def interview_calendar(interview: Interview, *, method: str = "REQUEST") -> str:
    application = interview.application
    posting = application.posting
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{interview.uid}@internships.partnerships")
    event.add("sequence", interview.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", interview.starts_at)
    event.add("dtend", interview.starts_at + timedelta(minutes=interview.duration_minutes))
    event.add("summary", f"Interview: {posting.title} ({posting.agency.name})")
    event.add("location", interview.location)
    if interview.notes:
        event.add("description", interview.notes)
    event.add("status", "CANCELLED" if interview.status == InterviewStatus.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode()
