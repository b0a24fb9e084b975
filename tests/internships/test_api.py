"""The internships API: applying (with a résumé), eligibility, duplicates, the pipeline, places
under slots, consent status without secrets, the hours rules, who approves, what agency staff see
of a student and the record of their reads, strict filters, and bounded list queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.enums import GradeLevel, Role
from accounts.models import Membership
from internships import services
from internships.enums import (
    AccessPurpose,
    ApplicationStatus,
    ConsentStatus,
    HoursStatus,
    PlacementStatus,
    PostingStatus,
)
from internships.models import (
    Application,
    Clearance,
    GuardianConsent,
    HoursEntry,
    Placement,
    Posting,
    StudentRecordAccess,
)
from partnerships.enums import DataCategory, DataDirection, LawfulBasis
from partnerships.models import DataSharingTerm
from tests.factories import AgencyFactory, member
from tests.internships import factories as f

pytestmark = pytest.mark.django_db

STATEMENT = "I want to see how a records unit works."
AVAILABILITY = "Tuesday and Thursday afternoons"


@pytest.fixture
def storage(settings, tmp_path):
    """Uploads go to a fresh folder, so "nothing stored" can be checked on disk."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def posting(world):
    return f.world_posting(world, title="Records Unit Intern")


@pytest.fixture
def student(world):
    return f.make_student(world.school_a, full_name="Rosa Student", email="rosa.student@example.test")


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def _apply(client, student, posting, **extra):
    client.force_login(student)
    return client.post(
        "/api/v1/applications/",
        {"posting": posting.pk, "statement": STATEMENT, "availability": AVAILABILITY, **extra},
    )


def _stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def _share(agreement, *categories, direction=DataDirection.SCHOOL_TO_AGENCY):
    for category in categories:
        DataSharingTerm.objects.create(
            agreement=agreement,
            category=category,
            direction=direction,
            purpose="Running the internship.",
            lawful_basis=LawfulBasis.WRITTEN_CONSENT,
            retention_days=365,
        )


# --- applying ---------------------------------------------------------------------------------------


