"""Survey services: generation exactly once, invitations, protected topics and consent, class
link sheets, answering once with checked answers, reminders, closing and text review."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.enums import OrganizationKind
from accounts.errors import DomainError
from accounts.services import hash_token
from evaluations import surveys
from evaluations.enums import Audience, SurveyStatus, TextReview
from evaluations.models import Answer, Distribution, Response, Survey, SurveyConsent, SurveyInvitation
from internships.enums import ConsentStatus
from notifications.models import OutboundMessage
from programs.enums import BookingStatus, SessionStatus
from tests.evaluations import factories as ef
from tests.internships import factories as itf
from tests.programs.factories import booking

pytestmark = pytest.mark.django_db

SESSION_CODES = {"workshop-staff", "workshop-students", "workshop-facilitators"}


# Generation.


def test_surveys_generated_once_per_delivered_session_even_when_the_task_runs_twice(world):
    session = ef.world_delivered(world)
    assert surveys.generate_surveys() == 3
    assert surveys.generate_surveys() == 0
    made = Survey.objects.filter(session=session)
    assert {s.template.code for s in made} == SESSION_CODES
    assert SurveyInvitation.objects.filter(survey__session=session).count() == 2  # staff + facilitator
    assert OutboundMessage.objects.filter(dedupe_key__startswith="evaluations:").count() == 3  # + the sheet


def test_generated_survey_closes_after_the_configured_days(world, settings):
    settings.EVALUATIONS_SURVEY_DAYS = 5
    session = ef.world_delivered(world)
    now = timezone.now()
    surveys.generate_surveys(now=now)
    for survey in Survey.objects.filter(session=session):
        assert survey.closes_at == now + timedelta(days=5)
        assert survey.status == SurveyStatus.OPEN


@pytest.mark.parametrize(
    ("status", "ended_ago"),
    [
        (SessionStatus.CANCELLED, timedelta(hours=2)),
        (SessionStatus.SCHEDULED, timedelta(hours=2)),
        (SessionStatus.DELIVERED, timedelta(hours=-2)),  # delivered early, not yet ended
        (SessionStatus.DELIVERED, timedelta(days=31)),  # too old to ask about
    ],
)
def test_no_survey_for_cancelled_undelivered_unfinished_or_old_sessions(world, status, ended_ago):
    ef.world_delivered(world, status=status, ended_ago=ended_ago)
    assert surveys.generate_surveys() == 0
    assert not Survey.objects.exists()


def test_inactive_templates_generate_nothing(world):
    ef.only_templates("workshop-staff")
    session = ef.world_delivered(world)
    surveys.generate_surveys()
    assert [s.template.code for s in Survey.objects.filter(session=session)] == ["workshop-staff"]


def test_staff_invited_once_per_person_with_their_institution_and_not_cancelled_bookers(world):
    session = ef.world_delivered(world)
    booking(session, institution=world.school_a, by=world.staff_a, group_name="Class 9C")
    booking(session, institution=world.school_a, by=world.coordinator_a, status=BookingStatus.CANCELLED)
    ef.only_templates("workshop-staff")
    surveys.generate_surveys()
    invitations = SurveyInvitation.objects.filter(survey__session=session)
    assert [(i.user, i.institution, i.audience) for i in invitations] == [
        (world.staff_a, world.school_a, Audience.STAFF)
    ]


def test_invitation_email_carries_the_raw_link_and_only_its_hash_is_stored(world):
    session = ef.world_delivered(world)
    ef.only_templates("workshop-facilitators")
    surveys.generate_surveys()
    invitation = SurveyInvitation.objects.get(survey__session=session)
    token = ef.token_from_outbox(world.officer.email)
    assert len(token) >= 43  # 32 random bytes, 256 bits
    assert invitation.token_hash == hash_token(token)
    assert token not in str(SurveyInvitation.objects.filter(pk=invitation.pk).values().get())
    assert surveys.invitation_for_token(token) == invitation


def test_students_get_no_personal_invitation_the_booking_teacher_gets_a_link_sheet_email(world):
    session = ef.world_delivered(world)
    ef.only_templates("workshop-students")
    surveys.generate_surveys()
    survey = Survey.objects.get(session=session)
    assert not survey.invitations.exists()
    sheet = OutboundMessage.objects.get(dedupe_key=f"evaluations:link_sheet:{survey.pk}:{session.bookings.get().pk}")
    assert sheet.to_email == world.staff_a.email
    assert "consent" in sheet.body_text  # a K-12 class and a protected question: consent first


def test_completed_placement_surveys_invite_the_intern_and_the_mentor(world):
    posting = itf.world_posting(world)
    mentor = itf.cleared_officer(world.agency)
    placement = ef.complete(itf.active_placement(posting, itf.make_student(world.school_a), mentor=mentor))
    assert surveys.generate_surveys() == 2
    assert surveys.generate_surveys() == 0
    invited = {(i.survey.template.code, i.user, i.institution) for i in SurveyInvitation.objects.all()}
    assert invited == {
        ("internship-interns", placement.student, world.school_a),
        ("internship-mentors", mentor, None),
    }


# Protected topics and consent.


def _minor_intern_placement(world, *, birth_date="minor"):
    """A completed placement of a 16-year-old (or, with ``birth_date=None``, of a student whose
    date of birth the school has since removed: unknown counts as a minor)."""
    posting = itf.world_posting(world)
    student = itf.make_student(world.school_a, birth_date=itf.minor_birth_date())
    placement = ef.complete(itf.active_placement(posting, student))
    if birth_date is None:
        student.birth_date = None
        student.save(update_fields=["birth_date"])
    return placement


@pytest.mark.parametrize("birth_date", ["minor", None])
def test_protected_topic_survey_never_sent_to_a_minor_intern_without_consent(world, birth_date):
    template = ef.protected_placement_template()
    ef.only_templates(template.code)
    placement = _minor_intern_placement(world, birth_date=birth_date)
    assert surveys.generate_surveys() == 1
    survey = Survey.objects.get(placement=placement)
    assert not survey.invitations.exists()
    assert not OutboundMessage.objects.filter(to_email=placement.student.email, dedupe_key__contains="invitation")


def test_protected_topic_survey_reaches_a_minor_intern_with_recorded_consent(world):
    template = ef.protected_placement_template()
    ef.only_templates(template.code)
    placement = _minor_intern_placement(world)
    surveys.record_student_consent(template=template, student=placement.student, by=world.coordinator_a)
    surveys.generate_surveys()
    assert SurveyInvitation.objects.filter(survey__placement=placement, user=placement.student).exists()


def test_consent_recorded_after_generation_sends_the_waiting_invitation(world):
    template = ef.protected_placement_template()
    ef.only_templates(template.code)
    placement = _minor_intern_placement(world)
    surveys.generate_surveys()
    surveys.record_student_consent(template=template, student=placement.student, by=world.coordinator_a)
    assert SurveyInvitation.objects.filter(survey__placement=placement, user=placement.student).count() == 1


def test_adult_intern_gets_a_protected_topic_survey_without_consent(world):
    template = ef.protected_placement_template()
    ef.only_templates(template.code)
    posting = itf.world_posting(world)
    placement = ef.complete(itf.active_placement(posting, itf.make_student(world.school_a)))
    surveys.generate_surveys()
    assert SurveyInvitation.objects.filter(survey__placement=placement, user=placement.student).exists()


def test_student_consent_recorded_only_by_the_students_school(world):
    template = ef.protected_placement_template()
    with pytest.raises(DomainError) as refused:
        surveys.record_student_consent(template=template, student=world.student_a, by=world.staff_b)
    assert refused.value.code == "forbidden"
    assert not SurveyConsent.objects.exists()


# Class link sheets.


def _student_survey(world, *, kind=OrganizationKind.K12_SCHOOL, seats=20, attended=None):
    school = world.school_a
    if kind != school.kind:
        school.kind = kind
        school.save(update_fields=["kind"])
    session = ef.delivered_session(world.agency, school)
    made = booking(session, institution=school, by=world.staff_a, seats=seats)
    if attended is not None:
        made.attended_count = attended
        made.save(update_fields=["attended_count"])
    return ef.survey("workshop-students", session), made


def test_k12_class_distribution_refused_without_group_consent(world):
    survey, made = _student_survey(world)
    with pytest.raises(DomainError) as refused:
        surveys.open_distribution(survey=survey, booking=made, size=5, by=world.staff_a)
    assert refused.value.code == "consent_required"
    assert not Distribution.objects.exists() and not SurveyInvitation.objects.exists()


def test_k12_class_distribution_capped_by_the_students_with_consent(world):
    survey, made = _student_survey(world)
    surveys.record_group_consent(template=survey.template, booking=made, students_count=12, by=world.staff_a)
    with pytest.raises(DomainError) as refused:
        surveys.open_distribution(survey=survey, booking=made, size=13, by=world.staff_a)
    assert refused.value.field == "size"
    distribution, tokens = surveys.open_distribution(survey=survey, booking=made, size=12, by=world.staff_a)
    assert len(tokens) == len(set(tokens)) == distribution.size == 12
    assert distribution.invitations.count() == 12
    assert {i.token_hash for i in distribution.invitations.all()} == {hash_token(t) for t in tokens}


def test_consent_cap_counts_links_already_used_in_earlier_sheets(world):
    survey, made = _student_survey(world)
    surveys.record_group_consent(template=survey.template, booking=made, students_count=4, by=world.staff_a)
    _first, tokens = surveys.open_distribution(survey=survey, booking=made, size=4, by=world.staff_a)
    for token in tokens[:3]:
        surveys.submit_response(token=token, answers=ef.answers_for("workshop-students"))
    with pytest.raises(DomainError):
        surveys.open_distribution(survey=survey, booking=made, size=2, by=world.staff_a)
    _second, more = surveys.open_distribution(survey=survey, booking=made, size=1, by=world.staff_a)
    assert len(more) == 1


def test_college_class_needs_no_group_consent_and_is_capped_by_attendance(world):
    survey, made = _student_survey(world, kind=OrganizationKind.COLLEGE, seats=20, attended=15)
    with pytest.raises(DomainError) as refused:
        surveys.open_distribution(survey=survey, booking=made, size=16, by=world.staff_a)
    assert refused.value.field == "size"
    _distribution, tokens = surveys.open_distribution(survey=survey, booking=made, size=15, by=world.staff_a)
    assert len(tokens) == 15


def test_a_new_sheet_withdraws_the_unused_links_of_the_previous_one(world):
    survey, made = _student_survey(world, kind=OrganizationKind.COLLEGE)
    first, old = surveys.open_distribution(survey=survey, booking=made, size=3, by=world.staff_a)
    surveys.submit_response(token=old[0], answers=ef.answers_for("workshop-students"))
    second, new = surveys.open_distribution(survey=survey, booking=made, size=3, by=world.staff_a)
    first.refresh_from_db()
    assert first.withdrawn_at is not None and second.withdrawn_at is None
    with pytest.raises(DomainError) as gone:
        surveys.invitation_for_token(old[1])
    assert gone.value.code == "withdrawn"
    assert surveys.invitation_for_token(new[0]).distribution == second


def test_only_the_booking_teacher_or_school_coordinator_hands_out_links(world):
    survey, made = _student_survey(world, kind=OrganizationKind.COLLEGE)
    for outsider in (world.staff_b, world.officer, world.student_a):
        with pytest.raises(DomainError) as refused:
            surveys.open_distribution(survey=survey, booking=made, size=1, by=outsider)
        assert refused.value.code == "forbidden"
    surveys.open_distribution(survey=survey, booking=made, size=1, by=world.coordinator_a)


def test_links_only_for_a_confirmed_booking_of_the_surveys_session(world):
    survey, _made = _student_survey(world, kind=OrganizationKind.COLLEGE)
    other_session = ef.delivered_session(world.agency, world.school_a)
    elsewhere = booking(other_session, institution=world.school_a, by=world.staff_a)
    with pytest.raises(DomainError) as refused:
        surveys.open_distribution(survey=survey, booking=elsewhere, size=1, by=world.staff_a)
    assert refused.value.code == "wrong_booking"
    waitlisted = booking(survey.session, institution=world.school_a, by=world.staff_a, status=BookingStatus.WAITLISTED)
    with pytest.raises(DomainError):
        surveys.open_distribution(survey=survey, booking=waitlisted, size=1, by=world.staff_a)


# Answering.


def _staff_survey(world):
    session = ef.world_delivered(world)
    return ef.survey("workshop-staff", session)


def test_submit_response_stores_answers_without_person_invitation_or_time(world):
    survey = _staff_survey(world)
    invitation, token = ef.invitation(survey, user=world.staff_a, institution=world.school_a)
    response = surveys.submit_response(
        token=token, answers=ef.answers_for("workshop-staff", likert=5, scale=9, text="More role play")
    )
    invitation.refresh_from_db()
    assert invitation.used_on == timezone.localdate()
    assert (response.survey, response.audience, response.institution) == (survey, Audience.STAFF, world.school_a)
    assert response.submitted_on == timezone.localdate()
    assert response.answers.count() == 6
    text = response.answers.get(question__kind="text")
    assert (text.text, text.review) == ("More role play", TextReview.PENDING)
    assert set(response.answers.exclude(question__kind="text").values_list("review", flat=True)) == {""}


def test_token_is_single_use(world):
    survey = _staff_survey(world)
    _invitation, token = ef.invitation(survey, user=world.staff_a)
    surveys.submit_response(token=token, answers=ef.answers_for("workshop-staff"))
    with pytest.raises(DomainError) as used:
        surveys.submit_response(token=token, answers=ef.answers_for("workshop-staff"))
    assert used.value.code == "token_used"
    assert Response.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "bad"),
    [("likert", 6), ("likert", 0), ("likert", "4.5"), ("scale", 11), ("scale", -1), ("choice", "Perhaps")],
)
def test_answers_out_of_range_are_refused_on_their_question(world, kind, bad):
    survey = _staff_survey(world)
    _invitation, token = ef.invitation(survey)
    answers = ef.answers_for("workshop-staff")
    question = next(q for q in ef.questions("workshop-staff") if q.kind == kind)
    answers[question.pk] = bad
    with pytest.raises(DomainError) as refused:
        surveys.submit_response(token=token, answers=answers)
    assert refused.value.field == f"q{question.pk}"
    assert not Response.objects.exists()
    assert surveys.invitation_for_token(token).used_on is None  # a refused form does not spend the link


def test_text_answers_longer_than_2000_characters_are_refused(world):
    survey = _staff_survey(world)
    _invitation, token = ef.invitation(survey)
    question = next(q for q in ef.questions("workshop-staff") if q.kind == "text")
    with pytest.raises(DomainError) as refused:
        surveys.submit_response(token=token, answers={**ef.answers_for("workshop-staff"), question.pk: "x" * 2001})
    assert refused.value.field == f"q{question.pk}"
    surveys.submit_response(token=token, answers={**ef.answers_for("workshop-staff"), question.pk: "x" * 2000})


def test_required_questions_must_be_answered_optional_ones_may_be_skipped(world):
    survey = _staff_survey(world)
    _invitation, token = ef.invitation(survey)
    required = ef.questions("workshop-staff")[0]
    answers = ef.answers_for("workshop-staff")
    del answers[required.pk]
    with pytest.raises(DomainError) as refused:
        surveys.submit_response(token=token, answers=answers)
    assert refused.value.field == f"q{required.pk}"
    assert refused.value.code == "required"
    response = surveys.submit_response(token=token, answers=ef.answers_for("workshop-staff"))  # no text: optional
    assert not response.answers.filter(question__kind="text").exists()


def test_questions_of_another_template_are_refused(world):
    survey = _staff_survey(world)
    _invitation, token = ef.invitation(survey)
    foreign = ef.questions("workshop-students")[0]
    with pytest.raises(DomainError):
        surveys.submit_response(token=token, answers={**ef.answers_for("workshop-staff"), foreign.pk: 3})


@pytest.mark.parametrize("case", ["unknown", "expired", "closed", "withdrawn", "used", "oversized"])
def test_invitation_for_token_says_why_a_link_does_not_work(world, case):
    survey = _staff_survey(world)
    invitation, token = ef.invitation(survey)
    expected = {
        "unknown": "token_unknown",
        "oversized": "token_unknown",
        "expired": "token_expired",
        "closed": "token_expired",
        "withdrawn": "withdrawn",
        "used": "token_used",
    }[case]
    if case == "unknown":
        token = token[:-2] + "xx"
    elif case == "oversized":
        token = "a" * 101
    elif case == "expired":
        Survey.objects.filter(pk=survey.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    elif case == "closed":
        Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
    elif case == "withdrawn":
        SurveyInvitation.objects.filter(pk=invitation.pk).update(withdrawn=True)
    elif case == "used":
        SurveyInvitation.objects.filter(pk=invitation.pk).update(used_on=timezone.localdate())
    with pytest.raises(DomainError) as refused:
        surveys.invitation_for_token(token)
    assert refused.value.code == expected
    with pytest.raises(DomainError):
        surveys.submit_response(token=token, answers=ef.answers_for("workshop-staff"))
    assert not Response.objects.exists()


# Reminders.


def _generated_staff_invitation(world):
    ef.only_templates("workshop-staff")
    ef.world_delivered(world)
    surveys.generate_surveys()
    return SurveyInvitation.objects.get(user=world.staff_a)


def _reminders_to(user) -> int:
    return OutboundMessage.objects.filter(to_email=user.email, dedupe_key__contains=":reminder").count()


def test_at_most_two_reminders_three_days_and_one_day_before_closing(world):
    invitation = _generated_staff_invitation(world)
    closes = invitation.survey.closes_at
    with time_machine.travel(closes - timedelta(days=4)):
        assert surveys.send_survey_reminders() == 0
    with time_machine.travel(closes - timedelta(days=3)):
        assert surveys.send_survey_reminders() == 1
        assert surveys.send_survey_reminders() == 0  # safe to run twice
    with time_machine.travel(closes - timedelta(days=1)):
        assert surveys.send_survey_reminders() == 1
    with time_machine.travel(closes - timedelta(hours=1)):
        assert surveys.send_survey_reminders() == 0
    assert _reminders_to(world.staff_a) == 2
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 2


def test_no_reminder_to_respondents(world):
    invitation = _generated_staff_invitation(world)
    surveys.submit_response(token=ef.token_from_outbox(world.staff_a.email), answers=ef.answers_for("workshop-staff"))
    for before in (timedelta(days=3), timedelta(days=1)):
        with time_machine.travel(invitation.survey.closes_at - before):
            assert surveys.send_survey_reminders() == 0
    assert _reminders_to(world.staff_a) == 0


def test_no_reminder_to_withdrawn_links_or_closed_surveys(world):
    invitation = _generated_staff_invitation(world)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(withdrawn=True)
    with time_machine.travel(invitation.survey.closes_at - timedelta(days=1)):
        assert surveys.send_survey_reminders() == 0
    SurveyInvitation.objects.filter(pk=invitation.pk).update(withdrawn=False)
    Survey.objects.filter(pk=invitation.survey_id).update(status=SurveyStatus.CLOSED)
    with time_machine.travel(invitation.survey.closes_at - timedelta(days=1)):
        assert surveys.send_survey_reminders() == 0


def test_a_reminder_carries_a_fresh_link_and_the_old_one_stops_working(world):
    invitation = _generated_staff_invitation(world)
    first = ef.token_from_outbox(world.staff_a.email)
    with time_machine.travel(invitation.survey.closes_at - timedelta(days=3)):
        surveys.send_survey_reminders()
    fresh = ef.token_from_outbox(world.staff_a.email)
    assert fresh != first
    with pytest.raises(DomainError) as old:
        surveys.invitation_for_token(first)
    assert old.value.code == "token_unknown"
    assert surveys.invitation_for_token(fresh) == invitation


def test_a_missed_first_reminder_does_not_become_two_at_once(world):
    invitation = _generated_staff_invitation(world)
    with time_machine.travel(invitation.survey.closes_at - timedelta(hours=20)):
        assert surveys.send_survey_reminders() == 1
        assert surveys.send_survey_reminders() == 0
    assert _reminders_to(world.staff_a) == 1


# Closing and review.


def test_due_surveys_close_and_their_links_stop_working(world):
    invitation = _generated_staff_invitation(world)
    token = ef.token_from_outbox(world.staff_a.email)
    with time_machine.travel(invitation.survey.closes_at + timedelta(minutes=1)):
        assert surveys.close_due_surveys() == 1
        assert surveys.close_due_surveys() == 0
    invitation.survey.refresh_from_db()
    assert invitation.survey.status == SurveyStatus.CLOSED
    with pytest.raises(DomainError) as closed:
        surveys.invitation_for_token(token)
    assert closed.value.code == "token_expired"


def test_only_agreement_coordinators_close_a_survey_early(world):
    survey = _staff_survey(world)
    with pytest.raises(DomainError):
        surveys.close_survey(survey=survey, by=world.staff_a)
    closed = surveys.close_survey(survey=survey, by=world.agency_coordinator)
    assert closed.status == SurveyStatus.CLOSED
    with pytest.raises(DomainError) as again:
        surveys.close_survey(survey=survey, by=world.agency_coordinator)
    assert again.value.code == "invalid_transition"


def test_text_review_by_the_respondents_school_coordinator_only(world):
    survey = _staff_survey(world)
    response = ef.respond(survey, institution=world.school_a, text="Loved it")
    answer = response.answers.get(question__kind="text")
    for outsider in (world.coordinator_b, world.agency_coordinator, world.staff_a):
        with pytest.raises(DomainError):
            surveys.review_text(answer=answer, by=outsider, publish=True)
    assert surveys.review_text(answer=answer, by=world.coordinator_a, publish=True).review == TextReview.PUBLISHED
    assert surveys.review_text(answer=answer, by=world.coordinator_a, publish=False).review == TextReview.WITHHELD
    assert Answer.objects.get(pk=answer.pk).review == TextReview.WITHHELD


def test_group_consent_recorded_by_the_teacher_and_bounded_by_the_class(world):
    survey, made = _student_survey(world, seats=10)
    with pytest.raises(DomainError):
        surveys.record_group_consent(template=survey.template, booking=made, students_count=3, by=world.staff_b)
    with pytest.raises(DomainError) as too_many:
        surveys.record_group_consent(template=survey.template, booking=made, students_count=11, by=world.staff_a)
    assert too_many.value.field == "students_count"
    surveys.record_group_consent(template=survey.template, booking=made, students_count=3, by=world.staff_a)
    again = surveys.record_group_consent(template=survey.template, booking=made, students_count=8, by=world.staff_a)
    assert SurveyConsent.objects.get().students_count == again.students_count == 8


def test_guardian_consent_for_the_placement_is_not_survey_consent(world):
    """Consent to an internship is not consent to questions about protected topics."""
    template = ef.protected_placement_template()
    ef.only_templates(template.code)
    placement = _minor_intern_placement(world)
    assert placement.consents.filter(status=ConsentStatus.GRANTED).exists()
    surveys.generate_surveys()
    assert not SurveyInvitation.objects.filter(user=placement.student).exists()
