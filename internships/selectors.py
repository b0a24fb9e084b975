"""Reads of internships for a user, always starting from the access scope; and the record of
agency staff's reads of student records."""

import json
from contextlib import nullcontext
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, DecimalField, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.query import ModelIterable
from django.http import Http404
from django.utils import timezone

from accounts import access
from accounts.enums import OrganizationKind, Role
from accounts.models import Organization, User
from config import compiled
from config.aggregates import count_of, sum_of
from internships import rules
from internships.enums import (
    AccessPurpose,
    ApplicationStatus,
    CheckInStatus,
    ConsentStatus,
    HoursStatus,
    PlacementStatus,
    PostingStatus,
)
from internships.models import (
    Application,
    ApplicationTransition,
    CheckIn,
    Clearance,
    ClearanceKind,
    CompletionEvaluation,
    GuardianConsent,
    HoursEntry,
    Interview,
    Offer,
    Placement,
    Posting,
    StudentRecordAccess,
)
from partnerships.enums import AgreementStatus, DataCategory, DataDirection, PartyRole
from partnerships.models import AgreementParty, DataSharingTerm
from partnerships.selectors import agreement_ids_for, agreements_for

# What of a student's record each data category covers, for agency staff.
CATEGORY_OF = {
    "name": DataCategory.DIRECTORY,
    "level": DataCategory.DIRECTORY,
    "email": DataCategory.CONTACT,
    "availability": DataCategory.SCHEDULE,
    "statement": DataCategory.PROGRAM,
    "resume": DataCategory.PROGRAM,
}

# The directions of a data-sharing term that let its category flow from schools to agencies.
SHARED_WITH_AGENCIES = (DataDirection.SCHOOL_TO_AGENCY, DataDirection.BOTH)


# Scopes.


@access.scope_for(Posting)
def postings_for(user) -> QuerySet[Posting]:
    """Adults of a party see the agreement's postings (drafts: the agency's coordinators);
    students see the open or closed postings their institution may apply to, and those they applied to."""
    if access.is_admin(user):
        return Posting.objects.all()
    adults_of = {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}
    students_of = access.organization_ids(user, role=Role.STUDENT)
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    query = Q(pk__in=[])
    if adults_of:
        query |= Q(agreement_id__in=agreement_ids_for(user)) & (
            ~Q(status=PostingStatus.DRAFT) | Q(agency_id__in=coordinated)
        )
    if students_of:
        query |= Q(institutions__in=students_of) & ~Q(status=PostingStatus.DRAFT)
        query |= Q(applications__student=user)
    return Posting.objects.filter(query).distinct()


@access.scope_for(Application)
def applications_for(user) -> QuerySet[Application]:
    """The student's own; the posting agency's and the student's institution's coordinators."""
    if access.is_admin(user):
        return Application.objects.all()
    coordinating = [m.organization for m in access.active_memberships(user) if m.role == Role.COORDINATOR]
    # Only the conditions the person's memberships need, each one an index can answer: an
    # OR over conditions that cannot use one made PostgreSQL read every application (the
    # pipeline's slowest query at state size, bench/results/explain-*.md).
    conditions = []
    if not coordinating or Role.STUDENT in access.roles(user):
        conditions.append(Q(student=user))
    agencies = [o.pk for o in coordinating if o.is_agency]
    institutions = [o.pk for o in coordinating if not o.is_agency]
    # A coordinator sees a student's draft only once it is submitted; it is still the student's.
    submitted = ~Q(status=ApplicationStatus.DRAFT)
    if agencies:
        # The application's agency is its posting's (Application.agency).
        conditions.append(Q(agency_id__in=agencies) & submitted)
    if institutions:
        conditions.append(Q(institution_id__in=institutions) & submitted)
    visible = conditions[0]
    for condition in conditions[1:]:
        visible |= condition
    return Application.objects.filter(visible)


def _children_of_applications(model):
    def scope(user):
        if access.is_admin(user):
            return model.objects.all()
        return model.objects.filter(application__in=applications_for(user).values("pk"))

    return scope


