"""Reads of agreements for a user, always through the access scope."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import access
from accounts.enums import Role
from accounts.models import User
from config.aggregates import count_of
from partnerships.models import (
    ActionItem,
    Agreement,
    AgreementDocument,
    AgreementParty,
    DataSharingTerm,
    FundingCommitment,
    Meeting,
    Objective,
    Responsibility,
    Signature,
)


@access.scope_for(Agreement)
def agreements_for(user) -> QuerySet[Agreement]:
    """Agreements (every version) one of whose parties the user belongs to as an adult.

    Students are not shown agreements; admins see all.
    """
    if access.is_admin(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(pk__in=agreement_ids_for(user))


def agreement_ids_for(user) -> QuerySet:
    """The ids of ``agreements_for(user)``, as a subquery. Rows of an agreement are scoped by
    ``agreement_id__in=agreement_ids_for(user)``: ``agreement__in=agreements_for(user)`` wraps
    the same parties in a subquery of the agreements table, one more query to build for every
    list of sessions, workshops or postings (bench/hotspots.py)."""
    if access.is_admin(user):
        return Agreement.objects.values("pk")
    orgs = {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}
    return AgreementParty.objects.filter(organization_id__in=orgs).values("agreement_id")


def coordinated_agreements_within(user) -> tuple[str, frozenset[int]] | None:
    """The agreements with a party the user coordinates, as the rows a figure reads
    (``config.tablecache`` ``within``): the set the coordinator's charts, upcoming sessions and
    satisfaction trend are filtered by (``programs.selectors.coordinated_agreement_ids``,
    ``evaluations.selectors.managed_agreements``), so those figures are kept through other
    agreements' writes. None for an admin, whose figures read every agreement."""
    if access.is_admin(user):
        return None
    parties = AgreementParty.objects.filter(organization_id__in=access.organization_ids(user, role=Role.COORDINATOR))
    return ("agreement", frozenset(parties.values_list("agreement_id", flat=True)))


@access.scope_for(Meeting)
def meetings_for(user) -> QuerySet[Meeting]:
    return Meeting.objects.filter(agreement_id__in=agreement_ids_for(user))


@access.scope_for(ActionItem)
def action_items_for(user) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(agreement_id__in=agreement_ids_for(user))


@access.scope_for(AgreementDocument)
def documents_for(user) -> QuerySet[AgreementDocument]:
    return AgreementDocument.objects.filter(agreement_id__in=agreement_ids_for(user))


def party_organization_ids(agreement: Agreement) -> set[int]:
    return set(agreement.parties.values_list("organization_id", flat=True))


def active_agreements_between(organization_ids) -> QuerySet[Agreement]:
    """Active agreements with at least one of these organizations as a party."""
    return Agreement.objects.filter(status="active", parties__organization_id__in=list(organization_ids)).distinct()


# Rules shared by the coordinator's home and the agreement list its links open.


def _overdue_item(today) -> Q:
    """An action item still open after its due day."""
    return Q(done_at__isnull=True, due_on__lt=today)


def _has_overdue_items(today) -> Q:
    """An agreement with at least one overdue action item."""
    return Q(Exists(ActionItem.objects.filter(_overdue_item(today), agreement_id=OuterRef("pk"))))


def _activated_within(today, within_days: int) -> Q:
    """An active agreement activated on one of the last ``within_days`` days or today."""
    since = timezone.make_aware(datetime.combine(today - timedelta(days=within_days), time.min))
    return Q(status="active", activated_at__gte=since)


def _expiring_within(today, days: int) -> Q:
    return Q(status="active", ends_on__lte=today + timedelta(days=days))


def _review_due(today) -> Q:
    return Q(status="active", review_on__lte=today)


def with_overdue_items(qs: QuerySet[Agreement], *, today) -> QuerySet[Agreement]:
    """Of ``qs``, the agreements with at least one overdue action item."""
    return qs.filter(_has_overdue_items(today))


def recently_activated(qs: QuerySet[Agreement], *, today, within_days: int) -> QuerySet[Agreement]:
    """Of ``qs``, the active agreements activated on one of the last ``within_days`` days or today."""
    return qs.filter(_activated_within(today, within_days))


def agreement_list_for(
    user,
    *,
    status=None,
    party=None,
    expiring_within=None,
    review_due=False,
    incomplete=False,
    overdue_items=False,
    activated_within=None,
    today=None,
):
    """The agreement list with its health figures, computed in SQL (no per-row queries)."""
    today = today or timezone.localdate()
    qs = (
        agreements_for(user)
        .select_related("lead_agency")
        .annotate(
            party_count=count_of(AgreementParty.objects.all(), "agreement"),
            signature_count=count_of(Signature.objects.all(), "agreement"),
            open_items=count_of(ActionItem.objects.filter(done_at__isnull=True), "agreement"),
            overdue_items=count_of(ActionItem.objects.filter(_overdue_item(today)), "agreement"),
            objective_count=count_of(Objective.objects.all(), "agreement"),
            data_term_count=count_of(DataSharingTerm.objects.all(), "agreement"),
            supervision_count=count_of(Responsibility.objects.filter(kind="supervision"), "agreement"),
            institution_count=count_of(AgreementParty.objects.filter(role="institution"), "agreement"),
            has_uncovered_party=Exists(
                AgreementParty.objects.filter(agreement=OuterRef("pk"), responsibilities__isnull=True)
            ),
        )
        .order_by("ends_on", "title", "pk")
    )
    complete = (
        ~Q(purpose="")
        & Q(objective_count__gt=0, data_term_count__gt=0, supervision_count__gt=0, institution_count__gt=0)
        & Q(has_uncovered_party=False, signature_count=F("party_count"))
    )
    if incomplete:
        qs = qs.filter(~complete)
    if status:
        qs = qs.filter(status=status)
    if party:
        qs = qs.filter(pk__in=AgreementParty.objects.filter(organization_id=party).values("agreement_id"))
    if expiring_within is not None:
        qs = qs.filter(_expiring_within(today, expiring_within))
    if review_due:
        qs = qs.filter(_review_due(today))
    if overdue_items:
        qs = with_overdue_items(qs, today=today)
    if activated_within is not None:
        qs = recently_activated(qs, today=today, within_days=activated_within)
    return qs


