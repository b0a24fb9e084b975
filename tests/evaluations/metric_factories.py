"""Rows for metric tests, written directly (no rules) so a test states exactly what exists:
delivered and cancelled sessions with bookings and attendance, surveys with invitations and
answers, applications, placements, hours and check-ins on chosen days."""

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from evaluations.models import Answer, Metric, Question, Response, Survey, SurveyInvitation, SurveyTemplate
from internships.enums import ApplicationStatus, CheckInStatus, HoursStatus, PlacementStatus
from internships.models import Application, CheckIn, HoursEntry, Placement
from programs.enums import BookingStatus, LocationKind, SessionStatus
from programs.models import Booking, Session
from tests.factories import UserFactory
from tests.internships.factories import posting as make_posting
from tests.programs.factories import ProgramFactory, active_agreement

_tokens = itertools.count()
# Long before any period the tests measure, so placements' applications never count as received.
APPLIED_AT = datetime(2020, 1, 6, 12, tzinfo=UTC)


def builtin(code: str) -> Metric:
    return Metric.objects.get(computation=code)


def at(agreement, day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An instant on ``day`` at ``hour`` in the agreement's lead agency's time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=agreement.lead_agency.zone)


def agreement_for(world):
    """An active agreement between the world's agency and both schools."""
    return active_agreement(world.agency, world.school_a, world.school_b)


def program_of(agreement, **fields):
    return ProgramFactory(agreement=agreement, **fields)


def session(program, day: date, *, status=SessionStatus.DELIVERED, capacity=20, hour=10, minute=0) -> Session:
    starts = datetime.combine(day, time(hour, minute), tzinfo=program.agreement.lead_agency.zone)
    return Session.objects.create(
        program=program,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        location_kind=LocationKind.VENUE,
        venue="Community hall",
        capacity_seats=capacity,
        status=status,
    )


def sessions_bulk(program, first_day: date, n: int, *, capacity=20) -> list[Session]:
    """``n`` delivered sessions, one a day from ``first_day``, in one insert."""
    zone = program.agreement.lead_agency.zone
    rows = []
    for i in range(n):
        starts = datetime.combine(first_day + timedelta(days=i % 60), time(9 + i % 8), tzinfo=zone)
        rows.append(
            Session(
                program=program,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                location_kind=LocationKind.VENUE,
                venue="Hall",
                capacity_seats=capacity,
                confirmed_seats=capacity // 2,
                status=SessionStatus.DELIVERED,
            )
        )
    return Session.objects.bulk_create(rows)


def booking(session, institution, by, *, seats=10, status=BookingStatus.CONFIRMED, attended=None) -> Booking:
    """A booking; a confirmed one adds its seats to the session's confirmed seats."""
    now = timezone.now()
    made = Booking.objects.create(
        session=session,
        institution=institution,
        booked_by=by,
        group_name="Class",
        seats=seats,
        status=status,
        confirmed_at=now if status == BookingStatus.CONFIRMED else None,
        waitlisted_at=now if status == BookingStatus.WAITLISTED else None,
        cancelled_at=now if status == BookingStatus.CANCELLED else None,
        attended_count=attended,
    )
    if status == BookingStatus.CONFIRMED:
        Session.objects.filter(pk=session.pk).update(confirmed_seats=session.confirmed_seats + seats)
        session.confirmed_seats += seats
    return made


# Surveys.


def session_survey(session, *, template_code="workshop-staff", opened_on: date | None = None) -> Survey:
    agreement = session.program.agreement
    opened = at(agreement, opened_on, 12) if opened_on else session.ends_at + timedelta(hours=2)
    return Survey.objects.create(
        template=SurveyTemplate.objects.get(code=template_code),
        agreement=agreement,
        program=session.program,
        session=session,
        title=f"Feedback on {session.program.title}",
        opened_at=opened,
        closes_at=opened + timedelta(days=14),
    )


def invitations(survey, *, used=0, unused=0, withdrawn=0) -> None:
    audience = survey.template.audience
    rows = [
        SurveyInvitation(
            survey=survey,
            token_hash=f"{next(_tokens):064x}",
            audience=audience,
            used_on=survey.opened_at.date() if i < used else None,
            withdrawn=i >= used + unused,
        )
        for i in range(used + unused + withdrawn)
    ]
    SurveyInvitation.objects.bulk_create(rows)


def respond(survey, **numbers_by_position) -> Response:
    """One response: ``p1=4`` answers question 1 with 4."""
    response = Response.objects.create(
        id=uuid.uuid4(), survey=survey, audience=survey.template.audience, submitted_on=survey.opened_at.date()
    )
    for key, number in numbers_by_position.items():
        question = Question.objects.get(template=survey.template, position=int(key[1:]))
        Answer.objects.create(response=response, question=question, number=number)
    return response


def satisfaction_position(template_code="workshop-staff") -> int:
    return Question.objects.get(template__code=template_code, measures_satisfaction=True).position


# Internships.


def posting(world, agreement, **fields):
    return make_posting(world.agency, world.school_a, agreement=agreement, **fields)


def application(posting, school, *, submitted_at=None, status=ApplicationStatus.SUBMITTED) -> Application:
    return Application.objects.create(
        posting=posting,
        agency=posting.agency,
        student=UserFactory(),
        institution=school,
        statement="I want to serve.",
        availability="Afternoons",
        status=status,
        submitted_at=submitted_at,
    )


def placement(posting, school, *, start: date, end: date, status=PlacementStatus.ACTIVE, ended_on=None) -> Placement:
    applied = application(posting, school, submitted_at=APPLIED_AT, status=ApplicationStatus.ACCEPTED)
    return Placement.objects.create(
        application=applied,
        posting=posting,
        student=applied.student,
        start_date=start,
        end_date=end,
        required_hours=100,
        status=status,
        needs_consent=False,
        ended_on=ended_on,
    )


def hours(placement, day: date, amount: str, *, status=HoursStatus.APPROVED) -> HoursEntry:
    return HoursEntry.objects.create(
        placement=placement, day=day, hours=Decimal(amount), activity="Outreach", status=status
    )


def check_in(placement, due_on: date, *, status=CheckInStatus.SCHEDULED) -> CheckIn:
    return CheckIn.objects.create(
        placement=placement,
        due_on=due_on,
        status=status,
        held_on=due_on if status == CheckInStatus.HELD else None,
    )
