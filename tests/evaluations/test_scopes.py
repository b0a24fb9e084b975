"""Who reads which evaluations rows, and who may act: the scopes and predicates every page,
endpoint and task goes through."""

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps

from accounts import access
from accounts.enums import Role
from accounts.models import Membership
from evaluations import rules
from evaluations.enums import Audience, Direction, MetricKind, TextReview
from evaluations.models import Answer, Measurement, Metric, Response, Survey, SurveyInvitation, SurveyTemplate, Target
from programs.enums import SessionStatus
from tests.factories import SchoolFactory, member
from tests.programs.factories import active_agreement, booking, world_session

pytestmark = pytest.mark.django_db


def _ids(user, model):
    return set(access.visible(user, model).values_list("pk", flat=True))


def _target(agreement, metric_code="sessions_delivered"):
    return Target.objects.create(
        agreement=agreement,
        metric=Metric.objects.get(code=metric_code),
        period_start=date(2026, 8, 1),
        period_end=date(2027, 7, 31),
        target_value=Decimal(20),
        direction=Direction.AT_LEAST,
    )


def _survey(session, audience=Audience.STAFF):
    template = SurveyTemplate.objects.get(subject="session", audience=audience)
    return Survey.objects.create(
        template=template,
        agreement=session.program.agreement,
        program=session.program,
        session=session,
        title="Feedback",
        closes_at=session.ends_at.replace(year=session.ends_at.year + 1),
    )


def _text_answer(survey, institution):
    response = Response.objects.create(
        survey=survey, audience=Audience.STAFF, institution=institution, submitted_on=date(2026, 11, 1)
    )
    question = survey.template.questions.get(kind="text")
    return Answer.objects.create(response=response, question=question, text="More role play", review=TextReview.PENDING)


def test_every_evaluations_model_has_a_scope():
    assert set(apps.get_app_config("evaluations").get_models()) <= access.scoped_models()


def test_targets_and_surveys_are_read_by_the_adults_of_the_parties_only(world):
    session = world_session(world, status=SessionStatus.DELIVERED)
    agreement = session.program.agreement
    target, survey = _target(agreement), _survey(session)
    other = _target(active_agreement(world.agency, world.school_b))
    for reader in (world.coordinator_a, world.staff_a, world.officer, world.agency_coordinator):
        assert target.pk in _ids(reader, Target), reader
        assert survey.pk in _ids(reader, Survey), reader
    assert other.pk not in _ids(world.staff_a, Target)
    for stranger in (world.student_a, world.staff_b, world.loner):
        assert target.pk not in _ids(stranger, Target), stranger
        assert survey.pk not in _ids(stranger, Survey), stranger
    assert _ids(world.admin, Target) == {target.pk, other.pk}


def test_manual_metrics_belong_to_their_agreement_and_built_ins_to_every_adult(world):
    agreement = active_agreement(world.agency, world.school_a)
    manual = Metric.objects.create(code="felt-safe", name="Felt safe", kind=MetricKind.MANUAL, agreement=agreement)
    builtin = Metric.objects.get(code="fill_rate")
    assert {manual.pk, builtin.pk} <= _ids(world.staff_a, Metric)
    assert builtin.pk in _ids(world.staff_b, Metric) and manual.pk not in _ids(world.staff_b, Metric)
    assert _ids(world.student_a, Metric) == set()
    assert _ids(world.loner, Metric) == set()


def test_single_responses_are_never_listed_but_school_coordinators_review_their_schools_text(world):
    session = world_session(world, status=SessionStatus.DELIVERED)
    survey = _survey(session)
    answer = _text_answer(survey, world.school_a)
    for user in (world.coordinator_a, world.agency_coordinator, world.staff_a, world.officer):
        assert _ids(user, Response) == set(), user
    assert _ids(world.coordinator_a, Answer) == {answer.pk}
    assert _ids(world.agency_coordinator, Answer) == set()
    assert _ids(world.coordinator_b, Answer) == set()
    assert rules.can_review_text(world.coordinator_a, answer)
    assert not rules.can_review_text(world.agency_coordinator, answer)
    assert not rules.can_review_text(world.coordinator_b, answer)


def test_invitations_are_seen_by_their_own_person_only(world):
    session = world_session(world, status=SessionStatus.DELIVERED)
    survey = _survey(session)
    mine = SurveyInvitation.objects.create(survey=survey, token_hash="a" * 64, audience="staff", user=world.staff_a)
    SurveyInvitation.objects.create(survey=survey, token_hash="b" * 64, audience="students")  # a class link
    assert _ids(world.staff_a, SurveyInvitation) == {mine.pk}
    assert _ids(world.coordinator_a, SurveyInvitation) == set()
    assert _ids(world.loner, SurveyInvitation) == set()


def test_measurements_need_a_second_coordinator_to_approve(world):
    agreement = active_agreement(world.agency, world.school_a)
    metric = Metric.objects.create(code="felt-safe", name="Felt safe", kind=MetricKind.MANUAL, agreement=agreement)
    measurement = Measurement.objects.create(
        metric=metric,
        agreement=agreement,
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        value=Decimal("71.5"),
        source="Climate survey",
        entered_by=world.coordinator_a,
    )
    assert not rules.can_approve_measurement(world.coordinator_a, measurement)  # the one who entered it
    assert rules.can_approve_measurement(world.agency_coordinator, measurement)
    assert not rules.can_approve_measurement(world.staff_a, measurement)
    assert not rules.can_approve_measurement(world.coordinator_b, measurement)
    assert rules.can_approve_measurement(world.admin, measurement)
    assert rules.can_manage_targets(world.coordinator_a, agreement)
    assert not rules.can_manage_targets(world.officer, agreement)


def test_class_links_are_handed_out_by_the_teacher_who_booked_or_the_schools_coordinator(world):
    session = world_session(world, status=SessionStatus.DELIVERED)
    own = booking(session, institution=world.school_a, by=world.staff_a)
    colleague = member(world.school_a, Role.STAFF)
    assert rules.can_distribute(world.staff_a, own)
    assert rules.can_distribute(world.coordinator_a, own)
    assert not rules.can_distribute(colleague, own)
    assert not rules.can_distribute(world.agency_coordinator, own)
    assert not rules.can_distribute(world.coordinator_b, own)


def test_a_students_membership_never_opens_evaluations_even_beside_an_adult_one_elsewhere(world):
    agreement = active_agreement(world.agency, world.school_a)
    elsewhere = SchoolFactory()
    Membership.objects.create(user=world.student_a, organization=elsewhere, role=Role.STAFF)
    assert not rules.can_read_evaluations(world.student_a, agreement)
    assert _ids(world.student_a, Target) == set()
    Membership.objects.create(user=world.student_a, organization=world.agency, role=Role.OFFICER)
    fresh = type(world.student_a).objects.get(pk=world.student_a.pk)  # memberships are cached per user object
    assert rules.can_read_evaluations(fresh, agreement)
