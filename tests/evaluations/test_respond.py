"""The public token pages: the token leaves the URL at once, GET changes nothing, POST answers
once, and a link that cannot be answered gets a clear page with status 410."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations.enums import SurveyStatus
from evaluations.models import Response, Survey, SurveyInvitation
from tests.evaluations import factories as ef

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_link(world):
    survey = ef.survey("workshop-staff", ef.world_delivered(world))
    invitation, token = ef.invitation(survey, user=world.staff_a, institution=world.school_a)
    return survey, invitation, token


def _form(survey, **overrides) -> dict:
    data = {f"q{pk}": str(value) for pk, value in ef.answers_for("workshop-staff", text="Keep it").items()}
    data.update(overrides)
    return data


def test_opening_the_link_moves_the_token_out_of_the_url_and_changes_nothing(client, staff_link):
    survey, invitation, token = staff_link
    opened = client.get(reverse("evaluations:survey_open", args=[token]))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("evaluations:survey_respond")
    assert token not in opened["Location"]
    assert opened["Referrer-Policy"] == "no-referrer"
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert survey.template.questions.first().text in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"  # the token has left the URL
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    client.get(opened["Location"])  # reading twice spends nothing
    invitation.refresh_from_db()
    assert invitation.used_on is None
    assert not Response.objects.exists()


def test_the_form_has_a_label_or_legend_for_every_question(client, staff_link):
    survey, _invitation, token = staff_link
    client.get(reverse("evaluations:survey_open", args=[token]))
    html = client.get(reverse("evaluations:survey_respond")).content.decode()
    assert html.count("<legend>") == survey.template.questions.exclude(kind="text").count()
    for question in survey.template.questions.filter(kind="text"):
        assert f'<label for="id_q{question.pk}">' in html


def test_posting_the_form_records_one_response_and_thanks(client, staff_link):
    survey, invitation, token = staff_link
    client.get(reverse("evaluations:survey_open", args=[token]))
    done = client.post(reverse("evaluations:survey_respond"), _form(survey))
    assert done.status_code == 200
    assert "Thank you" in done.content.decode()
    assert Response.objects.filter(survey=survey).count() == 1
    invitation.refresh_from_db()
    assert invitation.used_on == timezone.localdate()
    again = client.post(reverse("evaluations:survey_respond"), _form(survey))
    assert again.status_code == 410
    assert Response.objects.count() == 1


def test_a_used_link_gets_a_clear_410_page(client, staff_link):
    survey, _invitation, token = staff_link
    client.get(reverse("evaluations:survey_open", args=[token]))
    client.post(reverse("evaluations:survey_respond"), _form(survey))
    reopened = client.get(reverse("evaluations:survey_open", args=[token]))
    assert reopened.status_code == 410
    assert "already been used" in reopened.content.decode()


@pytest.mark.parametrize("how", ["past_closing", "closed"])
def test_an_expired_link_gets_a_clear_410_page(client, staff_link, how):
    survey, _invitation, token = staff_link
    if how == "closed":
        Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
    else:
        Survey.objects.filter(pk=survey.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    page = client.get(reverse("evaluations:survey_open", args=[token]))
    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"


def test_a_survey_closing_while_the_form_is_open_refuses_the_post_with_410(client, staff_link):
    survey, _invitation, token = staff_link
    client.get(reverse("evaluations:survey_open", args=[token]))
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.CLOSED)
    page = client.post(reverse("evaluations:survey_respond"), _form(survey))
    assert page.status_code == 410
    assert not Response.objects.exists()


def test_an_unknown_link_and_a_visit_without_a_link_get_410(client, staff_link):
    assert client.get(reverse("evaluations:survey_open", args=["x" * 43])).status_code == 410
    assert client.get(reverse("evaluations:survey_respond")).status_code == 410


def test_field_errors_re_render_the_form_with_400_and_keep_the_answers(client, staff_link):
    survey, invitation, token = staff_link
    likert = survey.template.questions.filter(kind="likert").first()
    choice = survey.template.questions.get(kind="choice")
    client.get(reverse("evaluations:survey_open", args=[token]))
    page = client.post(
        reverse("evaluations:survey_respond"), _form(survey, **{f"q{likert.pk}": "", f"q{choice.pk}": "Never"})
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert f'id="q{likert.pk}_error"' in html and f'id="q{choice.pk}_error"' in html
    assert "Keep it" in html
    invitation.refresh_from_db()
    assert invitation.used_on is None
    fixed = client.post(reverse("evaluations:survey_respond"), _form(survey))
    assert fixed.status_code == 200
    assert Response.objects.count() == 1


def test_a_withdrawn_class_link_gets_410(client, staff_link):
    _survey, invitation, token = staff_link
    SurveyInvitation.objects.filter(pk=invitation.pk).update(withdrawn=True)
    page = client.get(reverse("evaluations:survey_open", args=[token]))
    assert page.status_code == 410
    assert "withdrawn" in page.content.decode()


def test_the_pages_work_for_a_signed_in_user_too(client, staff_link, world):
    survey, _invitation, token = staff_link
    client.force_login(world.staff_a)
    client.get(reverse("evaluations:survey_open", args=[token]))
    assert client.post(reverse("evaluations:survey_respond"), _form(survey)).status_code == 200
