"""Reads of programs for a user, always starting from the access scope."""

import functools
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts import access
from accounts.enums import Role
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement, AgreementParty
from partnerships.selectors import agreement_ids_for, agreements_for
from programs.enums import BlackoutKind, BookingStatus, RequestStatus, SessionStatus
from programs.models import (
    BlackoutPeriod,
    Booking,
    Facilitation,
    OfficerQualification,
    Program,
    Qualification,
    Session,
    SessionRequest,
    Term,
)


def adult_organization_ids(user) -> set[int]:
    return {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}


def _partner_organization_ids(user):
    """Organizations that share an agreement with the user (including their own)."""
    return AgreementParty.objects.filter(agreement_id__in=agreement_ids_for(user)).values("organization_id")


@access.scope_for(Program)
def programs_for(user) -> QuerySet[Program]:
    """Adults of any party of the agreement see its catalog."""
    if access.is_admin(user):
        return Program.objects.all()
    return Program.objects.filter(agreement_id__in=agreement_ids_for(user))


@access.scope_for(Session)
def sessions_for(user) -> QuerySet[Session]:
    if access.is_admin(user):
        return Session.objects.all()
    return Session.objects.filter(program__agreement_id__in=agreement_ids_for(user))


@access.scope_for(Booking)
def bookings_for(user) -> QuerySet[Booking]:
    """The booking institution's adults, the agreement's coordinators and the facilitators."""
    if access.is_admin(user):
        return Booking.objects.all()
    # Subqueries, not joins through parties and facilitators: no duplicate rows to remove with
    # DISTINCT, whose sort over every visible booking was the bookings list's slowest query;
    # and only the conditions the person's roles need, so school staff get a plain index scan
    # on the institution (bench/results/explain-*.md).
    # An agency never books: its people see bookings through agreements and sessions only.
    institutions = [
        m.organization_id
        for m in access.active_memberships(user)
        if m.role != Role.STUDENT and not m.organization.is_agency
    ]
    visible = Q(institution_id__in=institutions)
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    if coordinated:
        agreements = AgreementParty.objects.filter(organization_id__in=coordinated).values("agreement_id")
        visible |= Q(session__program__agreement_id__in=agreements)
    if Role.OFFICER in access.roles(user):
        visible |= Q(session_id__in=Facilitation.objects.filter(officer=user).values("session_id"))
    return Booking.objects.filter(visible)


@access.scope_for(SessionRequest)
def session_requests_for(user) -> QuerySet[SessionRequest]:
    if access.is_admin(user):
        return SessionRequest.objects.all()
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    return SessionRequest.objects.filter(
        Q(institution_id__in=adult_organization_ids(user))
        | Q(program__agreement__parties__organization_id__in=coordinated)
    ).distinct()


@access.scope_for(Term)
def terms_for(user) -> QuerySet[Term]:
    if access.is_admin(user):
        return Term.objects.all()
    return Term.objects.filter(
        Q(institution_id__in=adult_organization_ids(user)) | Q(institution_id__in=_partner_organization_ids(user))
    )


@access.scope_for(BlackoutPeriod)
def blackouts_for(user) -> QuerySet[BlackoutPeriod]:
    if access.is_admin(user):
        return BlackoutPeriod.objects.all()
    return BlackoutPeriod.objects.filter(
        Q(organization_id__in=adult_organization_ids(user)) | Q(organization_id__in=_partner_organization_ids(user))
    )


@access.scope_for(OfficerQualification)
def officer_qualifications_for(user) -> QuerySet[OfficerQualification]:
    if access.is_admin(user):
        return OfficerQualification.objects.all()
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    return OfficerQualification.objects.filter(
        Q(officer=user) | Q(officer__memberships__organization_id__in=coordinated, officer__memberships__is_active=True)
    ).distinct()


@access.scope_for(Qualification)
def qualifications_for(user) -> QuerySet[Qualification]:
    return Qualification.objects.all()


def publishable_agreements(user):
    """Active agreements under which ``user`` may publish workshops: those they coordinate a
    party of (every active agreement for an admin)."""
    qs = agreements_for(user).filter(status=AgreementStatus.ACTIVE)
    if access.is_admin(user):
        return qs
    return qs.filter(parties__organization_id__in=access.organization_ids(user, role=Role.COORDINATOR)).distinct()


# Lists for pages and the API.


def catalog_for(user, *, topic=None, grade_band=None, format=None) -> QuerySet[Program]:
    qs = programs_for(user).select_related("agreement", "required_qualification").order_by("title", "pk")
    if topic:
        qs = qs.filter(topic=topic)
    if grade_band:
        qs = qs.filter(grade_band=grade_band)
    if format:
        qs = qs.filter(format=format)
    return qs


