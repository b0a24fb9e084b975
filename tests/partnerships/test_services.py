from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import AuditEntry, User
from notifications.models import OutboundMessage
from partnerships import selectors, services
from partnerships.enums import AgreementStatus, DataCategory, DataDirection, LawfulBasis, ResponsibilityKind
from partnerships.models import Agreement, Signature
from tests.partnerships.factories import active, coordinator_of, draft, signed


def at_noon(day):
    """A clock at noon in the server's zone, so 'today' is the same day everywhere."""
    return timezone.make_aware(datetime.combine(day, time(12)))


def submit(world, agreement):
    return services.agreement_submit(agreement=agreement, by=world.agency_coordinator)


def sign_all(world, agreement):
    for party in agreement.parties.all():
        services.agreement_sign(
            agreement=agreement, party=party, by=coordinator_of(world, party), signer_title="Coordinator"
        )


# The completeness gate: each missing element alone blocks activation.


def _without_purpose(a, w):
    Agreement.objects.filter(pk=a.pk).update(purpose="")


def _without_objectives(a, w):
    a.objectives.all().delete()


def _without_school_responsibility(a, w):
    a.responsibilities.filter(party__role="institution").delete()


def _without_supervision(a, w):
    a.responsibilities.filter(kind=ResponsibilityKind.SUPERVISION).delete()


def _without_data_terms(a, w):
    a.data_terms.all().delete()


@pytest.mark.parametrize(
    ("remove", "code"),
    [
        (_without_purpose, "purpose"),
        (_without_objectives, "objectives"),
        (_without_school_responsibility, "responsibility"),
        (_without_supervision, "supervision"),
        (_without_data_terms, "data_terms"),
    ],
)
def test_activation_refused_while_any_checklist_item_is_missing(world, remove, code):
    agreement = draft(world)
    remove(agreement, world)
    submit(world, agreement)
    sign_all(world, agreement)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.IN_REVIEW  # the last signature did not activate it
    missing = services.missing_items(agreement)
    assert [m.code.split(":")[0] for m in missing] == [code]
    with pytest.raises(services.PartnershipError, match="Missing"):
        services.agreement_activate(agreement=agreement, by=world.agency_coordinator)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.IN_REVIEW


def test_activation_refused_without_every_signature(world):
    agreement = draft(world)
    submit(world, agreement)
    lead = agreement.parties.get(role="lead_agency")
    services.agreement_sign(agreement=agreement, party=lead, by=world.agency_coordinator, signer_title="Sgt.")
    with pytest.raises(services.PartnershipError, match="Lincoln High School must sign"):
        services.agreement_activate(agreement=agreement, by=world.agency_coordinator)


def test_complete_agreement_becomes_active_with_the_last_signature(world):
    agreement = signed(world)
    assert agreement.activated_at is not None
    assert agreement.review_on == services._add_months(timezone.localdate(), 24)
    assert OutboundMessage.objects.filter(dedupe_key__startswith=f"agreement-activated:{agreement.pk}").count() == 2


def test_signing_only_in_review(world):
    agreement = draft(world)
    party = agreement.parties.get(role="lead_agency")
    with pytest.raises(services.PartnershipError, match="in review"):
        services.agreement_sign(agreement=agreement, party=party, by=world.agency_coordinator, signer_title="Sgt.")
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("signer", ["coordinator_a", "coordinator_b", "officer", "staff_a", "admin"])
def test_only_a_coordinator_of_that_party_signs_for_it(world, signer):
    agreement = draft(world)
    submit(world, agreement)
    lead = agreement.parties.get(role="lead_agency")
    with pytest.raises(services.PartnershipError):
        services.agreement_sign(agreement=agreement, party=lead, by=getattr(world, signer), signer_title="X")
    assert Signature.objects.count() == 0


def test_a_party_signs_once(world):
    agreement = draft(world)
    submit(world, agreement)
    lead = agreement.parties.get(role="lead_agency")
    services.agreement_sign(agreement=agreement, party=lead, by=world.agency_coordinator, signer_title="Sgt.")
    with pytest.raises(services.ConflictError, match="already signed"):
        services.agreement_sign(agreement=agreement, party=lead, by=world.agency_coordinator, signer_title="Sgt.")
    assert Signature.objects.count() == 1


def test_signature_records_who_what_and_when(world):
    agreement = draft(world)
    submit(world, agreement)
    lead = agreement.parties.get(role="lead_agency")
    signature = services.agreement_sign(
        agreement=agreement, party=lead, by=world.agency_coordinator, signer_title="Sergeant"
    )
    assert (signature.signer_name, signature.signer_title, signature.signed_by) == (
        "Sgt. Agnes",
        "Sergeant",
        world.agency_coordinator,
    )
    assert signature.signed_at is not None


