"""Writes to internships: postings, applications and their recorded pipeline, offers under the
posting's row lock, guardian consent by single-use link, cleared mentors, hours and check-ins."""

import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.enums import GradeLevel, Role
from accounts.errors import ConflictError, DomainError
from accounts.models import Organization, User
from accounts.services import hash_token, record_audit
from config import tablecache
from internships import ics, rules, selectors
from internships.enums import (
    APPLICATION_TRANSITIONS,
    PLACEMENT_TRANSITIONS,
    POSTING_TRANSITIONS,
    ApplicationStatus,
    CheckInStatus,
    ConsentMethod,
    ConsentStatus,
    EvaluationAuthor,
    HoursStatus,
    InterviewStatus,
    OfferStatus,
    PlacementStatus,
    PostingStatus,
    RejectionReason,
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
)
from notifications.services import notify
from partnerships.enums import PartyRole
from partnerships.services import ensure_allows_new_activity
from programs.selectors import school_days

MAX_RESUME_BYTES = 5 * 1024 * 1024
MAX_SCAN_BYTES = 10 * 1024 * 1024
CONSENT_LINK_DAYS = 14
CONSENT_REMINDER_AFTER = (timedelta(days=3), timedelta(days=7))  # at most two reminders
CLEARANCE_RENEWAL_WINDOW = timedelta(days=60)
CHECK_IN_GRACE = timedelta(days=3)
OFFER_REMINDER_BEFORE = timedelta(days=2)
APPLY_BY_REMINDER_DAYS = 3
MAX_DAY_HOURS = Decimal("24")

# The federal limits for 14- and 15-year-olds in paid work (29 CFR 570.35).
YOUNG_WORKER_AGES = (14, 15)
SCHOOL_DAY_HOURS = Decimal("3")
SCHOOL_WEEK_HOURS = Decimal("18")
OTHER_DAY_HOURS = Decimal("8")
OTHER_WEEK_HOURS = Decimal("40")


class InternshipsError(DomainError):
    """A rule of internships refused the change; the message is for the person."""


@dataclass
class MentorCheck:
    """What stands between an officer and mentoring a placement (blocks), and what to renew soon."""

    blocks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Small helpers.


def _local(moment: datetime, zone) -> str:
    return formats.date_format(timezone.localtime(moment, zone), "DATETIME_FORMAT")


def _link(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _ensure(allowed: bool, message: str) -> None:
    if not allowed:
        raise InternshipsError(message, code="forbidden")


def _set_status(obj, to: str, allowed, choices, noun: str, **fields) -> str:
    """Move an object along its transition table, saving only what changed; returns the old status."""
    before = obj.status
    if (before, to) not in allowed:
        raise InternshipsError(
            _("A %(from)s %(noun)s cannot become %(to)s.")
            % {"from": obj.get_status_display().lower(), "noun": noun, "to": choices(to).label.lower()},
            code="invalid_transition",
        )
    obj.status = to
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save(update_fields=["status", "updated_at", *fields])
    return before


def _move(application: Application, to: str, *, by, note: str = "", **fields) -> ApplicationTransition:
    """The one way an application changes status: checked against the table and recorded."""
    before = _set_status(application, to, APPLICATION_TRANSITIONS, ApplicationStatus, _("application"), **fields)
    return ApplicationTransition.objects.create(
        application=application, from_status=before, to_status=to, by=by if by and by.pk else None, note=note
    )


def _check_pdf(uploaded_file, *, limit: int, field_name: str, label: str) -> None:
    """A PDF by its content (the magic bytes, not the name), no larger than ``limit``."""
    if uploaded_file.size > limit:
        raise InternshipsError(
            _("The %(label)s is larger than %(mb)s MB.") % {"label": label, "mb": limit // (1024 * 1024)},
            field=field_name,
        )
    head = uploaded_file.read(5)
    uploaded_file.seek(0)
    if head != b"%PDF-":
        raise InternshipsError(_("Only PDF files are accepted."), field=field_name)


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isalnum() or c in " ._-()").strip(" .")
    return (cleaned or "resume")[:140] + ("" if cleaned.lower().endswith(".pdf") else ".pdf")


def _coordinators(*organizations) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization__in=[o for o in organizations if o is not None],
            memberships__role=Role.COORDINATOR,
            memberships__is_active=True,
        ).distinct()
    )


def _notify_people(people, *, template: str, context: dict, key: str) -> int:
    for person in people:
        notify(to=person.email, user=person, template=template, context=context, dedupe_key=f"{key}:{person.pk}")
    return len(people)


def _posting_context(posting: Posting) -> dict:
    return {
        "title": posting.title,
        "agency": posting.agency.name,
        "link": _link("internships:posting_detail", posting.pk),
    }


def _application_context(application: Application) -> dict:
    return {
        **_posting_context(application.posting),
        "student": application.student.get_short_name(),
        "link": _link("internships:application_detail", application.pk),
    }


def _tell_student(application: Application, template: str, key: str, **extra) -> None:
    notify(
        to=application.student.email,
        user=application.student,
        template=f"internships/email/{template}",
        context={**_application_context(application), **extra},
        dedupe_key=f"internships:{key}:{application.pk}",
    )


# Postings.

POSTING_FIELDS = {
    "title",
    "description",
    "unit",
    "location",
    "is_remote",
    "start_date",
    "end_date",
    "hours_per_week",
    "required_hours",
    "slots",
    "apply_by",
    "min_age",
    "grade_levels",
    "requirements",
    "is_paid",
    "offer_valid_days",
}


def _validate_posting(posting: Posting) -> None:
    if posting.end_date < posting.start_date:
        raise InternshipsError(_("The internship must end on or after its start date."), field="end_date")
    if posting.apply_by > posting.start_date:
        raise InternshipsError(_("The apply-by date must be on or before the start date."), field="apply_by")
    if not posting.is_remote and not posting.location.strip():
        raise InternshipsError(_("Give a location, or mark the internship as remote."), field="location")
    if posting.slots < 1:
        raise InternshipsError(_("Offer at least one place."), field="slots")
    if not 1 <= posting.hours_per_week <= 40:
        raise InternshipsError(_("Hours per week must be between 1 and 40."), field="hours_per_week")
    if posting.min_age is not None and not 13 <= posting.min_age <= 25:
        raise InternshipsError(_("A minimum age must be between 13 and 25."), field="min_age")
    levels = posting.grade_levels or []
    if not isinstance(levels, list) or any(level not in GradeLevel.values for level in levels):
        raise InternshipsError(_("Choose grade levels from the list."), field="grade_levels")


def _set_institutions(posting: Posting, institutions) -> None:
    parties = {
        p.organization_id: p.organization for p in posting.agreement.parties.all() if p.role == PartyRole.INSTITUTION
    }
    chosen = list(institutions) if institutions else list(parties.values())
    outside = [o for o in chosen if o.pk not in parties]
    if outside:
        raise InternshipsError(
            _("%(name)s is not a party of the agreement.") % {"name": outside[0].name}, field="institutions"
        )
    posting.institutions.set(chosen)


def create_posting(*, agreement, agency: Organization, by: User, institutions=None, **fields) -> Posting:
    """A coordinator of an agency party posts an internship, only under an active agreement;
    it is open to the agreement's institutions unless narrowed."""
    _ensure(
        rules.can_post_for(by, agreement, agency),
        _("Only a coordinator of an agency that is a party of the agreement can post internships."),
    )
    ensure_allows_new_activity(agreement)
    unknown = set(fields) - POSTING_FIELDS
    if unknown:
        raise TypeError(f"Unknown posting fields: {sorted(unknown)}")
    posting = Posting(agreement=agreement, agency=agency, created_by=by, **fields)
    _validate_posting(posting)
    with transaction.atomic():
        posting.save()
        _set_institutions(posting, institutions)
        record_audit(actor=by, action="posting.created", target=posting, organization=agency)
    return posting


