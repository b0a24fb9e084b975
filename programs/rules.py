"""Predicates about programs, shared by pages, API and tasks."""

from accounts import access
from accounts.enums import Role
from partnerships import rules as agreement_rules
from programs.models import Booking, Program, Session, SessionRequest

BOOKING_ROLES = (Role.STAFF, Role.COORDINATOR)


def can_manage_program(user, program: Program) -> bool:
    """Coordinators of any party of the agreement publish workshops and schedule sessions."""
    return agreement_rules.can_manage(user, program.agreement)


def bookable_institution_ids(user, session: Session) -> set[int]:
    """Institutions the user may book for: theirs (as staff or coordinator) and a party of the agreement."""
    mine = {m.organization_id for m in access.active_memberships(user) if m.role in BOOKING_ROLES}
    parties = {p.organization_id for p in session.program.agreement.parties.all() if p.role == "institution"}
    return mine & parties


def requestable_institution_ids(user, program: Program) -> set[int]:
    """Institutions the user may ask a workshop for: theirs (as staff or coordinator) and a party."""
    mine = {m.organization_id for m in access.active_memberships(user) if m.role in BOOKING_ROLES}
    parties = {p.organization_id for p in program.agreement.parties.all() if p.role == "institution"}
    return mine & parties


def can_book(user, session: Session) -> bool:
    return bool(bookable_institution_ids(user, session))


def can_cancel_booking(user, booking: Booking) -> bool:
    if access.is_admin(user) or booking.booked_by_id == user.pk:
        return True
    if booking.institution_id in access.organization_ids(user, role=Role.COORDINATOR):
        return True
    return can_manage_program(user, booking.session.program)


def can_record_attendance(user, session: Session) -> bool:
    if can_manage_program(user, session.program):
        return True
    return session.facilitators.filter(pk=user.pk).exists()


def can_manage_calendar(user, organization) -> bool:
    """Institutions' staff and coordinators keep their calendars; an agency's coordinators keep its blackouts."""
    if access.is_admin(user):
        return True
    roles = (Role.COORDINATOR,) if organization.is_agency else BOOKING_ROLES
    return any(m.organization_id == organization.pk and m.role in roles for m in access.active_memberships(user))


def can_request_session(user, program: Program) -> bool:
    return bool(requestable_institution_ids(user, program))


def can_decide_request(user, request: SessionRequest) -> bool:
    return can_manage_program(user, request.program)