@pytest.mark.parametrize("state", ["in_review", "active"])
def test_signed_version_is_never_edited_in_place(world, state):
    agreement = draft(world)
    submit(world, agreement)
    if state == "active":
        sign_all(world, agreement)
    with pytest.raises(services.PartnershipError, match="never edited in place"):
        services.agreement_update(agreement=agreement, by=world.agency_coordinator, title="Changed")
    with pytest.raises(services.PartnershipError, match="never edited in place"):
        services.objective_add(
            agreement=agreement, description="x", measure="y", target_on=agreement.ends_on, by=world.agency_coordinator
        )
    with pytest.raises(services.PartnershipError, match="never edited in place"):
        services.child_remove(item=agreement.objectives.first(), by=world.agency_coordinator)
    agreement.refresh_from_db()
    assert agreement.title == "School Resource Officer MOU"
    assert agreement.objectives.count() == 1


def test_return_to_draft_drops_signatures(world):
    agreement = draft(world)
    submit(world, agreement)
    lead = agreement.parties.get(role="lead_agency")
    services.agreement_sign(agreement=agreement, party=lead, by=world.agency_coordinator, signer_title="Sgt.")
    services.agreement_return_to_draft(agreement=agreement, by=world.coordinator_a)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.signatures.count() == 0


def test_amend_makes_a_linked_draft_that_supersedes_on_activation(world):
    old = active(world)
    new = services.agreement_amend(agreement=old, by=world.coordinator_a)
    assert (new.version, new.previous_version, new.lineage, new.status) == (2, old, old.lineage, "draft")
    assert new.objectives.count() == old.objectives.count()
    assert new.responsibilities.count() == old.responsibilities.count()
    assert new.data_terms.count() == old.data_terms.count()
    assert new.signatures.count() == 0
    services.agreement_update(agreement=new, by=world.coordinator_a, purpose="A sharper purpose.")
    old.refresh_from_db()
    assert old.status == AgreementStatus.ACTIVE  # holds until the amendment is signed
    signed(world, new)
    old.refresh_from_db()
    assert old.status == AgreementStatus.SUPERSEDED
    assert old.purpose != "A sharper purpose."  # the old version stays readable as it was
    assert [(f, b, a) for f, b, a in selectors.compare(old, new)] == [("Purpose", old.purpose, "A sharper purpose.")]


def test_renew_starts_where_the_old_term_ends(world):
    old = active(world)
    new = services.agreement_renew(agreement=old, by=world.agency_coordinator)
    assert new.starts_on == old.ends_on
    assert new.ends_on - new.starts_on == old.ends_on - old.starts_on
    assert new.previous_version == old
    assert {"Term", "Objectives"} == {row[0] for row in selectors.compare(old, new)}


def test_only_one_newer_version_at_a_time(world):
    old = active(world)
    services.agreement_amend(agreement=old, by=world.coordinator_a)
    with pytest.raises(services.ConflictError):
        services.agreement_renew(agreement=old, by=world.coordinator_a)


def test_terminate_needs_a_reason_and_blocks_new_activity(world):
    agreement = active(world)
    with pytest.raises(services.PartnershipError, match="reason"):
        services.agreement_terminate(
            agreement=agreement, by=world.coordinator_a, reason=" ", effective_on=timezone.localdate()
        )
    services.agreement_terminate(
        agreement=agreement, by=world.coordinator_a, reason="Program ended", effective_on=timezone.localdate()
    )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.TERMINATED
    with pytest.raises(services.AgreementNotActive):
        services.ensure_allows_new_activity(agreement)


def test_termination_in_the_future_takes_effect_nightly(world):
    agreement = active(world)
    later = timezone.localdate() + timedelta(days=10)
    services.agreement_terminate(agreement=agreement, by=world.coordinator_a, reason="Budget", effective_on=later)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    assert services.end_due_agreements(today=later - timedelta(days=1)) == 0
    assert services.end_due_agreements(today=later) == 1
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.TERMINATED


def test_expired_agreements_block_scheduling_via_the_service_check(world):
    agreement = active(world)
    services.ensure_allows_new_activity(agreement)
    with time_machine.travel(at_noon(agreement.ends_on + timedelta(days=1))):
        assert services.end_due_agreements() == 1
        agreement.refresh_from_db()
        assert agreement.status == AgreementStatus.EXPIRED
        with pytest.raises(services.AgreementNotActive, match="expired"):
            services.ensure_allows_new_activity(agreement)


