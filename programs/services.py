"""Writes to programs: the catalog, scheduling with its checks, bookings under a row lock,
waitlists, attendance, session requests, academic calendars and calendar feeds."""

import hashlib
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.enums import Role
from accounts.errors import ConflictError, DomainError
from accounts.models import Organization, User
from accounts.services import record_audit
from config import tablecache
from notifications import services as notifications
from notifications.services import notify
from partnerships.enums import PartyRole
from partnerships.services import AgreementNotActive, ensure_allows_new_activity
from programs import ics, rules
from programs.enums import (
    BOOKING_TRANSITIONS,
    SESSION_TRANSITIONS,
    BookingStatus,
    LocationKind,
    RequestStatus,
    SessionStatus,
)
from programs.models import (
    BlackoutPeriod,
    Booking,
    CalendarFeedToken,
    Facilitation,
    OfficerQualification,
    Program,
    Session,
    SessionRequest,
    Term,
)

REMINDER_OFFSETS = {"7d": timedelta(days=7), "24h": timedelta(hours=24)}
REMINDER_WINDOW = timedelta(days=1)


class ProgramsError(DomainError):
    """A rule of programs refused the change; the message is for the person."""


class SchedulingError(ProgramsError):
    def __init__(self, message, *, field=None, code="invalid", problems=()):
        super().__init__(message, field=field, code=code)
        self.problems = list(problems)


# Small helpers.


def _local(moment: datetime, zone) -> str:
    return formats.date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def _link(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _ensure(allowed: bool, message: str) -> None:
    if not allowed:
        raise ProgramsError(message, code="forbidden")


def _confirmed_seats(session_id: int) -> int:
    return Booking.objects.filter(session_id=session_id, status=BookingStatus.CONFIRMED).aggregate(
        total=Coalesce(Sum("seats"), 0)
    )["total"]


def _lock_session(session_id: int) -> Session:
    """The session row, locked for the rest of the transaction: every decision about its
    seats is taken while holding it. ``PROGRAMS_BOOKING_LOCK = False`` exists only so a test
    can prove the race test sees a race."""
    qs = Session.objects.select_related("program__agreement__lead_agency", "school")
    if getattr(settings, "PROGRAMS_BOOKING_LOCK", True):
        qs = qs.select_for_update(of=("self",))
    return qs.get(pk=session_id)


def _rows_of(session: Session):
    """A block whose writes of sessions and bookings touch only this session's row and its
    bookings, so only its agreement's figures are computed again (``config.tablecache``)."""
    return tablecache.rows_of("agreement", session.program.agreement_id, Booking, Session)


def _set_status(obj, to: str, allowed, choices, noun: str, **fields) -> None:
    """Move a booking or session along its transition table, saving only what changed."""
    if (obj.status, to) not in allowed:
        raise ProgramsError(
            _("A %(from)s %(noun)s cannot become %(to)s.")
            % {"from": obj.get_status_display().lower(), "noun": noun, "to": choices(to).label.lower()}
        )
    obj.status = to
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=["status", "updated_at", *fields])


def _set_booking_status(booking: Booking, to: str, **fields) -> None:
    _set_status(booking, to, BOOKING_TRANSITIONS, BookingStatus, _("booking"), **fields)


def _set_session_status(session: Session, to: str, **fields) -> None:
    _set_status(session, to, SESSION_TRANSITIONS, SessionStatus, _("session"), **fields)


def _session_context(session: Session) -> dict:
    zone = ics.location_zone(session)
    return {
        "title": session.program.title,
        "starts": _local(session.starts_at, zone),
        "ends": _local(session.ends_at, zone),
        "time_zone": str(zone),
        "location": ics.location_text(session),
        "link": _link("programs:session_detail", session.pk),
    }


# The catalog.


def create_program(*, agreement, by: User, **fields) -> Program:
    """Coordinators of a party publish a workshop, only under an active agreement."""
    _ensure(
        rules.agreement_rules.can_manage(by, agreement),
        _("Only a coordinator of a party of the agreement can publish workshops."),
    )
    ensure_allows_new_activity(agreement)
    with transaction.atomic():
        program = Program.objects.create(agreement=agreement, created_by=by, **fields)
        record_audit(actor=by, action="program.created", target=program, organization=agreement.lead_agency)
    return program


# Scheduling.


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str
    hard: bool = True


def _overlapping_days(qs, start_day, end_day):
    return qs.filter(starts_on__lte=end_day, ends_on__gte=start_day)


class Calendars:
    """The blackouts and terms ``scheduling_problems`` reads, one query per question."""

    def blackout(self, organization, start_day, end_day) -> BlackoutPeriod | None:
        """The first blackout of ``organization`` overlapping those days, if any."""
        return _overlapping_days(BlackoutPeriod.objects.filter(organization=organization), start_day, end_day).first()

    def within_terms(self, school, start_day, end_day) -> bool:
        """Do those days fall inside one of the school's terms (or has it none)?"""
        terms = Term.objects.filter(institution=school)
        return not terms.exists() or terms.filter(starts_on__lte=start_day, ends_on__gte=end_day).exists()


