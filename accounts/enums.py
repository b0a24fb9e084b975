from enum import nonmember

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    AGENCY = "agency", _("Law enforcement agency")
    K12_SCHOOL = "k12_school", _("K-12 school")
    DISTRICT = "district", _("School district")
    COLLEGE = "college", _("College")
    UNIVERSITY = "university", _("University")

    institutions = nonmember(("k12_school", "district", "college", "university"))


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    STAFF = "staff", _("School staff")
    OFFICER = "officer", _("Officer")
    STUDENT = "student", _("Student")


# Which roles a membership of each kind of organization may carry.
ROLES_BY_KIND = {
    OrganizationKind.AGENCY: (Role.COORDINATOR, Role.OFFICER),
    OrganizationKind.K12_SCHOOL: (Role.COORDINATOR, Role.STAFF, Role.STUDENT),
    OrganizationKind.DISTRICT: (Role.COORDINATOR, Role.STAFF),
    OrganizationKind.COLLEGE: (Role.COORDINATOR, Role.STAFF, Role.STUDENT),
    OrganizationKind.UNIVERSITY: (Role.COORDINATOR, Role.STAFF, Role.STUDENT),
}


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
