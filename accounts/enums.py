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


class GradeLevel(models.TextChoices):
    """A student's level: a high-school grade, or university (postings are open to levels)."""

    GRADE_9 = "9", _("Grade 9")
    GRADE_10 = "10", _("Grade 10")
    GRADE_11 = "11", _("Grade 11")
    GRADE_12 = "12", _("Grade 12")
    UNIVERSITY = "university", _("University or college")


# Which roles a membership of each kind of organization may carry (the everyday role
# first, so a form's default never hands out coordinator rights by accident).
ROLES_BY_KIND = {
    OrganizationKind.AGENCY: (Role.OFFICER, Role.COORDINATOR),
    OrganizationKind.K12_SCHOOL: (Role.STAFF, Role.STUDENT, Role.COORDINATOR),
    OrganizationKind.DISTRICT: (Role.STAFF, Role.COORDINATOR),
    OrganizationKind.COLLEGE: (Role.STAFF, Role.STUDENT, Role.COORDINATOR),
    OrganizationKind.UNIVERSITY: (Role.STAFF, Role.STUDENT, Role.COORDINATOR),
}


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