def update_posting(*, posting: Posting, by: User, institutions=None, **changes) -> Posting:
    """Edit a posting; its places never drop below the offers already accepted."""
    _ensure(rules.can_manage_posting(by, posting), _("Only the agency's coordinators can edit this posting."))
    unknown = set(changes) - POSTING_FIELDS
    if unknown:
        raise TypeError(f"Unknown posting fields: {sorted(unknown)}")
    with transaction.atomic():
        posting = _lock_posting(posting.pk)
        accepted = selectors.accepted_count(posting)
        if accepted and {"start_date", "end_date"} & set(changes):
            raise InternshipsError(
                _("Students have accepted places; change the dates of their placements instead."), field="start_date"
            )
        for name, value in changes.items():
            setattr(posting, name, value)
        _validate_posting(posting)
        if posting.slots < accepted:
            raise InternshipsError(
                _("%(n)s students have already accepted; the places cannot be fewer.") % {"n": accepted},
                field="slots",
            )
        posting.save(update_fields=[*changes, "updated_at"])
        if institutions is not None:
            _set_institutions(posting, institutions)
        record_audit(actor=by, action="posting.updated", target=posting, organization=posting.agency)
    return posting


def publish_posting(*, posting: Posting, by: User) -> Posting:
    """Open a draft (or reopen a closed posting) for applications, under an active agreement."""
    _ensure(rules.can_manage_posting(by, posting), _("Only the agency's coordinators can publish this posting."))
    ensure_allows_new_activity(posting.agreement)
    with transaction.atomic():
        posting = _lock_posting(posting.pk)
        if rules.today_at(posting.agency) > posting.apply_by:
            raise InternshipsError(_("The apply-by date has passed; move it before opening."), field="apply_by")
        if selectors.accepted_count(posting) >= posting.slots:
            raise InternshipsError(_("Every place is filled; add places before opening."), field="slots")
        _set_status(posting, PostingStatus.OPEN, POSTING_TRANSITIONS, PostingStatus, _("posting"), closed_reason="")
        record_audit(actor=by, action="posting.opened", target=posting, organization=posting.agency)
    return posting


def close_posting(*, posting: Posting, by: User | None, reason: str = "") -> Posting:
    if by is not None:
        _ensure(rules.can_manage_posting(by, posting), _("Only the agency's coordinators can close this posting."))
    with transaction.atomic():
        posting = _lock_posting(posting.pk)
        _set_status(
            posting,
            PostingStatus.CLOSED,
            POSTING_TRANSITIONS,
            PostingStatus,
            _("posting"),
            closed_reason=reason or _("Closed by a coordinator."),
        )
        record_audit(actor=by, action="posting.closed", target=posting, organization=posting.agency, reason=reason)
    return posting


def close_due_postings(*, today: date | None = None) -> int:
    """Nightly: close open postings whose apply-by date has passed where the agency is."""
    closed = 0
    for posting in Posting.objects.filter(status=PostingStatus.OPEN).select_related("agency"):
        day = today or rules.today_at(posting.agency)
        if day > posting.apply_by:
            close_posting(posting=posting, by=None, reason=_("The apply-by date passed."))
            closed += 1
    return closed


def _lock_posting(posting_id: int) -> Posting:
    """The posting row, locked: every decision about its places is taken while holding it.
    ``INTERNSHIPS_POSTING_LOCK = False`` exists only so a test can prove the race test sees a race."""
    qs = Posting.objects.select_related("agency", "agreement")
    if getattr(settings, "INTERNSHIPS_POSTING_LOCK", True):
        qs = qs.select_for_update(of=("self",))
    return qs.get(pk=posting_id)


# Applications.


def _ensure_eligible(student: User, posting: Posting) -> None:
    problems = rules.eligibility_problems(student, posting)
    if problems:
        raise InternshipsError(" ".join(p.message for p in problems), code=problems[0].code)


def _store_resume(application: Application, resume) -> None:
    if resume is None:
        return
    _check_pdf(resume, limit=MAX_RESUME_BYTES, field_name="resume", label=_("résumé"))
    if application.resume:
        application.resume.delete(save=False)
    application.resume_name = _safe_name(resume.name)
    application.resume.save(f"{uuid.uuid4().hex}.pdf", resume, save=False)


def apply(
    *,
    posting: Posting,
    student: User,
    statement: str,
    availability: str,
    resume=None,
    submit: bool = True,
) -> Application:
    """A student applies once per posting while it is open, before the apply-by date, and only
    when eligible (age on the start date, level, institution); ``submit=False`` keeps a draft."""
    _ensure_eligible(student, posting)
    if not statement.strip():
        raise InternshipsError(_("Tell the agency why you are applying."), field="statement")
    if not availability.strip():
        raise InternshipsError(_("Say when you are available."), field="availability")
    if Application.objects.filter(posting=posting, student=student).exists():
        raise ConflictError(_("You have already applied to this posting."), code="duplicate")
    membership = rules.student_membership(student, posting)
    application = Application(
        posting=posting,
        agency_id=posting.agency_id,
        student=student,
        institution_id=membership.organization_id,
        statement=statement,
        availability=availability,
    )
    _store_resume(application, resume)
    try:
        with transaction.atomic():
            application.save()
            ApplicationTransition.objects.create(application=application, to_status=ApplicationStatus.DRAFT, by=student)
            if submit:
                _submit(application, by=student)
    except IntegrityError as error:
        if application.resume:
            application.resume.delete(save=False)
        raise ConflictError(_("You have already applied to this posting."), code="duplicate") from error
    return application


def update_draft(*, application: Application, by: User, resume=None, **changes) -> Application:
    """The student edits their draft; a submitted application is the agency's to review."""
    _ensure(rules.is_student_of(by, application), _("Only the student can edit their application."))
    if application.status != ApplicationStatus.DRAFT:
        raise InternshipsError(_("A submitted application cannot be edited."), code="invalid_transition")
    for name in ("statement", "availability"):
        if name in changes:
            if not str(changes[name]).strip():
                raise InternshipsError(_("This field is required."), field=name)
            setattr(application, name, changes[name])
    old = application.resume.name if application.resume else ""
    _store_resume(application, resume)
    application.save(update_fields=["statement", "availability", "resume", "resume_name", "updated_at"])
    if resume is not None and old:
        application.resume.storage.delete(old)
    return application


def submit_application(*, application: Application, by: User) -> Application:
    _ensure(rules.is_student_of(by, application), _("Only the student can submit their application."))
    _ensure_eligible(by, application.posting)
    with transaction.atomic():
        _submit(application, by=by)
    return application


def _submit(application: Application, *, by: User) -> None:
    _move(application, ApplicationStatus.SUBMITTED, by=by, submitted_at=timezone.now())
    posting = application.posting
    _notify_people(
        _coordinators(posting.agency),
        template="internships/email/application_received",
        context=_application_context(application),
        key=f"internships:received:{application.pk}",
    )
    _tell_student(application, "application_submitted", "submitted")


def withdraw(*, application: Application, by: User, note: str = "") -> Application:
    """The student withdraws before accepting; a live offer is withdrawn with it."""
    _ensure(rules.is_student_of(by, application), _("Only the student can withdraw their application."))
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
        if application.status not in ApplicationStatus.live:
            raise InternshipsError(
                _("This application is already %(status)s.") % {"status": application.get_status_display().lower()},
                code="invalid_transition",
            )
        Offer.objects.filter(application=application, status=OfferStatus.LIVE).update(
            status=OfferStatus.WITHDRAWN, answered_at=timezone.now(), updated_at=timezone.now()
        )
        was_submitted = application.status != ApplicationStatus.DRAFT
        _move(application, ApplicationStatus.WITHDRAWN, by=by, note=note)
        if was_submitted:
            _notify_people(
                _coordinators(application.posting.agency),
                template="internships/email/application_withdrawn",
                context=_application_context(application),
                key=f"internships:withdrawn:{application.pk}",
            )
    return application


