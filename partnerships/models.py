import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.enums import OrganizationKind
from accounts.models import Organization, TimestampedModel
from partnerships.enums import (
    AgreementStatus,
    DataCategory,
    DataDirection,
    LawfulBasis,
    MeetingStatus,
    PartyRole,
    ResponsibilityKind,
)


class Agreement(TimestampedModel):
    """One version of an MOU between a lead agency and one or more institutions.

    Versions of one agreement share a ``lineage``; a signed version is never edited,
    an amendment or renewal is a new version linked to the one before.
    """

    lineage = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    version = models.PositiveIntegerField(default=1)
    previous_version = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    title = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    lead_agency = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="led_agreements",
        limit_choices_to={"kind": OrganizationKind.AGENCY},
    )
    status = models.CharField(max_length=20, choices=AgreementStatus, default=AgreementStatus.DRAFT)
    starts_on = models.DateField()
    ends_on = models.DateField()
    review_interval_months = models.PositiveSmallIntegerField(default=24)
    review_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.TextField(blank=True)
    termination_effective_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="partnerships_agreement_ends_after_start"
            ),
            models.UniqueConstraint(fields=["lineage", "version"], name="partnerships_agreement_unique_version"),
            models.UniqueConstraint(
                fields=["lineage"],
                condition=Q(status="active"),
                name="partnerships_agreement_one_active_version",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AgreementStatus.values), name="partnerships_agreement_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_on"], name="partnerships_status_ends")]

    def __str__(self):
        return f"{self.title} (v{self.version})"

    def get_absolute_url(self):
        return reverse("partnerships:agreement_detail", args=[self.pk])

    @property
    def is_active(self):
        return self.status == AgreementStatus.ACTIVE

    @property
    def is_locked(self):
        return self.status in AgreementStatus.locked

    def allows_new_activity_on(self, day=None):
        """Sessions and postings may be created under it on ``day``."""
        day = day or timezone.localdate()
        return self.status == AgreementStatus.ACTIVE and self.starts_on <= day < self.ends_on


class AgreementParty(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="agreement_parties")
    role = models.CharField(max_length=20, choices=PartyRole)
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The named contact of this party."),
    )

    class Meta:
        ordering = ["role", "organization__name"]
        verbose_name_plural = "agreement parties"
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organization"], name="partnerships_agreementparty_unique_org"
            ),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(role="lead_agency"),
                name="partnerships_agreementparty_one_lead",
            ),
        ]

    def __str__(self):
        return f"{self.organization} ({self.get_role_display()})"


class Objective(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="objectives")
    description = models.TextField()
    measure = models.CharField(max_length=250, help_text=_("How progress is measured."))
    target_on = models.DateField()

    class Meta:
        ordering = ["target_on", "pk"]

    def __str__(self):
        return self.description[:80]


class Responsibility(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="responsibilities")
    party = models.ForeignKey(AgreementParty, on_delete=models.CASCADE, related_name="responsibilities")
    kind = models.CharField(max_length=20, choices=ResponsibilityKind, default=ResponsibilityKind.ROLE)
    description = models.TextField()

    class Meta:
        ordering = ["party__role", "kind", "pk"]
        verbose_name_plural = "responsibilities"

    def __str__(self):
        return f"{self.party.organization}: {self.get_kind_display()}"


class FundingCommitment(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="funding")
    party = models.ForeignKey(AgreementParty, on_delete=models.CASCADE, related_name="funding")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    period_start = models.DateField()
    period_end = models.DateField()
    purpose = models.CharField(max_length=250)

    class Meta:
        ordering = ["period_start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="partnerships_funding_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="partnerships_funding_period_order"
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} from {self.party.organization}"


class DataSharingTerm(models.Model):
    """What student data may flow, which way, why, on what lawful basis, for how long."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="data_terms")
    category = models.CharField(max_length=20, choices=DataCategory)
    direction = models.CharField(max_length=20, choices=DataDirection)
    purpose = models.CharField(max_length=250)
    lawful_basis = models.CharField(max_length=20, choices=LawfulBasis)
    retention_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["category", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "category", "direction"], name="partnerships_dataterm_unique_category"
            ),
            models.CheckConstraint(condition=Q(retention_days__gte=1), name="partnerships_dataterm_retention"),
        ]

    def __str__(self):
        return f"{self.get_category_display()} ({self.get_direction_display()})"


class Signature(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    party = models.ForeignKey(AgreementParty, on_delete=models.CASCADE, related_name="signatures")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=150)
    signer_title = models.CharField(max_length=150)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "party"], name="partnerships_signature_once_per_party"),
        ]

    def __str__(self):
        return f"{self.signer_name} for {self.party.organization}"


def _document_path(instance, filename):
    return f"agreements/{instance.agreement.lineage}/{uuid.uuid4().hex}.pdf"


class AgreementDocument(models.Model):
    """A signed PDF; served only to the parties, through an authorized view."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to=_document_path)
    original_name = models.CharField(max_length=200)
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.original_name


class Meeting(TimestampedModel):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    agenda = models.TextField(blank=True)
    minutes = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=MeetingStatus, default=MeetingStatus.SCHEDULED)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="partnership_meetings")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return f"{self.agreement.title}: {self.starts_at:%Y-%m-%d}"


class ActionItem(TimestampedModel):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="action_items")
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["done_at", "due_on", "pk"]
        indexes = [models.Index(fields=["due_on"], condition=Q(done_at__isnull=True), name="partnerships_open_items")]

    def __str__(self):
        return self.description[:80]

    @property
    def is_overdue(self):
        return self.done_at is None and self.due_on < timezone.localdate()
