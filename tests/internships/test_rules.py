"""Every internships rule of DESIGN.md, each alone, through the services."""

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.enums import GradeLevel, Role
from accounts.errors import ConflictError, DomainError
from internships import rules, services
from internships.enums import (
    ApplicationStatus,
    CheckInStatus,
    ConsentStatus,
    HoursStatus,
    OfferStatus,
    PlacementStatus,
    PostingStatus,
)
from internships.models import (
    Application,
    ApplicationTransition,
    CheckIn,
    GuardianConsent,
    Offer,
    Placement,
    Posting,
)
from notifications.models import OutboundMessage
from partnerships.enums import AgreementStatus
from partnerships.services import AgreementNotActive
from tests.factories import AgencyFactory, SchoolFactory, member
from tests.internships import factories as f
from tests.programs.factories import active_agreement

pytestmark = pytest.mark.django_db


def _posting_fields(**overrides):
    start = f.today() + timedelta(days=40)
    return {
        "title": "Records Unit Intern",
        "description": "Learn how records are kept.",
        "location": "HQ",
        "start_date": start,
        "end_date": start + timedelta(days=60),
        "hours_per_week": 8,
        "required_hours": 60,
        "slots": 2,
        "apply_by": start - timedelta(days=7),
        **overrides,
    }


# Postings.


def test_posting_only_under_an_active_agreement(world):
    agreement = active_agreement(world.agency, world.school_a, status=AgreementStatus.IN_REVIEW)
    with pytest.raises(AgreementNotActive):
        services.create_posting(
            agreement=agreement, agency=world.agency, by=world.agency_coordinator, **_posting_fields()
        )


def test_posting_only_by_a_coordinator_of_an_agency_party(world):
    agreement = active_agreement(world.agency, world.school_a)
    other_agency = AgencyFactory()
    with pytest.raises(DomainError):
        services.create_posting(agreement=agreement, agency=world.agency, by=world.officer, **_posting_fields())
    with pytest.raises(DomainError):
        services.create_posting(
            agreement=agreement, agency=other_agency, by=member(other_agency, Role.COORDINATOR), **_posting_fields()
        )


def test_posting_is_open_to_the_agreements_institutions_by_default(world):
    agreement = active_agreement(world.agency, world.school_a, world.school_b)
    posting = services.create_posting(
        agreement=agreement, agency=world.agency, by=world.agency_coordinator, **_posting_fields()
    )
    assert set(posting.institutions.all()) == {world.school_a, world.school_b}
    assert posting.status == PostingStatus.DRAFT
    with pytest.raises(DomainError) as refused:
        services.create_posting(
            agreement=agreement,
            agency=world.agency,
            by=world.agency_coordinator,
            institutions=[SchoolFactory()],
            **_posting_fields(),
        )
    assert refused.value.field == "institutions"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_date": f.today() + timedelta(days=39)}, "end_date"),
        ({"apply_by": f.today() + timedelta(days=41)}, "apply_by"),
        ({"location": "", "is_remote": False}, "location"),
        ({"hours_per_week": 41}, "hours_per_week"),
        ({"grade_levels": ["13"]}, "grade_levels"),
    ],
)
def test_posting_shape_is_checked_and_nothing_is_saved(world, overrides, field):
    agreement = active_agreement(world.agency, world.school_a)
    with pytest.raises(DomainError) as refused:
        services.create_posting(
            agreement=agreement, agency=world.agency, by=world.agency_coordinator, **_posting_fields(**overrides)
        )
    assert refused.value.field == field
    assert not agreement.postings.exists()


def test_places_cannot_drop_below_accepted_offers_and_a_full_posting_closes(world):
    posting = f.world_posting(world, slots=2)
    for _ in range(2):
        f.application(posting, f.make_student(world.school_a), stage=ApplicationStatus.ACCEPTED)
    posting.refresh_from_db()
    assert posting.status == PostingStatus.CLOSED
    with pytest.raises(DomainError) as refused:
        services.update_posting(posting=posting, by=world.agency_coordinator, slots=1)
    assert refused.value.field == "slots"