class WindowCalendars(Calendars):
    """The same answers for days from ``first`` to ``last``, from the blackouts of
    ``organizations`` in those days and ``school``'s terms read once: proposing slots asks them
    for every candidate day. Other days and organizations are asked of the database."""

    def __init__(self, *, organizations, school, first, last):
        self.first, self.last = first, last
        self.blackouts = {organization.pk: [] for organization in organizations}
        for blackout in _overlapping_days(
            BlackoutPeriod.objects.filter(organization__in=list(self.blackouts)), first, last
        ):  # in the model's order (starts_on, pk), as .first() takes them
            self.blackouts[blackout.organization_id].append(blackout)
        self.school = school
        self.terms = list(Term.objects.filter(institution=school)) if school is not None else None

    def _covers(self, start_day, end_day) -> bool:
        return self.first <= start_day and end_day <= self.last

    def blackout(self, organization, start_day, end_day):
        if organization.pk not in self.blackouts or not self._covers(start_day, end_day):
            return super().blackout(organization, start_day, end_day)
        return next(
            (b for b in self.blackouts[organization.pk] if b.starts_on <= end_day and b.ends_on >= start_day), None
        )

    def within_terms(self, school, start_day, end_day):
        if self.school is None or school.pk != self.school.pk:
            return super().within_terms(school, start_day, end_day)
        return not self.terms or any(t.starts_on <= start_day and t.ends_on >= end_day for t in self.terms)


def scheduling_problems(
    *,
    program,
    starts_at,
    ends_at,
    location_kind,
    school=None,
    facilitators=(),
    exclude_session=None,
    calendars: Calendars | None = None,
) -> list[Problem]:
    """Every reason the proposed slot may not be scheduled, each with a message naming it.
    ``calendars`` answers the blackout and term questions (by default from the database)."""
    calendars = calendars or Calendars()
    problems = []
    agreement = program.agreement
    try:
        ensure_allows_new_activity(agreement)
    except AgreementNotActive as error:
        problems.append(Problem("agreement_not_active", error.message, "agreement"))
    parties = list(agreement.parties.all())
    if location_kind == LocationKind.SCHOOL and school is not None:
        if not any(p.organization_id == school.pk and p.role == PartyRole.INSTITUTION for p in parties):
            problems.append(
                Problem(
                    "school_not_party", _("%(school)s is not a party of this agreement.") % {"school": school}, "school"
                )
            )
        zone = school.zone
        start_day, end_day = timezone.localtime(starts_at, zone).date(), timezone.localtime(ends_at, zone).date()
        blackout = calendars.blackout(school, start_day, end_day)
        if blackout is not None:
            problems.append(
                Problem(
                    "school_blackout",
                    _("%(school)s is closed for %(name)s (%(start)s – %(end)s).")
                    % {"school": school, "name": blackout.name, "start": blackout.starts_on, "end": blackout.ends_on},
                    "starts_at",
                )
            )
        if not calendars.within_terms(school, start_day, end_day):
            problems.append(
                Problem(
                    "outside_terms",
                    _("%(day)s is outside the terms of %(school)s.") % {"day": start_day, "school": school},
                    "starts_at",
                )
            )
    agency_ids = {p.organization_id for p in parties if p.role == PartyRole.LEAD_AGENCY}
    # Days and weeks are the location's (as the invite shows them), whatever zone starts_at is in.
    at_school = location_kind == LocationKind.SCHOOL and school is not None
    local_zone = school.zone if at_school else agreement.lead_agency.zone
    local_day = timezone.localtime(starts_at, local_zone).date()
    monday = local_day - timedelta(days=local_day.weekday())
    week_start = datetime.combine(monday, datetime.min.time(), tzinfo=local_zone)
    for officer in facilitators:
        officer_agencies = set(
            officer.memberships.filter(is_active=True, role=Role.OFFICER, organization_id__in=agency_ids).values_list(
                "organization_id", flat=True
            )
        )
        if not officer_agencies:
            problems.append(
                Problem(
                    "facilitator_not_officer",
                    _("%(name)s is not an officer of the agreement's agency.") % {"name": officer},
                    "facilitators",
                )
            )
        overlap = (
            Session.objects.filter(
                facilitators=officer, status=SessionStatus.SCHEDULED, starts_at__lt=ends_at, ends_at__gt=starts_at
            )
            .exclude(pk=getattr(exclude_session, "pk", None))
            .select_related("program")
            .first()
        )
        if overlap is not None:
            problems.append(
                Problem(
                    "facilitator_overlap",
                    _("%(name)s already facilitates “%(other)s” at that time.")
                    % {"name": officer, "other": overlap.program.title},
                    "facilitators",
                )
            )
        for agency in Organization.objects.filter(pk__in=officer_agencies):
            day_from = timezone.localtime(starts_at, agency.zone).date()
            day_to = timezone.localtime(ends_at, agency.zone).date()
            blackout = calendars.blackout(agency, day_from, day_to)
            if blackout is not None:
                problems.append(
                    Problem(
                        "facilitator_blackout",
                        _("%(agency)s has a blackout for %(name)s (%(start)s – %(end)s); %(officer)s is unavailable.")
                        % {
                            "agency": agency,
                            "name": blackout.name,
                            "start": blackout.starts_on,
                            "end": blackout.ends_on,
                            "officer": officer,
                        },
                        "facilitators",
                    )
                )
        required = program.required_qualification
        if required is not None:
            holds = OfficerQualification.objects.filter(officer=officer, qualification=required).filter(
                Q(expires_on__isnull=True) | Q(expires_on__gte=local_day)
            )
            if not holds.exists():
                problems.append(
                    Problem(
                        "missing_qualification",
                        _("%(name)s does not hold the required qualification “%(q)s”.")
                        % {"name": officer, "q": required},
                        "facilitators",
                    )
                )
        busy = (
            Session.objects.filter(
                facilitators=officer,
                status=SessionStatus.SCHEDULED,
                starts_at__gte=week_start,
                starts_at__lt=week_start + timedelta(days=7),
            )
            .exclude(pk=getattr(exclude_session, "pk", None))
            .count()
        )
        limit = getattr(settings, "PROGRAMS_WEEKLY_SESSIONS_WARNING", 5)
        if busy >= limit:
            problems.append(
                Problem(
                    "busy_week",
                    _("%(name)s already has %(count)s sessions that week.") % {"name": officer, "count": busy},
                    "override_reason",
                    hard=False,
                )
            )
    return problems