access.scope_for(ApplicationTransition)(_children_of_applications(ApplicationTransition))
access.scope_for(Interview)(_children_of_applications(Interview))
access.scope_for(Offer)(_children_of_applications(Offer))


@access.scope_for(Placement)
def placements_for(user) -> QuerySet[Placement]:
    """The student, the mentor, and the coordinators of the agency and of the student's institution."""
    if access.is_admin(user):
        return Placement.objects.all()
    coordinating = [m.organization for m in access.active_memberships(user) if m.role == Role.COORDINATOR]
    roles = access.roles(user)
    # As for applications: only the conditions the person's memberships need, each one an
    # index can answer (an OR of all four made PostgreSQL join every application first).
    conditions = []
    if not coordinating or Role.STUDENT in roles:
        conditions.append(Q(student=user))
    if not coordinating or Role.OFFICER in roles:
        conditions.append(Q(mentor=user))
    agencies = [o.pk for o in coordinating if o.is_agency]
    institutions = [o.pk for o in coordinating if not o.is_agency]
    if agencies:
        conditions.append(Q(posting_id__in=Posting.objects.filter(agency_id__in=agencies).values("pk")))
    if institutions:
        conditions.append(
            Q(application_id__in=Application.objects.filter(institution_id__in=institutions).values("pk"))
        )
    visible = conditions[0]
    for condition in conditions[1:]:
        visible |= condition
    return Placement.objects.filter(visible)


def _children_of_placements(model):
    def scope(user):
        if access.is_admin(user):
            return model.objects.all()
        return model.objects.filter(placement__in=placements_for(user).values("pk"))

    return scope


access.scope_for(HoursEntry)(_children_of_placements(HoursEntry))
access.scope_for(CheckIn)(_children_of_placements(CheckIn))
access.scope_for(CompletionEvaluation)(_children_of_placements(CompletionEvaluation))


@access.scope_for(GuardianConsent)
def consents_for(user) -> QuerySet[GuardianConsent]:
    """Consent status: the placement's people and the student's school staff (who may name the guardian)."""
    if access.is_admin(user):
        return GuardianConsent.objects.all()
    school_adults = [m.organization_id for m in access.active_memberships(user) if m.role == Role.STAFF]
    return GuardianConsent.objects.filter(
        Q(placement__in=placements_for(user).values("pk")) | Q(placement__application__institution_id__in=school_adults)
    )


@access.scope_for(ClearanceKind)
def clearance_kinds_for(user) -> QuerySet[ClearanceKind]:
    if access.is_admin(user):
        return ClearanceKind.objects.all()
    adults_of = [m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT]
    return ClearanceKind.objects.filter(agency_id__in=adults_of)


@access.scope_for(Clearance)
def clearances_for(user) -> QuerySet[Clearance]:
    """An officer's own clearances; every clearance of an agency to its coordinators."""
    if access.is_admin(user):
        return Clearance.objects.all()
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    return Clearance.objects.filter(Q(officer=user) | Q(kind__agency_id__in=coordinated))


@access.scope_for(StudentRecordAccess)
def record_accesses_for(user) -> QuerySet[StudentRecordAccess]:
    """The log is for the student's school (its coordinators), and for the student."""
    if access.is_admin(user):
        return StudentRecordAccess.objects.all()
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    return StudentRecordAccess.objects.filter(
        Q(student=user) | Q(student__memberships__organization_id__in=coordinated, student__memberships__role="student")
    ).distinct()


# Data sharing and the record of reads.


def shared_categories(agreement) -> set[str]:
    """Categories of student data the agreement lets flow from schools to agencies."""
    cache = getattr(agreement, "_shared_categories", None)
    if cache is None:
        cache = set(
            DataSharingTerm.objects.filter(agreement=agreement, direction__in=SHARED_WITH_AGENCIES).values_list(
                "category", flat=True
            )
        )
        agreement._shared_categories = cache
    return cache