def test_postings_close_after_the_apply_by_date_in_the_agencys_time_zone(world):
    posting = f.world_posting(world)
    world.agency.time_zone = "Pacific/Honolulu"
    world.agency.save()
    # 09:00 UTC on the day after apply-by is still the apply-by day in Honolulu (UTC-10).
    morning = datetime.combine(posting.apply_by + timedelta(days=1), datetime.min.time(), tzinfo=timezone.UTC)
    with time_machine.travel(morning + timedelta(hours=9), tick=False):
        assert services.close_due_postings() == 0
    with time_machine.travel(morning + timedelta(hours=11), tick=False):
        assert services.close_due_postings() == 1
    posting.refresh_from_db()
    assert posting.status == PostingStatus.CLOSED


# Eligibility and applying.


def test_one_application_per_student_per_posting(world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    f.application(posting, student)
    with pytest.raises(ConflictError) as refused:
        f.application(posting, student)
    assert "already applied" in refused.value.message
    assert Application.objects.filter(posting=posting, student=student).count() == 1


def test_the_database_refuses_a_second_application_too(world):
    posting = f.world_posting(world)
    first = f.application(posting, f.make_student(world.school_a))
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            posting=posting,
            agency=posting.agency,
            student=first.student,
            institution=world.school_a,
            statement="x",
            availability="y",
        )


def test_an_application_carries_its_postings_agency_which_stays_fixed(world, client):
    """The agency's pipeline is read by the application's own agency (Application.agency): it is
    the posting's, and the admin cannot move a posting to another agency."""
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a))
    assert application.agency_id == posting.agency_id == world.agency.pk
    client.force_login(world.admin)
    change = client.get(reverse("admin:internships_posting_change", args=[posting.pk]))
    assert change.status_code == 200
    assert "agency" not in change.context["adminform"].form.fields
    assert world.agency.name in change.content.decode()
    assert "agency" in client.get(reverse("admin:internships_posting_add")).context["adminform"].form.fields


@pytest.mark.postgres
def test_the_database_holds_an_applications_agency_to_its_postings(world):
    posting = f.world_posting(world)
    first = f.application(posting, f.make_student(world.school_a))
    other = AgencyFactory()
    with pytest.raises(IntegrityError, match="agency_of_posting"), transaction.atomic():
        Application.objects.create(
            posting=posting,
            agency=other,
            student=f.make_student(world.school_a),
            institution=world.school_a,
            statement="x",
            availability="y",
        )
    with pytest.raises(IntegrityError, match="agency_of_posting"), transaction.atomic():
        Posting.objects.filter(pk=posting.pk).update(agency=other)
    with pytest.raises(IntegrityError, match="agency_of_posting"), transaction.atomic():
        Application.objects.filter(pk=first.pk).update(agency=other)
    first.refresh_from_db()
    assert (first.agency_id, Posting.objects.get(pk=posting.pk).agency_id) == (world.agency.pk, world.agency.pk)


def test_minimum_age_is_computed_on_the_start_date(world):
    posting = f.world_posting(world, min_age=16)
    start = posting.start_date
    turns_16_on_start = f.make_student(world.school_a, birth_date=start.replace(year=start.year - 16))
    turns_16_day_after = f.make_student(
        world.school_a, birth_date=start.replace(year=start.year - 16) + timedelta(days=1)
    )
    assert rules.eligibility_problems(turns_16_on_start, posting) == []
    problems = rules.eligibility_problems(turns_16_day_after, posting)
    assert [p.code for p in problems] == ["too_young"]
    assert start.isoformat() in problems[0].message
    with pytest.raises(DomainError, match="at least 16"):
        f.application(posting, turns_16_day_after)


