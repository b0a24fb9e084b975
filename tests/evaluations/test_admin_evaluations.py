"""Evaluations in the admin: every page renders with data, an invitation's token hash is never
shown, responses and answers cannot be added or edited and lead to no invitation, approved
measurements and sent questionnaires are locked."""

import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.enums import Role
from evaluations.enums import Audience, MeasurementStatus, SurveyStatus, TargetStatus, TextReview
from evaluations.models import (
    Answer,
    Distribution,
    Measurement,
    Metric,
    Question,
    Response,
    Snapshot,
    Survey,
    SurveyConsent,
    SurveyInvitation,
    SurveyTemplate,
    Target,
)
from programs.enums import SessionStatus
from tests.factories import member
from tests.programs.factories import booking, world_session

pytestmark = pytest.mark.django_db

SECRET = "a-raw-token-only-the-invitee-ever-sees"


@pytest.fixture
def data(world):
    """One of each evaluations row, written directly: the admin shows data, it does not make it."""
    now = timezone.now()
    today = timezone.localdate()
    session = world_session(
        world, starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2) + timedelta(hours=1)
    )
    session.status = SessionStatus.DELIVERED
    session.save(update_fields=["status"])
    agreement = session.program.agreement
    class_booking = booking(session, institution=world.school_a, by=world.staff_a, seats=20)

    manual = Metric.objects.create(
        code="feel-safe",
        name="Students reporting they feel safe at school",
        kind="manual",
        unit="percent",
        agreement=agreement,
        created_by=world.agency_coordinator,
    )
    approved = Measurement.objects.create(
        metric=manual,
        agreement=agreement,
        period_start=date(today.year - 1, 1, 1),
        period_end=date(today.year - 1, 12, 31),
        value=Decimal("71.5"),
        source="District climate survey",
        entered_by=world.agency_coordinator,
        status=MeasurementStatus.APPROVED,
        approved_by=world.coordinator_a,
        approved_at=now,
    )
    pending = Measurement.objects.create(
        metric=manual,
        agreement=agreement,
        period_start=date(today.year, 1, 1),
        period_end=today,
        value=Decimal("74"),
        source="Spring climate survey",
        entered_by=world.agency_coordinator,
    )
    delivered = Metric.objects.get(code="sessions_delivered")
    target = Target.objects.create(
        agreement=agreement,
        metric=delivered,
        period_start=today.replace(day=1) - timedelta(days=60),
        period_end=today + timedelta(days=200),
        target_value=20,
        created_by=world.agency_coordinator,
    )
    snapshot = Snapshot.objects.create(target=target, month=today.replace(day=1), actual=1, status=TargetStatus.AT_RISK)

    template = SurveyTemplate.objects.get(code="workshop-students")
    survey = Survey.objects.create(
        template=template,
        agreement=agreement,
        program=session.program,
        session=session,
        title=f"Feedback: {session.program.title}",
        opened_at=now,
        closes_at=now + timedelta(days=14),
    )
    consent = SurveyConsent.objects.create(
        template=template,
        booking=class_booking,
        students_count=18,
        note="Signed forms collected in class",
        recorded_by=world.staff_a,
    )
    distribution = Distribution.objects.create(survey=survey, booking=class_booking, size=18, created_by=world.staff_a)
    invitation = SurveyInvitation.objects.create(
        survey=survey,
        token_hash=hashlib.sha256(SECRET.encode()).hexdigest(),
        audience=Audience.STUDENTS,
        institution=world.school_a,
        distribution=distribution,
        used_on=today,
    )
    response = Response.objects.create(
        survey=survey, audience=Audience.STUDENTS, institution=world.school_a, submitted_on=today
    )
    first, *_rest, free = list(template.questions.order_by("position"))
    Answer.objects.create(response=response, question=first, number=4)
    text = Answer.objects.create(
        response=response, question=free, text="More role-play, please.", review=TextReview.PENDING
    )
    return {
        Metric: manual,
        Measurement: pending,
        "approved": approved,
        Target: target,
        Snapshot: snapshot,
        SurveyTemplate: template,
        Question: first,
        Survey: survey,
        SurveyConsent: consent,
        Distribution: distribution,
        SurveyInvitation: invitation,
        Response: response,
        Answer: text,
    }


MODELS = [
    Metric,
    Measurement,
    Target,
    Snapshot,
    SurveyTemplate,
    Question,
    Survey,
    SurveyConsent,
    Distribution,
    SurveyInvitation,
    Response,
    Answer,
]