def visible_fields(user, record) -> set[str]:
    """Which parts of a student's record (an application or placement) ``user`` may read."""
    application = record if isinstance(record, Application) else record.application
    agreement = application.posting.agreement
    if not rules.is_agency_side(user, agreement) or rules.is_student_of(user, application):
        return set(CATEGORY_OF)
    if rules.is_school_side(user, application):
        return set(CATEGORY_OF)
    allowed = shared_categories(agreement)
    return {name for name, category in CATEGORY_OF.items() if category in allowed}


def record_student_access(user, records, *, purpose: str) -> int:
    """Log agency staff's read of students' records (one row per record); nothing for the
    student themself, their school, or an admin. Returns the number of rows written."""
    rows = []
    for record in records:
        application = record if isinstance(record, Application) else record.application
        agreement = application.posting.agreement
        if rules.is_student_of(user, application) or not rules.is_agency_side(user, agreement):
            continue
        if rules.is_school_side(user, application):
            continue
        label = f"{record._meta.verbose_name} #{record.pk}"
        categories = tuple(sorted({CATEGORY_OF[name] for name in visible_fields(user, record)}))
        rows.append((application.student_id, agreement.pk, label, categories))
    _write_accesses(user, rows, purpose=purpose)
    return len(rows)


# Rows per INSERT on SQLite: 7 parameters a row stays under its 999 parameters a statement.
_ACCESS_BATCH = 100