@pytest.mark.parametrize(
    ("case", "code"),
    [("other_school", "institution"), ("grade", "grade"), ("apply_by", "apply_by_passed"), ("closed", "closed")],
)
def test_ineligible_students_are_told_why(world, case, code):
    posting = f.world_posting(world, grade_levels=[GradeLevel.GRADE_12])
    student = f.make_student(world.school_a, grade=GradeLevel.GRADE_12)
    if case == "other_school":
        student = f.make_student(world.school_b, grade=GradeLevel.GRADE_12)
    elif case == "grade":
        student = f.make_student(world.school_a, grade=GradeLevel.GRADE_10)
    elif case == "closed":
        posting.status = PostingStatus.CLOSED
        posting.save()
    moment = timezone.now()
    if case == "apply_by":
        moment = datetime.combine(posting.apply_by + timedelta(days=2), datetime.min.time(), tzinfo=timezone.UTC)
    with time_machine.travel(moment, tick=False):
        assert [p.code for p in rules.eligibility_problems(student, posting)] == [code]
        with pytest.raises(DomainError):
            f.application(posting, student)
    assert not Application.objects.filter(student=student).exists()


def test_university_students_match_the_university_level(world):
    university = SchoolFactory(kind="university")
    agreement = active_agreement(world.agency, university)
    posting = f.posting(world.agency, university, agreement=agreement, grade_levels=[GradeLevel.UNIVERSITY])
    student = f.make_student(university, grade="")
    assert rules.eligibility_problems(student, posting) == []


def test_html_renamed_pdf_and_oversize_resumes_are_refused_and_nothing_is_stored(world, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = tmp_path
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    for upload in (
        f.pdf("cv.pdf", b"<html><script>alert(1)</script></html>"),
        f.pdf("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),
    ):
        with pytest.raises(DomainError) as refused:
            services.apply(posting=posting, student=student, statement="s", availability="a", resume=upload)
        assert refused.value.field == "resume"
    assert not Application.objects.exists()
    assert not any(tmp_path.rglob("*.pdf"))


# The pipeline.


def test_every_transition_is_recorded_with_who_and_when(world):
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a), stage=ApplicationStatus.OFFERED)
    steps = list(ApplicationTransition.objects.filter(application=application).values_list("from_status", "to_status"))
    assert steps == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "offered"),
    ]
    reviewer = f.reviewer_of(posting)
    assert ApplicationTransition.objects.filter(application=application, to_status="offered", by=reviewer).exists()


def test_transitions_outside_the_table_are_refused(world):
    posting = f.world_posting(world)
    submitted = f.application(posting, f.make_student(world.school_a))
    with pytest.raises(DomainError, match="cannot become"):
        services.make_offer(application=submitted, by=world.agency_coordinator)
    accepted = f.application(f.world_posting(world), f.make_student(world.school_a), stage=ApplicationStatus.ACCEPTED)
    with pytest.raises(DomainError):
        services.withdraw(application=accepted, by=accepted.student)
    with pytest.raises(DomainError):
        services.reject(application=accepted, by=world.agency_coordinator, reason="filled")


def test_only_reviewers_move_the_pipeline(world):
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a))
    for outsider in (world.officer, world.staff_a, world.coordinator_b, application.student):
        with pytest.raises(DomainError):
            services.start_review(application=application, by=outsider)
    services.start_review(application=application, by=world.coordinator_a)  # the student's school coordinator


def test_at_most_one_live_offer_per_application(world):
    application = f.application(
        f.world_posting(world), f.make_student(world.school_a), stage=ApplicationStatus.UNDER_REVIEW
    )
    services.make_offer(application=application, by=world.agency_coordinator)
    application.status = ApplicationStatus.UNDER_REVIEW  # a stale screen tries again
    with pytest.raises(ConflictError):
        services.make_offer(application=application, by=world.agency_coordinator)
    assert Offer.objects.filter(application=application, status=OfferStatus.LIVE).count() == 1


def test_an_expired_offer_cannot_be_accepted_and_returns_to_review(world):
    application = f.application(f.world_posting(world), f.make_student(world.school_a), stage=ApplicationStatus.OFFERED)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        with pytest.raises(DomainError, match="expired"):
            services.accept_offer(application=application, by=application.student)
        assert services.expire_offers() == 1
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW


def test_rejection_needs_a_listed_reason_and_a_note_for_other(world):
    application = f.application(f.world_posting(world), f.make_student(world.school_a))
    with pytest.raises(DomainError) as refused:
        services.reject(application=application, by=world.agency_coordinator, reason="because")
    assert refused.value.field == "reason"
    with pytest.raises(DomainError) as refused:
        services.reject(application=application, by=world.agency_coordinator, reason="other")
    assert refused.value.field == "note"
    services.reject(application=application, by=world.agency_coordinator, reason="filled")
    notice = OutboundMessage.objects.get(dedupe_key=f"internships:rejected:{application.pk}")
    assert "All places have been filled" in notice.body_text


