"""Anonymity by design, checked on the schema itself (Django's _meta), not on the pages.

What was answered (Response, Answer) has no path to who was invited (SurveyInvitation) or to a
person (the User model): no foreign key, one-to-one or many-to-many either way, no model that
holds both, random UUID keys (no order to line up with invitations) and no time of day.
"""

import uuid

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from accounts.models import AuditEntry
from evaluations import surveys
from evaluations.models import Answer, Response, SurveyInvitation
from notifications.models import OutboundMessage
from tests.evaluations import factories as ef

ANSWER_TABLES = (Response, Answer)


def _forbidden():
    return {get_user_model(), SurveyInvitation}


def _related_models(model) -> set:
    """Every model ``model`` points to or is pointed at by, through any kind of relation."""
    related = set()
    for field in model._meta.get_fields(include_hidden=True):
        if field.is_relation and field.related_model is not None:
            related.add(field.related_model)
    return related


@pytest.mark.parametrize("model", ANSWER_TABLES, ids=lambda m: m.__name__)
def test_answer_tables_have_no_relation_to_a_person_or_an_invitation(model):
    assert not _related_models(model) & _forbidden()


@pytest.mark.parametrize("model", ANSWER_TABLES, ids=lambda m: m.__name__)
def test_answer_tables_keys_are_random_uuids(model):
    pk = model._meta.pk
    assert isinstance(pk, models.UUIDField)
    assert pk.default is uuid.uuid4


@pytest.mark.parametrize("model", ANSWER_TABLES, ids=lambda m: m.__name__)
def test_answer_tables_hold_no_time_of_day(model):
    timed = [f.name for f in model._meta.concrete_fields if isinstance(f, (models.DateTimeField, models.TimeField))]
    assert timed == []


def _points_to(model) -> set:
    """The models ``model`` itself holds a key to (its own FK, one-to-one and many-to-many
    fields; an auto-created M2M table's two keys count too), not the reverse sides."""
    return {
        field.related_model
        for field in model._meta.get_fields(include_hidden=True)
        if field.is_relation and not field.auto_created and field.related_model is not None
    }


def test_no_model_joins_answers_to_a_person_or_an_invitation():
    """A third table holding keys to both ends (a link table, a log row) would be a path around
    the rule. Parents of both, such as the survey itself, hold no key to either and may exist."""
    offenders = []
    for model in apps.get_models(include_auto_created=True):
        related = _points_to(model)
        if model not in ANSWER_TABLES and related & set(ANSWER_TABLES) and related & _forbidden():
            offenders.append(model._meta.label)
    assert offenders == []


def test_the_invitation_records_only_the_day_it_was_used():
    used_on = SurveyInvitation._meta.get_field("used_on")
    assert isinstance(used_on, models.DateField) and not isinstance(used_on, models.DateTimeField)


@pytest.mark.django_db
def test_submitting_writes_nothing_that_links_the_response_to_the_invitation(world):
    """Beyond the schema: the outbox and the audit log stay silent about a response."""
    survey = ef.survey("workshop-staff", ef.world_delivered(world))
    _invitation, token = ef.invitation(survey, user=world.staff_a, institution=world.school_a)
    before = (AuditEntry.objects.count(), OutboundMessage.objects.count())
    response = surveys.submit_response(token=token, answers=ef.answers_for("workshop-staff", text="Fine"))
    assert (AuditEntry.objects.count(), OutboundMessage.objects.count()) == before
    stored = Response.objects.filter(pk=response.pk).values().get()
    assert set(stored) == {"id", "survey_id", "audience", "institution_id", "submitted_on"}