def test_apply_with_a_pdf_resume_as_multipart(client, world, posting, student, storage):
    response = _apply(client, student, posting, resume=f.pdf("My CV.pdf"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == ApplicationStatus.SUBMITTED
    assert body["resume_name"] == "My CV.pdf"
    assert body["resume_url"] == f"/applications/{body['id']}/resume/"
    application = Application.objects.get(pk=body["id"])
    assert application.student == student and application.institution == world.school_a
    with application.resume.open("rb") as stored:
        assert stored.read() == f.PDF
    assert len(_stored_files(storage)) == 1


def test_apply_as_a_draft_then_submit(client, posting, student):
    response = _apply(client, student, posting, submit="false")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == ApplicationStatus.DRAFT
    submitted = _post(client, f"/api/v1/applications/{response.json()['id']}/submit/")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == ApplicationStatus.SUBMITTED


@pytest.mark.parametrize(
    "resume",
    [
        pytest.param(f.pdf("cv.pdf", b"<html><body>not a pdf</body></html>"), id="html-renamed-pdf"),
        pytest.param(f.pdf("cv.pdf", f.PDF + b"0" * (5 * 1024 * 1024)), id="over-5-mb"),
    ],
)
def test_bad_resume_is_a_field_error_and_nothing_is_stored(client, posting, student, storage, resume):
    response = _apply(client, student, posting, resume=resume)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"resume"}
    assert not Application.objects.exists()
    assert _stored_files(storage) == []


def test_a_second_application_is_a_409_with_a_clear_message(client, posting, student):
    assert _apply(client, student, posting).status_code == 201
    response = _apply(client, student, posting)
    assert response.status_code == 409
    assert response.json() == {"detail": "You have already applied to this posting."}
    assert Application.objects.count() == 1


def test_too_young_on_the_start_date_is_refused_with_the_reason(client, world):
    posting = f.world_posting(world, min_age=16)
    sixteenth_birthday_on_start = posting.start_date.replace(year=posting.start_date.year - 16)
    day_after = f.make_student(world.school_a, birth_date=sixteenth_birthday_on_start + timedelta(days=1))
    on_the_day = f.make_student(world.school_a, birth_date=sixteenth_birthday_on_start)

    response = _apply(client, day_after, posting)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "at least 16" in detail and posting.start_date.isoformat() in detail
    assert not Application.objects.filter(student=day_after).exists()

    assert _apply(client, on_the_day, posting).status_code == 201


def test_only_students_apply_and_an_unseen_posting_is_a_field_error(client, world, posting):
    client.force_login(world.coordinator_a)  # sees the posting, is not a student
    response = _post(client, "/api/v1/applications/", {"posting": posting.pk, "statement": "x", "availability": "y"})
    assert response.status_code == 403
    elsewhere = f.posting(world.agency, world.school_b)
    response = _apply(client, f.make_student(world.school_a), elsewhere)
    assert response.status_code == 400 and "posting" in response.json()
    assert not Application.objects.exists()


# --- the pipeline -----------------------------------------------------------------------------------


def test_the_pipeline_through_the_api(client, world, student):
    agreement = f.posting(world.agency, world.school_a).agreement
    start = f.today() + timedelta(days=40)
    client.force_login(world.agency_coordinator)
    response = _post(
        client,
        "/api/v1/postings/",
        {
            "agreement": agreement.pk,
            "agency": world.agency.pk,
            "title": "Dispatch Intern",
            "description": "Shadow the dispatchers.",
            "location": "Dispatch Center",
            "start_date": str(start),
            "end_date": str(start + timedelta(days=60)),
            "hours_per_week": 8,
            "required_hours": 60,
            "slots": 2,
            "apply_by": str(start - timedelta(days=10)),
            "min_age": 16,
        },
    )
    assert response.status_code == 201, response.content
    posting_id = response.json()["id"]
    assert response.json()["status"] == PostingStatus.DRAFT
    assert response.json()["institutions"] == [world.school_a.pk]
    assert _post(client, f"/api/v1/postings/{posting_id}/publish/").json()["status"] == PostingStatus.OPEN

    response = _apply(client, student, Posting.objects.get(pk=posting_id))
    application_id = response.json()["id"]
    url = f"/api/v1/applications/{application_id}/"

    client.force_login(world.agency_coordinator)
    assert _post(client, url + "review/", {"note": "Strong statement."}).json()["status"] == "under_review"
    interview = _post(
        client,
        url + "interview/",
        {"starts_at": (timezone.now() + timedelta(days=3)).isoformat(), "location": "HQ room 2"},
    )
    assert interview.status_code == 200, interview.content
    assert interview.json()["location"] == "HQ room 2"
    offer = _post(client, url + "offer/", {"message": "Welcome."})
    assert offer.status_code == 201, offer.content

    client.force_login(student)
    assert client.get(url).json()["status"] == ApplicationStatus.OFFERED
    placement = _post(client, url + "accept/")
    assert placement.status_code == 201, placement.content
    assert placement.json()["status"] == PlacementStatus.PENDING
    assert placement.json()["consent_status"] is None  # an adult

    officer = f.cleared_officer(world.agency)
    client.force_login(world.agency_coordinator)
    assigned = _post(client, f"/api/v1/placements/{placement.json()['id']}/assign-mentor/", {"mentor": officer.pk})
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["status"] == PlacementStatus.ACTIVE
    assert assigned.json()["mentor"] == officer.pk and assigned.json()["warnings"] == []

    timeline = client.get(url).json()["transitions"]
    assert [(step["from_status"], step["to_status"]) for step in timeline] == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "interview"),
        ("interview", "offered"),
        ("offered", "accepted"),
    ]
    assert timeline[2]["by"] == world.agency_coordinator.pk and timeline[2]["note"] == "Strong statement."


def test_a_rejection_needs_a_listed_reason(client, world, posting, student):
    application = f.application(posting, student)
    client.force_login(world.coordinator_a)  # the school's coordinator reviews too
    url = f"/api/v1/applications/{application.pk}/reject/"
    assert _post(client, url, {"reason": "too_tall"}).status_code == 400
    assert _post(client, url, {"reason": "other"}).json() == {"note": ["Explain the reason in the note."]}
    response = _post(client, url, {"reason": "filled"})
    assert response.status_code == 200
    assert response.json()["status"] == ApplicationStatus.REJECTED
    assert response.json()["rejection_reason"] == "filled"