def test_interview_invitation_carries_a_calendar_that_keeps_its_uid(world):
    application = f.application(
        f.world_posting(world), f.make_student(world.school_a), stage=ApplicationStatus.UNDER_REVIEW
    )
    first = services.schedule_interview(
        application=application,
        by=world.agency_coordinator,
        starts_at=timezone.now() + timedelta(days=2),
        location="HQ",
    )
    application.refresh_from_db()
    again = services.schedule_interview(
        application=application,
        by=world.agency_coordinator,
        starts_at=timezone.now() + timedelta(days=3),
        location="HQ",
    )
    assert again.pk == first.pk and again.sequence == 1
    invites = OutboundMessage.objects.filter(dedupe_key__startswith=f"internships:interview:{first.pk}:")
    assert invites.count() == 2
    assert all(str(first.uid) in m.ics_content for m in invites)
    assert {"SEQUENCE:0", "SEQUENCE:1"} <= {line for m in invites for line in m.ics_content.split("\r\n")}


# Guardian consent.


def _minor_placement(world, *, consent=None, mentor=True, **posting_fields):
    posting = f.world_posting(world, **posting_fields)
    minor = f.make_student(world.school_a, birth_date=f.minor_birth_date(posting.start_date))
    officer = f.cleared_officer(world.agency) if mentor else None
    return f.placement(posting, minor, mentor=officer, consent=consent)


def test_consent_is_needed_under_18_on_the_start_date(world):
    posting = f.world_posting(world, min_age=None)
    start = posting.start_date
    turns_18_on_start = f.make_student(world.school_a, birth_date=start.replace(year=start.year - 18))
    turns_18_day_after = f.make_student(world.school_a, birth_date=start.replace(year=start.year - 18) + timedelta(1))
    adult = f.placement(posting, turns_18_on_start, mentor=f.cleared_officer(world.agency))
    minor = f.placement(posting, turns_18_day_after, mentor=f.cleared_officer(world.agency))
    assert (adult.needs_consent, adult.status) == (False, PlacementStatus.ACTIVE)
    assert (minor.needs_consent, minor.status) == (True, PlacementStatus.PENDING)
    assert minor.consents.get().status == ConsentStatus.AWAITING_GUARDIAN


def test_placement_never_active_without_granted_consent(world):
    placement = _minor_placement(world, consent=ConsentStatus.PENDING)
    assert placement.status == PlacementStatus.PENDING
    with pytest.raises(DomainError, match="guardian"):
        services.activate_placement(placement=placement, by=world.agency_coordinator)
    token = f.consent_token_from_outbox("guardian@example.test")
    services.decide_consent(token=token, grant=False, signed_name="Pat Guardian")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.PENDING


def test_granting_activates_and_revoking_suspends(world):
    placement = _minor_placement(world, consent=ConsentStatus.PENDING)
    token = f.consent_token_from_outbox("guardian@example.test")
    consent = services.decide_consent(token=token, grant=True, signed_name="Pat Guardian")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ACTIVE
    services.revoke_consent(consent=consent, by=world.agency_coordinator, note="Guardian phoned the school.")
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.SUSPENDED
    with pytest.raises(DomainError, match="consent"):
        services.resume_placement(placement=placement, by=world.agency_coordinator)


def test_consent_link_is_single_use_hashed_and_expires(world):
    placement = _minor_placement(world, consent=ConsentStatus.PENDING)
    token = f.consent_token_from_outbox("guardian@example.test")
    assert len(token) >= 43  # 32 random bytes: 256 bits
    consent = placement.consents.get()
    assert consent.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not GuardianConsent.objects.filter(token_hash=token).exists()
    services.decide_consent(token=token, grant=True, signed_name="Pat Guardian")
    with pytest.raises(DomainError, match="already been used"):
        services.decide_consent(token=token, grant=False, signed_name="Pat Guardian")
    other = _minor_placement(world, consent=ConsentStatus.PENDING)
    stale = f.consent_token_from_outbox("guardian@example.test")
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert services.consent_for_token(stale) is None
        with pytest.raises(DomainError):
            services.decide_consent(token=stale, grant=True, signed_name="Pat Guardian")
    assert other.consents.get().status == ConsentStatus.PENDING