def _reviewing(application: Application, by: User) -> Application:
    _ensure(
        rules.can_review(by, application), _("Only the posting's or the school's coordinators review applications.")
    )
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("posting__agency", "student")
        .get(pk=application.pk)
    )


def start_review(*, application: Application, by: User, note: str = "") -> Application:
    with transaction.atomic():
        application = _reviewing(application, by)
        _move(application, ApplicationStatus.UNDER_REVIEW, by=by, note=note)
        _tell_student(application, "application_under_review", "under_review")
    return application


def schedule_interview(
    *, application: Application, by: User, starts_at: datetime, location: str, duration_minutes: int = 30, notes=""
) -> Interview:
    """Invite the student to an interview; the invitation carries an .ics. A new time replaces
    the scheduled one (same calendar UID, higher sequence)."""
    if starts_at <= timezone.now():
        raise InternshipsError(_("An interview must be in the future."), field="starts_at")
    if not location.strip():
        raise InternshipsError(_("Say where the interview is (or the call link)."), field="location")
    if not 5 <= duration_minutes <= 480:
        raise InternshipsError(_("An interview lasts between 5 and 480 minutes."), field="duration_minutes")
    with transaction.atomic():
        application = _reviewing(application, by)
        interview = application.interviews.filter(status=InterviewStatus.SCHEDULED).first()
        if interview is None:
            interview = Interview(application=application, scheduled_by=by)
        else:
            interview.sequence += 1
        interview.starts_at = starts_at
        interview.duration_minutes = duration_minutes
        interview.location = location
        interview.notes = notes
        interview.save()
        when = formats.date_format(timezone.localtime(starts_at, application.institution.zone), "DATETIME_FORMAT")
        _move(application, ApplicationStatus.INTERVIEW, by=by, note=_("Interview on %(when)s") % {"when": when})
        notify(
            to=application.student.email,
            user=application.student,
            template="internships/email/interview_invitation",
            context={
                **_application_context(application),
                "when": when,
                "time_zone": application.institution.time_zone,
                "location": location,
                "notes": notes,
            },
            dedupe_key=f"internships:interview:{interview.pk}:{interview.sequence}",
            ics=ics.interview_calendar(interview),
            ics_method="REQUEST",
            ics_filename="interview.ics",
        )
    return interview


def make_offer(*, application: Application, by: User, message: str = "") -> Offer:
    """Offer a place; the offer expires after the posting's number of days. At most one offer
    is open per application (a unique constraint backs this)."""
    with transaction.atomic():
        application = _reviewing(application, by)
        posting = _lock_posting(application.posting_id)
        if selectors.accepted_count(posting) >= posting.slots:
            raise ConflictError(_("Every place of this posting is filled."), code="filled")
        expires_at = timezone.now() + timedelta(days=posting.offer_valid_days)
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    application=application, expires_at=expires_at, made_by=by, message=message
                )
        except IntegrityError as error:
            raise ConflictError(_("This application already has an open offer."), code="offer_open") from error
        _move(application, ApplicationStatus.OFFERED, by=by, note=message)
        _tell_student(
            application,
            "offer_made",
            f"offer:{offer.pk}",
            expires=formats.date_format(
                timezone.localtime(expires_at, application.institution.zone), "DATETIME_FORMAT"
            ),
            message=message,
        )
    return offer


def _live_offer(application: Application) -> Offer:
    offer = (
        Offer.objects.select_for_update(of=("self",)).filter(application=application, status=OfferStatus.LIVE).first()
    )
    if offer is None:
        raise InternshipsError(_("There is no open offer on this application."), code="no_offer")
    if offer.expires_at <= timezone.now():
        raise InternshipsError(_("This offer has expired."), code="offer_expired")
    return offer


def accept_offer(*, application: Application, by: User, guardian_name: str = "", guardian_email: str = "") -> Placement:
    """The student accepts. The posting row is locked before the accepted offers are counted, so
    they never exceed its places, also under concurrency. A student under 18 on the start date
    gets a placement pending a guardian's consent (sent at once when the guardian is named)."""
    _ensure(rules.is_student_of(by, application), _("Only the student can accept their offer."))
    with transaction.atomic():
        posting = _lock_posting(application.posting_id)
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("student", "institution")
            .get(pk=application.pk)
        )
        offer = _live_offer(application)
        if Placement.objects.filter(student=application.student, status=PlacementStatus.ACTIVE).exists():
            raise ConflictError(
                _("You already have an active placement; finish it before starting another."), code="placement_active"
            )
        accepted = selectors.accepted_count(posting)
        if accepted >= posting.slots:
            raise ConflictError(_("Sorry, every place of this internship has just been filled."), code="filled")
        # Test-only: widens the window between the count and the write, so the control run of
        # the race test (lock off) is sure to see the race it exists to show.
        time.sleep(getattr(settings, "INTERNSHIPS_ACCEPT_RACE_DELAY", 0))
        now = timezone.now()
        offer.status = OfferStatus.ACCEPTED
        offer.answered_at = now
        offer.save(update_fields=["status", "answered_at", "updated_at"])
        _move(application, ApplicationStatus.ACCEPTED, by=by)
        placement = Placement.objects.create(
            application=application,
            posting=posting,
            student=application.student,
            start_date=posting.start_date,
            end_date=posting.end_date,
            required_hours=posting.required_hours,
            needs_consent=rules.is_minor_on(application.student, posting.start_date),
        )
        if placement.needs_consent:
            consent = GuardianConsent.objects.create(placement=placement)
            if guardian_email:
                _send_consent_request(consent, name=guardian_name, email=guardian_email, by=by)
        if accepted + 1 >= posting.slots:
            _set_status(
                posting,
                PostingStatus.CLOSED,
                POSTING_TRANSITIONS,
                PostingStatus,
                _("posting"),
                closed_reason=_("Every place is filled."),
            )
        _notify_people(
            _coordinators(posting.agency, application.institution),
            template="internships/email/offer_accepted",
            context=_application_context(application),
            key=f"internships:accepted:{application.pk}",
        )
        record_audit(actor=by, action="offer.accepted", target=offer, organization=posting.agency)
    return placement


def decline_offer(*, application: Application, by: User, note: str = "") -> Application:
    _ensure(rules.is_student_of(by, application), _("Only the student can decline their offer."))
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
        offer = _live_offer(application)
        offer.status = OfferStatus.DECLINED
        offer.answered_at = timezone.now()
        offer.save(update_fields=["status", "answered_at", "updated_at"])
        _move(application, ApplicationStatus.DECLINED, by=by, note=note)
        _notify_people(
            _coordinators(application.posting.agency),
            template="internships/email/offer_declined",
            context=_application_context(application),
            key=f"internships:declined:{application.pk}",
        )
    return application


def reject(*, application: Application, by: User, reason: str, note: str = "") -> Application:
    """Not selected, from any step before acceptance, with a reason from the list; the student
    gets a respectful notice. A live offer is withdrawn."""
    if reason not in RejectionReason.values:
        raise InternshipsError(_("Choose a reason from the list."), field="reason")
    if reason == RejectionReason.OTHER and not note.strip():
        raise InternshipsError(_("Explain the reason in the note."), field="note")
    with transaction.atomic():
        application = _reviewing(application, by)
        Offer.objects.filter(application=application, status=OfferStatus.LIVE).update(
            status=OfferStatus.WITHDRAWN, answered_at=timezone.now(), updated_at=timezone.now()
        )
        _move(application, ApplicationStatus.REJECTED, by=by, note=note, rejection_reason=reason)
        _tell_student(application, "application_not_selected", "rejected", reason=RejectionReason(reason).label)
    return application


