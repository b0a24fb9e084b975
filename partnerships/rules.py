"""Predicates about agreements, shared by pages, API and tasks."""

from accounts import access
from accounts.enums import Role
from partnerships.models import Agreement, AgreementParty


def party_of(user, agreement: Agreement, *, role: str | None = None) -> AgreementParty | None:
    """The party of ``agreement`` the user belongs to (in ``role``), if any."""
    org_ids = access.organization_ids(user, role=role)
    for party in agreement.parties.all():
        if party.organization_id in org_ids:
            return party
    return None


def is_party_member(user, agreement: Agreement, *, role: str | None = None) -> bool:
    return access.is_admin(user) or party_of(user, agreement, role=role) is not None


def can_draft(user) -> bool:
    """Any coordinator (of an agency or an institution) may start a draft."""
    return access.is_admin(user) or bool(access.organization_ids(user, role=Role.COORDINATOR))


def can_manage(user, agreement: Agreement) -> bool:
    """Coordinators of any party draft, amend, schedule meetings and terminate."""
    return access.is_admin(user) or party_of(user, agreement, role=Role.COORDINATOR) is not None


def can_sign(user, agreement: Agreement, party: AgreementParty) -> bool:
    """Only a coordinator of that very party signs for it."""
    return party.organization_id in access.organization_ids(user, role=Role.COORDINATOR)
