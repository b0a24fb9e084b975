"""Internships through their pages: applying with a résumé, the review pipeline and its timeline,
the guardian's consent link, hours, what agency staff may see of a student (and the log of it),
and lists whose queries do not grow with their rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from internships import selectors, services
from internships.enums import AccessPurpose, ApplicationStatus, ConsentStatus, HoursStatus, PlacementStatus
from internships.models import Application, GuardianConsent, HoursEntry, Interview, Placement, StudentRecordAccess
from partnerships.enums import DataCategory, DataDirection, LawfulBasis
from partnerships.models import DataSharingTerm
from tests.factories import member
from tests.internships import factories as f

pytestmark = pytest.mark.django_db


def _url(name, *args):
    return reverse(f"internships:{name}", args=args)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _private_media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = tmp_path


def _apply(client, posting, *, resume=None, action="submit", **fields):
    data = {"statement": "I want to serve my community.", "availability": "Weekday afternoons", "action": action}
    data.update(fields)
    if resume is not None:
        data["resume"] = resume
    return client.post(_url("application_create", posting.pk), data)


def _share(agreement, *categories):
    for category in categories:
        DataSharingTerm.objects.create(
            agreement=agreement,
            category=category,
            direction=DataDirection.SCHOOL_TO_AGENCY,
            purpose="Reviewing internship applications",
            lawful_basis=LawfulBasis.WRITTEN_CONSENT,
            retention_days=365,
        )


# --- applying ------------------------------------------------------------------------------------


def test_student_applies_with_a_pdf_resume(client, world, settings, tmp_path):
    _private_media(settings, tmp_path)
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    client.force_login(student)
    response = _apply(client, posting, resume=f.pdf("My CV.pdf"))
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("application_detail", application.pk)
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.resume_name == "My CV.pdf"
    assert application.resume.read().startswith(b"%PDF-")
    assert len(list(tmp_path.rglob("*.pdf"))) == 1


def test_a_draft_is_saved_and_submitted_later(client, world):
    posting = f.world_posting(world)
    client.force_login(f.make_student(world.school_a))
    _apply(client, posting, action="draft")
    application = Application.objects.get()
    assert application.status == ApplicationStatus.DRAFT
    assert client.post(_url("application_submit", application.pk)).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


@pytest.mark.parametrize(
    "upload",
    [
        lambda: f.pdf("cv.pdf", b"<html><script>alert(1)</script></html>"),
        lambda: f.pdf("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),
    ],
    ids=["html_renamed_pdf", "over_5_mb"],
)
def test_a_bad_resume_is_a_field_error_and_nothing_is_stored(client, world, settings, tmp_path, upload):
    _private_media(settings, tmp_path)
    posting = f.world_posting(world)
    client.force_login(f.make_student(world.school_a))
    response = _apply(client, posting, resume=upload())
    assert response.status_code == 400
    assert response.context["form"].errors["resume"]
    assert not Application.objects.exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_a_second_application_is_refused_with_a_clear_message(client, world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    first = f.application(posting, student)
    client.force_login(student)
    response = _apply(client, posting, statement="Once more")
    assert response.status_code == 409
    assert "You have already applied to this posting." in response.content.decode()
    assert _url("application_detail", first.pk) in response.content.decode()
    assert Application.objects.filter(posting=posting, student=student).count() == 1
    # Opening the form again leads to the application there is.
    again = client.get(_url("application_create", posting.pk))
    assert again.status_code == 302 and again["Location"] == _url("application_detail", first.pk)


def test_an_ineligible_student_sees_why_and_cannot_apply(client, world):
    posting = f.world_posting(world, min_age=16)
    too_young = f.make_student(world.school_a, birth_date=posting.start_date.replace(year=posting.start_date.year - 14))
    client.force_login(too_young)
    detail = client.get(_url("posting_detail", posting.pk)).content.decode()
    assert "You must be at least 16" in detail
    assert _url("application_create", posting.pk) not in detail
    form_page = client.get(_url("application_create", posting.pk))
    assert "You must be at least 16" in form_page.content.decode()
    assert "<textarea" not in form_page.content.decode()
    response = _apply(client, posting)
    assert response.status_code == 400
    assert not Application.objects.exists()


def test_students_see_only_postings_open_to_their_school(client, world):
    ours = f.world_posting(world, title="Open To Lincoln")
    theirs = f.posting(world.agency, world.school_b, title="Open To Jefferson")
    other_student = f.make_student(world.school_b)
    client.force_login(other_student)
    page = client.get(_url("posting_list")).content.decode()
    assert theirs.title in page and ours.title not in page
    assert client.get(_url("posting_detail", ours.pk)).status_code == 404
    assert client.get(_url("application_create", ours.pk)).status_code == 404


def test_students_see_postings_they_can_apply_to_unless_they_ask_for_all(client, world):
    fits = f.world_posting(world, title="Grade Eleven Fits")
    other_level = f.world_posting(world, title="University Only", grade_levels=["university"])
    client.force_login(f.make_student(world.school_a))
    default = client.get(_url("posting_list")).content.decode()
    assert fits.title in default and other_level.title not in default
    everything = client.get(_url("posting_list") + "?all=on").content.decode()
    assert fits.title in everything and other_level.title in everything


def test_bad_filter_values_are_a_message_not_an_error(client, world):
    posting = f.world_posting(world)
    client.force_login(world.staff_a)
    response = client.get(_url("posting_list") + "?starts_after=someday&remote=maybe&agency=nope")
    assert response.status_code == 400
    page = response.content.decode()
    assert "not understood" in page
    assert posting.title in page  # the list is still there, unfiltered
    response = client.get(_url("application_list") + "?status=lost&posting=x")
    assert response.status_code == 400 and "not understood" in response.content.decode()


def test_agency_coordinator_posts_and_publishes_an_internship(client, world):
    agreement = f.world_posting(world).agreement  # an active agreement between the agency and school A
    client.force_login(world.agency_coordinator)
    assert "Post an internship" in client.get(_url("posting_list")).content.decode()
    start = f.today() + timedelta(days=40)
    response = client.post(
        _url("posting_create"),
        {
            "agreement": agreement.pk,
            "title": "Dispatch Intern",
            "description": "Listen in on dispatch.",
            "location": "Dispatch center",
            "start_date": start,
            "end_date": start + timedelta(days=60),
            "hours_per_week": 8,
            "required_hours": 60,
            "slots": 2,
            "apply_by": start - timedelta(days=7),
            "grade_levels": ["11", "12"],
            "offer_valid_days": 5,
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    posting = agreement.postings.get(title="Dispatch Intern")
    assert posting.status == "draft" and posting.grade_levels == ["11", "12"]
    assert set(posting.institutions.all()) == {world.school_a}
    client.post(_url("posting_publish", posting.pk))
    posting.refresh_from_db()
    assert posting.status == "open"


def test_a_posting_rule_is_shown_next_to_its_field(client, world):
    posting = f.world_posting(world)
    client.force_login(world.agency_coordinator)
    response = client.post(
        _url("posting_edit", posting.pk),
        {
            "title": posting.title,
            "description": posting.description,
            "location": "",
            "start_date": posting.start_date,
            "end_date": posting.end_date,
            "hours_per_week": 10,
            "required_hours": 100,
            "slots": 3,
            "apply_by": posting.apply_by,
            "min_age": 16,
            "offer_valid_days": 7,
            "institutions": [world.school_a.pk],
        },
    )
    assert response.status_code == 400
    assert "location" in response.context["form"].errors
    posting.refresh_from_db()
    assert posting.location  # unchanged


def test_only_the_agencys_coordinators_see_the_pipeline_counts(client, world):
    posting = f.world_posting(world)
    f.application(posting, f.make_student(world.school_a))
    client.force_login(world.agency_coordinator)
    page = client.get(_url("posting_detail", posting.pk)).content.decode()
    assert f"?posting={posting.pk}&amp;status=submitted" in page
    client.force_login(world.staff_a)
    page = client.get(_url("posting_detail", posting.pk)).content.decode()
    assert f"?posting={posting.pk}&amp;status=submitted" not in page


# --- the pipeline --------------------------------------------------------------------------------


def test_reviewer_moves_through_review_interview_offer_and_the_student_accepts(client, world):
    world.school_a.time_zone = "America/Chicago"
    world.school_a.save()
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    application = f.application(posting, student)
    client.force_login(world.agency_coordinator)
    assert client.post(_url("application_review", application.pk)).status_code == 302
    day = (f.today() + timedelta(days=5)).isoformat()
    response = client.post(
        _url("application_interview", application.pk),
        {"starts_at": f"{day}T15:30", "duration_minutes": 45, "location": "HQ room 2", "notes": "Bring an ID"},
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    interview = Interview.objects.get(application=application)
    local = timezone.localtime(interview.starts_at, world.school_a.zone)
    assert (local.isoformat()[:16], interview.duration_minutes) == (f"{day}T15:30", 45)
    assert client.post(_url("application_offer", application.pk), {"message": "Welcome aboard"}).status_code == 302
    client.force_login(student)
    response = client.post(_url("application_accept", application.pk), {})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.ACCEPTED
    assert Placement.objects.filter(application=application, status=PlacementStatus.PENDING).exists()
    page = client.get(_url("application_detail", application.pk)).content.decode()
    steps = page.count('class="step"')
    assert steps == 6  # draft, submitted, under review, interview, offered, accepted
    for label in ("Submitted", "Under review", "Interview", "Offered", "Accepted"):
        assert f"<td>{label}</td>" in page
    assert "Welcome aboard" in page and "Sgt. Agnes" in page


def test_a_minor_accepting_names_the_guardian_who_is_emailed(client, world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a, birth_date=f.minor_birth_date())
    application = f.application(posting, student, stage=ApplicationStatus.OFFERED)
    client.force_login(student)
    page = client.get(_url("application_detail", application.pk)).content.decode()
    assert 'name="guardian_email"' in page
    response = client.post(
        _url("application_accept", application.pk),
        {"guardian_name": "Pat Parent", "guardian_email": "pat@example.test"},
    )
    assert response.status_code == 302
    consent = GuardianConsent.objects.get(placement__application=application)
    assert (consent.status, consent.guardian_email) == (ConsentStatus.PENDING, "pat@example.test")


def test_rejection_with_a_listed_reason_and_the_student_sees_it(client, world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    application = f.application(posting, student, stage=ApplicationStatus.UNDER_REVIEW)
    client.force_login(world.coordinator_a)  # the school's coordinator reviews too
    response = client.post(_url("application_reject", application.pk), {"reason": "other", "note": ""})
    assert response.status_code == 400
    assert response.context["reject_form"].errors["note"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    response = client.post(_url("application_reject", application.pk), {"reason": "filled", "note": "Sorry"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.rejection_reason) == (ApplicationStatus.REJECTED, "filled")
    client.force_login(student)
    page = client.get(_url("application_detail", application.pk)).content.decode()
    assert "All places have been filled" in page and "Not selected" in page


def test_staff_cannot_move_the_pipeline_and_a_student_cannot_review(client, world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    application = f.application(posting, student)
    client.force_login(world.staff_a)
    assert client.post(_url("application_review", application.pk)).status_code == 404
    client.force_login(student)
    assert client.post(_url("application_review", application.pk)).status_code == 403
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


# --- what agency staff see, and the record of it -------------------------------------------------


def test_resume_download_is_an_attachment_and_outsiders_get_404(client, world, settings, tmp_path):
    _private_media(settings, tmp_path)
    posting = f.world_posting(world)
    student = f.make_student(world.school_a)
    application = f.application(posting, student, resume=f.pdf("cv.pdf"))
    url = _url("application_resume", application.pk)
    client.force_login(student)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "cv.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    for outsider in (world.staff_b, world.loner, world.staff_a, f.make_student(world.school_a)):
        client.force_login(outsider)
        assert client.get(url).status_code == 404


def test_resume_is_served_to_agency_staff_only_when_the_agreement_shares_it(client, world, settings, tmp_path):
    _private_media(settings, tmp_path)
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a), resume=f.pdf())
    url = _url("application_resume", application.pk)
    client.force_login(world.agency_coordinator)
    assert client.get(url).status_code == 404
    _share(posting.agreement, DataCategory.PROGRAM)
    assert client.get(url).status_code == 200
    read = StudentRecordAccess.objects.get(purpose=AccessPurpose.RESUME)
    assert (read.viewer, read.student, read.record) == (
        world.agency_coordinator,
        application.student,
        f"application #{application.pk}",
    )


def test_agency_reads_are_logged_but_not_the_students_or_the_schools(client, world):
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a))
    url = _url("application_detail", application.pk)
    client.force_login(application.student)
    client.get(url)
    client.force_login(world.coordinator_a)
    client.get(url)
    assert not StudentRecordAccess.objects.exists()
    client.force_login(world.agency_coordinator)
    assert client.get(url).status_code == 200
    read = StudentRecordAccess.objects.get()
    assert (read.viewer, read.student, read.purpose) == (world.agency_coordinator, application.student, "review")
    # The school's coordinator and the student see the log; the student's classmate does not.
    client.force_login(world.coordinator_a)
    assert "Sgt. Agnes" in client.get(_url("record_access_list")).content.decode()
    client.force_login(f.make_student(world.school_a))
    assert "Sgt. Agnes" not in client.get(_url("record_access_list")).content.decode()


def test_the_name_is_masked_for_agency_staff_without_a_directory_term(client, world):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a, full_name="Zelda Quintero")
    application = f.application(posting, student)
    client.force_login(world.agency_coordinator)
    for url in (_url("application_detail", application.pk), _url("application_list")):
        page = client.get(url).content.decode()
        assert "Zelda Quintero" not in page
        assert f"Applicant #{application.pk}" in page
    assert f"<td>{world.school_a.name}</td>" in page  # the pipeline's school column
    assert StudentRecordAccess.objects.filter(student=student, viewer=world.agency_coordinator).count() == 2
    _share(posting.agreement, DataCategory.DIRECTORY)
    page = client.get(_url("application_detail", application.pk)).content.decode()
    assert "Zelda Quintero" in page
    # The school's coordinator always sees their own student's name.
    client.force_login(world.coordinator_a)
    assert "Zelda Quintero" in client.get(_url("application_list")).content.decode()


# --- the guardian's consent link -----------------------------------------------------------------


def _pending_consent(world, email="guardian@example.test"):
    posting = f.world_posting(world)
    student = f.make_student(world.school_a, birth_date=f.minor_birth_date(), full_name="Mia Minor")
    placement = f.placement(posting, student, consent=ConsentStatus.PENDING, guardian_email=email)
    return placement, f.consent_token_from_outbox(email)


def test_the_consent_link_moves_the_token_out_of_the_url_and_get_changes_nothing(client, world):
    placement, token = _pending_consent(world)
    response = client.get(_url("consent_open", token))
    assert response.status_code == 302
    assert response["Location"] == _url("consent_respond")
    assert token not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.session["consent_token"] == token
    for _ in range(2):
        page = client.get(_url("consent_respond"))
        # Token out of the URL: same-origin keeps Referers on the site and the form's Origin intact.
        assert page.status_code == 200 and page["Referrer-Policy"] == "same-origin"
    body = page.content.decode()
    assert "Mia" in body and "Minor" not in body  # the first name only
    assert placement.posting.agency.name in body and placement.posting.title in body
    assert token not in body
    assert GuardianConsent.objects.get(placement=placement).status == ConsentStatus.PENDING


def test_consent_is_granted_once_and_a_second_post_is_gone(client, world):
    placement, token = _pending_consent(world)
    client.get(_url("consent_open", token))
    response = client.post(_url("consent_respond"), {"signed_name": "", "decision": "grant"})
    assert response.status_code == 400 and response.context["form"].errors["signed_name"]
    response = client.post(_url("consent_respond"), {"signed_name": "Pat Guardian", "decision": "grant"})
    assert response.status_code == 200
    assert "You granted consent" in response.content.decode()
    consent = GuardianConsent.objects.get(placement=placement)
    assert (consent.status, consent.method) == (ConsentStatus.GRANTED, "link")
    again = client.post(_url("consent_respond"), {"signed_name": "Pat Guardian", "decision": "refuse"})
    assert again.status_code == 410
    assert "no longer works" in again.content.decode()
    assert GuardianConsent.objects.get(pk=consent.pk).status == ConsentStatus.GRANTED
    # The link itself is used up too.
    assert client.get(_url("consent_open", token)).status_code == 410


def test_an_unknown_consent_link_is_a_friendly_410(client, world):
    response = client.get(_url("consent_open", "x" * 43))
    assert response.status_code == 410
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no longer works" in response.content.decode()
    assert "consent_token" not in client.session


def test_the_placement_becomes_active_when_the_mentor_is_assigned_after_consent(client, world):
    placement, token = _pending_consent(world)
    client.get(_url("consent_open", token))
    client.post(_url("consent_respond"), {"signed_name": "Pat Guardian", "decision": "grant"})
    assert Placement.objects.get(pk=placement.pk).status == PlacementStatus.PENDING  # no mentor yet
    mentor = f.cleared_officer(world.agency)
    client.force_login(world.agency_coordinator)
    response = client.post(_url("placement_mentor", placement.pk), {"mentor": mentor.pk})
    assert response.status_code == 302
    placement.refresh_from_db()
    assert (placement.status, placement.mentor) == (PlacementStatus.ACTIVE, mentor)


def test_a_mentor_without_clearances_is_refused_next_to_the_field(client, world):
    placement, _ = _pending_consent(world)
    uncleared = member(world.agency, "officer")
    f.clearance_kinds(world.agency)
    client.force_login(world.agency_coordinator)
    response = client.post(_url("placement_mentor", placement.pk), {"mentor": uncleared.pk})
    assert response.status_code == 400
    assert "missing or has expired" in " ".join(response.context["mentor_form"].errors["mentor"])
    assert Placement.objects.get(pk=placement.pk).mentor is None


def test_school_staff_name_the_guardian_without_seeing_the_placement(client, world):
    posting = f.world_posting(world)
    placement = f.placement(posting, f.make_student(world.school_a, birth_date=f.minor_birth_date()))
    client.force_login(world.staff_a)
    assert client.get(_url("placement_detail", placement.pk)).status_code == 404
    response = client.post(
        _url("consent_name_guardian", placement.pk),
        {"guardian_name": "Pat Parent", "guardian_email": "pp@example.test"},
    )
    assert response.status_code == 302
    consent = GuardianConsent.objects.get(placement=placement)
    assert (consent.status, consent.named_by) == (ConsentStatus.PENDING, world.staff_a)
    client.force_login(world.staff_b)
    assert client.post(_url("consent_name_guardian", placement.pk), {}).status_code == 404


def test_the_placement_page_never_shows_the_consent_token(client, world):
    placement, token = _pending_consent(world)
    client.force_login(world.coordinator_a)
    page = client.get(_url("placement_detail", placement.pk)).content.decode()
    assert "Sent to the guardian" in page
    assert token not in page
    assert GuardianConsent.objects.get(placement=placement).token_hash not in page


# --- hours ----------------------------------------------------------------------------------------


def test_hours_are_logged_returned_corrected_and_approved_through_the_pages(client, world):
    mentor = f.cleared_officer(world.agency)
    placement = f.started(f.active_placement(f.world_posting(world), f.make_student(world.school_a), mentor=mentor))
    student = placement.student
    day = f.today() - timedelta(days=3)
    client.force_login(student)
    response = client.post(_url("hours_log", placement.pk), {"day": day, "hours": "3.5", "activity": "Patrol briefing"})
    assert response.status_code == 302
    entry = HoursEntry.objects.get()
    assert (entry.hours, entry.status) == (3.5, HoursStatus.SUBMITTED)
    response = client.post(_url("hours_log", placement.pk), {"day": day, "hours": "21", "activity": "Too much"})
    assert response.status_code == 400 and response.context["hours_form"].errors["hours"]
    assert client.post(_url("hours_approve", entry.pk)).status_code == 403  # not the student's to approve

    client.force_login(mentor)
    response = client.post(_url("hours_return", entry.pk), {"comment": ""})
    assert response.status_code == 400
    assert HoursEntry.objects.get().status == HoursStatus.SUBMITTED
    client.post(_url("hours_return", entry.pk), {"comment": "It was 3 hours."})
    assert HoursEntry.objects.get().status == HoursStatus.RETURNED

    client.force_login(student)
    response = client.post(_url("hours_correct", entry.pk), {"day": day, "hours": "3", "activity": "Patrol briefing"})
    assert response.status_code == 302
    assert (HoursEntry.objects.get().hours, HoursEntry.objects.get().status) == (3, HoursStatus.SUBMITTED)

    client.force_login(mentor)
    client.post(_url("hours_approve", entry.pk))
    assert HoursEntry.objects.get().status == HoursStatus.APPROVED
    page = client.get(_url("placement_detail", placement.pk)).content.decode()
    assert "3 approved of 100 required" in page
    client.force_login(student)
    response = client.post(_url("hours_correct", entry.pk), {"day": day, "hours": "9", "activity": "x"})
    assert response.status_code == 302
    assert HoursEntry.objects.get().hours == 3  # approved hours are locked


def test_hours_warnings_are_shown_to_the_student(client, world):
    posting = f.world_posting(world, is_paid=True, min_age=14)
    young = f.make_student(world.school_a, birth_date=f.today().replace(year=f.today().year - 15))
    placement = f.started(f.active_placement(posting, young))
    client.force_login(young)
    day = f.today() - timedelta(days=1)
    while day.weekday() >= 5:  # a school day: a weekday
        day -= timedelta(days=1)
    response = client.post(
        _url("hours_log", placement.pk), {"day": day, "hours": "9", "activity": "Long day"}, follow=True
    )
    assert "Federal rules allow a 14- or 15-year-old" in response.content.decode()


def test_the_mentor_records_a_check_in(client, world):
    mentor = f.cleared_officer(world.agency)
    placement = f.active_placement(f.world_posting(world), f.make_student(world.school_a), mentor=mentor)
    check_in = placement.check_ins.order_by("due_on").first()
    Placement.objects.filter(pk=placement.pk).update(start_date=f.today() - timedelta(days=20))
    client.force_login(mentor)
    assert client.get(_url("check_in_record", check_in.pk)).status_code == 200
    response = client.post(
        _url("check_in_record", check_in.pk),
        {"held": "yes", "held_on": f.today() - timedelta(days=1), "notes": "Went well", "observable_setting": "on"},
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    check_in.refresh_from_db()
    assert (check_in.status, check_in.recorded_by) == ("held", mentor)


# --- lists do not grow their queries with their rows ---------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "name"),
    [
        ("agency_coordinator", "application_list"),
        ("coordinator_a", "application_list"),
        ("agency_coordinator", "placement_list"),
        ("coordinator_a", "placement_list"),
        ("agency_coordinator", "posting_list"),
        ("agency_coordinator", "record_access_list"),
        ("coordinator_a", "record_access_list"),
        ("agency_coordinator", "clearance_list"),
    ],
)
def test_list_pages_do_the_same_queries_for_2_and_6_rows(client, world, viewer, name):
    user = getattr(world, viewer)
    posting = f.world_posting(world, slots=20)
    _share(posting.agreement, DataCategory.DIRECTORY)

    def add(n):
        for i in range(n):
            f.posting(world.agency, world.school_a, agreement=posting.agreement, title=f"Extra {i}")
            placement = f.placement(posting, f.make_student(world.school_a))
            selectors.record_student_access(world.officer, [placement], purpose=AccessPurpose.MENTORING)
            f.cleared_officer(world.agency)

    add(2)
    client.force_login(user)
    url = _url(name)
    client.get(url)  # the agency's reads of these rows are now in the log too
    few = _queries(client, url)
    add(4)
    client.get(url)
    more = _queries(client, url)
    assert more == few, f"{few} queries for 2 rows, {more} for 6"
    assert few < 40


def test_the_agency_list_read_is_logged_once_per_row(client, world):
    posting = f.world_posting(world)
    applications = [f.application(posting, f.make_student(world.school_a)) for _ in range(3)]
    client.force_login(world.agency_coordinator)
    client.get(_url("application_list"))
    logged = set(StudentRecordAccess.objects.values_list("student_id", flat=True))
    assert logged == {a.student_id for a in applications}
    assert set(StudentRecordAccess.objects.values_list("purpose", flat=True)) == {AccessPurpose.REVIEW}


def test_placement_page_is_logged_as_mentoring_for_the_mentor(client, world):
    mentor = f.cleared_officer(world.agency)
    placement = f.active_placement(f.world_posting(world), f.make_student(world.school_a), mentor=mentor)
    client.force_login(mentor)
    assert client.get(_url("placement_detail", placement.pk)).status_code == 200
    client.force_login(world.agency_coordinator)
    assert client.get(_url("placement_detail", placement.pk)).status_code == 200
    purposes = dict(StudentRecordAccess.objects.values_list("viewer_id", "purpose"))
    assert purposes == {mentor.pk: AccessPurpose.MENTORING, world.agency_coordinator.pk: AccessPurpose.COORDINATION}


def test_clearances_show_valid_renew_soon_and_expired(client, world):
    officer = member(world.agency, "officer", full_name="Officer Three Kinds")
    for name, days in (("Check A", 200), ("Check B", 30), ("Check C", -5)):
        kind = f.clearance_kinds(world.agency, name)[0]
        services.record_clearance(
            officer=officer,
            kind=kind,
            by=world.agency_coordinator,
            issued_on=f.today() - timedelta(days=400),
            expires_on=f.today() + timedelta(days=days),
        )
    client.force_login(world.agency_coordinator)
    page = client.get(_url("clearance_list")).content.decode()
    assert page.count(">Valid<") == 1 and page.count(">Renew soon<") == 1 and page.count(">Expired<") == 1
    response = client.post(
        _url("clearance_create"),
        {
            "officer": officer.pk,
            "kind": kind.pk,
            "issued_on": f.today() + timedelta(days=3),
            "expires_on": f.today() + timedelta(days=300),
        },
    )
    assert response.status_code == 400 and response.context["clearance_form"].errors["issued_on"]
    client.force_login(officer)
    assert "Check A" in client.get(_url("clearance_list")).content.decode()
    client.force_login(world.officer)
    assert "Check A" not in client.get(_url("clearance_list")).content.decode()


def test_the_menu_offers_internships_to_students_and_clearances_to_agency_people(client, world):
    client.force_login(world.student_a)
    menu = client.get(reverse("home")).context["nav_items"]
    urls = [url for _, url in menu]
    assert _url("posting_list") in urls and _url("clearance_list") not in urls
    client.force_login(world.officer)
    urls = [url for _, url in client.get(reverse("home")).context["nav_items"]]
    assert {_url("posting_list"), _url("placement_list"), _url("clearance_list")} <= set(urls)
    client.force_login(world.loner)
    urls = [url for _, url in client.get(reverse("home")).context["nav_items"]]
    assert _url("posting_list") not in urls