def _raise_for(problems: list[Problem], override_reason: str) -> None:
    hard = [p for p in problems if p.hard]
    if hard:
        raise SchedulingError(
            " ".join(p.message for p in hard), field=hard[0].field, code=hard[0].code, problems=problems
        )
    soft = [p for p in problems if not p.hard]
    if soft and not override_reason.strip():
        raise SchedulingError(
            " ".join(p.message for p in soft) + " " + _("Give a reason to schedule it anyway."),
            field="override_reason",
            code=soft[0].code,
            problems=problems,
        )


def _validate_slot(*, starts_at, ends_at, location_kind, school, venue, join_url, now) -> None:
    if ends_at <= starts_at:
        raise ProgramsError(_("A session must end after it starts."), field="ends_at")
    if starts_at <= now:
        raise ProgramsError(_("A session can only be scheduled in the future."), field="starts_at")
    if location_kind == LocationKind.SCHOOL and school is None:
        raise ProgramsError(_("Name the school the session is held at."), field="school")
    if location_kind == LocationKind.VENUE and not venue.strip():
        raise ProgramsError(_("Name the venue."), field="venue")
    if location_kind == LocationKind.VIRTUAL and not join_url:
        raise ProgramsError(_("A virtual session needs a join link."), field="join_url")
    if join_url and not join_url.lower().startswith("https://"):
        raise ProgramsError(_("A join link must start with https://."), field="join_url")


@contextmanager
def _overlap_backstop():
    """PostgreSQL's exclusion constraint refusing an officer's overlapping sessions, as a
    conflict the person can read (reached only if the checks above were bypassed)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        if "programs_facilitation_no_overlap" not in str(error):
            raise
        raise ConflictError(
            _("A facilitator already has a session at that time."), field="facilitators", code="facilitator_overlap"
        ) from error


def _add_facilitations(session: Session, officers) -> None:
    with _overlap_backstop():
        Facilitation.objects.bulk_create(
            Facilitation(session=session, officer=officer, starts_at=session.starts_at, ends_at=session.ends_at)
            for officer in officers
        )


def _lock_facilitators(facilitators) -> list[User]:
    """Facilitators' rows, locked in id order, so two schedulers cannot double-book an officer."""
    ids = sorted({f.pk for f in facilitators})
    return list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


def schedule_session(
    *,
    program: Program,
    by: User,
    starts_at: datetime,
    ends_at: datetime,
    location_kind: str = LocationKind.SCHOOL,
    school: Organization | None = None,
    venue: str = "",
    join_url: str = "",
    capacity_seats: int | None = None,
    booking_cutoff_hours: int = 48,
    waitlist_enabled: bool = True,
    facilitators=(),
    override_reason: str = "",
) -> Session:
    """Schedule a session if every hard rule passes (school calendar, facilitators' overlaps,
    blackouts and qualifications, an active agreement); softer warnings need a recorded reason."""
    _ensure(rules.can_manage_program(by, program), _("Only a coordinator of the agreement can schedule sessions."))
    if location_kind != LocationKind.SCHOOL:
        school = None
    _validate_slot(
        starts_at=starts_at,
        ends_at=ends_at,
        location_kind=location_kind,
        school=school,
        venue=venue,
        join_url=join_url,
        now=timezone.now(),
    )
    capacity = capacity_seats if capacity_seats is not None else program.default_capacity_seats
    if capacity < 1:
        raise ProgramsError(_("Capacity must be at least one seat."), field="capacity_seats")
    with transaction.atomic():
        officers = _lock_facilitators(facilitators)
        problems = scheduling_problems(
            program=program,
            starts_at=starts_at,
            ends_at=ends_at,
            location_kind=location_kind,
            school=school,
            facilitators=officers,
        )
        _raise_for(problems, override_reason)
        session = Session.objects.create(
            program=program,
            starts_at=starts_at,
            ends_at=ends_at,
            location_kind=location_kind,
            school=school,
            venue=venue if location_kind == LocationKind.VENUE else "",
            join_url=join_url,
            capacity_seats=capacity,
            booking_cutoff_hours=booking_cutoff_hours,
            waitlist_enabled=waitlist_enabled,
            override_reason=override_reason if problems else "",
            created_by=by,
        )
        _add_facilitations(session, officers)
        record_audit(
            actor=by,
            action="session.scheduled",
            target=session,
            organization=program.agreement.lead_agency,
            warnings=[p.code for p in problems],
            override_reason=session.override_reason,
        )
        for officer in officers:
            notify(
                to=officer.email,
                user=officer,
                template="programs/email/facilitator_assigned",
                context=_session_context(session),
                dedupe_key=f"session:{session.pk}:facilitator:{officer.pk}:seq:{session.ical_sequence}",
                ics=ics.session_calendar(session, include_join_link=True),
                ics_method="REQUEST",
            )
    return session


