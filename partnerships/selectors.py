"""Reads of agreements for a user, always through the access scope."""

from django.db.models import QuerySet

from accounts import access
from accounts.enums import Role
from partnerships.models import ActionItem, Agreement, AgreementDocument, AgreementParty, Meeting


@access.scope_for(Agreement)
def agreements_for(user) -> QuerySet[Agreement]:
    """Agreements (every version) one of whose parties the user belongs to as an adult.

    Students are not shown agreements; admins see all.
    """
    if access.is_admin(user):
        return Agreement.objects.all()
    orgs = {m.organization_id for m in access.active_memberships(user) if m.role != Role.STUDENT}
    return Agreement.objects.filter(
        pk__in=AgreementParty.objects.filter(organization_id__in=orgs).values("agreement_id")
    )


@access.scope_for(Meeting)
def meetings_for(user) -> QuerySet[Meeting]:
    return Meeting.objects.filter(agreement__in=agreements_for(user))


@access.scope_for(ActionItem)
def action_items_for(user) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(agreement__in=agreements_for(user))


@access.scope_for(AgreementDocument)
def documents_for(user) -> QuerySet[AgreementDocument]:
    return AgreementDocument.objects.filter(agreement__in=agreements_for(user))


def party_organization_ids(agreement: Agreement) -> set[int]:
    return set(agreement.parties.values_list("organization_id", flat=True))


def active_agreements_between(organization_ids) -> QuerySet[Agreement]:
    """Active agreements with at least one of these organizations as a party."""
    return Agreement.objects.filter(status="active", parties__organization_id__in=list(organization_ids)).distinct()