def test_draft_agreement_blocks_scheduling(world):
    with pytest.raises(services.AgreementNotActive, match="draft"):
        services.ensure_allows_new_activity(draft(world))


def test_expiry_reminders_once_per_window_even_when_run_twice(world):
    agreement = active(world)
    coordinators = 2  # one per party
    for days_left, expected_total in [(95, 0), (90, 1), (89, 1), (60, 2), (45, 2), (30, 3), (5, 3)]:
        with time_machine.travel(at_noon(agreement.ends_on - timedelta(days=days_left))):
            services.send_expiry_reminders()
            services.send_expiry_reminders()
        keys = OutboundMessage.objects.filter(dedupe_key__startswith=f"agreement-expiry:{agreement.pk}:")
        assert keys.count() == expected_total * coordinators, days_left


def test_review_reminders_once(world):
    agreement = active(world)
    with time_machine.travel(at_noon(agreement.review_on - timedelta(days=30))):
        services.send_review_reminders()
        services.send_review_reminders()
    assert OutboundMessage.objects.filter(dedupe_key__startswith=f"agreement-review:{agreement.pk}:").count() == 2


def test_meeting_reminder_once_and_again_after_a_move(world):
    agreement = active(world)
    starts = timezone.now() + timedelta(days=5)
    meeting = services.meeting_schedule(
        agreement=agreement, starts_at=starts, by=world.coordinator_a, attendees=[world.coordinator_a, world.officer]
    )
    assert services.send_meeting_reminders() == 0
    with time_machine.travel(starts - timedelta(days=1)):
        services.send_meeting_reminders()
        services.send_meeting_reminders()
    assert OutboundMessage.objects.filter(dedupe_key__startswith=f"meeting-reminder:{meeting.pk}:").count() == 2
    meeting.starts_at = starts + timedelta(days=7)
    meeting.save()
    with time_machine.travel(meeting.starts_at - timedelta(days=1)):
        services.send_meeting_reminders()
    assert OutboundMessage.objects.filter(dedupe_key__startswith=f"meeting-reminder:{meeting.pk}:").count() == 4


def test_overdue_action_items_nudge_their_owner_once(world):
    agreement = active(world)
    item = services.action_item_add(
        agreement=agreement,
        description="Share the roster template",
        owner=world.staff_a,
        due_on=timezone.localdate() + timedelta(days=3),
        by=world.coordinator_a,
    )
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        services.send_overdue_action_nudges()
        services.send_overdue_action_nudges()
    nudges = OutboundMessage.objects.filter(dedupe_key__startswith=f"action-overdue:{item.pk}:")
    assert list(nudges.values_list("to_email", flat=True)) == [world.staff_a.email]


def test_action_item_owner_must_belong_to_a_party(world):
    agreement = active(world)
    with pytest.raises(services.PartnershipError, match="owner"):
        services.action_item_add(
            agreement=agreement,
            description="x",
            owner=world.staff_b,
            due_on=timezone.localdate(),
            by=world.coordinator_a,
        )


def test_meeting_attendees_must_belong_to_the_parties(world):
    agreement = active(world)
    with pytest.raises(services.PartnershipError, match="Attendees"):
        services.meeting_schedule(
            agreement=agreement,
            starts_at=timezone.now() + timedelta(days=3),
            by=world.coordinator_a,
            attendees=[world.staff_b],
        )


# Bad input: field errors, no change.


def test_end_before_start_is_refused(world):
    today = timezone.localdate()
    with pytest.raises(services.PartnershipError) as error:
        services.agreement_create(
            title="x",
            lead_agency=world.agency,
            institutions=[world.school_a],
            starts_on=today,
            ends_on=today - timedelta(days=1),
            by=world.agency_coordinator,
        )
    assert error.value.field == "ends_on"
    assert Agreement.objects.count() == 0


def test_negative_funding_is_refused(world):
    agreement = draft(world)
    party = agreement.parties.first()
    with pytest.raises(services.PartnershipError) as error:
        services.funding_add(
            agreement=agreement,
            party=party,
            amount=Decimal("-5"),
            currency="usd",
            period_start=agreement.starts_on,
            period_end=agreement.ends_on,
            purpose="x",
            by=world.agency_coordinator,
        )
    assert error.value.field == "amount"
    assert agreement.funding.count() == 0