def _write_accesses(user, rows: list[tuple], *, purpose: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT ``rows`` (student id, agreement id, label, categories) as read by ``user`` now.

    The rows go as plain parameters, not model instances: for a page of 25 applications
    ``bulk_create`` made 25 instances and prepared each of their values, 1.2 of the 2 ms the
    record of reads took (bench/hotspots.py). On PostgreSQL the columns go as four arrays that
    ``UNNEST`` turns into rows (one statement whatever the number of rows, which psycopg and the
    server prepare once); elsewhere as one ``VALUES`` row each, up to ``_ACCESS_BATCH`` rows a
    statement. What is written is what ``bulk_create`` wrote: the moment is prepared by its model
    field, and the categories by the JSON field (its encoder on PostgreSQL)."""
    if not rows:
        return
    connection = connections[using]
    meta = StudentRecordAccess._meta
    quote = connection.ops.quote_name
    field = meta.get_field
    names = ("at", "viewer", "purpose", "student", "agreement", "record", "categories")
    columns = ", ".join(quote(field(name).column) for name in names)
    at = field("at").get_db_prep_save(timezone.now(), connection)
    if connection.vendor == "postgresql":
        students, agreements, labels, categories = zip(*rows, strict=True)
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT %s, %s, %s, s, a, r, c::jsonb "
            "FROM UNNEST(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS t (s, a, r, c)"
        )
        texts = [json.dumps(list(c), cls=field("categories").encoder) for c in categories]
        with connection.cursor() as cursor:
            cursor.execute(sql, [at, user.pk, purpose, list(students), list(agreements), list(labels), texts])
        return
    prepared = {c: field("categories").get_db_prep_save(list(c), connection) for c in {row[3] for row in rows}}
    params = [(at, user.pk, purpose, student, agreement, label, prepared[c]) for student, agreement, label, c in rows]
    row = f"({', '.join(['%s'] * len(names))})"
    batches = [params[start : start + _ACCESS_BATCH] for start in range(0, len(params), _ACCESS_BATCH)]
    with transaction.atomic(using=using) if len(batches) > 1 else nullcontext(), connection.cursor() as cursor:
        for batch in batches:
            sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(batch))}"
            cursor.execute(sql, [value for values in batch for value in values])


def access_purpose(user, record) -> str:
    if isinstance(record, Placement):
        return AccessPurpose.MENTORING if record.mentor_id == user.pk else AccessPurpose.COORDINATION
    return AccessPurpose.REVIEW


# Rules shared by a home's count and the list its link opens (one predicate, two callers).

# A clearance that expired this recently still counts among those to renew (the expiry warning
# of ``services.send_clearance_warnings`` looks back as far).
JUST_EXPIRED = timedelta(days=14)


def clearances_to_renew(qs: QuerySet[Clearance], *, today: date, within_days: int) -> QuerySet[Clearance]:
    """Of ``qs``, the clearances to renew: expiring within ``within_days`` days or expired in the
    last two weeks, and not yet renewed (no later clearance of the same kind for the officer)."""
    renewed = Clearance.objects.filter(
        officer_id=OuterRef("officer_id"), kind_id=OuterRef("kind_id"), expires_on__gt=OuterRef("expires_on")
    )
    return qs.filter(
        ~Exists(renewed),
        expires_on__gte=today - JUST_EXPIRED,
        expires_on__lte=today + timedelta(days=within_days),
    )


def with_missed_check_ins(qs: QuerySet[Placement], *, today: date) -> QuerySet[Placement]:
    """Of ``qs``, the active placements with a check-in marked missed or still scheduled after its day."""
    missed = CheckIn.objects.filter(
        Q(status=CheckInStatus.MISSED) | Q(status=CheckInStatus.SCHEDULED, due_on__lt=today),
        placement_id=OuterRef("pk"),
    )
    return qs.filter(Exists(missed), status=PlacementStatus.ACTIVE)


# Lists and details for pages and the API.


def _hours_totals(qs):
    hours = DecimalField(max_digits=8, decimal_places=2)

    def total(status):
        entries = HoursEntry.objects.filter(status=status)
        return sum_of(entries, "hours", "placement", output_field=hours, zero=Decimal(0))

    return qs.annotate(approved_hours=total(HoursStatus.APPROVED), pending_hours=total(HoursStatus.SUBMITTED))


def posting_list_for(
    user, *, agency=None, starts_after: date | None = None, remote=None, paid=None, status=None, eligible_only=False
) -> QuerySet[Posting]:
    qs = (
        access.visible(user, Posting)
        .select_related("agency", "agreement")
        .annotate(accepted=count_of(Application.objects.filter(status=ApplicationStatus.ACCEPTED), "posting"))
    )
    if agency:
        qs = qs.filter(agency_id=agency)
    if starts_after:
        qs = qs.filter(start_date__gte=starts_after)
    if remote is not None:
        qs = qs.filter(is_remote=remote)
    if paid is not None:
        qs = qs.filter(is_paid=paid)
    if status:
        qs = qs.filter(status=status)
    if eligible_only:
        qs = qs.filter(status=PostingStatus.OPEN)
        membership = rules.student_membership(user)
        if membership is not None:
            qs = qs.filter(institutions=membership.organization_id)
            level = rules.level_of(membership)
            if level:
                qs = qs.filter(Q(grade_levels=[]) | Q(grade_levels__contains=level))
    if access.organization_ids(user, role=Role.STUDENT):
        mine = Application.objects.filter(posting=OuterRef("pk"), student=user)
        qs = qs.annotate(applied=Exists(mine))
    return qs.order_by("apply_by", "title", "pk")


def posting_detail_for(user, pk) -> Posting:
    return access.get_visible_or_404(
        user,
        Posting,
        pk=pk,
    )


# What a list of applications reads of each posting: its title, its agency's name and its agreement
# (whose parties and data-sharing terms decide what the reader sees), not the postings' and
# agreements' long texts.
POSTING_OF_APPLICATION = Posting.objects.select_related("agency", "agreement").only(
    "title", "agency__name", "agreement__lead_agency", "agreement__status"
)


def with_agreement_terms(qs: QuerySet[Posting]) -> QuerySet[Posting]:
    """On PostgreSQL, postings with what ``visible_fields`` reads of their agreement, as arrays
    read by the postings' own query: the agency parties (``agreement_agency_ids``) and the
    categories of student data it shares with them (``agreement_shared``); ``share_data_terms``
    puts them on the agreement. Elsewhere ``qs`` as it is, and the parties and terms are read
    apart. A page of 25 applications saved two queries and about 2 ms in-process."""
    if connections[qs.db].vendor != "postgresql":
        return qs
    agreement = OuterRef("agreement_id")
    parties = AgreementParty.objects.filter(agreement=agreement).exclude(role=PartyRole.INSTITUTION).order_by()
    terms = DataSharingTerm.objects.filter(agreement=agreement, direction__in=SHARED_WITH_AGENCIES).order_by()
    return qs.annotate(
        agreement_agency_ids=ArraySubquery(parties.values("organization_id")),
        agreement_shared=ArraySubquery(terms.values("category")),
    )


def _postings_by_id(ids: list[int]) -> QuerySet[Posting]:
    return with_agreement_terms(POSTING_OF_APPLICATION.filter(pk__in=ids))


# The postings of a page of applications: the same query for every reader but for the ids, so
# its SQL is made once per number of postings (``config.compiled``). Made afresh, its two array
# subqueries, two joins and deferred load cost about 1 ms of CPU on every page.
POSTINGS_OF_APPLICATIONS = compiled.ByIds(_postings_by_id)


class _WithPostings(ModelIterable):
    """Applications with their postings (``POSTINGS_OF_APPLICATIONS``), in one more query."""

    def __iter__(self):
        applications = list(super().__iter__())
        ids = sorted({application.posting_id for application in applications})
        postings = {posting.pk: posting for posting in POSTINGS_OF_APPLICATIONS.run(ids, using=self.queryset.db)}
        cache = Application.posting.field
        for application in applications:
            cache.set_cached_value(application, postings[application.posting_id])
        yield from applications


# The student and institution of an application, as subqueries of a list's page query.
STUDENT_OF_APPLICATION = User.objects.filter(pk=OuterRef("student_id")).order_by()
INSTITUTION_OF_APPLICATION = Organization.objects.filter(pk=OuterRef("institution_id")).order_by()
APPLICATION_NAMES = {
    "student_name": Subquery(STUDENT_OF_APPLICATION.values("full_name")[:1]),
    "institution_name": Subquery(INSTITUTION_OF_APPLICATION.values("name")[:1]),
}


def application_list_for(user, *, posting=None, status=None, mine=False) -> QuerySet[Application]:
    """Visible applications, newest submission first, with their posting (agency, agreement and
    what the reader may see of its students) fetched for the page, and the names of their student
    and institution read by the page query (``APPLICATION_NAMES``).

    The posting comes in its own query rather than as a join: joined into the page query,
    PostgreSQL spent 12 ms planning six tables for every page at state size (bench/hotspots.py
    --plans), against under 1 ms for the page and each related query apart. The names are
    subqueries, which PostgreSQL evaluates for the page's rows only, after the LIMIT (joined, the
    two tables were joined to every visible application before the sort: 0.7 to 2.0 ms);
    prefetching the two tables cost a list two queries and a model row per student and
    institution."""
    qs = access.visible(user, Application).annotate(**APPLICATION_NAMES)
    qs._iterable_class = _WithPostings
    if connections[qs.db].vendor != "postgresql":
        qs = qs.prefetch_related("posting__agreement__parties")  # the terms are read apart
    if mine:
        qs = qs.filter(student=user)
    if posting:
        qs = qs.filter(posting_id=posting)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-submitted_at", "-created_at", "-pk")


def application_detail_for(user, pk) -> Application:
    qs = (
        access.visible(user, Application)
        .select_related("posting__agency", "posting__agreement", "student", "institution")
        .prefetch_related(
            "posting__agreement__parties",
            Prefetch("transitions", queryset=ApplicationTransition.objects.select_related("by")),
            "interviews",
            "offers",
        )
    )
    try:
        return qs.get(pk=pk)
    except (Application.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No application matches the given query.") from error


def pipeline_counts(user, posting: Posting) -> dict[str, int]:
    counts = dict(
        access.visible(user, Application)
        .filter(posting=posting)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in ApplicationStatus.values if status != ApplicationStatus.DRAFT}


def accepted_count(posting: Posting) -> int:
    return Application.objects.filter(posting=posting, status=ApplicationStatus.ACCEPTED).count()


def placement_list_for(
    user, *, status=None, mentor=None, student=None, missed_check_ins=False, today: date | None = None
) -> QuerySet[Placement]:
    qs = access.visible(user, Placement).select_related(
        "posting__agency", "posting__agreement", "student", "mentor", "application__institution"
    )
    if status:
        qs = qs.filter(status=status)
    if missed_check_ins:
        qs = with_missed_check_ins(qs, today=today or timezone.localdate())
    if mentor:
        qs = qs.filter(mentor_id=mentor)
    if student:
        qs = qs.filter(student_id=student)
    consent = GuardianConsent.objects.filter(placement=OuterRef("pk"), status=ConsentStatus.GRANTED)
    return (
        _hours_totals(qs)
        .annotate(consent_granted=Exists(consent))
        .prefetch_related("posting__agreement__parties")
        .order_by("-start_date", "pk")
    )


def placement_detail_for(user, pk) -> Placement:
    qs = placement_list_for(user).prefetch_related(
        Prefetch("consents", queryset=GuardianConsent.objects.select_related("named_by", "recorded_by")),
        Prefetch("check_ins", queryset=CheckIn.objects.select_related("recorded_by")),
        "evaluations",
    )
    try:
        return qs.get(pk=pk)
    except (Placement.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No placement matches the given query.") from error


def hours_for(user, placement: Placement, *, status=None) -> QuerySet[HoursEntry]:
    qs = access.visible(user, HoursEntry).filter(placement=placement).select_related("reviewed_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-day", "-pk")


def hours_list_for(user, *, status=None, placement=None) -> QuerySet[HoursEntry]:
    qs = access.visible(user, HoursEntry).select_related("placement__student", "placement__mentor", "reviewed_by")
    if status:
        qs = qs.filter(status=status)
    if placement:
        qs = qs.filter(placement_id=placement)
    return qs.order_by("-day", "-pk")


def hours_to_approve(user) -> QuerySet[HoursEntry]:
    return hours_list_for(user, status=HoursStatus.SUBMITTED).filter(placement__mentor=user)


def check_ins_due(user, *, today: date, within_days: int = 7) -> QuerySet[CheckIn]:
    return (
        access.visible(user, CheckIn)
        .filter(
            placement__mentor=user,
            placement__status=PlacementStatus.ACTIVE,
            status=CheckInStatus.SCHEDULED,
            due_on__lte=today + timedelta(days=within_days),
        )
        .select_related("placement__student")
        .order_by("due_on", "pk")
    )


def clearance_list_for(
    user, *, officer=None, agency=None, expiring_within: int | None = None, today: date | None = None
) -> QuerySet[Clearance]:
    qs = access.visible(user, Clearance).select_related("officer", "kind__agency", "verified_by")
    if officer:
        qs = qs.filter(officer_id=officer)
    if agency:
        qs = qs.filter(kind__agency_id=agency)
    if expiring_within is not None:
        qs = clearances_to_renew(qs, today=today or timezone.localdate(), within_days=expiring_within)
    return qs.order_by("expires_on", "pk")


def officers_of(agency) -> QuerySet[User]:
    return User.objects.filter(
        memberships__organization=agency, memberships__role=Role.OFFICER, memberships__is_active=True, is_active=True
    ).distinct()


def record_accesses_list_for(user, *, student=None) -> QuerySet[StudentRecordAccess]:
    qs = access.visible(user, StudentRecordAccess).select_related("viewer", "student", "agreement")
    if student:
        qs = qs.filter(student_id=student)
    return qs.order_by("-at", "-pk")


# Pages.


def postable_agreements(user) -> QuerySet:
    """Active agreements under which ``user`` may post internships: those with an agency party
    they coordinate (every active agreement for an admin)."""
    qs = agreements_for(user).filter(status=AgreementStatus.ACTIVE)
    if not access.is_admin(user):
        qs = qs.filter(
            parties__organization_id__in=access.organization_ids(user, role=Role.COORDINATOR),
            parties__role=PartyRole.LEAD_AGENCY,
        )
    return qs.prefetch_related("parties__organization").distinct().order_by("title", "pk")


def posting_agency_for(user, agreement):
    """The agency party of ``agreement`` that ``user`` posts for (an admin: the lead agency)."""
    agencies = [p.organization for p in agreement.parties.all() if p.organization.is_agency]
    if not access.is_admin(user):
        coordinated = access.organization_ids(user, role=Role.COORDINATOR)
        agencies = [a for a in agencies if a.pk in coordinated]
    return agencies[0] if agencies else None


def agreement_institutions(agreements):
    """The institutions that are parties of any of ``agreements`` (a posting's checkboxes)."""
    return (
        Organization.objects.filter(
            agreement_parties__agreement__in=agreements, agreement_parties__role=PartyRole.INSTITUTION
        )
        .distinct()
        .order_by("name", "pk")
    )


def posting_agencies_for(user):
    """The agencies of the postings ``user`` sees (the list's filter)."""
    return Organization.objects.filter(pk__in=access.visible(user, Posting).values("agency_id")).order_by("name")


def application_posting_choices(user) -> list[tuple[int, str]]:
    """The postings of the applications ``user`` sees, as (id, label) for the pipeline's filter.
    Three columns, not whole postings and agencies: the hundred postings of a busy agency, read
    as models for a ModelChoiceField, were a quarter of the pipeline page's time (bench/hotspots.py)."""
    rows = (
        Posting.objects.filter(pk__in=access.visible(user, Application).values("posting_id"))
        .order_by("title", "pk")
        .values_list("pk", "title", "agency__name")
    )
    return [(pk, Posting.label(title, agency)) for pk, title, agency in rows]


def own_application(user, posting) -> Application | None:
    return Application.objects.filter(posting=posting, student=user).first()


def share_data_terms(records, *, reader=None) -> None:
    """Cache on the agreement of every one of ``records`` (applications or placements) what
    ``visible_fields`` reads of it, so a list page asks it per row without a query per row. The
    postings' query read it where it could (``with_agreement_terms``); the data-sharing terms of
    the rest come in one query, which is skipped when ``reader`` is given and is agency staff of
    none of those agreements (``visible_fields`` then shows them everything and reads no terms)."""
    agreements = {}
    for record in records:
        posting = record.posting
        agreement = posting.agreement
        if hasattr(posting, "agreement_shared"):
            agreement._agency_ids = set(posting.agreement_agency_ids)
            agreement._shared_categories = set(posting.agreement_shared)
        elif getattr(agreement, "_shared_categories", None) is None:
            agreements.setdefault(agreement.pk, []).append(agreement)
    if not agreements:
        return
    if reader is not None and not any(rules.is_agency_side(reader, same[0]) for same in agreements.values()):
        return
    shared = {pk: set() for pk in agreements}
    for agreement_id, category in DataSharingTerm.objects.filter(
        agreement_id__in=list(agreements), direction__in=SHARED_WITH_AGENCIES
    ).values_list("agreement_id", "category"):
        shared[agreement_id].add(category)
    for pk, instances in agreements.items():
        for agreement in instances:
            agreement._shared_categories = shared[pk]


def placement_for_guardian(user, pk) -> Placement:
    """A placement whose consent ``user`` may act on: its people, and the student's school staff
    (who see its consent, not the placement page)."""
    consents = access.visible(user, GuardianConsent).values("placement_id")
    placements = access.visible(user, Placement).values("pk")
    qs = Placement.objects.filter(Q(pk__in=placements) | Q(pk__in=consents)).select_related(
        "posting__agency", "student", "application__institution"
    )
    try:
        return qs.get(pk=pk)
    except (Placement.DoesNotExist, ValueError, TypeError) as error:
        raise Http404("No placement matches the given query.") from error


def coordinated_agencies(user):
    """Agencies whose clearances ``user`` keeps: those they coordinate (every agency for an admin)."""
    qs = Organization.objects.filter(kind=OrganizationKind.AGENCY)
    if not access.is_admin(user):
        qs = qs.filter(pk__in=access.organization_ids(user, role=Role.COORDINATOR))
    return qs.order_by("name", "pk")


def officers_of_agencies(agencies) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__organization__in=agencies,
            memberships__role=Role.OFFICER,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("full_name", "pk")
    )