def expire_offers(*, now: datetime | None = None) -> int:
    """Nightly: offers past their date expire and the application returns to review."""
    now = now or timezone.now()
    expired = 0
    for offer_id in Offer.objects.filter(status=OfferStatus.LIVE, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            offer = (
                Offer.objects.select_for_update(of=("self",))
                .select_related("application__posting__agency", "application__student", "application__institution")
                .filter(pk=offer_id, status=OfferStatus.LIVE)
                .first()
            )
            if offer is None:
                continue
            offer.status = OfferStatus.EXPIRED
            offer.save(update_fields=["status", "updated_at"])
            application = offer.application
            _move(application, ApplicationStatus.UNDER_REVIEW, by=None, note=_("The offer expired."))
            _tell_student(application, "offer_expired", f"offer_expired:{offer.pk}")
            expired += 1
    return expired


def send_offer_reminders(*, now: datetime | None = None) -> int:
    """Remind students of an offer that expires within two days (once per offer)."""
    now = now or timezone.now()
    sent = 0
    offers = Offer.objects.filter(
        status=OfferStatus.LIVE, expires_at__gt=now, expires_at__lte=now + OFFER_REMINDER_BEFORE
    ).select_related("application__posting__agency", "application__student", "application__institution")
    for offer in offers:
        application = offer.application
        with transaction.atomic():
            _tell_student(
                application,
                "offer_expiring",
                f"offer_reminder:{offer.pk}",
                expires=formats.date_format(
                    timezone.localtime(offer.expires_at, application.institution.zone), "DATETIME_FORMAT"
                ),
            )
        sent += 1
    return sent


def send_apply_by_reminders(*, today: date | None = None) -> int:
    """Remind students who left a draft that the apply-by date is near (once per draft)."""
    sent = 0
    drafts = Application.objects.filter(
        status=ApplicationStatus.DRAFT, posting__status=PostingStatus.OPEN
    ).select_related("posting__agency", "student", "institution")
    for application in drafts:
        day = today or rules.today_at(application.posting.agency)
        if day <= application.posting.apply_by <= day + timedelta(days=APPLY_BY_REMINDER_DAYS):
            with transaction.atomic():
                _tell_student(
                    application, "apply_by_reminder", "apply_by", apply_by=application.posting.apply_by.isoformat()
                )
            sent += 1
    return sent


# Guardian consent.


def _send_consent_request(consent: GuardianConsent, *, name: str, email: str, by: User) -> str:
    """Name the guardian and send them a single-use link (a 256-bit secret; only its hash is kept)."""
    if not name.strip():
        raise InternshipsError(_("Give the guardian's name."), field="guardian_name")
    try:
        validate_email(email)
    except ValidationError as error:
        raise InternshipsError(_("Enter the guardian's email address."), field="guardian_email") from error
    if email.strip().lower() == consent.placement.student.email.lower():
        raise InternshipsError(_("The guardian's email must not be the student's own."), field="guardian_email")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    consent.guardian_name = name.strip()
    consent.guardian_email = email.strip().lower()
    consent.named_by = by
    consent.token_hash = hash_token(token)
    consent.status = ConsentStatus.PENDING
    consent.sent_at = now
    consent.expires_at = now + timedelta(days=CONSENT_LINK_DAYS)
    consent.save()
    _consent_email(consent, token, template="consent_request", key="request")
    return token


def _consent_email(consent: GuardianConsent, token: str, *, template: str, key: str) -> None:
    placement = consent.placement
    posting = placement.posting
    notify(
        to=consent.guardian_email,
        template=f"internships/email/{template}",
        context={
            "guardian": consent.guardian_name,
            "student": placement.student.get_short_name(),
            "title": posting.title,
            "agency": posting.agency.name,
            "starts": placement.start_date.isoformat(),
            "ends": placement.end_date.isoformat(),
            "hours_per_week": posting.hours_per_week,
            "location": _("Remote") if posting.is_remote else posting.location,
            "expires": consent.expires_at.date().isoformat(),
            "link": _link("internships:consent_open", token),
        },
        dedupe_key=f"internships:consent:{key}:{consent.pk}:{consent.token_hash[:16]}",
    )


def name_guardian(*, consent: GuardianConsent, by: User, name: str, email: str) -> GuardianConsent:
    """The student or their school names the guardian; a new link replaces any unused one."""
    placement = consent.placement
    _ensure(rules.can_name_guardian(by, placement), _("Only the student or their school can name the guardian."))
    with transaction.atomic():
        consent = (
            GuardianConsent.objects.select_for_update(of=("self",))
            .select_related("placement__student")
            .get(pk=consent.pk)
        )
        if consent.status not in ConsentStatus.open:
            raise InternshipsError(_("This consent request is already decided."), code="decided")
        _send_consent_request(consent, name=name, email=email, by=by)
        record_audit(actor=by, action="consent.requested", target=consent, organization=placement.posting.agency)
    return consent


def consent_for_token(token: str) -> GuardianConsent | None:
    """The pending consent a link points to, or None (unknown, used or expired alike)."""
    if not token or len(token) > 100:
        return None
    return (
        GuardianConsent.objects.select_related("placement__posting__agency", "placement__student")
        .filter(token_hash=hash_token(token), status=ConsentStatus.PENDING, expires_at__gt=timezone.now())
        .first()
    )


def decide_consent(*, token: str, grant: bool, signed_name: str) -> GuardianConsent:
    """The guardian's decision through the link: recorded once (a conditional update, so twenty
    concurrent posts give one decision); a grant may activate the placement."""
    if not signed_name.strip():
        raise InternshipsError(_("Type your full name to sign."), field="signed_name")
    consent = consent_for_token(token)
    if consent is None:
        raise InternshipsError(_("This link has already been used or has expired."), code="token_used")
    now = timezone.now()
    with transaction.atomic():
        won = GuardianConsent.objects.filter(
            pk=consent.pk, status=ConsentStatus.PENDING, expires_at__gt=now, token_hash=consent.token_hash
        ).update(
            status=ConsentStatus.GRANTED if grant else ConsentStatus.REFUSED,
            method=ConsentMethod.LINK,
            decided_at=now,
            note=_("Signed as %(name)s") % {"name": signed_name.strip()[:150]},
            updated_at=now,
        )
        if not won:
            raise InternshipsError(_("This link has already been used or has expired."), code="token_used")
        consent.refresh_from_db()
        _after_decision(consent, by=None)
    return consent


def record_paper_consent(
    *, placement: Placement, by: User, granted: bool, guardian_name: str, scan, note: str = ""
) -> GuardianConsent:
    """A coordinator records a signed paper form on the guardian's behalf, with the scan attached."""
    _ensure(
        rules.can_coordinate_placement(by, placement),
        _("Only the placement's coordinators can record a paper consent form."),
    )
    if not guardian_name.strip():
        raise InternshipsError(_("Give the guardian's name."), field="guardian_name")
    if scan is None:
        raise InternshipsError(_("Attach the scan of the signed form."), field="scan")
    _check_pdf(scan, limit=MAX_SCAN_BYTES, field_name="scan", label=_("scan"))
    with transaction.atomic():
        placement = Placement.objects.select_for_update(of=("self",)).get(pk=placement.pk)
        if not placement.needs_consent:
            raise InternshipsError(_("This student is an adult; no guardian consent is needed."))
        consent = (
            GuardianConsent.objects.select_for_update(of=("self",))
            .filter(placement=placement, status__in=[*ConsentStatus.open, ConsentStatus.GRANTED])
            .first()
        )
        if consent is not None and consent.status == ConsentStatus.GRANTED:
            raise InternshipsError(_("Consent is already granted."), code="decided")
        if consent is None:
            consent = GuardianConsent(placement=placement)
        now = timezone.now()
        consent.guardian_name = guardian_name.strip()
        consent.status = ConsentStatus.GRANTED if granted else ConsentStatus.REFUSED
        consent.method = ConsentMethod.PAPER
        consent.decided_at = now
        consent.recorded_by = by
        consent.token_hash = ""  # an unused link dies with the paper decision
        consent.note = note
        consent.scan.save(f"{uuid.uuid4().hex}.pdf", scan, save=False)
        consent.save()
        record_audit(actor=by, action="consent.paper_recorded", target=consent, organization=placement.posting.agency)
        _after_decision(consent, by=by)
    return consent


def _after_decision(consent: GuardianConsent, *, by) -> None:
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("posting__agency", "student", "application")
        .get(pk=consent.placement_id)
    )
    context = {
        "student": placement.student.get_short_name(),
        "title": placement.posting.title,
        "decision": consent.get_status_display(),
        "link": _link("internships:placement_detail", placement.pk),
    }
    people = [placement.student, *_coordinators(placement.posting.agency, placement.application.institution)]
    _notify_people(
        people, template="internships/email/consent_decided", context=context, key=f"internships:decided:{consent.pk}"
    )
    if consent.status == ConsentStatus.GRANTED:
        _try_activate(placement, by=by)


