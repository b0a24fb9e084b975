"""The evaluations pages: targets and their progress, four-eyes measurements, the teacher's class
links and consent, the school's free-text review, survey results, and who sees what."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluations import metrics, services
from evaluations.enums import Direction, MeasurementStatus, MetricKind, SurveyStatus, TargetStatus, TextReview, Unit
from evaluations.models import (
    Answer,
    Distribution,
    Measurement,
    Metric,
    Survey,
    SurveyConsent,
    SurveyInvitation,
    Target,
)
from tests.evaluations import factories as f
from tests.evaluations import matrix as m
from tests.factories import member
from tests.programs.factories import SessionFactory, active_agreement

pytestmark = pytest.mark.django_db

TOKEN_LINK = re.compile(r"/surveys/r/([A-Za-z0-9_-]{40,})/")


def _url(name, *args):
    return reverse(f"evaluations:{name}", args=args)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _manual_metric(agreement, name, unit=Unit.COUNT):
    return Metric.objects.create(
        code=f"manual-{Metric.objects.count()}", name=name, kind=MetricKind.MANUAL, unit=unit, agreement=agreement
    )


def _manual_target(agreement, n):
    start, end = m.period()
    return Target.objects.create(
        agreement=agreement,
        metric=_manual_metric(agreement, f"Manual figure {n}"),
        period_start=start,
        period_end=end,
        target_value=Decimal(10),
    )


# Targets and progress.


def test_coordinator_sets_a_target_and_sees_its_progress(client, world):
    agreement = m.once(world, m.agreement)  # with one delivered session, booked by school A
    start, end = m.period()
    client.force_login(world.coordinator_a)
    response = client.post(
        _url("target_create", agreement.pk),
        {
            "metric": Metric.objects.get(computation="sessions_delivered").pk,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "target_value": "12",
            "direction": Direction.AT_LEAST,
            "baseline": "4",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get(agreement=agreement)
    assert (target.target_value, target.baseline, target.created_by) == (Decimal(12), Decimal(4), world.coordinator_a)
    progress = metrics.progress(target)
    assert progress.actual == Decimal(1)

    page = client.get(_url("agreement_home", agreement.pk)).content.decode()
    assert "Sessions delivered" in page
    assert str(TargetStatus(progress.status).label) in page
    assert "No snapshots yet" in page
    services.take_snapshots()
    page = client.get(_url("agreement_home", agreement.pk)).content.decode()
    assert 'data-chart="line"' in page and "chart-table" in page  # the trend sparkline, with its figures in a table


def test_target_edit_and_delete_through_the_pages(client, world):
    target = m.once(world, m.target)
    client.force_login(world.coordinator_a)
    form = {
        "metric": target.metric_id,
        "period_start": target.period_start.isoformat(),
        "period_end": target.period_end.isoformat(),
        "target_value": "25",
        "direction": Direction.AT_MOST,
        "notes": "Raised after the review meeting",
    }
    assert client.post(_url("target_edit", target.pk), form).status_code == 302
    target.refresh_from_db()
    assert (target.target_value, target.direction) == (Decimal(25), Direction.AT_MOST)
    assert client.post(_url("target_delete", target.pk)).status_code == 302
    assert not Target.objects.filter(pk=target.pk).exists()


def test_target_form_answers_bad_input_with_field_errors(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    response = client.post(
        _url("target_create", agreement.pk),
        {"metric": "999999", "period_start": "2026-09-01", "period_end": "2026-08-01", "target_value": "lots"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"metric", "period_end", "target_value"} <= set(errors)
    assert not Target.objects.exists()


def test_a_duplicate_target_is_a_field_error_from_the_service(client, world):
    target = m.once(world, m.target)
    client.force_login(world.coordinator_a)
    response = client.post(
        _url("target_create", target.agreement_id),
        {
            "metric": target.metric_id,
            "period_start": target.period_start.isoformat(),
            "period_end": target.period_end.isoformat(),
            "target_value": "5",
            "direction": Direction.AT_LEAST,
        },
    )
    assert response.status_code == 400
    assert "already a target" in " ".join(response.context["form"].errors["metric"])


def test_a_percentage_target_over_100_is_refused_next_to_its_field(client, world):
    agreement = m.once(world, m.agreement)
    start, end = m.period()
    client.force_login(world.coordinator_a)
    response = client.post(
        _url("target_create", agreement.pk),
        {
            "metric": Metric.objects.get(computation="fill_rate").pk,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "target_value": "120",
            "direction": Direction.AT_LEAST,
        },
    )
    assert response.status_code == 400
    assert "target_value" in response.context["form"].errors


# Measurements: four eyes.


def test_a_measurement_is_approved_by_a_second_coordinator_through_the_page(client, world):
    metric = m.once(world, m.manual_metric)
    agreement = metric.agreement
    start, _end = m.period()
    client.force_login(world.coordinator_a)
    response = client.post(
        _url("measurement_create", agreement.pk),
        {
            "metric": metric.pk,
            "period_start": start.isoformat(),
            "period_end": (start + timedelta(days=30)).isoformat(),
            "value": "3.8",
            "source": "Spring climate survey",
        },
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get(agreement=agreement)
    approve = _url("measurement_approve", measurement.pk)

    home = client.get(_url("agreement_home", agreement.pk)).content.decode()
    assert "Spring climate survey" in home
    assert approve not in home  # no button for the one who entered it
    assert client.post(approve).status_code == 403
    measurement.refresh_from_db()
    assert measurement.status == MeasurementStatus.PENDING

    client.force_login(world.agency_coordinator)
    assert approve in client.get(_url("agreement_home", agreement.pk)).content.decode()
    assert client.post(approve).status_code == 302
    measurement.refresh_from_db()
    assert (measurement.status, measurement.approved_by) == (MeasurementStatus.APPROVED, world.agency_coordinator)

    # Approved is locked: a correction is refused with the reason on the form.
    response = client.post(
        _url("measurement_edit", measurement.pk),
        {
            "period_start": measurement.period_start.isoformat(),
            "period_end": measurement.period_end.isoformat(),
            "value": "4.2",
            "source": "Spring climate survey",
        },
    )
    assert response.status_code == 400
    assert "locked" in str(response.context["form"].non_field_errors())
    measurement.refresh_from_db()
    assert measurement.value == Decimal("3.80")


def test_a_correction_makes_the_corrector_the_author(client, world):
    measurement = m.once(world, m.measurement)  # entered by the agency's coordinator
    client.force_login(world.coordinator_a)
    response = client.post(
        _url("measurement_edit", measurement.pk),
        {
            "period_start": measurement.period_start.isoformat(),
            "period_end": measurement.period_end.isoformat(),
            "value": "4.4",
            "source": measurement.source,
        },
    )
    assert response.status_code == 302
    measurement.refresh_from_db()
    assert (measurement.value, measurement.entered_by) == (Decimal("4.40"), world.coordinator_a)
    assert client.post(_url("measurement_approve", measurement.pk)).status_code == 403


def test_staff_read_the_evaluation_but_do_not_manage_it(client, world):
    target = m.once(world, m.target)
    measurement = m.once(world, m.measurement)
    client.force_login(world.staff_a)
    page = client.get(_url("agreement_home", target.agreement_id)).content.decode()
    assert "Sessions delivered" in page
    assert _url("target_create", target.agreement_id) not in page
    assert _url("measurement_approve", measurement.pk) not in page
    assert client.post(_url("target_delete", target.pk)).status_code == 403
    assert Target.objects.filter(pk=target.pk).exists()


def test_a_manual_metric_is_defined_through_the_page(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    response = client.post(_url("metric_create", agreement.pk), {"name": "Students who feel safe", "unit": "percent"})
    assert response.status_code == 302
    metric = Metric.objects.get(agreement=agreement)
    assert (metric.kind, metric.unit, metric.created_by) == (MetricKind.MANUAL, Unit.PERCENT, world.coordinator_a)
    response = client.post(_url("metric_create", agreement.pk), {"name": "", "unit": "furlongs"})
    assert response.status_code == 400
    assert {"name", "unit"} <= set(response.context["form"].errors)


# Another school's evaluation data: 404, and nothing changes.


def test_school_b_cannot_see_or_change_school_a_evaluations(client, world):
    target = m.once(world, m.target)
    measurement = m.once(world, m.measurement)
    survey = m.once(world, m.staff_survey)
    client.force_login(world.coordinator_b)
    for url in (
        _url("agreement_home", target.agreement_id),
        _url("report", target.agreement_id),
        _url("report_csv", target.agreement_id),
        _url("target_edit", target.pk),
        _url("measurement_edit", measurement.pk),
        _url("survey_detail", survey.pk),
        _url("survey_csv", survey.pk),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        _url("target_delete", target.pk),
        _url("measurement_approve", measurement.pk),
        _url("survey_close", survey.pk),
    ):
        assert client.post(url).status_code == 404, url
    assert Target.objects.filter(pk=target.pk).exists()
    measurement.refresh_from_db()
    survey.refresh_from_db()
    assert (measurement.status, survey.status) == (MeasurementStatus.PENDING, SurveyStatus.OPEN)
    lists = client.get(_url("survey_list")).content.decode() + client.get(_url("index")).content.decode()
    assert survey.title not in lists and m.AGREEMENT_TITLE not in lists


# Surveys: results, suppression, closing.


def test_results_below_the_minimum_group_are_hidden_with_a_clear_note(client, world):
    survey = m.once(world, m.staff_survey)
    f.respond(survey, institution=world.school_a, likert=5)
    f.respond(survey, institution=world.school_a, likert=1)
    client.force_login(world.coordinator_a)
    page = client.get(_url("survey_detail", survey.pk)).content.decode()
    assert "Fewer than 3 responses: results are hidden to protect respondents." in page
    assert "data-chart" not in page
    csv = client.get(_url("survey_csv", survey.pk)).content.decode()
    assert "results hidden" in csv
    assert "Overall, I was satisfied" not in csv  # no question's figures

    f.respond(survey, institution=world.school_a, likert=3)
    page = client.get(_url("survey_detail", survey.pk)).content.decode()
    assert "results are hidden" not in page
    assert page.count('data-chart="bar"') >= 4  # a bar chart per scale and choice question
    assert "mean 3.00" in page


def test_a_coordinator_closes_a_survey_and_its_links_stop(client, world):
    survey = m.once(world, m.staff_survey)
    client.force_login(world.staff_a)
    assert client.post(_url("survey_close", survey.pk)).status_code == 403
    client.force_login(world.coordinator_a)
    assert client.post(_url("survey_close", survey.pk)).status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    assert client.post(_url("survey_close", survey.pk)).status_code == 302  # already closed: a message
    assert "already closed" in client.get(_url("survey_detail", survey.pk)).content.decode()


def test_survey_filters_that_are_not_understood_are_a_400_not_a_500(client, world):
    m.once(world, m.staff_survey)
    client.force_login(world.coordinator_a)
    response = client.get(_url("survey_list"), {"status": "bogus", "agreement": "abc"})
    assert response.status_code == 400
    assert m.SURVEY_TITLE in response.content.decode()  # the valid rest still lists


def test_survey_list_filters_by_status_and_template(client, world):
    survey = m.once(world, m.staff_survey)
    client.force_login(world.coordinator_a)
    assert m.SURVEY_TITLE in client.get(_url("survey_list"), {"status": "open"}).content.decode()
    assert m.SURVEY_TITLE not in client.get(_url("survey_list"), {"status": "closed"}).content.decode()
    other = f.template("workshop-students")
    assert m.SURVEY_TITLE not in client.get(_url("survey_list"), {"template": other.pk}).content.decode()
    assert m.SURVEY_TITLE in client.get(_url("survey_list"), {"template": survey.template_id}).content.decode()


# The teacher's class links and consent.


def test_teacher_gets_the_class_links_once_and_they_work(client, world):
    survey = m.once(world, m.student_survey)  # has a protected-topic question
    booking = m.once(world, m.booking)
    links = _url("distribution", survey.pk, booking.pk)
    client.force_login(world.staff_a)
    assert links in client.get(_url("survey_detail", survey.pk)).content.decode()

    response = client.post(links, {"size": "3"})
    assert response.status_code == 400  # no consent recorded for the class yet
    assert "consent" in str(response.context["form"].non_field_errors())

    response = client.post(_url("group_consent", survey.pk, booking.pk), {"students_count": "5", "note": "Forms"})
    assert response.status_code == 302
    assert SurveyConsent.objects.get(booking=booking).students_count == 5

    response = client.post(links, {"size": "3"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    tokens = TOKEN_LINK.findall(response.content.decode())
    assert len(set(tokens)) == 3
    assert SurveyInvitation.objects.filter(distribution__booking=booking, withdrawn=False).count() == 3

    again = client.get(links).content.decode()
    assert not any(token in again for token in tokens)
    assert not TOKEN_LINK.search(again)

    client.logout()
    opened = client.get(_url("survey_open", tokens[0]))
    assert opened.status_code == 302 and opened.url == _url("survey_respond")


def test_a_class_gets_no_more_links_than_students_with_consent(client, world):
    survey = m.once(world, m.student_survey)
    booking = m.once(world, m.booking)
    client.force_login(world.staff_a)
    client.post(_url("group_consent", survey.pk, booking.pk), {"students_count": "2"})
    response = client.post(_url("distribution", survey.pk, booking.pk), {"size": "5"})
    assert response.status_code == 400
    assert "size" in response.context["form"].errors
    assert not Distribution.objects.exists()


def test_group_consent_form_checks_its_numbers(client, world):
    survey = m.once(world, m.student_survey)
    booking = m.once(world, m.booking)  # 20 seats
    url = _url("group_consent", survey.pk, booking.pk)
    client.force_login(world.staff_a)
    assert client.post(url, {"students_count": "0"}).status_code == 400
    response = client.post(url, {"students_count": "50"})
    assert response.status_code == 400
    assert "students_count" in response.context["form"].errors  # more than the class: the service says so
    assert not SurveyConsent.objects.exists()
    client.force_login(world.staff_b)
    assert client.get(url).status_code == 404


def test_another_teacher_of_the_school_does_not_hand_out_links_for_the_class(client, world):
    colleague = member(world.school_a, "staff")
    survey = m.once(world, m.student_survey)
    booking = m.once(world, m.booking)
    client.force_login(colleague)
    assert client.get(_url("distribution", survey.pk, booking.pk)).status_code == 403
    assert (
        _url("distribution", survey.pk, booking.pk) not in client.get(_url("survey_detail", survey.pk)).content.decode()
    )


# Free-text review.


def test_school_coordinator_publishes_text_before_agency_users_read_it(client, world):
    survey = m.once(world, m.staff_survey)
    for text in ("More role play", "Longer session", "Great officer"):
        f.respond(survey, institution=world.school_a, text=text)
    client.force_login(world.agency_coordinator)
    assert "More role play" not in client.get(_url("survey_detail", survey.pk)).content.decode()
    assert "More role play" not in client.get(_url("review_list")).content.decode()

    client.force_login(world.coordinator_a)
    queue = client.get(_url("review_list")).content.decode()
    assert all(text in queue for text in ("More role play", "Longer session", "Great officer"))
    assert world.staff_a.full_name not in queue  # the text, never who
    answer = Answer.objects.get(text="More role play")
    withheld = Answer.objects.get(text="Longer session")
    assert client.post(_url("review_answer", answer.pk), {"decision": "publish"}).status_code == 302
    assert client.post(_url("review_answer", withheld.pk), {"decision": "withhold"}).status_code == 302
    assert client.post(_url("review_answer", withheld.pk), {"decision": "maybe"}).status_code == 302
    answer.refresh_from_db()
    withheld.refresh_from_db()
    assert (answer.review, withheld.review) == (TextReview.PUBLISHED, TextReview.WITHHELD)
    assert "More role play" not in client.get(_url("review_list")).content.decode()

    client.force_login(world.agency_coordinator)
    page = client.get(_url("survey_detail", survey.pk)).content.decode()
    assert "More role play" in page
    assert "Longer session" not in page and "Great officer" not in page


def test_staff_cannot_review_text(client, world):
    answer = m.once(world, m.answer)
    client.force_login(world.staff_a)
    assert client.post(_url("review_answer", answer.pk), {"decision": "publish"}).status_code == 404
    answer.refresh_from_db()
    assert answer.review == TextReview.PENDING


# Navigation.


def test_navigation_offers_evaluations_to_adults_only(client, world):
    client.force_login(world.staff_a)
    assert _url("index") in client.get(reverse("home")).content.decode()
    client.force_login(world.student_a)
    assert _url("index") not in client.get(reverse("home")).content.decode()


# Lists cost the same number of queries for 2 rows as for 6.


def _extra_sessions_surveys(world, n):
    """``n`` staff surveys, each about its own delivered session of the same agreement."""
    session = m.once(world, m.session)
    program = session.program
    for i in range(n):
        other = SessionFactory(
            program=program,
            starts_at=session.starts_at - timedelta(days=i + 1),
            ends_at=session.ends_at - timedelta(days=i + 1),
            status="delivered",
        )
        f.survey("workshop-staff", other, title=f"Survey {Survey.objects.count()}")
        f.invitation(Survey.objects.latest("pk"), institution=world.school_a)


def test_survey_list_queries_do_not_grow_with_rows(client, world):
    client.force_login(world.coordinator_a)
    _extra_sessions_surveys(world, 2)
    two = _queries(client, _url("survey_list"))
    _extra_sessions_surveys(world, 4)
    assert Survey.objects.count() == 6
    assert _queries(client, _url("survey_list")) == two


def test_evaluation_page_queries_do_not_grow_with_targets(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    for n in range(2):
        _manual_target(agreement, n)
    two = _queries(client, _url("agreement_home", agreement.pk))
    for n in range(2, 6):
        _manual_target(agreement, n)
    assert _queries(client, _url("agreement_home", agreement.pk)) == two


def test_measurement_list_queries_do_not_grow_with_rows(client, world):
    metric = m.once(world, m.manual_metric)
    start, _end = m.period()
    client.force_login(world.coordinator_a)

    def add(n):
        for i in range(n):
            Measurement.objects.create(
                metric=metric,
                agreement=metric.agreement,
                period_start=start + timedelta(days=i),
                period_end=start + timedelta(days=i + 1),
                value=Decimal(i),
                source=f"Source {i}",
                entered_by=world.agency_coordinator,
            )

    add(2)
    two = _queries(client, _url("measurement_list", metric.agreement_id))
    add(4)
    assert _queries(client, _url("measurement_list", metric.agreement_id)) == two


def test_review_queue_queries_do_not_grow_with_rows(client, world):
    survey = m.once(world, m.staff_survey)
    client.force_login(world.coordinator_a)
    for i in range(2):
        f.respond(survey, institution=world.school_a, text=f"Text {i}")
    two = _queries(client, _url("review_list"))
    for i in range(2, 6):
        f.respond(survey, institution=world.school_a, text=f"Text {i}")
    assert _queries(client, _url("review_list")) == two


def test_index_queries_do_not_grow_with_agreements(client, world):
    client.force_login(world.coordinator_a)
    for _ in range(2):
        active_agreement(world.agency, world.school_a)
    two = _queries(client, _url("index"))
    for _ in range(4):
        active_agreement(world.agency, world.school_a)
    assert _queries(client, _url("index")) == two


def test_pages_are_paginated_by_25(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    for n in range(27):
        _manual_target(agreement, n)
    first = client.get(_url("agreement_home", agreement.pk))
    assert len(first.context["targets"]) == 25
    second = client.get(_url("agreement_home", agreement.pk), {"page": 2})
    assert len(second.context["targets"]) == 2


def test_distribution_page_needs_a_booking_of_the_survey_session(client, world):
    survey = m.once(world, m.student_survey)
    other = f.world_delivered(world)
    client.force_login(world.staff_a)
    assert client.get(_url("distribution", survey.pk, other.bookings.get().pk)).status_code == 404
    assert timezone.now() < survey.closes_at