def test_a_party_of_another_agreement_is_refused(world):
    agreement = draft(world)
    other = draft(world, title="Other", institutions=[world.school_b])
    foreign = other.parties.get(role="institution")
    with pytest.raises(services.PartnershipError) as error:
        services.responsibility_add(
            agreement=agreement, party=foreign, kind="role", description="x", by=world.agency_coordinator
        )
    assert error.value.field == "party"


def test_officers_do_not_handle_school_discipline(world):
    agreement = draft(world)
    lead = agreement.parties.get(role="lead_agency")
    with pytest.raises(services.PartnershipError, match="discipline"):
        services.responsibility_add(
            agreement=agreement,
            party=lead,
            kind=ResponsibilityKind.DISCIPLINE,
            description="Officers discipline students",
            by=world.agency_coordinator,
        )


def test_duplicate_data_term_is_a_conflict(world):
    agreement = draft(world)
    with pytest.raises(services.ConflictError):
        services.data_term_add(
            agreement=agreement,
            category=DataCategory.DIRECTORY,
            direction=DataDirection.SCHOOL_TO_AGENCY,
            purpose="again",
            lawful_basis=LawfulBasis.DIRECTORY,
            retention_days=10,
            by=world.agency_coordinator,
        )


def test_only_party_coordinators_draft_and_change(world):
    with pytest.raises(services.PartnershipError):
        services.agreement_create(
            title="x",
            lead_agency=world.agency,
            institutions=[world.school_a],
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + timedelta(days=9),
            by=world.coordinator_b,
        )
    agreement = draft(world)
    with pytest.raises(services.PartnershipError):
        services.agreement_update(agreement=agreement, by=world.coordinator_b, title="Hijacked")
    with pytest.raises(services.PartnershipError):
        services.agreement_update(agreement=agreement, by=world.officer, title="Hijacked")


def test_pdf_upload_checked_by_content(world):
    agreement = active(world)
    fake = SimpleUploadedFile("signed.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    with pytest.raises(services.PartnershipError, match="PDF"):
        services.document_upload(agreement=agreement, uploaded_file=fake, by=world.coordinator_a)
    real = SimpleUploadedFile("../../etc/signed MOU.pdf", b"%PDF-1.7\n...", content_type="application/pdf")
    document = services.document_upload(agreement=agreement, uploaded_file=real, by=world.coordinator_a)
    assert document.original_name == "signed MOU.pdf"
    assert ".." not in document.file.name
    assert agreement.documents.count() == 1


def test_oversize_upload_is_refused(world, monkeypatch):
    monkeypatch.setattr(services, "MAX_DOCUMENT_BYTES", 10)
    agreement = active(world)
    big = SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * 20)
    with pytest.raises(services.PartnershipError, match="larger"):
        services.document_upload(agreement=agreement, uploaded_file=big, by=world.coordinator_a)
    assert agreement.documents.count() == 0


def test_every_transition_is_audited(world):
    agreement = active(world)
    actions = set(AuditEntry.objects.filter(target_id=str(agreement.pk)).values_list("action", flat=True))
    assert {"agreement.created", "agreement.in_review", "agreement.signed", "agreement.active"} <= actions


def test_health_figures_are_computed_in_one_query(world, django_assert_num_queries):
    agreement = active(world)
    services.action_item_add(
        agreement=agreement,
        description="late",
        owner=world.staff_a,
        due_on=timezone.localdate() - timedelta(days=1),
        by=world.coordinator_a,
    )
    services.action_item_add(
        agreement=agreement,
        description="soon",
        owner=world.staff_a,
        due_on=timezone.localdate() + timedelta(days=1),
        by=world.coordinator_a,
    )
    # Second rows in the other child tables, so that a join of them all would multiply counts.
    objective = agreement.objectives.first()
    objective.pk = None
    objective.save()
    term = agreement.data_terms.first()
    term.pk = None
    term.category = next(c for c in DataCategory if c != term.category)
    term.save()
    coordinator = User.objects.get(pk=world.coordinator_a.pk)  # nothing cached
    with django_assert_num_queries(2):  # the coordinator's memberships, then the list
        row = list(selectors.agreement_list_for(coordinator))[0]
    assert (row.party_count, row.signature_count, row.open_items, row.overdue_items) == (2, 2, 2, 1)
    # Each figure counts its own rows: none is multiplied by another table's.
    expected = (
        agreement.objectives.count(),
        agreement.data_terms.count(),
        agreement.responsibilities.filter(kind="supervision").count(),
        agreement.parties.filter(role="institution").count(),
    )
    assert expected == (2, 2, 1, 1)
    assert (row.objective_count, row.data_term_count, row.supervision_count, row.institution_count) == expected
