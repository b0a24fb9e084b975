import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, TimestampedModel
from programs.enums import (
    BlackoutKind,
    BookingStatus,
    Format,
    GradeBand,
    LocationKind,
    RequestStatus,
    SessionStatus,
    Topic,
)


class Qualification(models.Model):
    """A certification some curricula require of their facilitators."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OfficerQualification(models.Model):
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qualifications")
    qualification = models.ForeignKey(Qualification, on_delete=models.CASCADE, related_name="holders")
    earned_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["qualification__name"]
        constraints = [
            models.UniqueConstraint(fields=["officer", "qualification"], name="programs_officerqualification_once"),
        ]

    def __str__(self):
        return f"{self.officer}: {self.qualification}"


class Program(TimestampedModel):
    """A workshop (or a multi-lesson series) in the catalog of an agreement."""

    agreement = models.ForeignKey("partnerships.Agreement", on_delete=models.PROTECT, related_name="programs")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    topic = models.CharField(max_length=30, choices=Topic)
    grade_band = models.CharField(max_length=20, choices=GradeBand)
    objectives = models.TextField(blank=True)
    format = models.CharField(max_length=20, choices=Format, default=Format.IN_PERSON)
    duration_minutes = models.PositiveIntegerField(default=60)
    required_qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, null=True, blank=True, related_name="programs"
    )
    default_capacity_seats = models.PositiveIntegerField(default=30)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="programs_program_duration_positive"),
            models.CheckConstraint(
                condition=Q(default_capacity_seats__gte=1), name="programs_program_capacity_positive"
            ),
        ]

    def __str__(self):
        return self.title


class Session(TimestampedModel):
    """One scheduled meeting of a program. Times are stored in UTC."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location_kind = models.CharField(max_length=20, choices=LocationKind, default=LocationKind.SCHOOL)
    school = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="hosted_sessions"
    )
    venue = models.CharField(max_length=250, blank=True)
    join_url = models.URLField(blank=True)
    capacity_seats = models.PositiveIntegerField()
    # Denormalized sum of confirmed seats, written under the session's row lock; the
    # check constraint is the backstop if a code path ever forgets the lock.
    confirmed_seats = models.PositiveIntegerField(default=0)
    booking_cutoff_hours = models.PositiveIntegerField(default=48)
    waitlist_enabled = models.BooleanField(default=True)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, through="Facilitation", related_name="facilitated_sessions"
    )
    status = models.CharField(max_length=20, choices=SessionStatus, default=SessionStatus.SCHEDULED)
    cancel_reason = models.TextField(blank=True)
    facilitator_notes = models.TextField(blank=True)
    override_reason = models.TextField(blank=True, help_text=_("Why a warning was overridden when scheduling."))
    ical_uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ical_sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_seats__lte=F("capacity_seats")), name="programs_session_confirmed_within_capacity"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="programs_session_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity_seats__gte=1), name="programs_session_capacity_positive"),
            models.CheckConstraint(
                condition=~Q(location_kind="school") | Q(school__isnull=False), name="programs_session_school_named"
            ),
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="programs_session_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="programs_session_status_start")]

    def __str__(self):
        return f"{self.program.title} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free_seats(self):
        return max(0, self.capacity_seats - self.confirmed_seats)

    @property
    def cutoff_at(self):
        return self.starts_at - timedelta(hours=self.booking_cutoff_hours)

    @property
    def ical_uid_text(self):
        return f"{self.ical_uid}@programs.partnerships"

    @property
    def join_link(self) -> str:
        """The join URL as a link may use it: https only, so a stored javascript: or data: URL
        (the forms and the API refuse them) is never clicked; empty otherwise."""
        return self.join_url if self.join_url.lower().startswith("https://") else ""


class Facilitation(models.Model):
    """An officer facilitating a session, with the session's time copied so PostgreSQL can
    refuse two overlapping live facilitations of one officer (an exclusion constraint on
    ``tstzrange(starts_at, ends_at)`` per officer, added by migration 0002 on PostgreSQL).
    The scheduling service checks first and locks the officers' rows; this is the backstop."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="facilitations")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="facilitations")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    live = models.BooleanField(default=True, help_text=_("False once the session is cancelled."))

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "officer"], name="programs_facilitation_once"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="programs_facilitation_in_order"),
        ]

    def __str__(self):
        return f"{self.officer} · {self.session}"


class Booking(TimestampedModel):
    """Seats for one group of an institution at one session."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    institution = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="session_bookings")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    group_name = models.CharField(max_length=120)
    grade = models.CharField(max_length=40, blank=True)
    seats = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=BookingStatus, default=BookingStatus.REQUESTED)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["session__starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1), name="programs_booking_seats_positive"),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="programs_booking_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="waitlisted") | Q(waitlisted_at__isnull=False),
                name="programs_booking_waitlist_has_time",
            ),
        ]
        indexes = [models.Index(fields=["session", "status", "waitlisted_at"], name="programs_booking_queue")]

    def __str__(self):
        return f"{self.group_name} ({self.seats}) · {self.get_status_display()}"


class Term(models.Model):
    """A period an institution holds classes in; sessions at a school must fall inside one."""

    institution = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="terms")
    name = models.CharField(max_length=150)
    starts_on = models.DateField()
    ends_on = models.DateField()
    ical_uid = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="programs_term_dates_in_order"),
            models.UniqueConstraint(
                fields=["institution", "ical_uid"], condition=~Q(ical_uid=""), name="programs_term_unique_uid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.starts_on} – {self.ends_on})"


class BlackoutPeriod(models.Model):
    """Days (inclusive) an institution or agency takes no sessions: holidays, testing, training."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="blackouts")
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=BlackoutKind, default=BlackoutKind.HOLIDAY)
    starts_on = models.DateField()
    ends_on = models.DateField()
    ical_uid = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="programs_blackoutperiod_dates_in_order"
            ),
            models.UniqueConstraint(
                fields=["organization", "ical_uid"],
                condition=~Q(ical_uid=""),
                name="programs_blackoutperiod_unique_uid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.starts_on} – {self.ends_on})"


class SessionRequest(TimestampedModel):
    """Staff ask for a catalog workshop at their school within a date window."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="requests")
    institution = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="session_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    window_starts_on = models.DateField()
    window_ends_on = models.DateField()
    preferred_start_time = models.TimeField(help_text=_("Preferred start, in the school's time zone."))
    group_name = models.CharField(max_length=120)
    seats = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=RequestStatus, default=RequestStatus.OPEN)
    decline_reason = models.TextField(blank=True)
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_ends_on__gte=F("window_starts_on")), name="programs_sessionrequest_window_in_order"
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="programs_sessionrequest_seats_positive"),
        ]

    def __str__(self):
        return f"{self.program} for {self.institution}"


class CalendarFeedToken(models.Model):
    """A person's private calendar-feed URL; only a SHA-256 of the secret is stored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Calendar feed of {self.user}"