def revoke_consent(*, consent: GuardianConsent, by: User, note: str) -> GuardianConsent:
    """A guardian withdrew their consent (recorded by a coordinator): the placement is suspended."""
    placement = consent.placement
    _ensure(
        rules.can_coordinate_placement(by, placement), _("Only the placement's coordinators can record a revocation.")
    )
    if not note.strip():
        raise InternshipsError(_("Say how the guardian withdrew consent."), field="note")
    with transaction.atomic():
        consent = GuardianConsent.objects.select_for_update(of=("self",)).get(pk=consent.pk)
        if consent.status != ConsentStatus.GRANTED:
            raise InternshipsError(_("Only a granted consent can be revoked."), code="invalid_transition")
        consent.status = ConsentStatus.REVOKED
        consent.revoked_at = timezone.now()
        consent.note = note
        consent.save(update_fields=["status", "revoked_at", "note", "updated_at"])
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("posting__agency", "student")
            .get(pk=placement.pk)
        )
        if placement.status == PlacementStatus.ACTIVE:
            _set_placement_status(placement, PlacementStatus.SUSPENDED, by=by, reason=_("Guardian consent revoked."))
        record_audit(actor=by, action="consent.revoked", target=consent, organization=placement.posting.agency)
    return consent


def request_new_consent(*, placement: Placement, by: User) -> GuardianConsent:
    """After a refusal, revocation or expiry, the school may ask again (a new request)."""
    _ensure(rules.can_name_guardian(by, placement), _("Only the student or their school can ask again."))
    with transaction.atomic():
        placement = Placement.objects.select_for_update(of=("self",)).get(pk=placement.pk)
        if not placement.needs_consent or placement.status not in PlacementStatus.running:
            raise InternshipsError(_("This placement does not need a new consent request."))
        try:
            with transaction.atomic():
                return GuardianConsent.objects.create(placement=placement)
        except IntegrityError as error:
            raise ConflictError(_("A consent request is already open or granted."), code="consent_open") from error


def send_consent_reminders(*, now: datetime | None = None) -> int:
    """Remind the guardian of an unanswered link at most twice (3 and 7 days after sending);
    each reminder carries a fresh link, so only the newest one works."""
    now = now or timezone.now()
    sent = 0
    pending = GuardianConsent.objects.filter(status=ConsentStatus.PENDING, reminders_sent__lt=2, expires_at__gt=now)
    for consent_id in pending.values_list("pk", flat=True):
        with transaction.atomic():
            consent = (
                GuardianConsent.objects.select_for_update(of=("self",))
                .select_related("placement__posting__agency", "placement__student")
                .get(pk=consent_id)
            )
            due = consent.sent_at + CONSENT_REMINDER_AFTER[consent.reminders_sent]
            if consent.status != ConsentStatus.PENDING or now < due:
                continue
            token = secrets.token_urlsafe(32)
            consent.token_hash = hash_token(token)
            consent.reminders_sent += 1
            consent.save(update_fields=["token_hash", "reminders_sent", "updated_at"])
            _consent_email(consent, token, template="consent_reminder", key=f"reminder{consent.reminders_sent}")
            sent += 1
    return sent


def expire_consent_links(*, now: datetime | None = None) -> int:
    """Unanswered links past their date expire; the school is told so it can ask again."""
    now = now or timezone.now()
    count = 0
    for consent in GuardianConsent.objects.filter(status=ConsentStatus.PENDING, expires_at__lte=now).select_related(
        "placement__posting__agency", "placement__student", "placement__application__institution"
    ):
        with transaction.atomic():
            if not GuardianConsent.objects.filter(pk=consent.pk, status=ConsentStatus.PENDING).update(
                status=ConsentStatus.EXPIRED, updated_at=now
            ):
                continue
            placement = consent.placement
            _notify_people(
                _coordinators(placement.application.institution),
                template="internships/email/consent_expired",
                context={
                    "student": placement.student.get_short_name(),
                    "title": placement.posting.title,
                    "link": _link("internships:placement_detail", placement.pk),
                },
                key=f"internships:consent_expired:{consent.pk}",
            )
            count += 1
    return count


def has_granted_consent(placement: Placement) -> bool:
    return GuardianConsent.objects.filter(placement=placement, status=ConsentStatus.GRANTED).exists()


# Clearances and mentors.


def add_clearance_kind(*, agency: Organization, by: User, name: str, description: str = "") -> ClearanceKind:
    _ensure(
        access.can_manage_organization(by, agency) and agency.is_agency,
        _("Only the agency's coordinators define the clearances it requires."),
    )
    if not name.strip():
        raise InternshipsError(_("Name the clearance."), field="name")
    try:
        with transaction.atomic():
            return ClearanceKind.objects.create(agency=agency, name=name.strip(), description=description)
    except IntegrityError as error:
        raise ConflictError(_("The agency already requires a clearance with this name."), field="name") from error


def record_clearance(
    *, officer: User, kind: ClearanceKind, by: User, issued_on: date, expires_on: date, reference: str = ""
) -> Clearance:
    """A coordinator of the agency records (and so verifies) an officer's clearance."""
    _ensure(
        access.can_manage_organization(by, kind.agency),
        _("Only the agency's coordinators verify clearances."),
    )
    if not selectors.officers_of(kind.agency).filter(pk=officer.pk).exists():
        raise InternshipsError(_("%(name)s is not an officer of the agency.") % {"name": officer}, field="officer")
    if expires_on <= issued_on:
        raise InternshipsError(_("A clearance expires after it is issued."), field="expires_on")
    if issued_on > timezone.localdate():
        raise InternshipsError(_("A clearance cannot be issued in the future."), field="issued_on")
    clearance = Clearance.objects.create(
        officer=officer, kind=kind, issued_on=issued_on, expires_on=expires_on, reference=reference, verified_by=by
    )
    record_audit(actor=by, action="clearance.recorded", target=clearance, organization=kind.agency)
    return clearance