def eligible_postings(user, qs: QuerySet[Posting]) -> QuerySet[Posting]:
    """Narrow ``qs`` to the open postings a student's school and level may apply to (the age is
    checked on the posting's page). Written to run on SQLite as well as PostgreSQL: a JSON list's
    text holds ``"11"`` when the level is in it."""
    qs = qs.filter(status=PostingStatus.OPEN)
    membership = rules.student_membership(user)
    if membership is None:
        return qs
    qs = qs.filter(institutions=membership.organization_id)
    level = rules.level_of(membership)
    if level:
        qs = qs.filter(Q(grade_levels=[]) | Q(grade_levels__icontains=json.dumps(level)))
    return qs


# Homes: each read is bounded (a count, a grouped aggregate or a fixed number of rows).


def application_stage_counts(user) -> dict[str, int]:
    """Applications the user sees, per stage (drafts are the student's own business)."""
    counts = dict(
        access.visible(user, Application)
        .exclude(status=ApplicationStatus.DRAFT)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in ApplicationStatus.values if status != ApplicationStatus.DRAFT}


def pending_placement_count(user) -> int:
    """Placements waiting for a guardian's consent or a mentor (the list's "pending" filter)."""
    return access.visible(user, Placement).filter(status=PlacementStatus.PENDING).count()