def test_accepted_offers_never_exceed_the_slots(client, world):
    posting = f.world_posting(world, slots=1)
    first, second = f.make_student(world.school_a), f.make_student(world.school_a)
    offered = [f.application(posting, s, stage=ApplicationStatus.OFFERED) for s in (first, second)]

    client.force_login(first)
    assert _post(client, f"/api/v1/applications/{offered[0].pk}/accept/").status_code == 201
    client.force_login(second)
    response = _post(client, f"/api/v1/applications/{offered[1].pk}/accept/")
    assert response.status_code == 409
    assert "filled" in response.json()["detail"]
    assert Placement.objects.count() == 1
    assert Application.objects.get(pk=offered[1].pk).status == ApplicationStatus.OFFERED
    assert client.get(f"/api/v1/postings/{posting.pk}/").json()["status"] == PostingStatus.CLOSED


def test_posting_rules_answer_on_the_field(client, world, posting):
    client.force_login(world.agency_coordinator)
    response = _patch(client, f"/api/v1/postings/{posting.pk}/", {"apply_by": str(posting.start_date + timedelta(1))})
    assert response.status_code == 400 and "apply_by" in response.json()
    hidden = f.posting(AgencyFactory(), world.school_b)
    response = _post(client, "/api/v1/postings/", {"agreement": hidden.agreement_id, "agency": world.agency.pk})
    assert response.status_code == 400 and "agreement" in response.json()
    posting.refresh_from_db()
    assert posting.apply_by < posting.start_date


# --- consent ----------------------------------------------------------------------------------------


