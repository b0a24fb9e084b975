import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.enums import GradeLevel, InvitationStatus, OrganizationKind, Role


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Email is the login; we keep the least data we can."""

    email = models.EmailField(_("email address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    # Only for students: eligibility and guardian consent depend on age on a given day.
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_unique_email"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def age_on(self, day):
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Organization(TimestampedModel):
    """An agency (police department, sheriff's office, campus police) or an institution."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganizationKind)
    district = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schools",
        limit_choices_to={"kind": OrganizationKind.DISTRICT},
        help_text=_("For a K-12 school: the district it belongs to."),
    )
    street_address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(_("state or region"), max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("kind", Lower("name"), name="accounts_organization_unique_name_per_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganizationKind.values),
                name="accounts_organization_kind_valid",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_agency(self):
        return self.kind == OrganizationKind.AGENCY

    @property
    def is_institution(self):
        return self.kind in OrganizationKind.institutions

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class Membership(TimestampedModel):
    """A person's role at an organization; what they may see follows from these."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role)
    is_active = models.BooleanField(default=True)
    title = models.CharField(
        max_length=100, blank=True, help_text=_("Job title or rank, e.g. School Resource Officer.")
    )
    # Only for a student of a K-12 school (postings are open to grades); kept by the school.
    grade_level = models.CharField(max_length=12, choices=GradeLevel, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["organization__name", "role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="accounts_membership_unique_role"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="accounts_membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.organization}"


class Invitation(TimestampedModel):
    """A single-use, expiring link a coordinator sends so a person can join."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role)
    # Only a SHA-256 of the secret is stored; the secret travels once, in the email.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=InvitationStatus, default=InvitationStatus.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accepted_invitations",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                "role",
                condition=models.Q(status="pending"),
                name="accounts_invitation_one_pending_per_role",
            ),
        ]

    def __str__(self):
        return f"{self.email} as {self.get_role_display()} at {self.organization}"

    @property
    def is_usable(self):
        return self.status == InvitationStatus.PENDING and self.expires_at > timezone.now()


class AuditEntry(models.Model):
    """Who did what to which object, and when. Written by services, never edited."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"], name="accounts_audit_target")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"