def _attendees(session: Session, *, include_waitlisted: bool = False, bookings=None):
    """(user, join link allowed) for everyone a change of this session concerns. ``bookings``:
    the session's bookings of those statuses when the caller has read them already."""
    statuses = [BookingStatus.CONFIRMED, *([BookingStatus.WAITLISTED] if include_waitlisted else [])]
    if bookings is None:
        bookings = session.bookings.filter(status__in=statuses).select_related("booked_by").order_by("pk")
    seen = {}
    for booking in bookings:
        allowed = booking.status == BookingStatus.CONFIRMED
        seen[booking.booked_by_id] = (booking.booked_by, allowed or seen.get(booking.booked_by_id, (None, False))[1])
    for officer in session.facilitators.all():
        seen[officer.pk] = (officer, True)
    return list(seen.values())


def reschedule_session(
    *, session: Session, by: User, starts_at: datetime, ends_at: datetime, override_reason: str = ""
) -> Session:
    """Move a session; the same checks apply, SEQUENCE goes up and everyone gets the new time."""
    _ensure(rules.can_manage_program(by, session.program), _("Only a coordinator of the agreement can reschedule."))
    with transaction.atomic():
        officers = _lock_facilitators(session.facilitators.all())
        session = _lock_session(session.pk)
        if session.status != SessionStatus.SCHEDULED:
            raise ProgramsError(_("Only a scheduled session can be moved."))
        _validate_slot(
            starts_at=starts_at,
            ends_at=ends_at,
            location_kind=session.location_kind,
            school=session.school,
            venue=session.venue,
            join_url=session.join_url,
            now=timezone.now(),
        )
        problems = scheduling_problems(
            program=session.program,
            starts_at=starts_at,
            ends_at=ends_at,
            location_kind=session.location_kind,
            school=session.school,
            facilitators=officers,
            exclude_session=session,
        )
        _raise_for(problems, override_reason)
        old = _session_context(session)
        session.starts_at, session.ends_at = starts_at, ends_at
        session.ical_sequence += 1
        session.save(update_fields=["starts_at", "ends_at", "ical_sequence", "updated_at"])
        with _overlap_backstop():
            session.facilitations.update(starts_at=starts_at, ends_at=ends_at)
        record_audit(
            actor=by,
            action="session.rescheduled",
            target=session,
            organization=session.program.agreement.lead_agency,
            old_starts=old["starts"],
            override_reason=override_reason,
        )
        context = {**_session_context(session), "old_starts": old["starts"], "old_ends": old["ends"]}
        for person, join in _attendees(session):
            notify(
                to=person.email,
                user=person,
                template="programs/email/session_rescheduled",
                context=context,
                dedupe_key=f"session:{session.pk}:seq:{session.ical_sequence}:to:{person.pk}",
                ics=ics.session_calendar(session, include_join_link=join),
                ics_method="REQUEST",
            )
    return session


def cancel_session(*, session: Session, by: User, reason: str) -> Session:
    """Cancel a session: SEQUENCE goes up and calendars receive METHOD:CANCEL."""
    _ensure(rules.can_manage_program(by, session.program), _("Only a coordinator of the agreement can cancel."))
    if not reason.strip():
        raise ProgramsError(_("Say why the session is cancelled."), field="reason")
    with transaction.atomic():
        session = _lock_session(session.pk)
        _set_session_status(
            session, SessionStatus.CANCELLED, cancel_reason=reason.strip(), ical_sequence=session.ical_sequence + 1
        )
        session.facilitations.update(live=False)
        record_audit(
            actor=by, action="session.cancelled", target=session, organization=session.program.agreement.lead_agency
        )
        context = {**_session_context(session), "reason": session.cancel_reason}
        for person, _join in _attendees(session, include_waitlisted=True):
            notify(
                to=person.email,
                user=person,
                template="programs/email/session_cancelled",
                context=context,
                dedupe_key=f"session:{session.pk}:cancelled:to:{person.pk}",
                ics=ics.session_calendar(session, method="CANCEL"),
                ics_method="CANCEL",
            )
    return session


# Bookings.


def _check_bookable(*, session: Session, institution, by: User, now, enforce_cutoff: bool) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise ProgramsError(_("This session is %(status)s.") % {"status": session.get_status_display().lower()})
    if session.starts_at <= now:
        raise ProgramsError(_("This session has already started; it can no longer be booked."))
    if enforce_cutoff and now >= session.cutoff_at:
        raise ProgramsError(
            _("Booking closed at %(cutoff)s (%(hours)s hours before the session).")
            % {"cutoff": _local(session.cutoff_at, institution.zone), "hours": session.booking_cutoff_hours}
        )
    ensure_allows_new_activity(session.program.agreement)