def mentor_check(officer: User, agency: Organization, first: date, last: date, *, today: date | None = None):
    """Whether ``officer`` may mentor from ``first`` to ``last``: an officer of the agency, with
    every required clearance valid on every day (one record covering the whole span). A
    clearance that expires within the renewal window before ``last`` is a warning."""
    today = today or rules.today_at(agency)
    result = MentorCheck()
    if not selectors.officers_of(agency).filter(pk=officer.pk).exists():
        result.blocks.append(_("%(name)s is not an officer of %(agency)s.") % {"name": officer, "agency": agency})
        return result
    start = max(first, today)
    records = list(Clearance.objects.filter(officer=officer, kind__agency=agency).select_related("kind"))
    for kind in ClearanceKind.objects.filter(agency=agency, is_required=True):
        mine = [r for r in records if r.kind_id == kind.pk]
        covering = [r for r in mine if r.issued_on <= start and r.expires_on >= last]
        if covering:
            expiry = max(r.expires_on for r in covering)
            if expiry - today <= CLEARANCE_RENEWAL_WINDOW:
                result.warnings.append(
                    _("%(kind)s expires on %(day)s; renew it soon.") % {"kind": kind.name, "day": expiry.isoformat()}
                )
            continue
        current = [r for r in mine if r.issued_on <= start and r.expires_on >= start]
        if current:
            expiry = max(r.expires_on for r in current)
            result.blocks.append(
                _("%(kind)s expires on %(day)s, before the placement ends on %(end)s.")
                % {"kind": kind.name, "day": expiry.isoformat(), "end": last.isoformat()}
            )
        else:
            result.blocks.append(_("%(kind)s is missing or has expired.") % {"kind": kind.name})
    return result


def assign_mentor(*, placement: Placement, mentor: User, by: User) -> tuple[Placement, list[str]]:
    """Name the mentor: an officer of the posting's agency cleared for every day of the
    placement. Returns the placement and any renewal warnings."""
    _ensure(
        access.is_admin(by) or access.has_role(by, placement.posting.agency, Role.COORDINATOR),
        _("Only the agency's coordinators assign mentors."),
    )
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("posting__agency", "student")
            .get(pk=placement.pk)
        )
        if placement.status not in PlacementStatus.running:
            raise InternshipsError(_("This placement has ended."), code="invalid_transition")
        check = mentor_check(mentor, placement.posting.agency, placement.start_date, placement.end_date)
        if check.blocks:
            raise InternshipsError(" ".join(check.blocks), field="mentor", code="not_cleared")
        placement.mentor = mentor
        placement.save(update_fields=["mentor", "updated_at"])
        notify(
            to=mentor.email,
            user=mentor,
            template="internships/email/mentor_assigned",
            context={
                "student": placement.student.get_short_name(),
                "title": placement.posting.title,
                "starts": placement.start_date.isoformat(),
                "ends": placement.end_date.isoformat(),
                "link": _link("internships:placement_detail", placement.pk),
            },
            dedupe_key=f"internships:mentor:{placement.pk}:{mentor.pk}",
        )
        record_audit(actor=by, action="placement.mentor_assigned", target=placement, mentor=mentor.pk)
        _try_activate(placement, by=by)
    return placement, check.warnings


def ensure_mentor_cleared(placement: Placement, *, today: date | None = None) -> None:
    """At expiry a mentor's clearance blocks mentoring work (approving hours, check-ins)."""
    today = today or rules.today_at(placement.posting.agency)
    check = mentor_check(placement.mentor, placement.posting.agency, today, today, today=today)
    if check.blocks:
        raise InternshipsError(
            _("Your clearance is not valid today: %(why)s") % {"why": " ".join(check.blocks)}, code="not_cleared"
        )


def send_clearance_warnings(*, today: date | None = None) -> int:
    """Warn the officer and the agency's coordinators once when a clearance of a mentor of a
    running placement enters its 60-day renewal window, and once when it has expired."""
    today = today or timezone.localdate()
    mentors = Placement.objects.filter(status__in=PlacementStatus.running, mentor__isnull=False).values("mentor_id")
    # The same rule as the clearance list's ?expiring= filter and the coordinator's count, with
    # the "already renewed" check in the query rather than one query per clearance.
    soon = selectors.clearances_to_renew(
        Clearance.objects.filter(officer_id__in=mentors),
        today=today,
        within_days=CLEARANCE_RENEWAL_WINDOW.days,
    ).select_related("officer", "kind__agency")
    sent = 0
    for clearance in soon:
        stage = "expired" if clearance.expires_on < today else "window"
        context = {
            "officer": clearance.officer.full_name,
            "kind": clearance.kind.name,
            "expires": clearance.expires_on.isoformat(),
            "expired": stage == "expired",
            "link": _link("internships:clearance_list"),
        }
        with transaction.atomic():
            _notify_people(
                [clearance.officer, *_coordinators(clearance.kind.agency)],
                template="internships/email/clearance_expiring",
                context=context,
                key=f"internships:clearance:{stage}:{clearance.pk}",
            )
        sent += 1
    return sent


# Placements.


def _set_placement_status(placement: Placement, to: str, *, by, reason: str = "", **fields) -> None:
    before = _set_status(placement, to, PLACEMENT_TRANSITIONS, PlacementStatus, _("placement"), **fields)
    record_audit(
        actor=by,
        action=f"placement.{to}",
        target=placement,
        organization=placement.posting.agency,
        before=before,
        reason=reason,
    )


def _try_activate(placement: Placement, *, by) -> bool:
    """A pending placement becomes active once it has a mentor and, for a minor, a granted
    consent; a suspended one resumes when consent is granted again."""
    if placement.status not in (PlacementStatus.PENDING, PlacementStatus.SUSPENDED) or placement.mentor_id is None:
        return False
    if placement.needs_consent and not has_granted_consent(placement):
        return False
    if (
        Placement.objects.filter(student=placement.student, status=PlacementStatus.ACTIVE)
        .exclude(pk=placement.pk)
        .exists()
    ):
        return False
    _set_placement_status(placement, PlacementStatus.ACTIVE, by=by)
    _schedule_check_ins(placement)
    context = {
        "student": placement.student.get_short_name(),
        "title": placement.posting.title,
        "starts": placement.start_date.isoformat(),
        "link": _link("internships:placement_detail", placement.pk),
    }
    _notify_people(
        [placement.student, placement.mentor],
        template="internships/email/placement_active",
        context=context,
        key=f"internships:active:{placement.pk}",
    )
    return True


def activate_placement(*, placement: Placement, by: User) -> Placement:
    """A coordinator's explicit start: refused, with the reason, without a mentor or consent."""
    _ensure(rules.can_coordinate_placement(by, placement), _("Only the placement's coordinators can start it."))
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("posting__agency", "student")
            .get(pk=placement.pk)
        )
        if placement.mentor_id is None:
            raise InternshipsError(_("Assign a cleared mentor first."), field="mentor", code="no_mentor")
        if placement.needs_consent and not has_granted_consent(placement):
            raise InternshipsError(
                _("The student is under 18 on the start date; a guardian must grant consent first."),
                code="consent_required",
            )
        if not _try_activate(placement, by=by):
            raise InternshipsError(
                _("This placement cannot start now (it is %(status)s, or the student has another active placement).")
                % {"status": placement.get_status_display().lower()},
                code="invalid_transition",
            )
    return placement


def suspend_placement(*, placement: Placement, by: User, reason: str) -> Placement:
    _ensure(rules.can_coordinate_placement(by, placement), _("Only the placement's coordinators can suspend it."))
    if not reason.strip():
        raise InternshipsError(_("Give a reason."), field="reason")
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update(of=("self",)).select_related("posting__agency").get(pk=placement.pk)
        )
        _set_placement_status(placement, PlacementStatus.SUSPENDED, by=by, reason=reason)
    return placement


def resume_placement(*, placement: Placement, by: User) -> Placement:
    _ensure(rules.can_coordinate_placement(by, placement), _("Only the placement's coordinators can resume it."))
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("posting__agency", "student")
            .get(pk=placement.pk)
        )
        if placement.status != PlacementStatus.SUSPENDED:
            raise InternshipsError(_("Only a suspended placement can resume."), code="invalid_transition")
        if placement.needs_consent and not has_granted_consent(placement):
            raise InternshipsError(_("A guardian must grant consent again first."), code="consent_required")
        ensure_mentor_cleared(placement)
        _set_placement_status(placement, PlacementStatus.ACTIVE, by=by)
    return placement


