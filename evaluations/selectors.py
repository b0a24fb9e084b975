"""Reads of evaluations for a user, always starting from the access scope.

Adults of an agreement's parties read its metrics, targets and survey aggregates; nobody
reads a single response through a scope except the school coordinators who review free
text (and then only the text, never who wrote it). Students see none of it.
"""

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from accounts import access
from accounts.enums import Role
from config.aggregates import count_of
from evaluations.enums import SurveyStatus
from evaluations.models import (
    Answer,
    Distribution,
    Measurement,
    Metric,
    Question,
    Response,
    Snapshot,
    Survey,
    SurveyConsent,
    SurveyInvitation,
    SurveyTemplate,
    Target,
)
from evaluations.rules import adult_organization_ids, school_coordinated_ids
from partnerships.models import Agreement, AgreementParty


def readable_agreements(user) -> QuerySet[Agreement]:
    """Agreements whose evaluations the user reads: one of their adult organizations is a party."""
    if access.is_admin(user):
        return Agreement.objects.all()
    parties = AgreementParty.objects.filter(organization_id__in=adult_organization_ids(user))
    return Agreement.objects.filter(pk__in=parties.values("agreement_id"))


def managed_agreements(user) -> QuerySet[Agreement]:
    """Agreements the user coordinates for (targets, manual metrics, measurements)."""
    if access.is_admin(user):
        return Agreement.objects.all()
    parties = AgreementParty.objects.filter(organization_id__in=access.organization_ids(user, role=Role.COORDINATOR))
    return Agreement.objects.filter(pk__in=parties.values("agreement_id"))


@access.scope_for(Metric)
def metrics_for(user) -> QuerySet[Metric]:
    """Built-in metrics to every adult of a partnership; manual ones to their agreement's parties."""
    if access.is_admin(user):
        return Metric.objects.all()
    if not adult_organization_ids(user):
        return Metric.objects.none()
    return Metric.objects.filter(Q(agreement__isnull=True) | Q(agreement__in=readable_agreements(user)))


def _under_readable_agreements(model):
    def scope(user):
        if access.is_admin(user):
            return model.objects.all()
        return model.objects.filter(agreement__in=readable_agreements(user))

    return scope


access.scope_for(Measurement)(_under_readable_agreements(Measurement))
access.scope_for(Target)(_under_readable_agreements(Target))
access.scope_for(Survey)(_under_readable_agreements(Survey))


@access.scope_for(Snapshot)
def snapshots_for(user) -> QuerySet[Snapshot]:
    if access.is_admin(user):
        return Snapshot.objects.all()
    return Snapshot.objects.filter(target__agreement__in=readable_agreements(user))


@access.scope_for(SurveyTemplate)
def templates_for(user) -> QuerySet[SurveyTemplate]:
    """The questionnaires are not secret: every adult member reads them (students answer them)."""
    if access.is_admin(user) or adult_organization_ids(user):
        return SurveyTemplate.objects.all()
    return SurveyTemplate.objects.none()


@access.scope_for(Question)
def questions_for(user) -> QuerySet[Question]:
    return Question.objects.filter(template__in=templates_for(user))


@access.scope_for(SurveyInvitation)
def invitations_for(user) -> QuerySet[SurveyInvitation]:
    """One's own invitations (to see what is waiting for an answer); admins all."""
    if access.is_admin(user):
        return SurveyInvitation.objects.all()
    return SurveyInvitation.objects.filter(user=user, user__isnull=False)


@access.scope_for(Distribution)
def distributions_for(user) -> QuerySet[Distribution]:
    """The teacher who booked and the coordinators of the booking's school."""
    if access.is_admin(user):
        return Distribution.objects.all()
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    return Distribution.objects.filter(Q(booking__booked_by=user) | Q(booking__institution_id__in=coordinated))


@access.scope_for(SurveyConsent)
def survey_consents_for(user) -> QuerySet[SurveyConsent]:
    """Consents recorded for a school's classes or students: that school's staff and coordinators."""
    if access.is_admin(user):
        return SurveyConsent.objects.all()
    schools = {m.organization_id for m in access.active_memberships(user) if m.role in (Role.STAFF, Role.COORDINATOR)}
    return SurveyConsent.objects.filter(
        Q(booking__institution_id__in=schools)
        | Q(student__memberships__organization_id__in=schools, student__memberships__role=Role.STUDENT)
    ).distinct()


@access.scope_for(Response)
def responses_for(user) -> QuerySet[Response]:
    """Single responses are never listed to anyone but admins; results are aggregates."""
    if access.is_admin(user):
        return Response.objects.all()
    return Response.objects.none()


@access.scope_for(Answer)
def answers_for(user) -> QuerySet[Answer]:
    """Free-text answers awaiting a school coordinator's review: their respondents' only."""
    if access.is_admin(user):
        return Answer.objects.all()
    mine = school_coordinated_ids(user)
    if not mine:
        return Answer.objects.none()
    schools_agreements = AgreementParty.objects.filter(organization_id__in=mine).values("agreement_id")
    return Answer.objects.filter(
        ~Q(text=""),
        Q(response__institution_id__in=mine)
        | Q(response__institution__isnull=True, response__survey__agreement_id__in=schools_agreements),
    )


def with_response_counts(qs: QuerySet[Survey]) -> QuerySet[Survey]:
    """Surveys with ``response_count`` and ``invited_count``: the invitations not withdrawn, or
    used before they were (one subquery each, never a join of both tables)."""
    live = SurveyInvitation.objects.filter(Q(withdrawn=False) | Q(used_on__isnull=False))
    return qs.annotate(
        response_count=count_of(Response.objects.all(), "survey"),
        invited_count=count_of(live, "survey"),
    )


# Homes: each read is bounded (a grouped aggregate or a fixed number of rows).


def current_targets(user, *, today, limit: int) -> list[Target]:
    """Targets of the agreements the user coordinates whose period includes ``today``."""
    return list(
        Target.objects.filter(agreement__in=managed_agreements(user), period_start__lte=today, period_end__gte=today)
        .select_related("agreement__lead_agency", "program", "metric")
        .order_by("period_end", "metric__name", "pk")[:limit]
    )


def satisfaction_by_month(user, *, since) -> dict:
    """Mean satisfaction answer per month of response, for the agreements the user coordinates.
    A month with fewer respondents than a survey's default minimum group is left out."""
    minimum = Survey._meta.get_field("min_group_size").default
    rows = (
        Answer.objects.filter(
            question__measures_satisfaction=True,
            number__isnull=False,
            response__survey__agreement__in=managed_agreements(user),
            response__submitted_on__gte=since,
        )
        .annotate(month=TruncMonth("response__submitted_on"))
        .order_by()
        .values("month")
        .annotate(mean=Avg("number"), respondents=Count("response", distinct=True))
    )
    return {row["month"]: row["mean"] for row in rows if row["respondents"] >= minimum}


def waiting_invitations(user, *, now, limit: int) -> list[SurveyInvitation]:
    """The user's own invitations still to answer: unused, not withdrawn, survey open."""
    return list(
        SurveyInvitation.objects.filter(
            user=user,
            used_on__isnull=True,
            withdrawn=False,
            survey__status=SurveyStatus.OPEN,
            survey__closes_at__gt=now,
        )
        .select_related("survey")
        .order_by("survey__closes_at", "pk")[:limit]
    )