def _notify_booking(booking: Booking, session: Session, kind: str) -> None:
    context = {
        **_session_context(session),
        "group_name": booking.group_name,
        "seats": booking.seats,
        "institution": booking.institution.name,
    }
    confirmed = kind in ("confirmed", "promoted")
    notify(
        to=booking.booked_by.email,
        user=booking.booked_by,
        template=f"programs/email/booking_{kind}",
        context=context,
        dedupe_key=f"booking:{booking.pk}:{kind}",
        ics=ics.session_calendar(session, include_join_link=True) if confirmed else "",
        ics_method="REQUEST" if confirmed else "",
    )


def _place(*, session: Session, institution, by, group_name, seats, grade, notes, now, enforce_cutoff: bool) -> Booking:
    """Decide and write one booking; the caller holds the session's row lock."""
    _check_bookable(session=session, institution=institution, by=by, now=now, enforce_cutoff=enforce_cutoff)
    confirmed = _confirmed_seats(session.pk)
    delay = getattr(settings, "PROGRAMS_BOOKING_RACE_DELAY", 0)
    if delay:
        time.sleep(delay)  # tests only: widen the window between the count and the write
    fits = confirmed + seats <= session.capacity_seats
    if not fits and not session.waitlist_enabled:
        raise ConflictError(
            _("Only %(free)s seats are left and this session has no waitlist; nothing was booked.")
            % {"free": max(0, session.capacity_seats - confirmed)},
            field="seats",
            code="full",
        )
    booking = Booking.objects.create(
        session=session,
        institution=institution,
        booked_by=by,
        group_name=group_name,
        grade=grade,
        seats=seats,
        notes=notes,
        status=BookingStatus.CONFIRMED if fits else BookingStatus.WAITLISTED,
        confirmed_at=now if fits else None,
        waitlisted_at=None if fits else now,
    )
    if fits:
        Session.objects.filter(pk=session.pk).update(confirmed_seats=confirmed + seats, updated_at=now)
        session.confirmed_seats = confirmed + seats
    _notify_booking(booking, session, "confirmed" if fits else "waitlisted")
    return booking


def book_session(
    *,
    session: Session,
    institution: Organization,
    by: User,
    group_name: str,
    seats: int,
    grade: str = "",
    notes: str = "",
) -> Booking:
    """Book seats for a group: confirmed if they fit, else waitlisted (or refused without a
    waitlist). The session row is locked before the seats are counted, so confirmed seats
    never exceed capacity under concurrent bookings."""
    group_name = (group_name or "").strip()
    if not group_name:
        raise ProgramsError(_("Name the group."), field="group_name")
    if seats is None or seats < 1:
        raise ProgramsError(_("Book at least one seat."), field="seats")
    if institution.pk not in rules.bookable_institution_ids(by, session):
        raise ProgramsError(
            _("You can only book for an institution you belong to that is a party of this session's agreement."),
            field="institution",
        )
    if seats > session.capacity_seats:
        raise ProgramsError(
            _("The session has %(capacity)s seats in total; a group of %(seats)s cannot fit.")
            % {"capacity": session.capacity_seats, "seats": seats},
            field="seats",
        )
    with transaction.atomic():
        locked = _lock_session(session.pk)
        with _rows_of(locked):
            return _place(
                session=locked,
                institution=institution,
                by=by,
                group_name=group_name,
                seats=seats,
                grade=grade,
                notes=notes,
                now=timezone.now(),
                enforce_cutoff=True,
            )


def _promote_waitlist(session: Session) -> list[Booking]:
    """Fill freed seats from the waitlist in the order groups joined, skipping a group that
    does not fit. The caller holds the session's row lock."""
    free = session.capacity_seats - _confirmed_seats(session.pk)
    promoted = []
    now = timezone.now()
    queue = (
        Booking.objects.filter(session=session, status=BookingStatus.WAITLISTED)
        .select_related("booked_by", "institution")
        .order_by("waitlisted_at", "pk")
    )
    for booking in queue:
        if free <= 0:
            break
        if booking.seats <= free:
            _set_booking_status(booking, BookingStatus.CONFIRMED, confirmed_at=now)
            free -= booking.seats
            promoted.append(booking)
    Session.objects.filter(pk=session.pk).update(confirmed_seats=session.capacity_seats - free, updated_at=now)
    session.confirmed_seats = session.capacity_seats - free
    for booking in promoted:
        _notify_booking(booking, session, "promoted")
    return promoted


