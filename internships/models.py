"""Internships and mentoring: postings, applications and their recorded pipeline, offers,
interviews, guardian consent, placements, mentors' clearances, hours and check-ins."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TimestampedModel
from internships.enums import (
    AccessPurpose,
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
from partnerships.models import Agreement


class Posting(TimestampedModel):
    """An internship an agency offers under an active agreement."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="postings")
    agency = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="postings", limit_choices_to={"kind": "agency"}
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    unit = models.CharField(max_length=150, blank=True, help_text=_("The unit or division, e.g. Community Affairs."))
    location = models.CharField(max_length=250, blank=True)
    is_remote = models.BooleanField(_("remote"), default=False)
    start_date = models.DateField()
    end_date = models.DateField()
    hours_per_week = models.PositiveSmallIntegerField()
    required_hours = models.PositiveSmallIntegerField(
        help_text=_("Hours the student must log for the placement to count as complete.")
    )
    slots = models.PositiveSmallIntegerField(help_text=_("How many students can be placed."))
    apply_by = models.DateField(help_text=_("The last day applications are accepted (agency's time zone)."))
    min_age = models.PositiveSmallIntegerField(_("minimum age on the start date"), null=True, blank=True)
    grade_levels = models.JSONField(
        default=list, blank=True, help_text=_("Levels the posting is open to; empty means every level.")
    )
    institutions = models.ManyToManyField(
        Organization,
        related_name="open_postings",
        blank=True,
        help_text=_("Institutions whose students may apply: the agreement's institutions by default."),
    )
    requirements = models.TextField(blank=True)
    is_paid = models.BooleanField(_("paid"), default=False)
    offer_valid_days = models.PositiveSmallIntegerField(
        default=7, help_text=_("Days a student has to answer an offer.")
    )
    status = models.CharField(max_length=20, choices=PostingStatus, default=PostingStatus.DRAFT)
    closed_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["apply_by", "title", "pk"]
        indexes = [models.Index(fields=["status", "apply_by"], name="internships_posting_open")]
        constraints = [
            # What an application's (posting, agency) refers to on PostgreSQL (Application.agency).
            models.UniqueConstraint(fields=["id", "agency"], name="internships_posting_agency_key"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="internships_posting_dates"),
            models.CheckConstraint(condition=Q(apply_by__lte=F("start_date")), name="internships_posting_apply_by"),
            models.CheckConstraint(condition=Q(slots__gte=1), name="internships_posting_slots"),
            models.CheckConstraint(
                condition=Q(hours_per_week__gte=1, hours_per_week__lte=40), name="internships_posting_hours"
            ),
            models.CheckConstraint(condition=Q(offer_valid_days__gte=1), name="internships_posting_offer_days"),
            models.CheckConstraint(
                condition=Q(status__in=PostingStatus.values), name="internships_posting_status_valid"
            ),
        ]

    def __str__(self):
        return self.label(self.title, self.agency.name)

    @staticmethod
    def label(title: str, agency_name: str) -> str:
        """How a posting is named in a list of choices: its title and its agency."""
        return f"{title} ({agency_name})"


def _resume_path(instance, filename):
    return f"resumes/{uuid.uuid4().hex}.pdf"


class Application(TimestampedModel):
    """A student's application to one posting; its status moves only through services."""

    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="applications")
    # The posting's agency, kept on the application so an agency's pipeline is read in submission
    # order from one index (``internships_agency_pipeline``) rather than by collecting every
    # application of each of its postings and sorting them: 1.3 ms against 0.07 ms for a page of
    # the busiest agency at state size, and 1.9 ms against 0.4 ms for its count (EXPLAIN ANALYZE;
    # docs/architecture.md). Set from the posting when the student applies and never changed: a
    # posting's agency is fixed once it is made, and on PostgreSQL a foreign key on (posting,
    # agency) to the posting's (id, agency) refuses an application whose agency is not its
    # posting's, and a posting's change of agency while it has applications (migration 0005).
    agency = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", editable=False)
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    institution = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", help_text=_("The student's school or university.")
    )
    statement = models.TextField(_("why I am applying"))
    availability = models.CharField(max_length=500, help_text=_("Days and times the student can attend."))
    resume = models.FileField(upload_to=_resume_path, blank=True)
    resume_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=20, choices=ApplicationStatus, default=ApplicationStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=20, choices=RejectionReason, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [
            models.Index(fields=["posting", "status"], name="internships_application_stage"),
            # The pipelines coordinators read (selectors.application_list_for): an agency's and a
            # school's submitted applications, newest submission first.
            models.Index(
                fields=["agency", "-submitted_at", "-created_at", "-id"],
                condition=~Q(status=ApplicationStatus.DRAFT),
                name="internships_agency_pipeline",
            ),
            models.Index(
                fields=["institution", "-submitted_at", "-created_at", "-id"],
                condition=~Q(status=ApplicationStatus.DRAFT),
                name="internships_school_pipeline",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["posting", "student"], name="internships_application_once_per_student"),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values), name="internships_application_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.student} → {self.posting.title}"