def test_paper_consent_needs_a_pdf_scan_and_activates(world):
    placement = _minor_placement(world)
    with pytest.raises(DomainError) as refused:
        services.record_paper_consent(
            placement=placement,
            by=world.agency_coordinator,
            granted=True,
            guardian_name="Pat",
            scan=f.pdf("scan.pdf", b"GIF89a"),
        )
    assert refused.value.field == "scan"
    services.record_paper_consent(
        placement=placement, by=world.agency_coordinator, granted=True, guardian_name="Pat", scan=f.pdf()
    )
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.ACTIVE
    assert placement.consents.get().method == "paper"


def test_the_guardian_email_must_not_be_the_students(world):
    placement = _minor_placement(world)
    consent = placement.consents.get()
    with pytest.raises(DomainError) as refused:
        services.name_guardian(consent=consent, by=placement.student, name="Me", email=placement.student.email)
    assert refused.value.field == "guardian_email"


# Mentors and clearances.


def test_mentor_must_be_an_officer_of_the_postings_agency(world):
    placement = f.placement(f.world_posting(world), f.make_student(world.school_a))
    other_agency = AgencyFactory()
    stranger = f.cleared_officer(other_agency)
    with pytest.raises(DomainError) as refused:
        services.assign_mentor(placement=placement, mentor=stranger, by=world.agency_coordinator)
    assert refused.value.field == "mentor"
    with pytest.raises(DomainError):
        services.assign_mentor(placement=placement, mentor=world.agency_coordinator, by=world.agency_coordinator)


def test_every_required_clearance_must_cover_every_day_of_the_placement(world):
    placement = f.placement(f.world_posting(world), f.make_student(world.school_a))
    f.clearance_kinds(world.agency, "State police check", "Child-abuse clearance", "FBI fingerprints")
    officer = member(world.agency, Role.OFFICER)
    f.clear(officer, world.agency, until=placement.end_date - timedelta(days=1))  # all expire mid-placement
    with pytest.raises(DomainError, match="before the placement ends"):
        services.assign_mentor(placement=placement, mentor=officer, by=world.agency_coordinator)
    f.clear(officer, world.agency, until=placement.end_date)  # renewed: valid through the last day
    placement, warnings = services.assign_mentor(placement=placement, mentor=officer, by=world.agency_coordinator)
    assert placement.mentor == officer
    assert len(warnings) == 0 or all("renew" in w for w in warnings)


def test_a_missing_required_clearance_blocks(world):
    placement = f.placement(f.world_posting(world), f.make_student(world.school_a))
    officer = f.cleared_officer(world.agency)
    services.add_clearance_kind(agency=world.agency, by=world.agency_coordinator, name="FBI fingerprints")
    with pytest.raises(DomainError, match="FBI fingerprints is missing"):
        services.assign_mentor(placement=placement, mentor=officer, by=world.agency_coordinator)


def test_a_clearance_expiring_within_60_days_warns(world):
    posting = f.world_posting(world, start_date=f.today() + timedelta(days=15))
    placement = f.placement(posting, f.make_student(world.school_a))
    officer = member(world.agency, Role.OFFICER)
    f.clear(officer, world.agency, until=placement.end_date + timedelta(days=5))  # ~110 days away: no warning
    _, warnings = services.assign_mentor(placement=placement, mentor=officer, by=world.agency_coordinator)
    assert warnings == []
    short = f.placement(
        f.world_posting(world, start_date=f.today() + timedelta(days=12), end_date=f.today() + timedelta(days=40)),
        f.make_student(world.school_a),
    )
    _, warnings = services.assign_mentor(placement=short, mentor=officer, by=world.agency_coordinator)
    assert warnings == []
    soon = member(world.agency, Role.OFFICER)
    f.clear(soon, world.agency, until=f.today() + timedelta(days=45))
    _, warnings = services.assign_mentor(placement=short, mentor=soon, by=world.agency_coordinator)
    assert warnings and all("renew" in w for w in warnings)