def cancel_booking(*, booking: Booking, by: User, reason: str = "") -> Booking:
    """Cancel a booking under the session's lock; freed seats go to the waitlist in order."""
    _ensure(rules.can_cancel_booking(by, booking), _("You cannot cancel this booking."))
    with transaction.atomic():
        session = _lock_session(booking.session_id)
        with _rows_of(session):
            booking = Booking.objects.select_for_update().select_related("booked_by", "institution").get(pk=booking.pk)
            if booking.status == BookingStatus.CANCELLED:
                raise ConflictError(_("This booking is already cancelled."))
            was_confirmed = booking.status == BookingStatus.CONFIRMED
            _set_booking_status(booking, BookingStatus.CANCELLED, cancelled_at=timezone.now())
            record_audit(
                actor=by, action="booking.cancelled", target=booking, organization=booking.institution, reason=reason
            )
            notify(
                to=booking.booked_by.email,
                user=booking.booked_by,
                template="programs/email/booking_cancelled",
                context={**_session_context(session), "group_name": booking.group_name, "reason": reason},
                dedupe_key=f"booking:{booking.pk}:cancelled",
                ics=ics.session_calendar(session, method="CANCEL") if was_confirmed else "",
                ics_method="CANCEL" if was_confirmed else "",
            )
            if was_confirmed and session.status == SessionStatus.SCHEDULED:
                _promote_waitlist(session)
            elif was_confirmed:
                # Nobody moves up for a delivered or cancelled session, but the counter stays true.
                Session.objects.filter(pk=session.pk).update(confirmed_seats=_confirmed_seats(session.pk))
    return booking


def change_capacity(*, session: Session, capacity_seats: int, by: User) -> Session:
    """Raise or lower a session's seats under its lock; never below the confirmed seats.
    Added seats go to the waitlist in order."""
    _ensure(rules.can_manage_program(by, session.program), _("Only a coordinator of the agreement can change seats."))
    if capacity_seats is None or capacity_seats < 1:
        raise ProgramsError(_("Capacity must be at least one seat."), field="capacity_seats")
    with transaction.atomic():
        session = _lock_session(session.pk)
        with _rows_of(session):
            confirmed = _confirmed_seats(session.pk)
            if capacity_seats < confirmed:
                raise ProgramsError(
                    _("%(confirmed)s seats are already confirmed; capacity cannot go below that.")
                    % {"confirmed": confirmed},
                    field="capacity_seats",
                )
            old = session.capacity_seats
            session.capacity_seats = capacity_seats
            session.save(update_fields=["capacity_seats", "updated_at"])
            record_audit(
                actor=by,
                action="session.capacity_changed",
                target=session,
                organization=session.program.agreement.lead_agency,
                old=old,
                new=capacity_seats,
            )
            if session.status == SessionStatus.SCHEDULED:
                _promote_waitlist(session)
    return session


# Attendance.


def record_attendance(*, session: Session, by: User, attended: dict[int, int], notes: str = "") -> Session:
    """After a session: the headcount of each confirmed booking and the facilitator's notes;
    the session is then delivered."""
    _ensure(rules.can_record_attendance(by, session), _("Only facilitators and coordinators record attendance."))
    if session.starts_at > timezone.now():
        raise ProgramsError(_("Attendance can be recorded once the session has started."))
    with transaction.atomic():
        session = _lock_session(session.pk)
        with _rows_of(session):
            if session.status == SessionStatus.CANCELLED:
                raise ProgramsError(_("This session was cancelled."))
            bookings = {b.pk: b for b in session.bookings.filter(status=BookingStatus.CONFIRMED)}
            unknown = set(attended) - set(bookings)
            if unknown:
                raise ProgramsError(
                    _("Attendance names bookings that are not confirmed for this session."), field="attended"
                )
            for count in attended.values():
                if count is None or count < 0 or count > session.capacity_seats:
                    raise ProgramsError(
                        _("A headcount must be between 0 and %(max)s.") % {"max": session.capacity_seats},
                        field="attended",
                    )
            for pk, count in attended.items():
                bookings[pk].attended_count = count
                bookings[pk].save(update_fields=["attended_count", "updated_at"])
            session.facilitator_notes = notes
            if session.status == SessionStatus.SCHEDULED:
                _set_session_status(session, SessionStatus.DELIVERED, facilitator_notes=notes)
            else:
                session.save(update_fields=["facilitator_notes", "updated_at"])
            record_audit(
                actor=by,
                action="session.attendance",
                target=session,
                organization=session.program.agreement.lead_agency,
            )
    return session


# Session requests.


def request_session(
    *,
    program: Program,
    institution: Organization,
    by: User,
    window_starts_on,
    window_ends_on,
    preferred_start_time,
    group_name: str,
    seats: int,
    notes: str = "",
) -> SessionRequest:
    """Staff ask for a workshop at their school within a window of dates."""
    if institution.pk not in rules.requestable_institution_ids(by, program):
        raise ProgramsError(
            _("You can only request sessions for your own institution, a party of the agreement."), field="institution"
        )
    if window_ends_on < window_starts_on:
        raise ProgramsError(_("The window must end on or after its first day."), field="window_ends_on")
    if window_ends_on < timezone.localdate():
        raise ProgramsError(_("The window is in the past."), field="window_ends_on")
    if seats is None or seats < 1:
        raise ProgramsError(_("Ask for at least one seat."), field="seats")
    with transaction.atomic():
        request = SessionRequest.objects.create(
            program=program,
            institution=institution,
            requested_by=by,
            window_starts_on=window_starts_on,
            window_ends_on=window_ends_on,
            preferred_start_time=preferred_start_time,
            group_name=group_name.strip(),
            seats=seats,
            notes=notes,
        )
        record_audit(actor=by, action="session_request.created", target=request, organization=institution)
    return request


