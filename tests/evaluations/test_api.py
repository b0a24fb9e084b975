"""The evaluations API: the same scopes and services as the pages. Targets carry their progress,
measurements need a second coordinator, survey results are aggregates hidden below the minimum
group, and the CSV is escaped against spreadsheet formulas."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations import services
from evaluations.enums import MeasurementStatus, MetricKind, TargetStatus, TextReview
from evaluations.models import Answer, Measurement, Metric, Target
from tests.evaluations import factories as f
from tests.evaluations import matrix as m
from tests.programs.factories import SessionFactory

pytestmark = pytest.mark.django_db


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _post(client, url, data):
    return client.post(url, data, content_type="application/json")


def _patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def _period(days=90):
    start, _end = m.period()
    return {"period_start": start.isoformat(), "period_end": (start + timedelta(days=days)).isoformat()}


# Targets.


def test_targets_carry_their_progress_and_trend(client, world):
    target = m.once(world, m.target)  # sessions delivered, at least 20; one session delivered
    services.take_snapshots()
    client.force_login(world.staff_a)
    body = client.get(f"/api/v1/targets/{target.pk}/").json()
    assert body["metric_name"] == "Sessions delivered"
    assert Decimal(body["actual"]) == 1
    assert body["status"] in {"on_track", "at_risk"}
    assert Decimal(body["expected"]) > 0, body
    assert Decimal(body["percent"]) == Decimal("5.00")
    assert [row["actual"] for row in body["trend"]] == ["1.00"]
    listed = client.get("/api/v1/targets/", {"agreement": target.agreement_id}).json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == body["status"]


def test_coordinator_sets_changes_and_deletes_a_target(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    response = _post(
        client,
        "/api/v1/targets/",
        {
            "agreement": agreement.pk,
            "metric": Metric.objects.get(computation="fill_rate").pk,
            "target_value": "80",
            "direction": "at_least",
            "baseline": "60",
            **_period(),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["target_value"], body["baseline"]) == ("80.00", "60.00")
    assert body["status"] in TargetStatus.values
    duplicate = _post(
        client,
        "/api/v1/targets/",
        {"agreement": agreement.pk, "metric": body["metric"], "target_value": "70", **_period()},
    )
    assert duplicate.status_code == 409
    assert "metric" in duplicate.json()

    changed = _patch(client, f"/api/v1/targets/{body['id']}/", {"target_value": "85", "notes": "After review"})
    assert changed.status_code == 200
    assert changed.json()["target_value"] == "85.00"
    assert _patch(client, f"/api/v1/targets/{body['id']}/", {"target_value": "130"}).status_code == 400
    assert client.delete(f"/api/v1/targets/{body['id']}/").status_code == 204
    assert not Target.objects.filter(pk=body["id"]).exists()


def test_target_input_errors_are_field_errors(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    metric = Metric.objects.get(computation="sessions_delivered").pk
    cases = [
        ({"agreement": True, "metric": metric, "target_value": "5", **_period()}, "agreement"),
        ({"agreement": agreement.pk, "metric": metric, "target_value": "-5", **_period()}, "target_value"),
        ({"agreement": agreement.pk, "metric": metric, "target_value": "x", **_period()}, "target_value"),
        ({"agreement": agreement.pk, "metric": 99999, "target_value": "5", **_period()}, "metric"),
        (
            {
                "agreement": agreement.pk,
                "metric": metric,
                "target_value": "5",
                "period_start": "2026-09-01",
                "period_end": "2026-08-01",
            },
            "period_end",
        ),
        (
            {"agreement": agreement.pk, "metric": metric, "target_value": "5", "period_start": "0001-01-01"},
            "period_start",
        ),
    ]
    for data, field in cases:
        response = _post(client, "/api/v1/targets/", data)
        assert response.status_code == 400, (data, response.content)
        assert field in response.json(), (field, response.json())
    assert not Target.objects.exists()


def test_staff_may_read_targets_but_not_change_them(client, world):
    target = m.once(world, m.target)
    client.force_login(world.staff_a)
    assert client.get(f"/api/v1/targets/{target.pk}/").status_code == 200
    assert _patch(client, f"/api/v1/targets/{target.pk}/", {"target_value": "1"}).status_code == 403
    assert client.delete(f"/api/v1/targets/{target.pk}/").status_code == 403
    target.refresh_from_db()
    assert target.target_value == Decimal(20)


# Measurements: four eyes.


def test_a_measurement_is_approved_by_a_second_coordinator(client, world):
    metric = m.once(world, m.manual_metric)
    client.force_login(world.coordinator_a)
    response = _post(
        client,
        "/api/v1/measurements/",
        {
            "agreement": metric.agreement_id,
            "metric": metric.pk,
            "value": "3.5",
            "source": "Climate survey",
            **_period(),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["entered_by"]) == (MeasurementStatus.PENDING, world.coordinator_a.pk)
    approve = f"/api/v1/measurements/{body['id']}/approve/"
    assert client.post(approve).status_code == 403

    client.force_login(world.agency_coordinator)
    approved = client.post(approve)
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved", world.agency_coordinator.pk)
    locked = _patch(client, f"/api/v1/measurements/{body['id']}/", {"value": "4"})
    assert locked.status_code == 400
    assert "locked" in locked.json()["detail"]
    assert Measurement.objects.get(pk=body["id"]).value == Decimal("3.50")


def test_a_computed_metric_takes_no_measurement(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    response = _post(
        client,
        "/api/v1/measurements/",
        {
            "agreement": agreement.pk,
            "metric": Metric.objects.get(computation="sessions_delivered").pk,
            "value": "3",
            "source": "Counted",
            **_period(),
        },
    )
    assert response.status_code == 400
    assert "metric" in response.json()


def test_coordinators_define_manual_metrics_for_their_agreement(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    response = _post(client, "/api/v1/metrics/", {"agreement": agreement.pk, "name": "Felt safe", "unit": "percent"})
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["agreement"]) == (MetricKind.MANUAL, agreement.pk)
    client.force_login(world.staff_a)
    assert _post(client, "/api/v1/metrics/", {"agreement": agreement.pk, "name": "X"}).status_code == 403


# Another school's agreement: 404, a 400 on a field naming it, and nothing changes.


def test_school_b_cannot_read_or_change_school_a_evaluations(client, world):
    target = m.once(world, m.target)
    measurement = m.once(world, m.measurement)
    survey = m.once(world, m.staff_survey)
    metric = m.once(world, m.manual_metric)
    client.force_login(world.coordinator_b)
    for url in (
        f"/api/v1/targets/{target.pk}/",
        f"/api/v1/measurements/{measurement.pk}/",
        f"/api/v1/metrics/{metric.pk}/",
        f"/api/v1/surveys/{survey.pk}/",
        f"/api/v1/surveys/{survey.pk}/results/",
        f"/api/v1/surveys/{survey.pk}/csv/",
    ):
        assert client.get(url).status_code == 404, url
    assert _patch(client, f"/api/v1/targets/{target.pk}/", {"target_value": "1"}).status_code == 404
    assert client.delete(f"/api/v1/targets/{target.pk}/").status_code == 404
    assert client.post(f"/api/v1/measurements/{measurement.pk}/approve/").status_code == 404
    refused = _post(
        client,
        "/api/v1/targets/",
        {"agreement": target.agreement_id, "metric": target.metric_id, "target_value": "1", **_period()},
    )
    assert refused.status_code == 400 and "agreement" in refused.json()
    for url in ("/api/v1/targets/", "/api/v1/measurements/", "/api/v1/surveys/"):
        assert client.get(url).json()["count"] == 0, url
    target.refresh_from_db()
    measurement.refresh_from_db()
    assert (target.target_value, measurement.status) == (Decimal(20), MeasurementStatus.PENDING)


# Survey results.


def test_results_are_hidden_below_the_minimum_group(client, world):
    survey = m.once(world, m.staff_survey)
    f.respond(survey, institution=world.school_a, likert=5)
    f.respond(survey, institution=world.school_a, likert=4)
    client.force_login(world.coordinator_a)
    body = client.get(f"/api/v1/surveys/{survey.pk}/results/").json()
    assert (body["hidden"], body["response_count"], body["questions"]) == (True, 2, [])
    exported = client.get(f"/api/v1/surveys/{survey.pk}/csv/", HTTP_ACCEPT="text/csv").content.decode()
    assert "results hidden" in exported and "Overall, I was satisfied" not in exported

    f.respond(survey, institution=world.school_a, likert=3)
    body = client.get(f"/api/v1/surveys/{survey.pk}/results/").json()
    assert body["hidden"] is False
    overall = body["questions"][0]
    assert overall["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    assert overall["mean"] == 4.0
    listed = client.get("/api/v1/surveys/", {"agreement": survey.agreement_id}).json()["results"][0]
    assert (listed["response_count"], listed["invited_count"]) == (3, 3)


def test_agency_users_read_published_text_only(client, world):
    survey = m.once(world, m.staff_survey)
    for text in ("Published one", "Pending one", "Withheld one"):
        f.respond(survey, institution=world.school_a, text=text)
    Answer.objects.filter(text="Published one").update(review=TextReview.PUBLISHED)
    Answer.objects.filter(text="Withheld one").update(review=TextReview.WITHHELD)

    def texts(user):
        client.force_login(user)
        questions = client.get(f"/api/v1/surveys/{survey.pk}/results/").json()["questions"]
        return {t for q in questions for t in q["texts"]}

    assert texts(world.agency_coordinator) == {"Published one"}
    assert texts(world.officer) == {"Published one"}
    assert texts(world.coordinator_a) == {"Published one", "Pending one"}


def test_csv_is_text_csv_on_request_and_every_cell_is_escaped(client, world):
    survey = m.once(world, m.staff_survey)
    for text in ('=HYPERLINK("http://evil.test")', "+1+2", "@SUM(A1)"):
        f.respond(survey, institution=world.school_a, text=text)
    client.force_login(world.coordinator_a)
    response = client.get(f"/api/v1/surveys/{survey.pk}/csv/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert '\'=HYPERLINK("http://evil.test")' in cells
    assert "'+1+2" in cells and "'@SUM(A1)" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)

    wrapped = client.get(f"/api/v1/surveys/{survey.pk}/csv/")
    assert wrapped["Content-Type"].startswith("application/json")
    assert wrapped.json()["csv"] == response.content.decode()
    assert client.get(f"/api/v1/surveys/{survey.pk}/csv/", {"format": "csv"})["Content-Type"].startswith("text/csv")


def test_templates_list_their_questions_and_protected_topics(client, world):
    client.force_login(world.staff_a)
    body = client.get("/api/v1/survey-templates/", {"audience": "students"}).json()
    students = next(t for t in body["results"] if t["code"] == "workshop-students")
    assert students["has_protected_topics"] is True
    assert any(q["protected_topic"] for q in students["questions"])
    assert [q["position"] for q in students["questions"]] == sorted(q["position"] for q in students["questions"])


def test_filters_that_are_not_understood_are_a_400(client, world):
    client.force_login(world.coordinator_a)
    for url, query in (
        ("/api/v1/surveys/", {"status": "bogus"}),
        ("/api/v1/surveys/", {"agreement": "abc"}),
        ("/api/v1/measurements/", {"status": ""}),
        ("/api/v1/targets/", {"agreement": "0"}),
        ("/api/v1/metrics/", {"kind": "other"}),
    ):
        response = client.get(url, query)
        assert response.status_code == 400, (url, query)


# Lists cost the same number of queries for 2 rows as for 6.


def _manual_targets(agreement, first, last):
    start, end = m.period()
    for n in range(first, last):
        metric = Metric.objects.create(
            code=f"manual-{n}", name=f"Manual {n}", kind=MetricKind.MANUAL, agreement=agreement
        )
        Target.objects.create(
            agreement=agreement, metric=metric, period_start=start, period_end=end, target_value=Decimal(10)
        )


def _surveys(world, first, last):
    session = m.once(world, m.session)
    for n in range(first, last):
        other = SessionFactory(
            program=session.program,
            starts_at=session.starts_at - timedelta(days=n + 1),
            ends_at=session.ends_at - timedelta(days=n + 1),
            status="delivered",
        )
        made = f.survey("workshop-staff", other, title=f"Survey {n}")
        f.invitation(made, institution=world.school_a)


def _measurements(world, first, last):
    metric = m.once(world, m.manual_metric)
    start, _end = m.period()
    for n in range(first, last):
        Measurement.objects.create(
            metric=metric,
            agreement=metric.agreement,
            period_start=start + timedelta(days=n),
            period_end=start + timedelta(days=n),
            value=Decimal(n),
            source=f"Source {n}",
            entered_by=world.agency_coordinator,
        )


@pytest.mark.parametrize(
    ("url", "add"),
    [
        ("/api/v1/targets/", lambda w, a, b: _manual_targets(m.once(w, m.agreement), a, b)),
        ("/api/v1/surveys/", _surveys),
        ("/api/v1/measurements/", _measurements),
        ("/api/v1/metrics/", lambda w, a, b: _manual_targets(m.once(w, m.agreement), a, b)),
    ],
)
def test_list_queries_do_not_grow_with_rows(client, world, url, add):
    client.force_login(world.coordinator_a)
    add(world, 0, 2)
    two = _queries(client, url)
    add(world, 2, 6)
    assert client.get(url).json()["count"] >= 6
    assert _queries(client, url) == two