def session_list_for(user, *, upcoming=True, topic=None, format=None, has_seats=False, starts_on=None, program=None):
    qs = sessions_for(user).select_related("program", "school").order_by("starts_at", "pk")
    if upcoming:
        qs = qs.filter(starts_at__gte=timezone.now(), status=SessionStatus.SCHEDULED)
    if topic:
        qs = qs.filter(program__topic=topic)
    if format:
        qs = qs.filter(program__format=format)
    if has_seats:
        qs = qs.filter(confirmed_seats__lt=F("capacity_seats"))
    if starts_on:
        qs = qs.filter(starts_at__gte=timezone.make_aware(datetime.combine(starts_on, time.min)))
    if program:
        qs = qs.filter(program=program)
    return qs


def with_waitlist_position(qs: QuerySet[Booking]) -> QuerySet[Booking]:
    """Bookings annotated with the groups ahead of them in their session's waitlist, counted in
    the same query: a list shows every position without a query per row."""
    return qs.annotate(groups_ahead=_groups_ahead())


@functools.cache
def _groups_ahead() -> Coalesce:
    """The count of ``with_waitlist_position``, made once per process with its output field worked
    out (every copy ``annotate`` makes inherits it): made afresh, the grouped subquery and its
    output field cost every list of bookings about 0.4 ms of CPU in-process (interleaved A/B)."""
    ahead = (
        Booking.objects.filter(session_id=OuterRef("session_id"), status=BookingStatus.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=OuterRef("waitlisted_at"))
            | Q(waitlisted_at=OuterRef("waitlisted_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    expression = Coalesce(Subquery(ahead), 0)
    expression.output_field  # noqa: B018 -- worked out and kept on the expression
    return expression


def booking_list_for(user, *, status=None, session=None) -> QuerySet[Booking]:
    """Bookings with everything a list row shows, in a fixed number of queries."""
    qs = bookings_for(user).select_related("session__program", "session__school", "institution", "booked_by")
    if status:
        qs = qs.filter(status=status)
    if session is not None:
        qs = qs.filter(session=session)
    return with_waitlist_position(qs).order_by("session__starts_at", "pk")


def booking_rows_for(user, *, status=None) -> QuerySet[Booking]:
    """The bookings page: ``booking_list_for`` with only the columns its rows show (workshop,
    time, group, school, seats, status, place in line). With every column of the five tables
    behind a row, reading a page of 25 was a third of the page's time (bench/hotspots.py)."""
    return (
        booking_list_for(user, status=status)
        .select_related(None)
        .select_related("session__program", "institution")
        .only("session__starts_at", "session__program__title", "group_name", "institution__name", "seats", "status")
    )


def request_list_for(user, *, status=None) -> QuerySet[SessionRequest]:
    """Session requests, newest first; ``status="open"`` is what waits for a decision (the
    coordinator's home counts this same list)."""
    qs = access.visible(user, SessionRequest).select_related("program", "institution", "requested_by")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def bookings_of_session(user, session) -> QuerySet[Booking]:
    return booking_list_for(user, session=session).order_by("status", "waitlisted_at", "pk")


def waitlist_position(booking: Booking) -> int | None:
    """1 for the first group in line; None when the booking is not waitlisted. Uses the
    ``groups_ahead`` annotation of ``with_waitlist_position`` when the booking has it."""
    if booking.status != BookingStatus.WAITLISTED:
        return None
    if not hasattr(booking, "groups_ahead"):
        booking = with_waitlist_position(Booking.objects.filter(pk=booking.pk)).get()
    return booking.groups_ahead + 1


def with_join_link_flag(qs: QuerySet[Session], user) -> QuerySet[Session]:
    """Sessions annotated with ``viewer_may_join``: whether ``user`` may see the join link.
    Only the facilitators and people whose booking of that session is confirmed may; never the
    waitlisted, never a catalog. ``can_see_join_link`` and the feed ask the same question."""
    if not access.is_signed_in(user):
        return qs.annotate(viewer_may_join=Value(False))
    return qs.annotate(
        viewer_may_join=Exists(Facilitation.objects.filter(session_id=OuterRef("pk"), officer_id=user.pk))
        | Exists(
            Booking.objects.filter(session_id=OuterRef("pk"), booked_by_id=user.pk, status=BookingStatus.CONFIRMED)
        )
    )


# The order of ``session.facilitators.all()``: the people's own (accounts.models.User.Meta.ordering).
FACILITATOR_ORDER = ("officer__full_name", "officer__email", "officer_id")


def with_facilitator_ids(qs: QuerySet[Session]) -> QuerySet[Session]:
    """On PostgreSQL, sessions with ``facilitator_ids`` read by the sessions' own query, as an
    array per row; elsewhere ``qs`` as it is, and ``attach_facilitator_ids`` reads them apart. A
    page of 25 sessions saved a round trip and about 0.5 ms in-process."""
    if connections[qs.db].vendor != "postgresql":
        return qs
    officers = Facilitation.objects.filter(session_id=OuterRef("pk")).order_by(*FACILITATOR_ORDER)
    return qs.annotate(facilitator_ids=ArraySubquery(officers.values("officer_id")))


def attach_facilitator_ids(sessions) -> None:
    """Set ``facilitator_ids`` on each of ``sessions`` that has not read them
    (``with_facilitator_ids``): its facilitators' ids in the order of
    ``session.facilitators.all()``, read as (session, officer) pairs in one query. A list of
    sessions needs only the ids; a prefetch of whole user rows cost a page of 25 sessions more
    than a quarter of its time (bench/hotspots.py)."""
    ids = {session.pk: [] for session in sessions if not hasattr(session, "facilitator_ids")}
    if not ids:
        return
    pairs = (
        Facilitation.objects.filter(session_id__in=ids)
        .order_by(*FACILITATOR_ORDER)
        .values_list("session_id", "officer_id")
    )
    for session_id, officer_id in pairs:
        ids[session_id].append(officer_id)
    for session in sessions:
        if session.pk in ids:
            session.facilitator_ids = ids[session.pk]


def may_join(session: Session) -> bool:
    """For a session from ``with_join_link_flag`` or ``mark_joinable``: is there a link, and may
    the viewer see it?"""
    return bool(session.join_url) and bool(session.viewer_may_join)


def join_link_session_ids(user, sessions) -> set[int]:
    """Of ``sessions``, those whose join link ``user`` may see: the rule of
    ``with_join_link_flag`` as plain parts, the sessions the user facilitates and those their
    confirmed bookings are for. A list that has read its facilitators (``attach_facilitator_ids``)
    answers the first part from them; the EXISTS form cost a page 1.4 ms, this 0.5."""
    linked = [s for s in sessions if s.join_url]
    if not linked or not access.is_signed_in(user):
        return set()
    ids = [s.pk for s in linked]
    booked = (
        Booking.objects.filter(session_id__in=ids, booked_by_id=user.pk, status=BookingStatus.CONFIRMED)
        .order_by()
        .values_list("session_id", flat=True)
    )
    if all(hasattr(s, "facilitator_ids") for s in linked):
        return {s.pk for s in linked if user.pk in s.facilitator_ids} | set(booked)
    facilitated = (
        Facilitation.objects.filter(session_id__in=ids, officer_id=user.pk)
        .order_by()
        .values_list("session_id", flat=True)
    )
    return set(facilitated.union(booked).order_by())


def mark_joinable(user, sessions) -> None:
    """Set ``viewer_may_join`` on each of ``sessions`` for ``may_join``: one query for those with
    a link, none for a page without one. Asked in the page query instead, two EXISTS per row
    cost every list the compiling and running of subqueries whose answer only a session with a
    link uses."""
    flagged = join_link_session_ids(user, sessions)
    for session in sessions:
        session.viewer_may_join = session.pk in flagged


def can_see_join_link(user, session: Session) -> bool:
    return session.pk in join_link_session_ids(user, [session])


def sessions_in_month(user, first_day: date) -> QuerySet[Session]:
    next_month = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = timezone.make_aware(datetime.combine(first_day, time.min))
    end = timezone.make_aware(datetime.combine(next_month, time.min))
    return (
        sessions_for(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("program__agreement__lead_agency", "school")
    )


def blackouts_in_month(user, first_day: date) -> QuerySet[BlackoutPeriod]:
    next_month = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (
        blackouts_for(user)
        .filter(starts_on__lt=next_month, ends_on__gte=first_day)
        .select_related("organization")
        .order_by("starts_on", "pk")
    )


def feed_sessions_for(user) -> QuerySet[Session]:
    """A person's own sessions: the ones they booked (confirmed) and the ones they facilitate."""
    since = timezone.now() - timedelta(days=90)
    mine = Session.objects.filter(
        Q(facilitators=user) | Q(bookings__booked_by=user, bookings__status=BookingStatus.CONFIRMED),
        starts_at__gte=since,
    ).values("pk")
    return (
        with_join_link_flag(Session.objects.filter(pk__in=mine), user)
        .select_related("program__agreement__lead_agency", "school")
        .prefetch_related(Prefetch("facilitators"))
        .order_by("starts_at", "pk")
    )


def school_days(institution, first: date, last: date) -> set[date]:
    """The institution's school days between two dates: weekdays inside a term and outside a
    holiday. An institution with no terms recorded counts every weekday (the cautious reading)."""
    terms = list(Term.objects.filter(institution=institution, starts_on__lte=last, ends_on__gte=first))
    holidays = list(
        BlackoutPeriod.objects.filter(
            organization=institution, kind=BlackoutKind.HOLIDAY, starts_on__lte=last, ends_on__gte=first
        )
    )
    days = set()
    day = first
    while day <= last:
        in_term = not terms or any(t.starts_on <= day <= t.ends_on for t in terms)
        on_holiday = any(h.starts_on <= day <= h.ends_on for h in holidays)
        if day.weekday() < 5 and in_term and not on_holiday:
            days.add(day)
        day += timedelta(days=1)
    return days


# Homes: each read is bounded (a count, a grouped aggregate or a fixed number of rows).


def coordinated_agreement_ids(user) -> QuerySet:
    """The ids of the agreements with a party the user coordinates (every agreement for an
    admin), as a subquery of the parties. A coordinator's organizations are among those
    ``agreements_for`` reads, so this is a part of it; scoping by it alone, not by both wrapped in
    the agreements table, leaves the planner one subquery instead of three (planning the home's
    upcoming sessions took 7 ms, more than running them)."""
    if access.is_admin(user):
        return Agreement.objects.values("pk")
    return AgreementParty.objects.filter(
        organization_id__in=access.organization_ids(user, role=Role.COORDINATOR)
    ).values("agreement_id")


def open_request_count(user) -> int:
    """The length of the request list filtered to ``?status=open``."""
    return request_list_for(user, status=RequestStatus.OPEN).count()


def upcoming_sessions_of_agreements(user, *, limit: int) -> list[Session]:
    """The next scheduled sessions of the agreements the user coordinates."""
    return list(
        session_list_for(user)
        .filter(program__agreement_id__in=coordinated_agreement_ids(user))
        .select_related("program__agreement")[:limit]
    )


def delivery_by_month(user, *, since: date) -> dict[date, dict]:
    """Per month since ``since`` (first day): sessions delivered, their seats and confirmed seats,
    and students reached (attendance of confirmed bookings), for the agreements the user coordinates."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    sessions = Session.objects.filter(
        program__agreement_id__in=coordinated_agreement_ids(user),
        status=SessionStatus.DELIVERED,
        starts_at__gte=start,
    )
    months: dict[date, dict] = {}
    for row in (
        sessions.annotate(month=TruncMonth("starts_at"))
        .order_by()
        .values("month")
        .annotate(delivered=Count("pk"), capacity=Sum("capacity_seats"), confirmed=Sum("confirmed_seats"))
    ):
        months[_month_of(row["month"])] = {**row, "reached": 0}
    for row in (
        Booking.objects.filter(session__in=sessions, status=BookingStatus.CONFIRMED)
        .annotate(month=TruncMonth("session__starts_at"))
        .order_by()
        .values("month")
        .annotate(reached=Coalesce(Sum("attended_count"), 0))
    ):
        months.setdefault(_month_of(row["month"]), {"delivered": 0, "capacity": 0, "confirmed": 0})["reached"] = row[
            "reached"
        ]
    return months


def _month_of(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def upcoming_bookings_of(user, *, limit: int) -> list[Booking]:
    """The next live bookings of the institutions the user books for, with waitlist positions."""
    schools = access.organization_ids(user, role=Role.STAFF)
    return list(
        booking_list_for(user)
        .filter(
            institution_id__in=schools,
            session__starts_at__gte=timezone.now(),
            session__status=SessionStatus.SCHEDULED,
            status__in=[BookingStatus.REQUESTED, BookingStatus.CONFIRMED, BookingStatus.WAITLISTED],
        )
        .order_by("session__starts_at", "pk")[:limit]
    )


def facilitated_sessions(user, *, limit: int) -> list[Session]:
    """The next scheduled sessions the user facilitates, flagged for the join link."""
    qs = Session.objects.filter(
        pk__in=Facilitation.objects.filter(officer_id=user.pk).values("session_id"),
        starts_at__gte=timezone.now(),
        status=SessionStatus.SCHEDULED,
    )
    return list(with_join_link_flag(qs, user).select_related("program", "school").order_by("starts_at", "pk")[:limit])