def end_placement(*, placement: Placement, by: User, completed: bool, reason: str = "") -> Placement:
    """Completed (after the end date or once the required hours are approved), or ended early with a reason."""
    allowed = rules.can_coordinate_placement(by, placement) or rules.can_mentor(by, placement)
    _ensure(allowed, _("Only the mentor or the placement's coordinators can end it."))
    with transaction.atomic():
        placement = (
            Placement.objects.select_for_update(of=("self",)).select_related("posting__agency").get(pk=placement.pk)
        )
        today = rules.today_at(placement.posting.agency)
        if completed:
            approved = _approved_hours(placement)
            if today < placement.end_date and approved < placement.required_hours:
                raise InternshipsError(
                    _("A placement completes after its end date or once %(n)s hours are approved.")
                    % {"n": placement.required_hours},
                    code="not_finished",
                )
            _set_placement_status(placement, PlacementStatus.COMPLETED, by=by, ended_on=today)
        else:
            if not reason.strip():
                raise InternshipsError(_("Give a reason for ending early."), field="reason")
            _set_placement_status(
                placement, PlacementStatus.ENDED_EARLY, by=by, reason=reason, ended_on=today, end_reason=reason
            )
        placement.check_ins.filter(status=CheckInStatus.SCHEDULED).update(
            status=CheckInStatus.CANCELLED, updated_at=timezone.now()
        )
    return placement


def _approved_hours(placement: Placement) -> Decimal:
    return HoursEntry.objects.filter(placement=placement, status=HoursStatus.APPROVED).aggregate(
        total=Coalesce(Sum("hours"), Decimal("0"))
    )["total"]


# Hours.


def _young_worker_warnings(placement: Placement, day: date, hours: Decimal) -> list[str]:
    """For a 14- or 15-year-old in a paid placement: the federal school-day and school-week limits."""
    student = placement.student
    if not placement.posting.is_paid or student.age_on(day) not in YOUNG_WORKER_AGES:
        return []
    monday = day - timedelta(days=day.weekday())
    sunday = monday + timedelta(days=6)
    school = school_days(placement.application.institution, monday, sunday)
    logged = dict(
        HoursEntry.objects.filter(placement__student=student, day__range=(monday, sunday))
        .exclude(status=HoursStatus.RETURNED)
        .values_list("day")
        .annotate(total=Sum("hours"))
        .values_list("day", "total")
    )
    day_total = logged.get(day, Decimal("0")) + hours
    week_total = sum(logged.values(), Decimal("0")) + hours
    warnings = []
    day_limit = SCHOOL_DAY_HOURS if day in school else OTHER_DAY_HOURS
    if day_total > day_limit:
        warnings.append(
            _("Federal rules allow a 14- or 15-year-old at most %(n)s hours of paid work on a %(kind)s day.")
            % {"n": day_limit, "kind": _("school") if day in school else _("non-school")}
        )
    week_limit = SCHOOL_WEEK_HOURS if school else OTHER_WEEK_HOURS
    if week_total > week_limit:
        warnings.append(
            _("Federal rules allow a 14- or 15-year-old at most %(n)s hours of paid work in a %(kind)s week.")
            % {"n": week_limit, "kind": _("school") if school else _("non-school")}
        )
    return warnings


def _check_hours(placement: Placement, day: date, hours, *, exclude=None) -> Decimal:
    try:
        hours = Decimal(str(hours))
    except ArithmeticError as error:
        raise InternshipsError(_("Enter the hours as a number."), field="hours") from error
    if not hours.is_finite() or hours <= 0:
        raise InternshipsError(_("Hours must be more than zero."), field="hours")
    if hours != hours.quantize(Decimal("0.25")):
        raise InternshipsError(_("Log hours in quarters of an hour."), field="hours")
    if placement.status != PlacementStatus.ACTIVE:
        raise InternshipsError(_("Hours can be logged only while the placement is active."), code="not_active")
    today = rules.today_at(placement.posting.agency)
    if day > today:
        raise InternshipsError(_("Hours cannot be logged for a day in the future."), field="day")
    if not placement.start_date <= day <= placement.end_date:
        raise InternshipsError(
            _("The day must be within the placement (%(start)s to %(end)s).")
            % {"start": placement.start_date.isoformat(), "end": placement.end_date.isoformat()},
            field="day",
        )
    same_day = HoursEntry.objects.filter(placement__student=placement.student, day=day).exclude(
        status=HoursStatus.RETURNED
    )
    if exclude is not None:
        same_day = same_day.exclude(pk=exclude.pk)
    logged = same_day.aggregate(total=Coalesce(Sum("hours"), Decimal("0")))["total"]
    if logged + hours > MAX_DAY_HOURS:
        raise InternshipsError(
            _("At most 24 hours can be logged for one day; %(logged)s are already logged for %(day)s.")
            % {"logged": logged, "day": day.isoformat()},
            field="hours",
        )
    return hours


def _rows_of(placement: Placement):
    """A block whose writes of hours touch only this placement's, so only its agreement's figures
    are computed again (``config.tablecache``)."""
    return tablecache.rows_of("agreement", placement.posting.agreement_id, HoursEntry)


def log_hours(*, placement: Placement, by: User, day: date, hours, activity: str) -> tuple[HoursEntry, list[str]]:
    """The student logs hours: only on an active placement, not in the future, within its dates,
    at most 24 per day in total. Returns the entry and any young-worker warnings."""
    _ensure(rules.is_student_of(by, placement), _("Only the student logs their hours."))
    if not activity.strip():
        raise InternshipsError(_("Say what you did."), field="activity")
    with transaction.atomic():
        # The student's row serialises their own entries, so two tabs cannot pass 24 h together.
        User.objects.select_for_update(of=("self",)).filter(pk=placement.student_id).first()
        placement = Placement.objects.select_related("posting__agency", "student", "application__institution").get(
            pk=placement.pk
        )
        amount = _check_hours(placement, day, hours)
        warnings = _young_worker_warnings(placement, day, amount)
        with _rows_of(placement):
            entry = HoursEntry.objects.create(placement=placement, day=day, hours=amount, activity=activity.strip())
    return entry, warnings


def correct_hours(*, entry: HoursEntry, by: User, day: date, hours, activity: str) -> HoursEntry:
    """The student corrects a returned (or not yet approved) entry; it goes back to the mentor."""
    _ensure(rules.is_student_of(by, entry.placement), _("Only the student corrects their hours."))
    with transaction.atomic():
        User.objects.select_for_update(of=("self",)).filter(pk=entry.placement.student_id).first()
        entry = (
            HoursEntry.objects.select_for_update(of=("self",))
            .select_related("placement__posting__agency")
            .get(pk=entry.pk)
        )
        if entry.status == HoursStatus.APPROVED:
            raise InternshipsError(_("Approved hours are locked."), code="locked")
        amount = _check_hours(entry.placement, day, hours, exclude=entry)
        entry.day, entry.hours, entry.activity = day, amount, activity.strip()
        entry.status = HoursStatus.SUBMITTED
        with _rows_of(entry.placement):
            entry.save(update_fields=["day", "hours", "activity", "status", "updated_at"])
    return entry


def _reviewable_entry(entry: HoursEntry, by: User) -> HoursEntry:
    entry = (
        HoursEntry.objects.select_for_update(of=("self",))
        .select_related("placement__posting__agency", "placement__student", "placement__mentor")
        .get(pk=entry.pk)
    )
    _ensure(rules.can_mentor(by, entry.placement), _("Only the student's mentor approves hours."))
    if entry.status != HoursStatus.SUBMITTED:
        raise InternshipsError(
            _("These hours are already %(status)s.") % {"status": entry.get_status_display().lower()},
            code="invalid_transition",
        )
    ensure_mentor_cleared(entry.placement)
    return entry


