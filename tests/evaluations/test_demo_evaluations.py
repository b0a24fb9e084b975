"""The evaluations part of the demo world: targets for both agreements, a manual metric awaiting
approval, monthly snapshots whose figures are the data's own, and surveys with anonymous
responses (one group large enough to show, others hidden), all made through the services and
loaded once."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.management.commands.seed_demo import ORGANIZATIONS
from accounts.models import Organization, User
from evaluations import demo, metrics, results, surveys
from evaluations.enums import Audience, Direction, MeasurementStatus, TargetStatus, TextReview
from evaluations.models import (
    Answer,
    Measurement,
    Response,
    Snapshot,
    Survey,
    SurveyConsent,
    SurveyInvitation,
    Target,
)
from internships.rules import is_minor_on
from partnerships.models import Agreement
from programs.enums import SessionStatus
from programs.models import Session

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    call_command("seed_demo", "--if-empty", verbosity=0)


def agency_today():
    """The demo's dates are the lead agency's."""
    return timezone.localdate(timezone=Organization.objects.get(name="Riverside Police Department").zone)


def counts():
    return tuple(
        model.objects.count()
        for model in (Target, Measurement, Snapshot, Survey, SurveyInvitation, Response, Answer, Session)
    )


def test_demo_evaluations_load_once(loaded):
    before = counts()
    assert all(before), before
    call_command("seed_demo", "--if-empty", verbosity=0)  # a second `./dev up`
    orgs = {key: Organization.objects.get(name=name) for key, name, *_rest in ORGANIZATIONS}
    users = {user.email: user for user in User.objects.all()}
    demo.create(orgs=orgs, users=users)  # the plug-in itself, run again
    assert counts() == before
    assert surveys.generate_surveys() == 0  # the task after the demo finds nothing new


def test_demo_targets_cover_both_agreements_over_the_school_year(loaded):
    today = agency_today()
    start, end = demo.school_year(today)
    for title in (demo.SCHOOLS_AGREEMENT, demo.UNIVERSITY_AGREEMENT):
        agreement = Agreement.objects.get(title=title)
        targets = Target.objects.filter(agreement=agreement)
        assert targets.count() >= 4, title
        for target in targets:
            assert start <= target.period_start <= today <= target.period_end <= end, target
            assert agreement.starts_on <= target.period_start and target.period_end <= agreement.ends_on, target
    assert Target.objects.filter(direction=Direction.AT_MOST).count() == 1
    assert Target.objects.filter(program__isnull=False).exists()
    statuses = {p.status for p in metrics.progress_for(Target.objects.all())}
    assert TargetStatus.ON_TRACK in statuses and len(statuses) >= 2  # the report has something to show

    manual = Measurement.objects.filter(metric__name=demo.FEEL_SAFE)
    assert set(manual.values_list("status", flat=True)) == {MeasurementStatus.APPROVED, MeasurementStatus.PENDING}
    approved = manual.get(status=MeasurementStatus.APPROVED)
    assert approved.approved_by != approved.entered_by  # four eyes
    assert Target.objects.get(metric__name=demo.FEEL_SAFE).baseline == approved.value


def test_demo_snapshots_are_the_data_at_each_past_month_end(loaded):
    today = agency_today()
    start, _end = demo.school_year(today)
    month_ends = demo._month_ends(start, today)
    for target in Target.objects.select_related("metric", "agreement__lead_agency", "program"):
        snapshots = {s.month: s for s in target.snapshots.all()}
        days = [day for day in month_ends if day >= target.period_start] + [today]
        assert set(snapshots) == {day.replace(day=1) for day in days}, target
        for day in days:
            again = metrics.progress(target, today=day)
            taken = snapshots[day.replace(day=1)]
            assert (taken.actual, taken.status) == (again.actual, again.status), (target, day)
    assert Snapshot.objects.exclude(actual=None).exists()


def test_demo_surveys_follow_delivered_sessions_one_shown_one_hidden(loaded, client):
    delivered = Session.objects.filter(status=SessionStatus.DELIVERED)
    assert delivered.count() >= 2
    assert all(s.ends_at < timezone.now() and s.bookings.exclude(attended_count=None).exists() for s in delivered)
    assert not Survey.objects.exclude(session__in=delivered).exists()
    admin = User.objects.get(email="admin@demo.test")
    hidden = {survey.pk: results.survey_results(survey, user=admin)["hidden"] for survey in Survey.objects.all()}
    responded = {s.pk: s.responses.count() for s in Survey.objects.all()}
    assert any(not h and responded[pk] >= 3 for pk, h in hidden.items())  # results shown
    assert any(h and 0 < responded[pk] < 3 for pk, h in hidden.items())  # results hidden
    # Answered invitations match responses survey by survey; nothing ties one to the other.
    for survey in Survey.objects.all():
        assert survey.invitations.filter(used_on__isnull=False).count() == responded[survey.pk]
    reviews = set(Answer.objects.exclude(review="").values_list("review", flat=True))
    assert {TextReview.PENDING, TextReview.PUBLISHED} <= reviews

    # The admin is where the demo is inspected: the pages render, and no token hash shows.
    client.force_login(admin)
    for name in ("target", "snapshot", "measurement", "survey", "surveyinvitation", "response", "answer"):
        assert client.get(reverse(f"admin:evaluations_{name}_changelist")).status_code == 200, name
    invitation = SurveyInvitation.objects.filter(used_on__isnull=False).first()
    page = client.get(reverse("admin:evaluations_surveyinvitation_change", args=[invitation.pk]))
    assert page.status_code == 200
    assert invitation.token_hash not in page.content.decode()


def test_demo_sends_no_protected_topic_survey_to_a_minor_without_consent(loaded):
    protected = [s for s in Survey.objects.select_related("template") if s.template.has_protected_topics]
    assert protected
    for survey in protected:
        links = survey.invitations.filter(audience=Audience.STUDENTS, withdrawn=False).select_related(
            "distribution__booking"
        )
        for booking in {i.distribution.booking for i in links}:
            consent = SurveyConsent.objects.get(template=survey.template, booking=booking)
            assert links.filter(distribution__booking=booking).count() <= consent.students_count
        for invitation in survey.invitations.filter(user__isnull=False).select_related("user"):
            if is_minor_on(invitation.user, timezone.localdate()):
                assert SurveyConsent.objects.filter(template=survey.template, student=invitation.user).exists()
    # A class without consent on file got no links at all.
    delivered = Session.objects.filter(status=SessionStatus.DELIVERED, surveys__in=[s.pk for s in protected])
    without = [
        b
        for s in delivered
        for b in s.bookings.all()
        if not SurveyConsent.objects.filter(booking=b).exists() and b.attended_count
    ]
    assert without
    assert not SurveyInvitation.objects.filter(distribution__booking__in=without).exists()