def test_an_expired_clearance_blocks_mentoring_work(world):
    placement = f.started(f.active_placement(f.world_posting(world), f.make_student(world.school_a)))
    entry, _ = services.log_hours(
        placement=placement, by=placement.student, day=f.today() - timedelta(days=1), hours=3, activity="Patrol"
    )
    placement.mentor.clearances.update(expires_on=f.today() - timedelta(days=1), issued_on=f.today() - timedelta(400))
    with pytest.raises(DomainError, match="clearance"):
        services.approve_hours(entry=entry, by=placement.mentor)


# Hours.


def _running(world, **posting_fields):
    return f.started(f.active_placement(f.world_posting(world, **posting_fields), f.make_student(world.school_a)))


def _log(placement, day, hours, activity="Community event"):
    return services.log_hours(placement=placement, by=placement.student, day=day, hours=hours, activity=activity)


def test_no_hours_before_the_placement_is_active(world):
    placement = f.started(f.placement(f.world_posting(world), f.make_student(world.school_a)))
    assert placement.status == PlacementStatus.PENDING
    with pytest.raises(DomainError, match="active"):
        _log(placement, f.today() - timedelta(days=1), 2)


def test_no_hours_in_the_future(world):
    placement = _running(world)
    with pytest.raises(DomainError) as refused:
        _log(placement, f.today() + timedelta(days=1), 2)
    assert refused.value.field == "day"


def test_no_hours_outside_the_placement_dates(world):
    placement = _running(world)
    with pytest.raises(DomainError) as refused:
        _log(placement, placement.start_date - timedelta(days=1), 2)
    assert refused.value.field == "day"


def test_at_most_24_hours_a_day_in_total(world):
    placement = _running(world)
    day = f.today() - timedelta(days=2)
    _log(placement, day, 20)
    with pytest.raises(DomainError, match="24 hours") as refused:
        _log(placement, day, Decimal("4.25"))
    assert refused.value.field == "hours"
    _log(placement, day, 4)  # exactly 24 is allowed


def test_returned_hours_do_not_count_toward_the_day(world):
    placement = _running(world)
    day = f.today() - timedelta(days=2)
    entry, _ = _log(placement, day, 20)
    services.return_hours(entry=entry, by=placement.mentor, comment="That was a 10 hour day")
    _log(placement, day, 10)


def test_only_the_mentor_approves_and_approved_hours_are_locked(world):
    placement = _running(world)
    entry, _ = _log(placement, f.today() - timedelta(days=1), 3)
    for someone in (placement.student, world.agency_coordinator, world.coordinator_a, f.cleared_officer(world.agency)):
        with pytest.raises(DomainError):
            services.approve_hours(entry=entry, by=someone)
    services.approve_hours(entry=entry, by=placement.mentor)
    entry.refresh_from_db()
    assert entry.status == HoursStatus.APPROVED
    with pytest.raises(DomainError, match="locked"):
        services.correct_hours(entry=entry, by=placement.student, day=entry.day, hours=1, activity="x")
    with pytest.raises(DomainError):
        services.return_hours(entry=entry, by=placement.mentor, comment="no")


def test_young_paid_workers_are_warned_of_federal_limits_on_school_days(world):
    placement = _running(world, is_paid=True, min_age=None)
    monday = f.today() - timedelta(days=f.today().weekday() + 7)
    saturday = monday + timedelta(days=5)
    placement.student.birth_date = monday.replace(year=monday.year - 15)
    placement.student.save()
    _, warnings = _log(placement, monday, 4)
    assert any("school day" in w for w in warnings)
    _, warnings = _log(placement, saturday, 4)
    assert warnings == []
    adult = _running(world, is_paid=True)
    _, warnings = _log(adult, monday, 4)
    assert warnings == []


# Check-ins and the one-active-placement rule.