class ApplicationTransition(models.Model):
    """One recorded step of the pipeline: who moved it, when, from where to where, and why."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=ApplicationStatus, blank=True)
    to_status = models.CharField(max_length=20, choices=ApplicationStatus)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class Interview(TimestampedModel):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="interviews")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    location = models.CharField(max_length=250)
    notes = models.TextField(blank=True, help_text=_("What to bring, who to ask for."))
    status = models.CharField(max_length=20, choices=InterviewStatus, default=InterviewStatus.SCHEDULED)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # One calendar identity for life; a change raises the sequence.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480), name="internships_interview_duration"
            ),
        ]

    def __str__(self):
        return f"Interview {self.starts_at:%Y-%m-%d %H:%M} for {self.application}"


class Offer(TimestampedModel):
    """An offer of a place; at most one is open per application."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=20, choices=OfferStatus, default=OfferStatus.LIVE)
    expires_at = models.DateTimeField()
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(status="live"), name="internships_offer_one_live"
            ),
        ]

    def __str__(self):
        return f"Offer for {self.application} ({self.get_status_display()})"


class Placement(TimestampedModel):
    """A student placed with an agency after accepting an offer, with a cleared mentor."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="placement")
    posting = models.ForeignKey(Posting, on_delete=models.PROTECT, related_name="placements")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="placements")
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mentored_placements",
    )
    start_date = models.DateField()
    end_date = models.DateField()
    required_hours = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=PlacementStatus, default=PlacementStatus.PENDING)
    needs_consent = models.BooleanField(
        help_text=_("The student is under 18 on the start date (or their date of birth is unknown).")
    )
    check_in_every_days = models.PositiveSmallIntegerField(default=14)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-start_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="internships_placement_dates"),
            models.CheckConstraint(
                condition=Q(status__in=PlacementStatus.values), name="internships_placement_status_valid"
            ),
            # One active mentoring relation per student at a time.
            models.UniqueConstraint(
                fields=["student"], condition=Q(status="active"), name="internships_placement_one_active"
            ),
        ]

    def __str__(self):
        return f"{self.student} at {self.posting.agency} ({self.get_status_display()})"


def _consent_scan_path(instance, filename):
    return f"consents/{uuid.uuid4().hex}.pdf"


class GuardianConsent(TimestampedModel):
    """A guardian's decision about a minor's placement: by a single-use link, or a paper form."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="consents")
    guardian_name = models.CharField(max_length=150, blank=True)
    guardian_email = models.EmailField(blank=True)
    named_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=20, choices=ConsentStatus, default=ConsentStatus.AWAITING_GUARDIAN)
    # Only a SHA-256 of the secret is stored; the secret travels once, in the email.
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    method = models.CharField(max_length=10, choices=ConsentMethod, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scan = models.FileField(upload_to=_consent_scan_path, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~Q(token_hash=""), name="internships_consent_unique_token"
            ),
            # One request in flight or in force per placement; refused, revoked and expired stay as history.
            models.UniqueConstraint(
                fields=["placement"],
                condition=Q(status__in=["awaiting_guardian", "pending", "granted"]),
                name="internships_consent_one_current",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConsentStatus.values), name="internships_consent_status_valid"
            ),
        ]

    def __str__(self):
        return f"Consent for {self.placement.student} ({self.get_status_display()})"


