from enum import nonmember

from django.db import models
from django.utils.translation import gettext_lazy as _


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    SUPERSEDED = "superseded", _("Superseded")

    # A version in these states has been signed, or is being signed: never edited in place.
    locked = nonmember(("in_review", "active", "expired", "terminated", "superseded"))
    ended = nonmember(("expired", "terminated", "superseded"))


# The allowed transitions of an agreement version: nothing else assigns .status.
AGREEMENT_TRANSITIONS = {
    (AgreementStatus.DRAFT, AgreementStatus.IN_REVIEW),
    (AgreementStatus.IN_REVIEW, AgreementStatus.DRAFT),  # back for changes; signatures are dropped
    (AgreementStatus.IN_REVIEW, AgreementStatus.ACTIVE),
    (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED),
    (AgreementStatus.ACTIVE, AgreementStatus.TERMINATED),
    (AgreementStatus.ACTIVE, AgreementStatus.SUPERSEDED),
    (AgreementStatus.IN_REVIEW, AgreementStatus.TERMINATED),
    (AgreementStatus.DRAFT, AgreementStatus.TERMINATED),
}


class PartyRole(models.TextChoices):
    LEAD_AGENCY = "lead_agency", _("Lead agency")
    INSTITUTION = "institution", _("Institution")


class ResponsibilityKind(models.TextChoices):
    ROLE = "role", _("Role and duties")
    SUPERVISION = "supervision", _("Supervision and chain of command")
    DISCIPLINE = "discipline", _("Student discipline")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class DataCategory(models.TextChoices):
    DIRECTORY = "directory", _("Directory information")
    CONTACT = "contact", _("Contact details")
    SCHEDULE = "schedule", _("Class schedule")
    ATTENDANCE = "attendance", _("Attendance")
    GRADES = "grades", _("Grades and transcripts")
    DISCIPLINE = "discipline", _("Discipline records")
    HEALTH = "health", _("Health records")
    PROGRAM = "program", _("Program participation")


class DataDirection(models.TextChoices):
    SCHOOL_TO_AGENCY = "school_to_agency", _("School to agency")
    AGENCY_TO_SCHOOL = "agency_to_school", _("Agency to school")
    BOTH = "both", _("Both ways")


class LawfulBasis(models.TextChoices):
    WRITTEN_CONSENT = "written_consent", _("Written consent")
    SCHOOL_OFFICIAL = "school_official", _("School-official exception")
    DIRECTORY = "directory", _("Directory information")
    EMERGENCY = "emergency", _("Health or safety emergency")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")