def propose_slots(*, request: SessionRequest, facilitators=(), limit: int = 5) -> list[datetime]:
    """Start times in the request's window, at the preferred time, that pass the school's
    calendar, the agency's blackouts and the facilitators' other sessions."""
    zone = request.institution.zone
    day = max(request.window_starts_on, timezone.localdate(timezone.now(), zone) + timedelta(days=1))
    duration = timedelta(minutes=request.program.duration_minutes)
    # The agency's blackouts hold even before officers are chosen (with officers, the checks repeat them).
    agreement = request.program.agreement
    agency = agreement.lead_agency
    # Every candidate day asks the same calendars and parties: read them once for the window
    # (a day either side, for days that are another in the agency's zone).
    prefetch_related_objects([agreement], "parties")
    calendars = WindowCalendars(
        organizations=[request.institution, agency],
        school=request.institution,
        first=day - timedelta(days=1),
        last=request.window_ends_on + timedelta(days=1),
    )
    slots = []
    while day <= request.window_ends_on and len(slots) < limit:
        if day.weekday() < 5:
            starts_at = datetime.combine(day, request.preferred_start_time, tzinfo=zone)
            ends_at = starts_at + duration
            agency_closed = (
                calendars.blackout(
                    agency,
                    timezone.localtime(starts_at, agency.zone).date(),
                    timezone.localtime(ends_at, agency.zone).date(),
                )
                is not None
            )
            problems = scheduling_problems(
                program=request.program,
                starts_at=starts_at,
                ends_at=ends_at,
                location_kind=LocationKind.SCHOOL,
                school=request.institution,
                facilitators=facilitators,
                calendars=calendars,
            )
            if not agency_closed and not any(p.hard for p in problems):
                slots.append(starts_at)
        day += timedelta(days=1)
    return slots


def schedule_from_request(
    *, request: SessionRequest, by: User, starts_at: datetime, facilitators=(), capacity_seats=None, override_reason=""
) -> Session:
    """Turn a request into a session at that school, with the school's group confirmed."""
    _ensure(rules.can_decide_request(by, request), _("Only a coordinator of the agreement can schedule requests."))
    with transaction.atomic():
        request = SessionRequest.objects.select_for_update().select_related("program", "institution").get(pk=request.pk)
        if request.status != RequestStatus.OPEN:
            raise ConflictError(_("This request has already been answered."))
        session = schedule_session(
            program=request.program,
            by=by,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=request.program.duration_minutes),
            location_kind=LocationKind.SCHOOL,
            school=request.institution,
            capacity_seats=max(capacity_seats or request.program.default_capacity_seats, request.seats),
            facilitators=facilitators,
            override_reason=override_reason,
        )
        locked = _lock_session(session.pk)
        _place(
            session=locked,
            institution=request.institution,
            by=request.requested_by,
            group_name=request.group_name,
            seats=request.seats,
            grade="",
            notes=request.notes,
            now=timezone.now(),
            enforce_cutoff=False,
        )
        request.status = RequestStatus.SCHEDULED
        request.session = session
        request.decided_by = by
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "session", "decided_by", "decided_at", "updated_at"])
        record_audit(actor=by, action="session_request.scheduled", target=request, organization=request.institution)
    return session


def decline_request(*, request: SessionRequest, by: User, reason: str) -> SessionRequest:
    _ensure(rules.can_decide_request(by, request), _("Only a coordinator of the agreement can decline requests."))
    if not reason.strip():
        raise ProgramsError(_("Say why the request is declined."), field="reason")
    with transaction.atomic():
        request = (
            SessionRequest.objects.select_for_update().select_related("program", "requested_by").get(pk=request.pk)
        )
        if request.status != RequestStatus.OPEN:
            raise ConflictError(_("This request has already been answered."))
        request.status = RequestStatus.DECLINED
        request.decline_reason = reason.strip()
        request.decided_by = by
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decline_reason", "decided_by", "decided_at", "updated_at"])
        record_audit(actor=by, action="session_request.declined", target=request, organization=request.institution)
        notify(
            to=request.requested_by.email,
            user=request.requested_by,
            template="programs/email/request_declined",
            context={"title": request.program.title, "reason": request.decline_reason},
            dedupe_key=f"session-request:{request.pk}:declined",
        )
    return request


# Academic calendars and blackouts.


def _ensure_calendar(by, organization) -> None:
    _ensure(
        rules.can_manage_calendar(by, organization),
        _("You cannot change the calendar of %(org)s.") % {"org": organization},
    )


def _check_days(starts_on, ends_on) -> None:
    if ends_on < starts_on:
        raise ProgramsError(_("The last day must be on or after the first day."), field="ends_on")


def add_term(*, institution: Organization, by: User, name: str, starts_on, ends_on) -> Term:
    _ensure_calendar(by, institution)
    if not institution.is_institution:
        raise ProgramsError(_("Only institutions have terms."), field="institution")
    _check_days(starts_on, ends_on)
    return Term.objects.create(institution=institution, name=name.strip(), starts_on=starts_on, ends_on=ends_on)


def add_blackout(*, organization: Organization, by: User, name: str, kind: str, starts_on, ends_on) -> BlackoutPeriod:
    _ensure_calendar(by, organization)
    _check_days(starts_on, ends_on)
    return BlackoutPeriod.objects.create(
        organization=organization, name=name.strip(), kind=kind, starts_on=starts_on, ends_on=ends_on
    )