def url(model, view, *args):
    return reverse(f"admin:evaluations_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_evaluations_admin_pages_render_with_data(admin_client, data, model):
    changelist = admin_client.get(url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    assert admin_client.get(url(model, "changelist"), {"q": "a"}).status_code == 200
    assert admin_client.get(url(model, "change", data[model].pk)).status_code == 200


def test_evaluations_admin_changelists_do_not_grow_with_rows(admin_client, data, django_assert_max_num_queries):
    for model in MODELS:
        with django_assert_max_num_queries(12):
            assert admin_client.get(url(model, "changelist")).status_code == 200


def test_invitation_token_hash_is_never_shown(admin_client, data):
    invitation = data[SurveyInvitation]
    for page in (
        url(SurveyInvitation, "changelist"),
        url(SurveyInvitation, "change", invitation.pk),
        url(Survey, "change", invitation.survey_id),
        url(Distribution, "change", invitation.distribution_id),
    ):
        assert invitation.token_hash not in admin_client.get(page).content.decode(), page


def test_invitations_cannot_be_added_or_edited(admin_client, data):
    invitation = data[SurveyInvitation]
    assert admin_client.get(url(SurveyInvitation, "add")).status_code == 403
    admin_client.post(url(SurveyInvitation, "change", invitation.pk), {"used_on": "", "withdrawn": "on"})
    invitation.refresh_from_db()
    assert invitation.used_on is not None and not invitation.withdrawn


def test_responses_and_answers_cannot_be_added_edited_or_deleted(admin_client, data):
    response, answer = data[Response], data[Answer]
    for model in (Response, Answer):
        assert admin_client.get(url(model, "add")).status_code == 403
    admin_client.post(url(Response, "change", response.pk), {"audience": Audience.STAFF, "submitted_on": "2000-01-01"})
    admin_client.post(url(Answer, "change", answer.pk), {"text": "edited", "review": TextReview.PUBLISHED})
    response.refresh_from_db()
    answer.refresh_from_db()
    assert (response.audience, response.submitted_on) == (Audience.STUDENTS, timezone.localdate())
    assert (answer.text, answer.review) == ("More role-play, please.", TextReview.PENDING)
    assert admin_client.post(url(Response, "delete", response.pk), {"post": "yes"}).status_code == 403
    assert Response.objects.filter(pk=response.pk).exists()


def test_response_pages_lead_to_no_invitation(admin_client, data):
    invitation = data[SurveyInvitation]
    for page in (
        url(Response, "changelist"),
        url(Response, "change", data[Response].pk),
        url(Answer, "changelist"),
        url(Answer, "change", data[Answer].pk),
    ):
        content = admin_client.get(page).content.decode()
        assert f"/surveyinvitation/{invitation.pk}/" not in content, page
        assert f"/distribution/{invitation.distribution_id}/" not in content, page
    form = admin_client.get(url(Response, "change", data[Response].pk)).context["adminform"].form
    assert form.fields == {}  # nothing editable at all


def test_approved_measurement_is_locked_and_a_pending_one_is_not(admin_client, data):
    approved, pending = data["approved"], data[Measurement]
    admin_client.post(url(Measurement, "change", approved.pk), {"value": "99", "source": "edited"})
    approved.refresh_from_db()
    assert (approved.value, approved.source) == (Decimal("71.5"), "District climate survey")
    assert admin_client.post(url(Measurement, "delete", approved.pk), {"post": "yes"}).status_code == 403

    form = admin_client.get(url(Measurement, "change", pending.pk)).context["adminform"].form
    assert {"value", "source"} <= set(form.fields)
    assert "status" not in form.fields and "approved_by" not in form.fields  # approval is a service


def test_a_sent_questionnaire_is_frozen(admin_client, data):
    question = data[Question]
    before = question.text
    admin_client.post(url(Question, "change", question.pk), {"text": "Rewritten after the fact"})
    question.refresh_from_db()
    assert question.text == before
    page = admin_client.get(url(SurveyTemplate, "change", data[SurveyTemplate].pk))
    inline = page.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission and not inline.has_change_permission


def test_survey_is_read_only_and_guards_its_minimum_group(admin_client, data):
    survey = data[Survey]
    assert admin_client.get(url(Survey, "add")).status_code == 403
    admin_client.post(url(Survey, "change", survey.pk), {"min_group_size": "1", "status": SurveyStatus.CLOSED})
    survey.refresh_from_db()
    assert (survey.min_group_size, survey.status) == (3, SurveyStatus.OPEN)


def test_evaluations_admin_is_for_admins_only(client, data, world):
    client.force_login(member(world.school_a, Role.COORDINATOR, is_staff=False))
    assert client.get(url(Response, "changelist")).status_code == 302
