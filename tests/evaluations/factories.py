"""Factories for surveys: a delivered session with bookings and facilitators, a completed
placement, invitations whose raw token the test keeps, and responses given through the service."""

import itertools
import re
import secrets
from datetime import timedelta

from django.utils import timezone

from accounts.services import hash_token
from evaluations import surveys
from evaluations.enums import Audience
from evaluations.models import Question, Survey, SurveyInvitation, SurveyTemplate
from internships.enums import PlacementStatus
from internships.models import Placement
from notifications.models import OutboundMessage
from programs.enums import SessionStatus
from programs.models import Facilitation, Session
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking


def template(code: str) -> SurveyTemplate:
    return SurveyTemplate.objects.prefetch_related("questions").get(code=code)


def questions(code: str) -> list[Question]:
    return list(Question.objects.filter(template__code=code).order_by("position"))


def delivered_session(agency, *schools, ended_ago=timedelta(hours=2), status=SessionStatus.DELIVERED, **fields):
    """A session of a workshop under an active agreement, which ended ``ended_ago`` ago."""
    agreement = active_agreement(agency, *schools)
    program = ProgramFactory(agreement=agreement)
    ends_at = timezone.now() - ended_ago
    return SessionFactory(
        program=program, starts_at=ends_at - timedelta(hours=1), ends_at=ends_at, status=status, **fields
    )


def facilitate(session: Session, officer) -> Facilitation:
    return Facilitation.objects.create(
        session=session, officer=officer, starts_at=session.starts_at, ends_at=session.ends_at
    )


_EARLIER = itertools.count(1)


def world_delivered(world, *, seats=20, **fields) -> Session:
    """A delivered session of world.agency with school A: a confirmed class booked by staff A,
    facilitated by the world's officer. Sessions made one after another end two hours apart,
    so the officer is never in two at once (PostgreSQL's exclusion constraint would refuse it)."""
    fields.setdefault("ended_ago", timedelta(hours=2 * (next(_EARLIER) % 10 + 1)))
    session = delivered_session(world.agency, world.school_a, **fields)
    booking(session, institution=world.school_a, by=world.staff_a, seats=seats)
    facilitate(session, world.officer)
    return session


def complete(placement: Placement, *, ended_ago_days: int = 1) -> Placement:
    ended = timezone.localdate() - timedelta(days=ended_ago_days)
    Placement.objects.filter(pk=placement.pk).update(status=PlacementStatus.COMPLETED, ended_on=ended)
    return Placement.objects.get(pk=placement.pk)


def survey(code: str, session: Session, **fields) -> Survey:
    """A survey written directly (no generation, no invitations)."""
    now = timezone.now()
    values = {
        "template": SurveyTemplate.objects.get(code=code),
        "agreement": session.program.agreement,
        "program": session.program,
        "session": session,
        "title": f"Survey about {session}",
        "opened_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=13),
        **fields,
    }
    return Survey.objects.create(**values)


def invitation(survey: Survey, *, user=None, institution=None, audience=None) -> tuple[SurveyInvitation, str]:
    """An invitation whose raw token the test keeps (the system itself never does)."""
    token = secrets.token_urlsafe(32)
    made = SurveyInvitation.objects.create(
        survey=survey,
        token_hash=hash_token(token),
        audience=audience or survey.template.audience,
        user=user,
        email=user.email if user else "",
        institution=institution,
    )
    return made, token


def answers_for(code: str, *, likert: int = 4, scale: int = 8, choice: str | None = None, text: str = "") -> dict:
    """A valid answer to every question of template ``code``."""
    values = {}
    for question in questions(code):
        if question.kind == "likert":
            values[question.pk] = likert
        elif question.kind == "scale":
            values[question.pk] = scale
        elif question.kind == "choice":
            values[question.pk] = choice or question.choices[0]
        elif text:
            values[question.pk] = text
    return values


def respond(survey: Survey, *, institution=None, **answer_values):
    """One response through the service, as a respondent of ``institution`` would give it."""
    _made, token = invitation(survey, institution=institution)
    return surveys.submit_response(token=token, answers=answers_for(survey.template.code, **answer_values))


def token_from_outbox(email: str) -> str:
    """The raw token of the newest survey link emailed to ``email``."""
    message = OutboundMessage.objects.filter(to_email=email, dedupe_key__startswith="evaluations:").order_by("-pk")[0]
    return re.search(r"/surveys/r/([A-Za-z0-9_-]{40,})/", message.body_text).group(1)


def protected_placement_template(code: str = "internship-interns-wellbeing") -> SurveyTemplate:
    """An interns' template with a protected-topic question (the shipped one has none)."""
    made = SurveyTemplate.objects.create(code=code, name="Wellbeing (interns)", subject="placement", audience="interns")
    Question.objects.create(template=made, position=1, kind="likert", text="I felt safe.")
    Question.objects.create(
        template=made,
        position=2,
        kind="choice",
        text="Did anything upsetting happen?",
        choices=["Yes", "No"],
        required=False,
        protected_topic=True,
    )
    return made


def only_templates(*codes: str) -> None:
    """Deactivate every template but ``codes`` (generation then makes only those)."""
    SurveyTemplate.objects.exclude(code__in=codes).update(is_active=False)


STUDENTS = Audience.STUDENTS