def approve_hours(*, entry: HoursEntry, by: User) -> HoursEntry:
    """Only the mentor approves; an approved entry is locked."""
    with transaction.atomic():
        entry = _reviewable_entry(entry, by)
        entry.status = HoursStatus.APPROVED
        entry.reviewed_by, entry.reviewed_at = by, timezone.now()
        with _rows_of(entry.placement):
            entry.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    return entry


def return_hours(*, entry: HoursEntry, by: User, comment: str) -> HoursEntry:
    if not comment.strip():
        raise InternshipsError(_("Tell the student what to correct."), field="comment")
    with transaction.atomic():
        entry = _reviewable_entry(entry, by)
        entry.status = HoursStatus.RETURNED
        entry.reviewed_by, entry.reviewed_at, entry.comment = by, timezone.now(), comment.strip()
        with _rows_of(entry.placement):
            entry.save(update_fields=["status", "reviewed_by", "reviewed_at", "comment", "updated_at"])
        notify(
            to=entry.placement.student.email,
            user=entry.placement.student,
            template="internships/email/hours_returned",
            context={
                "day": entry.day.isoformat(),
                "hours": entry.hours,
                "comment": entry.comment,
                "link": _link("internships:placement_detail", entry.placement_id),
            },
            dedupe_key=f"internships:hours_returned:{entry.pk}:{entry.reviewed_at.isoformat()}",
        )
    return entry


# Check-ins.


def _schedule_check_ins(placement: Placement) -> int:
    """Every ``check_in_every_days`` from the start, through the end (never twice for a day)."""
    step = timedelta(days=placement.check_in_every_days)
    day = placement.start_date + step
    rows = []
    while day <= placement.end_date:
        rows.append(CheckIn(placement=placement, due_on=day))
        day += step
    CheckIn.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def record_check_in(
    *, check_in: CheckIn, by: User, held: bool, notes: str, held_on: date | None = None, observable_setting=False
) -> CheckIn:
    """The mentor records a check-in; with a minor it must have been held in an observable setting."""
    with transaction.atomic():
        check_in = (
            CheckIn.objects.select_for_update(of=("self",))
            .select_related("placement__posting__agency", "placement__student", "placement__application__institution")
            .get(pk=check_in.pk)
        )
        placement = check_in.placement
        _ensure(rules.can_mentor(by, placement), _("Only the student's mentor records check-ins."))
        if check_in.status not in (CheckInStatus.SCHEDULED, CheckInStatus.MISSED):
            raise InternshipsError(_("This check-in is already recorded."), code="invalid_transition")
        if not notes.strip():
            raise InternshipsError(_("Add a short note."), field="notes")
        today = rules.today_at(placement.posting.agency)
        if held:
            held_on = held_on or today
            if held_on > today:
                raise InternshipsError(_("A check-in cannot be recorded as held in the future."), field="held_on")
            if held_on < placement.start_date:
                raise InternshipsError(_("The check-in was before the placement started."), field="held_on")
            minor = rules.is_minor_on(placement.student, held_on)
            if minor and not observable_setting:
                raise InternshipsError(
                    _("Check-ins with a minor must be held in an observable setting; confirm it was."),
                    field="observable_setting",
                )
            ensure_mentor_cleared(placement, today=held_on)
        check_in.status = CheckInStatus.HELD if held else CheckInStatus.MISSED
        check_in.held_on = held_on if held else None
        check_in.notes = notes.strip()
        check_in.observable_setting = bool(observable_setting) if held else False
        check_in.recorded_by = by
        if not held:
            # A check-in the mentor reports as missed is flagged to the coordinators at once.
            check_in.flagged_at = timezone.now()
            _notify_people(
                _coordinators(placement.posting.agency, placement.application.institution),
                template="internships/email/check_in_missed",
                context={
                    "student": placement.student.get_short_name(),
                    "mentor": by.full_name,
                    "due": check_in.due_on.isoformat(),
                    "link": _link("internships:placement_detail", placement.pk),
                },
                key=f"internships:check_in_missed:{check_in.pk}",
            )
        check_in.save(
            update_fields=[
                "status",
                "held_on",
                "notes",
                "observable_setting",
                "recorded_by",
                "flagged_at",
                "updated_at",
            ]
        )
    return check_in


def send_check_in_reminders(*, today: date | None = None) -> int:
    """Remind the mentor two days before a scheduled check-in (once per check-in)."""
    today = today or timezone.localdate()
    due = CheckIn.objects.filter(
        status=CheckInStatus.SCHEDULED,
        placement__status=PlacementStatus.ACTIVE,
        due_on__range=(today, today + timedelta(days=2)),
    ).select_related("placement__mentor", "placement__student", "placement__posting")
    sent = 0
    for check_in in due:
        mentor = check_in.placement.mentor
        with transaction.atomic():
            notify(
                to=mentor.email,
                user=mentor,
                template="internships/email/check_in_reminder",
                context={
                    "student": check_in.placement.student.get_short_name(),
                    "title": check_in.placement.posting.title,
                    "due": check_in.due_on.isoformat(),
                    "link": _link("internships:placement_detail", check_in.placement_id),
                },
                dedupe_key=f"internships:check_in_reminder:{check_in.pk}",
            )
        sent += 1
    return sent


def flag_missed_check_ins(*, today: date | None = None) -> int:
    """A scheduled check-in not recorded within three days of its date is flagged to the coordinators."""
    today = today or timezone.localdate()
    overdue = CheckIn.objects.filter(
        status=CheckInStatus.SCHEDULED,
        placement__status=PlacementStatus.ACTIVE,
        due_on__lt=today - CHECK_IN_GRACE,
        flagged_at__isnull=True,
    ).select_related(
        "placement__student", "placement__mentor", "placement__posting__agency", "placement__application__institution"
    )
    flagged = 0
    for check_in in overdue:
        placement = check_in.placement
        with transaction.atomic():
            if not CheckIn.objects.filter(pk=check_in.pk, flagged_at__isnull=True).update(flagged_at=timezone.now()):
                continue
            _notify_people(
                _coordinators(placement.posting.agency, placement.application.institution),
                template="internships/email/check_in_missed",
                context={
                    "student": placement.student.get_short_name(),
                    "mentor": placement.mentor.full_name if placement.mentor else "",
                    "due": check_in.due_on.isoformat(),
                    "link": _link("internships:placement_detail", placement.pk),
                },
                key=f"internships:check_in_missed:{check_in.pk}",
            )
        flagged += 1
    return flagged


# Completion.


def submit_evaluation(
    *, placement: Placement, by: User, rating: int, went_well: str = "", to_improve: str = ""
) -> CompletionEvaluation:
    """The student and the mentor each complete one end-of-placement evaluation, once it has ended
    (or in its last two weeks)."""
    if rules.is_student_of(by, placement):
        side = EvaluationAuthor.STUDENT
    elif rules.can_mentor(by, placement):
        side = EvaluationAuthor.MENTOR
    else:
        raise InternshipsError(_("Only the student and the mentor evaluate a placement."), code="forbidden")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InternshipsError(_("Choose a rating from 1 to 5."), field="rating")
    placement = Placement.objects.select_related("posting__agency").get(pk=placement.pk)
    today = rules.today_at(placement.posting.agency)
    ended = placement.status in (PlacementStatus.COMPLETED, PlacementStatus.ENDED_EARLY)
    if not ended and not (placement.status == PlacementStatus.ACTIVE and today >= placement.end_date - timedelta(14)):
        raise InternshipsError(_("The evaluation opens in the last two weeks of the placement."), code="too_early")
    try:
        with transaction.atomic():
            return CompletionEvaluation.objects.create(
                placement=placement,
                author_role=side,
                author=by,
                rating=rating,
                went_well=went_well,
                to_improve=to_improve,
            )
    except IntegrityError as error:
        raise ConflictError(_("You have already evaluated this placement."), code="duplicate") from error