def test_consent_status_exposes_no_token(client, world, posting):
    minor = f.make_student(world.school_a, birth_date=f.minor_birth_date())
    offered = f.application(posting, minor, stage=ApplicationStatus.OFFERED)
    client.force_login(minor)
    accepted = _post(
        client,
        f"/api/v1/applications/{offered.pk}/accept/",
        {"guardian_name": "Pat Guardian", "guardian_email": "pat@example.test"},
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["consent_status"] == ConsentStatus.PENDING
    consent = GuardianConsent.objects.get(placement_id=accepted.json()["id"])
    token = f.consent_token_from_outbox("pat@example.test")
    assert consent.token_hash

    expected_email = {
        minor: "pat@example.test",
        world.staff_a: "pat@example.test",
        world.coordinator_a: "pat@example.test",
        world.agency_coordinator: None,
    }
    for user, email in expected_email.items():
        client.force_login(user)
        for url in (f"/api/v1/consents/{consent.pk}/", f"/api/v1/consents/?placement={consent.placement_id}"):
            response = client.get(url)
            assert response.status_code == 200, (user, url)
            text = response.content.decode()
            assert token not in text and consent.token_hash not in text and "token" not in text
        detail = client.get(f"/api/v1/consents/{consent.pk}/").json()
        assert detail["status"] == ConsentStatus.PENDING and detail["has_scan"] is False
        assert detail["guardian_email"] == email, user

    # The placement cannot start before the guardian decides, and the decision is not an API call.
    placement = Placement.objects.get(pk=consent.placement_id)
    Placement.objects.filter(pk=placement.pk).update(mentor=f.cleared_officer(world.agency))
    response = _post(client, f"/api/v1/placements/{placement.pk}/activate/")
    assert response.status_code == 400 and "consent" in response.json()["detail"]
    assert _post(client, f"/api/v1/consents/{consent.pk}/grant/").status_code == 404


def test_the_school_names_the_guardian(client, world, posting):
    minor = f.make_student(world.school_a, birth_date=f.minor_birth_date())
    placement = f.placement(posting, minor)
    consent = GuardianConsent.objects.get(placement=placement)
    client.force_login(world.staff_a)
    url = f"/api/v1/consents/{consent.pk}/name-guardian/"
    refused = _post(client, url, {"guardian_name": "Pat", "guardian_email": minor.email})
    assert refused.status_code == 400 and "guardian_email" in refused.json()
    response = _post(client, url, {"guardian_name": "Pat Guardian", "guardian_email": "pat@example.test"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == ConsentStatus.PENDING
    assert f.consent_token_from_outbox("pat@example.test")


# --- placements and mentors ---------------------------------------------------------------------------


def test_assigning_a_mentor_reports_renewal_warnings(client, world, student):
    posting = f.world_posting(world, start_date=f.today() + timedelta(days=12), end_date=f.today() + timedelta(40))
    placement = f.placement(posting, student)
    soon = member(world.agency, Role.OFFICER)
    f.clear(soon, world.agency, until=f.today() + timedelta(days=45))
    client.force_login(world.agency_coordinator)
    response = _post(client, f"/api/v1/placements/{placement.pk}/assign-mentor/", {"mentor": soon.pk})
    assert response.status_code == 200, response.content
    assert response.json()["warnings"] and all("renew" in w for w in response.json()["warnings"])


def test_an_uncleared_mentor_is_a_field_error(client, world, posting, student):
    placement = f.placement(posting, student)
    f.clearance_kinds(world.agency)  # required of every mentor; world.officer holds none
    client.force_login(world.agency_coordinator)
    response = _post(client, f"/api/v1/placements/{placement.pk}/assign-mentor/", {"mentor": world.officer.pk})
    assert response.status_code == 400 and "mentor" in response.json()
    assert Placement.objects.get(pk=placement.pk).mentor is None


# --- hours ------------------------------------------------------------------------------------------


@pytest.fixture
def active(world, posting, student):
    return f.started(f.active_placement(posting, student, mentor=f.cleared_officer(world.agency)))


def _log(client, placement, day, hours="2", activity="Filed reports"):
    return _post(
        client,
        "/api/v1/hours/",
        {"placement": placement.pk, "day": str(day), "hours": hours, "activity": activity},
    )


def test_logging_hours_on_an_active_placement(client, active):
    client.force_login(active.student)
    response = _log(client, active, f.today() - timedelta(days=1), "2.5")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == HoursStatus.SUBMITTED
    assert response.json()["hours"] == "2.50" and response.json()["warnings"] == []
    detail = client.get(f"/api/v1/placements/{active.pk}/").json()
    assert (detail["approved_hours"], detail["pending_hours"]) == ("0.00", "2.50")


def test_each_placement_in_the_list_totals_only_its_own_hours(client, world, posting, active):
    other = f.started(f.active_placement(posting, f.make_student(world.school_a, full_name="Ada Student")))
    day = f.today() - timedelta(days=1)
    for placement, hours, status in [
        (active, "2.50", HoursStatus.APPROVED),
        (active, "1.25", HoursStatus.APPROVED),
        (active, "1.00", HoursStatus.SUBMITTED),
        (active, "3.00", HoursStatus.RETURNED),
        (other, "4.00", HoursStatus.SUBMITTED),
    ]:
        HoursEntry.objects.create(placement=placement, day=day, hours=hours, activity="Filed reports", status=status)
    client.force_login(member(world.agency, Role.COORDINATOR))
    rows = client.get("/api/v1/placements/").json()["results"]
    totals = {row["id"]: (row["approved_hours"], row["pending_hours"]) for row in rows}
    assert totals == {active.pk: ("3.75", "1.00"), other.pk: ("0.00", "4.00")}


@pytest.mark.parametrize(
    ("case", "field"),
    [("future_day", "day"), ("before_the_placement", "day"), ("after_the_placement", "day"), ("over_24", "hours")],
)
def test_hours_rules_are_field_errors(client, active, case, field):
    client.force_login(active.student)
    yesterday = f.today() - timedelta(days=1)
    if case == "over_24":
        assert _log(client, active, yesterday, "20").status_code == 201
    before = HoursEntry.objects.count()
    if case == "after_the_placement":
        Placement.objects.filter(pk=active.pk).update(end_date=yesterday - timedelta(days=1))
    day = {
        "future_day": f.today() + timedelta(days=1),
        "before_the_placement": active.start_date - timedelta(days=1),
        "after_the_placement": yesterday,
        "over_24": yesterday,
    }[case]
    response = _log(client, active, day, "5")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert HoursEntry.objects.count() == before


def test_no_hours_before_the_placement_is_active(client, posting, student):
    pending = f.placement(posting, student)
    client.force_login(student)
    response = _log(client, pending, f.today())
    assert response.status_code == 400
    assert "active" in str(response.json())
    assert not HoursEntry.objects.exists()


def test_only_the_mentor_approves_and_an_approved_entry_is_locked(client, world, active):
    entry, _ = services.log_hours(
        placement=active, by=active.student, day=f.today() - timedelta(days=2), hours=3, activity="Patrol ride-along"
    )
    url = f"/api/v1/hours/{entry.pk}/"
    for refused in (active.student, world.agency_coordinator, world.coordinator_a, world.admin):
        client.force_login(refused)
        assert _post(client, url + "approve/").status_code == 403, refused
    client.force_login(member(world.agency, Role.OFFICER))  # another officer does not see it
    assert _post(client, url + "approve/").status_code == 404
    assert HoursEntry.objects.get(pk=entry.pk).status == HoursStatus.SUBMITTED

    client.force_login(active.mentor)
    response = _post(client, url + "approve/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == HoursStatus.APPROVED
    assert response.json()["reviewed_by"] == active.mentor.pk
    assert _post(client, url + "return/", {"comment": "Too late"}).status_code == 400

    client.force_login(active.student)
    response = _patch(client, url, {"hours": "1"})
    assert response.status_code == 400
    assert "locked" in response.json()["detail"]
    entry.refresh_from_db()
    assert (entry.status, entry.hours) == (HoursStatus.APPROVED, 3)


def test_returned_hours_are_corrected_and_go_back_to_the_mentor(client, active):
    entry, _ = services.log_hours(
        placement=active, by=active.student, day=f.today() - timedelta(days=2), hours=3, activity="Patrol"
    )
    client.force_login(active.mentor)
    response = _post(client, f"/api/v1/hours/{entry.pk}/return/", {"comment": "It was 2 hours."})
    assert response.json()["status"] == HoursStatus.RETURNED
    client.force_login(active.student)
    response = _patch(client, f"/api/v1/hours/{entry.pk}/", {"hours": "2"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["hours"]) == (HoursStatus.SUBMITTED, "2.00")


def test_the_mentor_records_a_check_in(client, world, active):
    check_in = active.check_ins.order_by("due_on").first()
    client.force_login(world.agency_coordinator)
    url = f"/api/v1/check-ins/{check_in.pk}/record/"
    assert _post(client, url, {"held": True, "notes": "Fine"}).status_code == 403
    client.force_login(active.mentor)
    future = {"held": True, "notes": "Fine", "held_on": str(f.today() + timedelta(days=1))}
    assert "held_on" in _post(client, url, future).json()
    response = _post(client, url, {"held": True, "notes": "Fine", "observable_setting": True})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["held_on"]) == ("held", str(f.today()))


# --- what agency staff see, and the record of their reads ----------------------------------------------


@pytest.fixture
def submitted(world, posting, student, storage):
    return f.application(posting, student, resume=f.pdf(), statement=STATEMENT, availability=AVAILABILITY)


def test_agency_staff_reads_are_logged_and_the_students_own_are_not(client, world, submitted):
    url = f"/api/v1/applications/{submitted.pk}/"
    for reader in (submitted.student, world.coordinator_a, world.admin):
        client.force_login(reader)
        assert client.get(url).status_code == 200
        assert client.get("/api/v1/applications/").json()["count"] == 1
    assert not StudentRecordAccess.objects.exists()

    client.force_login(world.agency_coordinator)
    assert client.get(url).status_code == 200
    access = StudentRecordAccess.objects.get()
    assert (access.viewer, access.student, access.agreement) == (
        world.agency_coordinator,
        submitted.student,
        submitted.posting.agreement,
    )
    assert access.record == f"application #{submitted.pk}"
    assert access.purpose == AccessPurpose.REVIEW and access.categories == []

    second = f.application(submitted.posting, f.make_student(world.school_a))
    assert client.get("/api/v1/applications/").json()["count"] == 2
    logged = StudentRecordAccess.objects.exclude(pk=access.pk)
    assert sorted(logged.values_list("record", flat=True)) == sorted(
        [f"application #{submitted.pk}", f"application #{second.pk}"]
    )

    # The student and their school read the log; school A's staff and the agency do not.
    client.force_login(submitted.student)
    mine = client.get("/api/v1/record-accesses/").json()
    assert {row["student"] for row in mine["results"]} == {submitted.student_id} and mine["count"] == 2
    client.force_login(world.coordinator_a)
    assert client.get("/api/v1/record-accesses/").json()["count"] == 3
    client.force_login(world.staff_a)
    assert client.get("/api/v1/record-accesses/").json()["count"] == 0


def test_a_mentors_read_of_a_placement_is_logged_as_mentoring(client, world, active):
    client.force_login(active.mentor)
    assert client.get(f"/api/v1/placements/{active.pk}/").status_code == 200
    access = StudentRecordAccess.objects.get()
    assert (access.viewer, access.purpose) == (active.mentor, AccessPurpose.MENTORING)
    assert access.record == f"placement #{active.pk}"
    client.force_login(world.agency_coordinator)
    client.get("/api/v1/placements/")
    assert StudentRecordAccess.objects.filter(purpose=AccessPurpose.COORDINATION).count() == 1
    client.force_login(active.student)
    client.get(f"/api/v1/placements/{active.pk}/")
    assert StudentRecordAccess.objects.count() == 2


PERSONAL = ("student_name", "student_level", "student_email", "availability", "statement", "resume_name")


def _personal(body):
    return {key: body[key] for key in PERSONAL}


def test_agency_staff_see_only_the_shared_categories(client, world, submitted):
    url = f"/api/v1/applications/{submitted.pk}/"
    everything = {
        "student_name": "Rosa Student",
        "student_level": GradeLevel.GRADE_11,
        "student_email": "rosa.student@example.test",
        "availability": AVAILABILITY,
        "statement": STATEMENT,
        "resume_name": "resume.pdf",
    }
    client.force_login(world.coordinator_a)  # the student's school sees everything
    assert _personal(client.get(url).json()) == everything

    client.force_login(world.agency_coordinator)
    agreement = submitted.posting.agreement
    _share(agreement, DataCategory.CONTACT, direction=DataDirection.AGENCY_TO_SCHOOL)  # the wrong way
    body = client.get(url).json()
    assert _personal(body) == dict.fromkeys(PERSONAL)
    assert body["resume_url"] is None and body["shown_fields"] == []
    assert all(step["by_name"] is None for step in body["transitions"] if step["by"] == submitted.student_id)
    listed = client.get("/api/v1/applications/").content.decode()
    assert "Rosa" not in listed and "rosa.student@" not in listed and STATEMENT not in listed

    _share(agreement, DataCategory.DIRECTORY)
    body = client.get(url).json()
    assert _personal(body) == {
        **dict.fromkeys(PERSONAL),
        "student_name": "Rosa Student",
        "student_level": GradeLevel.GRADE_11,
    }
    assert StudentRecordAccess.objects.order_by("-pk").first().categories == [DataCategory.DIRECTORY]

    _share(agreement, DataCategory.CONTACT, DataCategory.SCHEDULE, DataCategory.PROGRAM)
    body = client.get(url).json()
    assert _personal(body) == everything and body["resume_url"]


def test_a_list_shows_each_row_what_its_own_agreement_shares(client, world, on_postgres):
    """A list reads each row's agreement's agency parties and shared categories: on PostgreSQL
    with the page's postings, elsewhere in one query each for the page. Each row shows, and the
    record of reads logs, what its own agreement shares."""
    sharing, silent = f.world_posting(world, title="Sharing"), f.world_posting(world, title="Silent")
    _share(sharing.agreement, DataCategory.DIRECTORY, DataCategory.CONTACT)
    _share(silent.agreement, DataCategory.DIRECTORY, direction=DataDirection.AGENCY_TO_SCHOOL)  # the wrong way
    rosa = f.make_student(world.school_a, full_name="Rosa Student", email="rosa.student@example.test")
    shared, unshared = f.application(sharing, rosa), f.application(silent, rosa)
    client.force_login(world.agency_coordinator)
    with CaptureQueriesContext(connection) as ctx:
        rows = {row["id"]: row for row in client.get("/api/v1/applications/").json()["results"]}
    apart = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith(('SELECT "partnerships_agreementparty"', 'SELECT "partnerships_datasharingterm"'))
    ]
    assert len(apart) == (0 if on_postgres else 2)
    # The student's and the institution's names are columns of the page query, not prefetched.
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not [q for q in sql if q.startswith('SELECT "accounts_organization"') or '"accounts_user"."id" IN (' in q]
    assert rows[shared.pk]["shown_fields"] == ["email", "level", "name"]
    assert rows[shared.pk]["institution_name"] == world.school_a.name
    assert (rows[shared.pk]["student_name"], rows[shared.pk]["student_email"]) == ("Rosa Student", rosa.email)
    assert rows[unshared.pk]["shown_fields"] == []
    assert (rows[unshared.pk]["student_name"], rows[unshared.pk]["student_email"]) == (None, None)
    logged = dict(StudentRecordAccess.objects.values_list("record", "categories"))
    assert logged == {
        f"application #{shared.pk}": sorted([DataCategory.CONTACT, DataCategory.DIRECTORY]),
        f"application #{unshared.pk}": [],
    }

    # The student's school reads everything and is not logged: no data-sharing terms are read.
    client.force_login(world.coordinator_a)
    with CaptureQueriesContext(connection) as ctx:
        rows = {row["id"]: row for row in client.get("/api/v1/applications/").json()["results"]}
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "partnerships_datasharingterm"')]
    assert rows[unshared.pk]["student_name"] == "Rosa Student"
    assert StudentRecordAccess.objects.count() == 2


def test_the_lists_student_level_is_the_one_the_membership_gives(client, world):
    """The list reads the grade in its page query; a row must show what the student's membership
    at the application's institution says: the grade at a school, university at a college or
    university, nothing once the membership is gone."""
    from accounts.enums import OrganizationKind
    from internships.api.serializers import student_level
    from internships.models import Application
    from tests.factories import OrganizationFactory

    college = OrganizationFactory(kind=OrganizationKind.UNIVERSITY, name="State University")
    posting = f.posting(world.agency, world.school_a, college, title="Analyst Intern")
    grade_9 = f.make_student(world.school_a, grade=GradeLevel.GRADE_9, full_name="Nine")
    no_grade = f.make_student(world.school_a, grade="", full_name="Ungraded")
    undergraduate = f.make_student(college, grade="", full_name="Undergraduate")
    gone = f.make_student(world.school_a, full_name="Moved away")
    made = {student.full_name: f.application(posting, student) for student in (grade_9, no_grade, undergraduate, gone)}
    Membership.objects.filter(user=gone).delete()
    # A student of two schools, applying through the second: the grade there, not the first's.
    two_schools = f.make_student(world.school_a, grade=GradeLevel.GRADE_9, full_name="Two schools")
    Membership.objects.create(
        user=two_schools, organization=world.school_b, role=Role.STUDENT, grade_level=GradeLevel.GRADE_11
    )
    made["Two schools"] = f.application(f.posting(world.agency, world.school_b), two_schools)
    expected = {
        "Nine": GradeLevel.GRADE_9,
        "Ungraded": None,
        "Undergraduate": GradeLevel.UNIVERSITY,
        "Moved away": None,
        "Two schools": GradeLevel.GRADE_11,
    }
    for name, application in made.items():  # the membership path, without the page's grade
        assert student_level(Application.objects.get(pk=application.pk)) == expected[name], name
    client.force_login(world.admin)
    listed = {row["id"]: row["student_level"] for row in client.get("/api/v1/applications/").json()["results"]}
    assert {name: listed[application.pk] for name, application in made.items()} == expected


def test_placements_hide_the_unshared_categories_too(client, world, active):
    client.force_login(world.agency_coordinator)
    body = client.get(f"/api/v1/placements/{active.pk}/").json()
    assert (body["student_name"], body["student_email"]) == (None, None)
    _share(active.posting.agreement, DataCategory.DIRECTORY)
    body = client.get(f"/api/v1/placements/{active.pk}/").json()
    assert body["student_name"] == active.student.full_name and body["student_email"] is None
    client.force_login(world.coordinator_a)
    assert client.get(f"/api/v1/placements/{active.pk}/").json()["student_email"] == active.student.email


# --- filters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/postings/?status=archived",
        "/api/v1/postings/?remote=maybe",
        "/api/v1/postings/?agency=abc",
        "/api/v1/postings/?starts_after=tomorrow",
        "/api/v1/postings/?paid=",
        "/api/v1/applications/?status=hired",
        "/api/v1/applications/?posting=0",
        "/api/v1/placements/?mentor=x",
        "/api/v1/hours/?status=paid",
        "/api/v1/check-ins/?status=late",
        "/api/v1/clearances/?officer=-1",
    ],
)
def test_unknown_filter_values_are_400(client, world, url):
    client.force_login(world.agency_coordinator)
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_posting_filters(client, world, student):
    remote = f.world_posting(world, title="Remote", is_remote=True, is_paid=True)
    late = f.world_posting(world, title="Late", start_date=f.today() + timedelta(days=80))
    f.world_posting(world, title="Draft", status=PostingStatus.DRAFT)

    def titles(user, query):
        client.force_login(user)
        response = client.get(f"/api/v1/postings/?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["title"] for row in response.json()["results"])

    assert titles(student, "") == ["Late", "Remote"]  # never a draft for a student
    assert titles(world.agency_coordinator, "") == ["Draft", "Late", "Remote"]
    assert titles(student, "remote=true&paid=true") == ["Remote"]
    assert titles(student, f"starts_after={f.today() + timedelta(days=60)}") == ["Late"]
    assert titles(student, f"agency={world.agency.pk}&status=open") == ["Late", "Remote"]
    assert titles(world.staff_b, "") == []
    client.force_login(student)
    f.application(remote, student)
    applied = {row["title"]: row["applied"] for row in client.get("/api/v1/postings/").json()["results"]}
    assert applied == {"Remote": True, "Late": False}
    client.force_login(world.staff_a)
    assert {row["applied"] for row in client.get("/api/v1/postings/").json()["results"]} == {None}
    assert late.pk


# --- bounded queries ------------------------------------------------------------------------------------


def _grow(world, mentor, n):
    """n minor students of school A, each with an active placement (granted consent), an hours
    entry, an interview and an offer on a second posting, a clearance and a read logged; a new
    agreement per batch, which shares the directory category."""
    placed = f.world_posting(world, slots=n + 1, title="Placed")
    interviewing = f.world_posting(world, slots=n + 1, title="Interviewing")
    offering = f.world_posting(world, slots=n + 1, title="Offering")
    _share(placed.agreement, DataCategory.DIRECTORY)
    placements = []
    for _ in range(n):
        student = f.make_student(world.school_a, birth_date=f.minor_birth_date())
        placements.append(f.active_placement(placed, student, mentor=mentor))
        f.application(interviewing, student, stage=ApplicationStatus.INTERVIEW)
        f.application(offering, student, stage=ApplicationStatus.OFFERED)
        officer = member(world.agency, Role.OFFICER)
        f.clear(officer, world.agency)
        StudentRecordAccess.objects.create(
            viewer=world.agency_coordinator,
            student=student,
            agreement=placed.agreement,
            record="application #0",
            purpose=AccessPurpose.REVIEW,
        )
    for placement in placements:
        placement = f.started(placement)
        services.log_hours(placement=placement, by=placement.student, day=f.today(), hours=1, activity="Desk")


LISTS = [
    "/api/v1/postings/",
    "/api/v1/applications/",
    "/api/v1/interviews/",
    "/api/v1/offers/",
    "/api/v1/consents/",
    "/api/v1/placements/",
    "/api/v1/clearance-kinds/",
    "/api/v1/clearances/",
    "/api/v1/hours/",
    "/api/v1/check-ins/",
    "/api/v1/record-accesses/",
]


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response.json()["count"]


@pytest.mark.parametrize("role", ["agency_coordinator", "coordinator", "officer", "admin"])
def test_lists_do_the_same_number_of_queries_for_3_and_12_rows(client, world, role):
    mentor = world.officer
    f.clear(mentor, world.agency)
    _grow(world, mentor, 3)
    client.force_login(world.user(role))
    few = {url: _queries(client, url + "?page_size=100") for url in LISTS}
    _grow(world, mentor, 9)
    many = {url: _queries(client, url + "?page_size=100") for url in LISTS}
    for url in LISTS:
        assert many[url][0] == few[url][0], (url, few[url], many[url])
        assert few[url][0] <= 12, (url, few[url])
    # The lists did grow for the people who see them.
    if role in ("agency_coordinator", "admin"):
        assert many["/api/v1/placements/"][1] == few["/api/v1/placements/"][1] + 9
        assert many["/api/v1/clearances/"][1] > few["/api/v1/clearances/"][1]
    if role != "officer":
        assert many["/api/v1/applications/"][1] == few["/api/v1/applications/"][1] + 27
    else:
        assert many["/api/v1/hours/"][1] == few["/api/v1/hours/"][1] + 9
    assert Clearance.objects.exists() and Posting.objects.count() == 6