def remove_calendar_entry(*, entry, by: User) -> None:
    organization = entry.institution if isinstance(entry, Term) else entry.organization
    _ensure_calendar(by, organization)
    entry.delete()


def import_calendar(*, organization: Organization, by: User, content: bytes, as_terms: bool = False) -> tuple[int, int]:
    """Import an .ics file as blackout periods (or terms). Bounded in size and recurrence;
    an event's UID makes a repeated import update instead of duplicate. Returns (created, updated)."""
    _ensure_calendar(by, organization)
    if as_terms and not organization.is_institution:
        raise ProgramsError(_("Only institutions have terms."), field="as_terms")
    try:
        events = ics.parse_calendar(content)
    except ics.CalendarImportError as error:
        raise ProgramsError(str(error), field="file") from error
    created = updated = 0
    with transaction.atomic():
        for event in events:
            if as_terms:
                _entry, was_created = Term.objects.update_or_create(
                    institution=organization,
                    ical_uid=event.uid,
                    defaults={"name": event.name, "starts_on": event.starts_on, "ends_on": event.ends_on},
                )
            else:
                _entry, was_created = BlackoutPeriod.objects.update_or_create(
                    organization=organization,
                    ical_uid=event.uid,
                    defaults={"name": event.name, "starts_on": event.starts_on, "ends_on": event.ends_on},
                )
            created += was_created
            updated += not was_created
        record_audit(
            actor=by,
            action="calendar.imported",
            target=organization,
            organization=organization,
            created=created,
            updated=updated,
        )
    return created, updated


# Calendar feeds.


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(*, user: User) -> str:
    """A new private feed URL secret; the old one stops working. Only the hash is kept."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeedToken.objects.update_or_create(user=user, defaults={"token_hash": _hash(token)})
    return token


def revoke_feed_token(*, user: User) -> None:
    CalendarFeedToken.objects.filter(user=user).delete()


def feed_user(token: str) -> User | None:
    feed = CalendarFeedToken.objects.select_related("user").filter(token_hash=_hash(token)).first()
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeedToken.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user


# Reminders.


REMINDER_CHUNK = 500
# What a reminder reads of a session, its workshop, agreement and school: the invite, the email
# and the recipients, and no more. A scan reads tens of thousands of sessions; their agreements',
# organizations' and bookings' other columns were a sixth of its time (bench/background.py).
REMINDER_SESSION_FIELDS = (
    "starts_at",
    "ends_at",
    "location_kind",
    "venue",
    "join_url",
    "ical_uid",
    "ical_sequence",
    "created_at",
    "updated_at",
    "program__title",
    "program__description",
    "program__agreement__lead_agency__time_zone",
    "school__name",
    "school__time_zone",
)


def send_session_reminders(*, now=None) -> int:
    """Remind confirmed bookers and facilitators 7 days and 24 hours before a session.

    Scans a window of start times on every run; the dedupe key carries the start time, so
    a rerun sends nothing twice and a rescheduled session is reminded of its new time.
    Sessions are read REMINDER_CHUNK at a time with their bookings and facilitators, keys
    already in the outbox are skipped before anything is rendered, one email is rendered per
    session and kind of recipient, and the rows are written in batches: the queries per chunk
    and the memory stay the same however many reminders are due."""
    now = now or timezone.now()
    confirmed = Prefetch(
        "bookings",
        queryset=Booking.objects.filter(status=BookingStatus.CONFIRMED)
        .select_related("booked_by")
        .only("session", "status", "booked_by__email")
        .order_by("pk"),
        to_attr="reminder_bookings",
    )
    facilitators = Prefetch("facilitators", queryset=User.objects.only("email"))

    def reminders():
        for label, offset in REMINDER_OFFSETS.items():
            window_end = now + offset
            window_start = window_end - REMINDER_WINDOW if label == "7d" else now
            sessions = (
                Session.objects.filter(
                    status=SessionStatus.SCHEDULED, starts_at__gt=window_start, starts_at__lte=window_end
                )
                .select_related("program__agreement__lead_agency", "school")
                .only(*REMINDER_SESSION_FIELDS)
                .prefetch_related(confirmed, facilitators)
                .order_by("pk")
            )
            for chunk in _chunks(sessions.iterator(chunk_size=REMINDER_CHUNK), REMINDER_CHUNK):
                due = []
                for session in chunk:
                    stamp = session.starts_at.strftime("%Y%m%dT%H%M%SZ")
                    for person, join in _attendees(session, bookings=session.reminder_bookings):
                        due.append(
                            (f"session-reminder:{session.pk}:{label}:{stamp}:to:{person.pk}", session, person, join)
                        )
                sent = notifications.existing_keys(key for key, *_ in due)
                rendered = {}
                for key, session, person, join in due:
                    if key in sent:
                        continue
                    if (session.pk, join) not in rendered:
                        subject, text, html = notifications.render_message(
                            "programs/email/session_reminder", {**_session_context(session), "when": label}
                        )
                        rendered[(session.pk, join)] = {
                            "subject": subject,
                            "text": text,
                            "html": html,
                            "ics": ics.session_calendar(session, include_join_link=join),
                            "ics_method": "REQUEST",
                        }
                    yield {"to": person.email, "user": person, "dedupe_key": key, **rendered[(session.pk, join)]}

    return notifications.notify_many(reminders())


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