class ClearanceKind(models.Model):
    """A check an agency requires of every mentor, e.g. a state police check."""

    agency = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="clearance_kinds", limit_choices_to={"kind": "agency"}
    )
    name = models.CharField(max_length=150)
    description = models.CharField(max_length=300, blank=True)
    is_required = models.BooleanField(default=True)

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="internships_clearancekind_unique_name"),
        ]

    def __str__(self):
        return self.name


class Clearance(TimestampedModel):
    """One officer's clearance of one kind, valid from issue to expiry, checked by a verifier."""

    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clearances")
    kind = models.ForeignKey(ClearanceKind, on_delete=models.PROTECT, related_name="clearances")
    reference = models.CharField(max_length=100, blank=True, help_text=_("Certificate or case number."))
    issued_on = models.DateField()
    expires_on = models.DateField()
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expires_on", "pk"]
        indexes = [models.Index(fields=["expires_on"], name="internships_clearance_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gt=F("issued_on")), name="internships_clearance_dates"),
        ]

    def __str__(self):
        return f"{self.kind} for {self.officer} until {self.expires_on}"


class HoursEntry(TimestampedModel):
    """Hours a student logged on one day; the mentor approves (then it is locked) or returns it."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="hours")
    day = models.DateField()
    hours = models.DecimalField(max_digits=4, decimal_places=2)
    activity = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=HoursStatus, default=HoursStatus.SUBMITTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-day", "-pk"]
        verbose_name_plural = "hours entries"
        indexes = [
            models.Index(fields=["placement", "day"], name="internships_hours_day"),
            # The hours list, newest first: a page of 25 without sorting every entry.
            models.Index(fields=["-day", "-id"], name="internships_hours_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24), name="internships_hours_range"),
            models.CheckConstraint(condition=Q(status__in=HoursStatus.values), name="internships_hours_status_valid"),
        ]

    def __str__(self):
        return f"{self.hours} h on {self.day}"


class CheckIn(TimestampedModel):
    """A scheduled mentor meeting with the student, and what came of it."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="check_ins")
    due_on = models.DateField()
    status = models.CharField(max_length=20, choices=CheckInStatus, default=CheckInStatus.SCHEDULED)
    held_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    observable_setting = models.BooleanField(
        default=False, help_text=_("Held where other adults could see (required with minors).")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["placement", "due_on"], name="internships_checkin_once_per_day"),
        ]

    def __str__(self):
        return f"Check-in due {self.due_on} ({self.get_status_display()})"


class CompletionEvaluation(models.Model):
    """The end-of-placement evaluation by the student and by the mentor (one each)."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="evaluations")
    author_role = models.CharField(max_length=10, choices=EvaluationAuthor)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    rating = models.PositiveSmallIntegerField(help_text=_("1 (poor) to 5 (excellent)."))
    went_well = models.TextField(blank=True)
    to_improve = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["placement", "author_role"]
        constraints = [
            models.UniqueConstraint(fields=["placement", "author_role"], name="internships_evaluation_once_per_side"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="internships_evaluation_rating"),
        ]

    def __str__(self):
        return f"{self.get_author_role_display()} evaluation of {self.placement}"


class StudentRecordAccess(models.Model):
    """Each time agency staff open a student's record: who, what, when and why (the record of
    disclosures FERPA asks schools to keep). Written by selectors, never edited."""

    # Kept by the ORM (PROTECT: a person or agreement with disclosures on record cannot be
    # deleted), not by constraints in the database. Every list agency staff open writes a row per
    # record; with constraints PostgreSQL checked and share-locked the viewer, student and
    # agreement of each row at commit: 0.5 of 3.0 ms of its CPU per page of 25 applications
    # (bench/cpu.py, runs alternated three times). The ids come from rows the same request read.
    at = models.DateTimeField(default=timezone.now, db_index=True)
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="record_accesses", db_constraint=False
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    record = models.CharField(max_length=80, help_text=_("What was opened, e.g. application #12."))
    categories = models.JSONField(default=list, help_text=_("The data categories that were shown."))
    purpose = models.CharField(max_length=20, choices=AccessPurpose)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "student record accesses"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.viewer} opened {self.record}"
