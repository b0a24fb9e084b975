"""Who may do what in evaluations: predicates the pages, the API and the tasks share."""

from accounts import access
from accounts.enums import OrganizationKind, Role
from evaluations.models import Answer, Survey, Target
from partnerships import rules as agreement_rules
from partnerships.models import Agreement


def can_read_evaluations(user, agreement: Agreement) -> bool:
    """Adults of any party read targets, metrics, survey aggregates and the report."""
    if access.is_admin(user):
        return True
    return bool(adult_organization_ids(user) & {p.organization_id for p in agreement.parties.all()})


def adult_organization_ids(user) -> set[int]:
    """Organizations where the user is an adult member (staff, officer, coordinator)."""
    return {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}


def can_manage_targets(user, agreement: Agreement) -> bool:
    """Coordinators of any party set targets, define manual metrics and enter measurements."""
    return agreement_rules.can_manage(user, agreement)


def can_approve_measurement(user, measurement) -> bool:
    """A coordinator other than the one who entered it approves a measurement (four eyes);
    an admin may approve any."""
    if access.is_admin(user):
        return True
    return measurement.entered_by_id != user.pk and can_manage_targets(user, measurement.agreement)


def can_edit_target(user, target: Target) -> bool:
    return can_manage_targets(user, target.agreement)


def school_coordinated_ids(user) -> set[int]:
    """Institutions the user coordinates (they review their respondents' free text)."""
    return {
        m.organization_id
        for m in access.active_memberships(user)
        if m.role == Role.COORDINATOR and m.organization.kind != OrganizationKind.AGENCY
    }


def is_agency_user(user, agreement: Agreement) -> bool:
    """Signed in through the agreement's agency side: sees free text only once it is published."""
    if access.is_admin(user):
        return False
    agency_ids = {p.organization_id for p in agreement.parties.all() if p.role != "institution"}
    return bool(agency_ids & access.organization_ids(user))


def can_review_text(user, answer: Answer) -> bool:
    """The coordinators of the respondent's school publish or withhold a free-text answer;
    for an agency respondent (no school), the coordinators of the agreement's schools."""
    if access.is_admin(user):
        return True
    mine = school_coordinated_ids(user)
    institution_id = answer.response.institution_id
    if institution_id is not None:
        return institution_id in mine
    survey = answer.response.survey
    return bool(mine & {p.organization_id for p in survey.agreement.parties.all() if p.role == "institution"})


def can_distribute(user, booking) -> bool:
    """The teacher who booked, or a coordinator of the booking's school, hands links to the class."""
    if access.is_admin(user):
        return True
    if booking.booked_by_id == user.pk:
        return True
    return access.has_role(user, booking.institution, Role.COORDINATOR)


def can_record_group_consent(user, booking) -> bool:
    return can_distribute(user, booking)


def can_record_student_consent(user, student) -> bool:
    """A coordinator or staff member of the student's school records a survey consent form."""
    if access.is_admin(user):
        return True
    schools = {m.organization_id for m in student.memberships.all() if m.is_active and m.role == Role.STUDENT}
    staff = {m.organization_id for m in access.active_memberships(user) if m.role in (Role.STAFF, Role.COORDINATOR)}
    return bool(schools & staff)


def can_close_survey(user, survey: Survey) -> bool:
    return can_manage_targets(user, survey.agreement)