def test_check_ins_every_two_weeks_and_minors_need_an_observable_setting(world):
    placement = _minor_placement(world, consent=ConsentStatus.GRANTED)
    days = list(placement.check_ins.values_list("due_on", flat=True))
    assert days[0] == placement.start_date + timedelta(days=14)
    assert all((b - a).days == 14 for a, b in zip(days, days[1:], strict=False))
    placement = f.started(placement)
    check_in = placement.check_ins.order_by("due_on").first()
    with pytest.raises(DomainError) as refused:
        services.record_check_in(check_in=check_in, by=placement.mentor, held=True, notes="Went well")
    assert refused.value.field == "observable_setting"
    with pytest.raises(DomainError):
        services.record_check_in(
            check_in=check_in, by=world.agency_coordinator, held=True, notes="x", observable_setting=True
        )
    services.record_check_in(
        check_in=check_in, by=placement.mentor, held=True, notes="Went well", observable_setting=True
    )
    assert CheckIn.objects.get(pk=check_in.pk).status == CheckInStatus.HELD


def test_one_active_mentoring_relation_per_student(world):
    student = f.make_student(world.school_a)
    first = f.active_placement(f.world_posting(world), student)
    assert first.status == PlacementStatus.ACTIVE
    second_posting = f.world_posting(world)
    offered = f.application(second_posting, student, stage=ApplicationStatus.OFFERED)
    with pytest.raises(ConflictError, match="active placement"):
        services.accept_offer(application=offered, by=student)
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(
            application=offered,
            posting=second_posting,
            student=student,
            start_date=date(2030, 1, 1),
            end_date=date(2030, 2, 1),
            required_hours=10,
            needs_consent=False,
            status=PlacementStatus.ACTIVE,
        )


def test_each_side_evaluates_a_placement_once_at_the_end(world):
    placement = _running(world)
    with pytest.raises(DomainError, match="last two weeks"):
        services.submit_evaluation(placement=placement, by=placement.student, rating=5)
    services.end_placement(placement=placement, by=placement.mentor, completed=False, reason="Moved away")
    services.submit_evaluation(placement=placement, by=placement.student, rating=4, went_well="Patrol ride-along")
    services.submit_evaluation(placement=placement, by=placement.mentor, rating=5)
    with pytest.raises(ConflictError):
        services.submit_evaluation(placement=placement, by=placement.student, rating=3)
    with pytest.raises(DomainError):
        services.submit_evaluation(placement=placement, by=world.agency_coordinator, rating=3)


def test_the_school_calendar_decides_which_days_are_school_days(world):
    from programs.enums import BlackoutKind
    from programs.models import BlackoutPeriod, Term
    from programs.selectors import school_days

    monday = date(2026, 11, 23)
    friday = monday + timedelta(days=4)
    assert len(school_days(world.school_a, monday, monday + timedelta(days=6))) == 5  # no calendar: every weekday
    Term.objects.create(institution=world.school_a, name="Fall", starts_on=date(2026, 8, 20), ends_on=friday)
    BlackoutPeriod.objects.create(
        organization=world.school_a,
        name="Thanksgiving",
        kind=BlackoutKind.HOLIDAY,
        starts_on=monday + timedelta(3),
        ends_on=friday,
    )
    BlackoutPeriod.objects.create(
        organization=world.school_a, name="Testing", kind=BlackoutKind.TESTING, starts_on=monday, ends_on=monday
    )
    assert school_days(world.school_a, monday, monday + timedelta(days=13)) == {
        monday,
        monday + timedelta(1),
        monday + timedelta(2),
    }


def test_a_check_in_reported_missed_is_flagged_to_the_coordinators(world):
    placement = f.started(_running(world), days_ago=30)
    check_in = placement.check_ins.order_by("due_on").first()
    services.record_check_in(check_in=check_in, by=placement.mentor, held=False, notes="Student was ill")
    flagged = OutboundMessage.objects.filter(dedupe_key__startswith=f"internships:check_in_missed:{check_in.pk}:")
    assert {m.to_email for m in flagged} == {world.agency_coordinator.email, world.coordinator_a.email}
    assert CheckIn.objects.get(pk=check_in.pk).status == CheckInStatus.MISSED
