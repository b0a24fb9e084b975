from datetime import date, timedelta

from django.utils import timezone

from partnerships import services
from partnerships.enums import AgreementStatus, DataCategory, DataDirection, LawfulBasis, ResponsibilityKind
from partnerships.models import Agreement


def draft(
    world, *, title="School Resource Officer MOU", institutions=None, complete=True, starts_on=None, ends_on=None
) -> Agreement:
    """An agreement between world.agency and school A, drafted by the agency's coordinator."""
    today = timezone.localdate()
    agreement = services.agreement_create(
        title=title,
        purpose="Keep students safe and build trust between officers and students." if complete else "",
        lead_agency=world.agency,
        institutions=institutions or [world.school_a],
        starts_on=starts_on or today - timedelta(days=30),
        ends_on=ends_on or today + timedelta(days=700),
        by=world.agency_coordinator,
    )
    if complete:
        fill(agreement, world)
    return agreement


def fill(agreement, world):
    by = world.agency_coordinator
    services.objective_add(
        agreement=agreement,
        description="Deliver online-safety workshops",
        measure="sessions delivered",
        target_on=agreement.ends_on,
        by=by,
    )
    for party in agreement.parties.all():
        services.responsibility_add(
            agreement=agreement,
            party=party,
            kind=ResponsibilityKind.ROLE,
            description=f"Duties of {party.organization.name}",
            by=by,
        )
    lead = agreement.parties.get(role="lead_agency")
    services.responsibility_add(
        agreement=agreement,
        party=lead,
        kind=ResponsibilityKind.SUPERVISION,
        description="Officers report to the Community Programs Sergeant.",
        by=by,
    )
    services.data_term_add(
        agreement=agreement,
        category=DataCategory.DIRECTORY,
        direction=DataDirection.SCHOOL_TO_AGENCY,
        purpose="Workshop rosters",
        lawful_basis=LawfulBasis.DIRECTORY,
        retention_days=365,
        by=by,
    )


def coordinator_of(world, party):
    return {
        world.agency.pk: world.agency_coordinator,
        world.school_a.pk: world.coordinator_a,
        world.school_b.pk: world.coordinator_b,
    }[party.organization_id]


def signed(world, agreement=None) -> Agreement:
    """Submitted, and signed by every party: active."""
    agreement = agreement or draft(world)
    services.agreement_submit(agreement=agreement, by=world.agency_coordinator)
    for party in agreement.parties.all():
        services.agreement_sign(
            agreement=agreement, party=party, by=coordinator_of(world, party), signer_title="Coordinator"
        )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    return agreement


def active(world, **kwargs) -> Agreement:
    return signed(world, draft(world, **kwargs))


def a_date(days):
    return date.today() + timedelta(days=days)