def expiring_clearance_count(user, *, today: date, within_days: int = 60) -> int:
    """Clearances to renew (the clearance list's ``?expiring=<days>`` filter)."""
    return clearances_to_renew(access.visible(user, Clearance), today=today, within_days=within_days).count()


def missed_check_in_count(user, *, today: date) -> int:
    """Active placements with a missed check-in (the placement list's ``?missed_check_ins=1`` filter)."""
    return with_missed_check_ins(access.visible(user, Placement), today=today).count()


def mentored_placements(user, *, limit: int) -> list[Placement]:
    """The running placements the user mentors, with hours approved and waiting."""
    return list(
        placement_list_for(user, mentor=user.pk)
        .filter(status__in=[PlacementStatus.PENDING, PlacementStatus.ACTIVE, PlacementStatus.SUSPENDED])
        .order_by("end_date", "pk")[:limit]
    )


def own_clearances(user, *, limit: int) -> list[Clearance]:
    return list(clearance_list_for(user, officer=user.pk)[:limit])


def own_applications(user, *, limit: int) -> list[Application]:
    return list(
        access.visible(user, Application)
        .filter(student=user)
        .select_related("posting__agency")
        .order_by("-created_at", "-pk")[:limit]
    )


def postings_to_apply(user, *, today: date, limit: int) -> list[Posting]:
    """Open postings the student may apply to and has not applied to yet, soonest deadline first."""
    qs = eligible_postings(user, access.visible(user, Posting)).filter(apply_by__gte=today)
    return list(
        qs.exclude(applications__student=user).select_related("agency").order_by("apply_by", "title", "pk")[:limit]
    )


def own_placements(user, *, limit: int) -> list[Placement]:
    """The student's own placements, current first, with hours approved and waiting."""
    return list(
        placement_list_for(user, student=user.pk)
        .filter(status__in=[PlacementStatus.PENDING, PlacementStatus.ACTIVE, PlacementStatus.SUSPENDED])
        .order_by("start_date", "pk")[:limit]
    )