def agreement_detail_for(user, pk) -> Agreement:
    try:
        return _prefetched(agreements_for(user).select_related("lead_agency", "previous_version")).get(pk=pk)
    except (Agreement.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No agreement matches the given query.") from error


def versions_of(user, agreement: Agreement):
    return agreements_for(user).filter(lineage=agreement.lineage).order_by("-version")


def snapshot(agreement: Agreement) -> dict[str, str]:
    """A version as flat, comparable text: field name → value."""
    lines = {
        "Title": agreement.title,
        "Purpose": agreement.purpose,
        "Term": f"{agreement.starts_on} – {agreement.ends_on}",
        "Review interval (months)": str(agreement.review_interval_months),
        "Parties": "\n".join(
            sorted(f"{p.organization.name} ({p.get_role_display()})" for p in agreement.parties.all())
        ),
        "Objectives": "\n".join(
            sorted(f"{o.description} — {o.measure} — by {o.target_on}" for o in agreement.objectives.all())
        ),
        "Responsibilities": "\n".join(
            sorted(
                f"{r.party.organization.name}: {r.get_kind_display()}: {r.description}"
                for r in agreement.responsibilities.all()
            )
        ),
        "Funding": "\n".join(
            sorted(
                f"{f.party.organization.name}: {f.amount} {f.currency} ({f.period_start} – {f.period_end}) {f.purpose}"
                for f in agreement.funding.all()
            )
        ),
        "Data sharing": "\n".join(
            sorted(
                f"{t.get_category_display()}, {t.get_direction_display()}, {t.get_lawful_basis_display()}, "
                f"{t.retention_days} days: {t.purpose}"
                for t in agreement.data_terms.all()
            )
        ),
    }
    return lines


def compare(old: Agreement, new: Agreement) -> list[tuple[str, str, str]]:
    """Field by field: (field, before, after) for every field that differs."""
    before, after = snapshot(old), snapshot(new)
    return [(name, before[name], after[name]) for name in before if before[name] != after[name]]


def _prefetched(qs):
    return qs.prefetch_related(
        "parties__organization",
        "objectives",
        "responsibilities__party__organization",
        "funding__party__organization",
        "data_terms",
        "signatures__party__organization",
    )


def missing_count(row) -> int:
    """How many checklist items a row of ``agreement_list_for`` lacks (from its annotations)."""
    return sum(
        [
            not row.purpose.strip(),
            row.objective_count == 0,
            row.institution_count == 0,
            bool(row.has_uncovered_party),
            row.supervision_count == 0,
            row.data_term_count == 0,
        ]
    ) + max(0, row.party_count - row.signature_count)


def _children_scope(model):
    def scope(user):
        return model.objects.filter(agreement_id__in=agreement_ids_for(user))

    scope.__name__ = f"{model._meta.model_name}_for"
    return access.scope_for(model)(scope)


for _model in (AgreementParty, Objective, Responsibility, FundingCommitment, DataSharingTerm, Signature):
    _children_scope(_model)


def partner_people(user):
    """People (not students) of the parties of the agreements the user can see."""
    return (
        User.objects.filter(
            memberships__organization__agreement_parties__agreement__in=agreements_for(user),
            memberships__is_active=True,
        )
        .exclude(memberships__role=Role.STUDENT)
        .distinct()
    )


# The coordinator's home: each count is the length of the agreement list behind its link.


def attention_counts(user, *, today=None, newly_active_days: int = 30) -> dict[str, int]:
    """Drafts still incomplete, agreements ending within 90 days, reviews due, agreements with
    overdue action items, agreements newly active."""
    today = today or timezone.localdate()
    # The four that need no completeness figures in one query (the list's own conditions);
    # only "incomplete" reads the annotated list.
    counts = agreements_for(user).aggregate(
        expiring=Count("pk", filter=_expiring_within(today, 90)),
        review_due=Count("pk", filter=_review_due(today)),
        overdue_items=Count("pk", filter=_has_overdue_items(today)),
        newly_active=Count("pk", filter=_activated_within(today, newly_active_days)),
    )
    counts["incomplete"] = agreement_list_for(user, status="draft", incomplete=True, today=today).count()
    return counts


def newly_active(user, *, today=None, within_days: int = 30, limit: int) -> list[Agreement]:
    """The agreements activated most recently (the list's ``?activated_within=<days>``), newest first."""
    today = today or timezone.localdate()
    qs = recently_activated(agreements_for(user), today=today, within_days=within_days)
    return list(qs.select_related("lead_agency").order_by("-activated_at", "-pk")[:limit])
