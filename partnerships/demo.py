"""Demo agreements, made through the same services as the pages: one active, one waiting for
a signature in review, one that expires within 30 days, with a meeting and action items."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from partnerships import services
from partnerships.enums import DataCategory, DataDirection, LawfulBasis, ResponsibilityKind


def _complete(agreement, *, by, lead_duties, school_duties, supervision):
    services.objective_add(
        agreement=agreement,
        description="Deliver at least 40 prevention workshops per school year",
        measure="workshops delivered",
        target_on=agreement.ends_on,
        by=by,
    )
    services.objective_add(
        agreement=agreement,
        description="Four in five students rate the workshops useful",
        measure="share of student survey answers of 4 or 5",
        target_on=agreement.ends_on,
        by=by,
    )
    for party in agreement.parties.select_related("organization"):
        duties = lead_duties if party.role == "lead_agency" else school_duties
        services.responsibility_add(
            agreement=agreement, party=party, kind=ResponsibilityKind.ROLE, description=duties, by=by
        )
    lead = agreement.parties.get(role="lead_agency")
    services.responsibility_add(
        agreement=agreement, party=lead, kind=ResponsibilityKind.SUPERVISION, description=supervision, by=by
    )
    for party in agreement.parties.exclude(role="lead_agency"):
        services.responsibility_add(
            agreement=agreement,
            party=party,
            kind=ResponsibilityKind.DISCIPLINE,
            description="School discipline stays with school administrators; officers are not involved in it.",
            by=by,
        )
    services.funding_add(
        agreement=agreement,
        party=lead,
        amount=Decimal("18000.00"),
        currency="USD",
        period_start=agreement.starts_on,
        period_end=agreement.ends_on,
        purpose="Officer time and workshop materials",
        by=by,
    )
    services.data_term_add(
        agreement=agreement,
        category=DataCategory.DIRECTORY,
        direction=DataDirection.SCHOOL_TO_AGENCY,
        purpose="Workshop rosters (names and grade levels only)",
        lawful_basis=LawfulBasis.DIRECTORY,
        retention_days=365,
        by=by,
    )


def _sign(agreement, signers):
    for party in agreement.parties.select_related("organization"):
        user, title = signers[party.organization_id]
        services.agreement_sign(agreement=agreement, party=party, by=user, signer_title=title)


def create(*, orgs, users):
    today = timezone.localdate()
    rpd, rusd, hcso, stateu = (
        users["coordinator.rpd@demo.test"],
        users["coordinator.rusd@demo.test"],
        (users["coordinator.hcso@demo.test"]),
        users["coordinator.stateu@demo.test"],
    )
    signers = {
        orgs["rpd"].pk: (rpd, "Community Programs Sergeant"),
        orgs["hcso"].pk: (hcso, "Youth Services Lieutenant"),
        orgs["rusd"].pk: (rusd, "Director of Student Services"),
        orgs["stateu"].pk: (stateu, "Career Center Director"),
        **{
            orgs[key].pk: (users[f"principal.{key}@demo.test"], "Principal")
            for key in ("lincoln", "washington", "jefferson")
        },
    }

    # 1. Active: the district's prevention-education MOU with Riverside PD.
    schools = services.agreement_create(
        title="Riverside PD – RUSD Prevention Education MOU",
        purpose="Officers deliver prevention workshops in district schools and build trust with students.",
        lead_agency=orgs["rpd"],
        institutions=[orgs["rusd"], orgs["lincoln"], orgs["washington"], orgs["jefferson"]],
        starts_on=today - timedelta(days=120),
        ends_on=today + timedelta(days=610),
        by=rpd,
    )
    _complete(
        schools,
        by=rpd,
        lead_duties="Schedules trained officers for workshops and keeps their certifications current.",
        school_duties="Books workshops, provides rooms and a staff member present in every session.",
        supervision="Officers report to the Community Programs Sergeant, not to school staff.",
    )
    services.agreement_submit(agreement=schools, by=rpd)
    _sign(schools, signers)
    meeting = services.meeting_schedule(
        agreement=schools,
        starts_at=timezone.now() + timedelta(days=9),
        location="RUSD district office, board room",
        agenda="Spring workshop calendar; survey results; officer assignments",
        attendees=[rpd, rusd],
        by=rpd,
    )
    services.action_item_add(
        agreement=schools,
        meeting=meeting,
        description="Send the spring testing windows to Riverside PD",
        owner=rusd,
        due_on=today + timedelta(days=7),
        by=rpd,
    )
    services.action_item_add(
        agreement=schools,
        description="Confirm two more officers certified for online-safety lessons",
        owner=rpd,
        due_on=today - timedelta(days=3),
        by=rusd,
    )

    # 2. In review: the sheriff's office has signed, the district has not yet.
    review = services.agreement_create(
        title="Harbor County SO – RUSD Conflict Resolution Pilot",
        purpose="Deputies co-teach conflict-resolution lessons in two middle-school grades.",
        lead_agency=orgs["hcso"],
        institutions=[orgs["rusd"]],
        starts_on=today + timedelta(days=30),
        ends_on=today + timedelta(days=30 + 365),
        by=hcso,
    )
    _complete(
        review,
        by=hcso,
        lead_duties="Provides two deputies trained in restorative practices.",
        school_duties="Selects classes and keeps a teacher in the room.",
        supervision="Deputies report to the Youth Services Lieutenant.",
    )
    services.agreement_submit(agreement=review, by=hcso)
    lead = review.parties.get(role="lead_agency")
    services.agreement_sign(agreement=review, party=lead, by=hcso, signer_title="Youth Services Lieutenant")

    # 3. Active and expiring within 30 days: the university internship agreement.
    expiring = services.agreement_create(
        title="Riverside PD – State University Internship Agreement",
        purpose="Criminal-justice students intern with Riverside PD units, mentored by officers.",
        lead_agency=orgs["rpd"],
        institutions=[orgs["stateu"]],
        starts_on=today - timedelta(days=700),
        ends_on=today + timedelta(days=25),
        by=stateu,
    )
    _complete(
        expiring,
        by=stateu,
        lead_duties="Places interns in units and names a cleared mentor for each.",
        school_duties="Checks eligibility and awards academic credit.",
        supervision="Interns and their mentors report to the Community Programs Sergeant.",
    )
    services.agreement_submit(agreement=expiring, by=stateu)
    _sign(expiring, signers)
