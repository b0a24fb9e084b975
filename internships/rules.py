"""Predicates about internships, shared by pages, API and tasks."""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.enums import GradeLevel, OrganizationKind, Role
from internships.enums import ApplicationStatus, PostingStatus
from internships.models import Application, Placement, Posting
from partnerships.enums import PartyRole

ADULT_AGE = 18


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


def today_at(organization) -> date:
    """Today's date where the organization is: an apply-by date ends at its midnight."""
    return timezone.localdate(timezone=organization.zone)


# Who does what.


def can_post_for(user, agreement, agency) -> bool:
    """A coordinator of an agency party posts internships under the agreement (an admin too)."""
    if not agency.is_agency or not any(p.organization_id == agency.pk for p in agreement.parties.all()):
        return False
    return access.is_admin(user) or access.has_role(user, agency, Role.COORDINATOR)


def can_manage_posting(user, posting: Posting) -> bool:
    return access.is_admin(user) or access.has_role(user, posting.agency, Role.COORDINATOR)


def can_review(user, application: Application) -> bool:
    """The posting agency's coordinators and the student's institution's coordinators run the pipeline."""
    if access.is_admin(user):
        return True
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    return application.posting.agency_id in coordinated or application.institution_id in coordinated


def is_student_of(user, application_or_placement) -> bool:
    return application_or_placement.student_id == user.pk


def can_coordinate_placement(user, placement: Placement) -> bool:
    return can_review(user, placement.application)


def can_mentor(user, placement: Placement) -> bool:
    return placement.mentor_id is not None and placement.mentor_id == user.pk


def can_name_guardian(user, placement: Placement) -> bool:
    """The student names their guardian; so may the school (its coordinators and staff)."""
    if is_student_of(user, placement) or access.is_admin(user):
        return True
    school = placement.application.institution_id
    return any(
        m.organization_id == school and m.role in (Role.COORDINATOR, Role.STAFF)
        for m in access.active_memberships(user)
    )


def is_agency_side(user, agreement) -> bool:
    """Agency staff (officers, coordinators) of a party of the agreement: their reads of a
    student's record are limited by the data-sharing terms and logged."""
    if access.is_admin(user):
        return False
    agency_ids = getattr(agreement, "_agency_ids", None)  # read with a list's postings (selectors.share_data_terms)
    if agency_ids is None:
        agency_ids = {p.organization_id for p in agreement.parties.all() if p.role != PartyRole.INSTITUTION}
    return bool(agency_ids & access.organization_ids(user))


def is_school_side(user, application: Application) -> bool:
    return application.institution_id in access.organization_ids(user, role=Role.COORDINATOR) or (
        application.institution_id in access.organization_ids(user, role=Role.STAFF)
    )


# Eligibility.


def student_membership(user, posting: Posting | None = None):
    """The student membership an application is made through: at an institution the posting is
    open to when there is one, else the first."""
    memberships = [m for m in access.active_memberships(user) if m.role == Role.STUDENT]
    if posting is not None:
        open_to = {o.pk for o in posting.institutions.all()}
        for membership in memberships:
            if membership.organization_id in open_to:
                return membership
    return memberships[0] if memberships else None


def level_of(membership) -> str:
    return level_at(membership.organization.kind, membership.grade_level)


def level_at(kind: str, grade_level: str) -> str:
    """A student's level at an organization of ``kind``: university at a college or university,
    else the grade of their membership there."""
    if kind in (OrganizationKind.COLLEGE, OrganizationKind.UNIVERSITY):
        return GradeLevel.UNIVERSITY
    return grade_level


def is_minor_on(student, day: date) -> bool:
    """Under 18 on ``day``; an unknown date of birth counts as a minor (consent is the safe side)."""
    age = student.age_on(day)
    return age is None or age < ADULT_AGE


def eligibility_problems(student, posting: Posting, *, today: date | None = None) -> list[Problem]:
    """Why ``student`` may not apply to ``posting`` (empty when they may), in words for the student."""
    problems = []
    if posting.status != PostingStatus.OPEN:
        problems.append(Problem("closed", _("This posting is not open for applications.")))
    today = today or today_at(posting.agency)
    if today > posting.apply_by:
        problems.append(
            Problem("apply_by_passed", _("Applications closed on %(day)s.") % {"day": posting.apply_by.isoformat()})
        )
    membership = student_membership(student, posting)
    if membership is None:
        problems.append(Problem("not_student", _("Only students of a school or university can apply.")))
        return problems
    if membership.organization_id not in {o.pk for o in posting.institutions.all()}:
        problems.append(
            Problem(
                "institution",
                _("This posting is not open to students of %(school)s.") % {"school": membership.organization.name},
            )
        )
    if posting.grade_levels:
        level = level_of(membership)
        if level not in posting.grade_levels:
            labels = ", ".join(str(GradeLevel(v).label) for v in posting.grade_levels if v in GradeLevel.values)
            problems.append(Problem("grade", _("This posting is open to: %(levels)s.") % {"levels": labels}))
    if posting.min_age:
        age = student.age_on(posting.start_date)
        if age is None:
            problems.append(
                Problem("age_unknown", _("Your school has not recorded your date of birth; ask them to add it."))
            )
        elif age < posting.min_age:
            problems.append(
                Problem(
                    "too_young",
                    _("You must be at least %(age)s on %(day)s, the day the internship starts.")
                    % {"age": posting.min_age, "day": posting.start_date.isoformat()},
                )
            )
    return problems


def can_apply(student, posting: Posting) -> bool:
    return not eligibility_problems(student, posting)


def can_withdraw(user, application: Application) -> bool:
    return is_student_of(user, application) and application.status in ApplicationStatus.live
