"""The internships part of the demo world: every step of the pipeline, a minor waiting for a
guardian's consent, an adult intern part-way through a placement, mentors' clearances (one in
its renewal window), all made through the services and loaded once."""

from datetime import timedelta
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from internships import rules, services
from internships.enums import (
    ApplicationStatus,
    CheckInStatus,
    ConsentStatus,
    HoursStatus,
    PlacementStatus,
    PostingStatus,
)
from internships.models import (
    Application,
    ApplicationTransition,
    Clearance,
    ClearanceKind,
    GuardianConsent,
    Placement,
    Posting,
    StudentRecordAccess,
)
from notifications.models import OutboundMessage
from partnerships.enums import PartyRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", "--if-empty", verbosity=0)


def test_demo_internships_load_once(demo):
    counts = (Posting.objects.count(), Application.objects.count(), ApplicationTransition.objects.count())
    assert counts[0] >= 3
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert (Posting.objects.count(), Application.objects.count(), ApplicationTransition.objects.count()) == counts


def test_demo_postings_sit_under_both_agreements_with_an_agency_party(demo):
    titles = set(Posting.objects.values_list("agreement__title", flat=True))
    assert titles == {
        "Riverside PD – State University Internship Agreement",
        "Riverside PD – RUSD Prevention Education MOU",
    }
    for posting in Posting.objects.select_related("agency", "agreement"):
        assert posting.agreement.parties.filter(organization=posting.agency, role=PartyRole.LEAD_AGENCY).exists(), (
            posting
        )
        parties = set(posting.agreement.parties.values_list("organization", flat=True))
        assert set(posting.institutions.values_list("pk", flat=True)) <= parties, posting
    assert {PostingStatus.OPEN, PostingStatus.CLOSED, PostingStatus.DRAFT} <= set(
        Posting.objects.values_list("status", flat=True)
    )


def test_demo_applications_are_at_every_step_each_reached_through_the_pipeline(demo):
    assert set(Application.objects.values_list("status", flat=True)) == set(ApplicationStatus.values)
    for application in Application.objects.prefetch_related("transitions"):
        steps = list(application.transitions.all())
        assert steps[0].to_status == ApplicationStatus.DRAFT
        assert steps[-1].to_status == application.status
        assert all(a.to_status == b.from_status for a, b in pairwise(steps))


def test_demo_students_have_ages_and_levels(demo):
    minor = User.objects.get(email="student.minor@demo.test")
    senior = User.objects.get(email="student.senior@demo.test")
    today = timezone.localdate()
    assert rules.is_minor_on(minor, today + timedelta(days=60))
    assert not rules.is_minor_on(senior, today)
    levels = dict(Membership.objects.filter(role="student").values_list("user__email", "grade_level"))
    assert levels["student.minor@demo.test"] == "11"
    assert levels["student.senior@demo.test"] == "12"
    assert levels["student.university@demo.test"] == "university"
    assert all(levels.values())


def test_demo_minor_accepted_and_waits_for_the_guardian(demo):
    placement = Placement.objects.get(student__email="student.minor@demo.test")
    assert placement.application.status == ApplicationStatus.ACCEPTED
    assert placement.needs_consent
    assert placement.status == PlacementStatus.PENDING
    consent = GuardianConsent.objects.get(placement=placement)
    assert consent.status == ConsentStatus.PENDING
    assert consent.guardian_name
    assert consent.token_hash
    email = OutboundMessage.objects.get(to_email=consent.guardian_email)
    assert "/consent/" in email.body_text


def test_demo_adult_placement_runs_with_hours_and_check_ins(demo):
    placement = Placement.objects.get(student__email="student.university@demo.test")
    today = rules.today_at(placement.posting.agency)
    assert placement.status == PlacementStatus.ACTIVE
    assert placement.mentor.email == "officer.rpd@demo.test"
    assert placement.start_date < today < placement.end_date
    hours = set(placement.hours.values_list("status", flat=True))
    assert hours == {HoursStatus.APPROVED, HoursStatus.SUBMITTED, HoursStatus.RETURNED}
    assert all(placement.start_date <= h.day <= today for h in placement.hours.all())
    assert not placement.hours.filter(status=HoursStatus.APPROVED).exclude(reviewed_by=placement.mentor).exists()
    check_ins = list(placement.check_ins.values_list("status", flat=True))
    assert check_ins.count(CheckInStatus.MISSED) == 1
    assert {CheckInStatus.HELD, CheckInStatus.SCHEDULED} <= set(check_ins)
    assert placement.check_ins.filter(status=CheckInStatus.SCHEDULED, due_on__gte=today).exists()


def test_demo_clearances_clear_the_mentors_and_one_is_in_its_renewal_window(demo):
    kinds = ClearanceKind.objects.filter(agency__name="Riverside Police Department")
    assert kinds.count() == 3
    for placement in Placement.objects.select_related("posting__agency", "mentor"):
        check = services.mentor_check(
            placement.mentor, placement.posting.agency, placement.start_date, placement.end_date
        )
        assert check.blocks == [], placement
    soon = timezone.localdate() + services.CLEARANCE_RENEWAL_WINDOW
    expiring = Clearance.objects.filter(expires_on__lte=soon)
    assert [c.officer.email for c in expiring] == ["officer2.rpd@demo.test"]
    assert services.send_clearance_warnings() == 1
    assert OutboundMessage.objects.filter(
        to_email="officer2.rpd@demo.test", subject__startswith="Clearance expiring"
    ).exists()


def test_demo_internships_render_in_the_admin_without_secrets(demo, client):
    """The admin is where the demo is inspected: every page renders, the consent's token hash
    never appears, and the recorded history cannot be changed."""
    client.force_login(User.objects.get(email="admin@demo.test"))
    consent = GuardianConsent.objects.get(status=ConsentStatus.PENDING)
    page = client.get(reverse("admin:internships_guardianconsent_change", args=[consent.pk]))
    assert page.status_code == 200
    assert consent.token_hash not in page.content.decode()
    placement = Placement.objects.get(student__email="student.minor@demo.test")
    page = client.get(reverse("admin:internships_placement_change", args=[placement.pk]))
    assert page.status_code == 200
    assert consent.token_hash not in page.content.decode()

    step = ApplicationTransition.objects.first()
    url = reverse("admin:internships_applicationtransition_change", args=[step.pk])
    assert client.get(url).status_code == 200
    before = (step.to_status, step.note)
    client.post(url, {"to_status": "rejected", "note": "edited"})
    step.refresh_from_db()
    assert (step.to_status, step.note) == before
    assert client.get(reverse("admin:internships_applicationtransition_add")).status_code == 403
    delete = reverse("admin:internships_applicationtransition_delete", args=[step.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ApplicationTransition.objects.filter(pk=step.pk).exists()
    access = StudentRecordAccess.objects.first()
    url = reverse("admin:internships_studentrecordaccess_delete", args=[access.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert StudentRecordAccess.objects.filter(pk=access.pk).exists()
