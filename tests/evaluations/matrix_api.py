"""Permission rows for the evaluations API (imported by tests/evaluations/matrix.py).

The objects are those of tests/evaluations/matrix.py: one agreement of world.agency and school
A, its target, manual metric, a measurement the agency's coordinator entered, a staff feedback
survey. An agreement named in a body that the caller cannot read is a field error (400), like a
missing one; school A's staff read everything here but change nothing (403).
"""

from datetime import timedelta

from django.utils import timezone

from evaluations.models import Metric, SurveyTemplate
from tests.evaluations import matrix as m
from tests.matrix import HIDDEN, Row, signed_in

LIST = signed_in(200, anonymous=401)
READERS = {"anonymous": 401, **HIDDEN, "student": 404, "staff": 200, "coordinator": 200, "admin": 200}
MANAGERS = {**READERS, "staff": 403}
CREATE = {"anonymous": 401, "loner": 400, "outsider": 400, "student": 400, "staff": 403, "coordinator": 201}
CREATE["admin"] = 201
NOT_ON_A = {"loner", "outsider", "student"}
TEMPLATE_NAME = "Workshop feedback (school staff)"


def _period():
    today = timezone.localdate()
    return {"period_start": today.isoformat(), "period_end": (today + timedelta(days=90)).isoformat()}


def _template(w):
    return SurveyTemplate.objects.get(code="workshop-staff")


API = {
    # Metrics.
    ("GET", "/api/v1/metrics/"): Row(
        "GET", LIST, shown=lambda w: m.once(w, m.manual_metric).name, hidden_from=NOT_ON_A
    ),
    ("POST", "/api/v1/metrics/"): Row(
        "POST", CREATE, data=lambda w: {"agreement": m.once(w, m.agreement).pk, "name": "Felt safe", "unit": "percent"}
    ),
    ("GET", "/api/v1/metrics/{id}/"): Row(
        "GET", READERS, url=lambda w: f"/api/v1/metrics/{m.once(w, m.manual_metric).pk}/"
    ),
    # Targets.
    ("GET", "/api/v1/targets/"): Row("GET", LIST, shown=lambda w: m.once(w, m.target).notes, hidden_from=NOT_ON_A),
    ("POST", "/api/v1/targets/"): Row(
        "POST",
        CREATE,
        data=lambda w: {
            "agreement": m.once(w, m.agreement).pk,
            "metric": Metric.objects.get(computation="fill_rate").pk,
            "target_value": "75",
            **_period(),
        },
    ),
    ("GET", "/api/v1/targets/{id}/"): Row("GET", READERS, url=lambda w: f"/api/v1/targets/{m.once(w, m.target).pk}/"),
    ("PATCH", "/api/v1/targets/{id}/"): Row(
        "PATCH",
        MANAGERS,
        url=lambda w: f"/api/v1/targets/{m.once(w, m.target).pk}/",
        data=lambda w: {"target_value": "30"},
    ),
    ("DELETE", "/api/v1/targets/{id}/"): Row(
        "DELETE",
        {**MANAGERS, "coordinator": 204, "admin": 204},
        url=lambda w: f"/api/v1/targets/{m.once(w, m.target).pk}/",
    ),
    # Measurements.
    ("GET", "/api/v1/measurements/"): Row(
        "GET", LIST, shown=lambda w: m.once(w, m.measurement).source, hidden_from=NOT_ON_A
    ),
    ("POST", "/api/v1/measurements/"): Row(
        "POST",
        CREATE,
        data=lambda w: {
            "agreement": m.once(w, m.agreement).pk,
            "metric": m.once(w, m.manual_metric).pk,
            "value": "3.5",
            "source": "Spring climate survey",
            **_period(),
        },
    ),
    ("GET", "/api/v1/measurements/{id}/"): Row(
        "GET", READERS, url=lambda w: f"/api/v1/measurements/{m.once(w, m.measurement).pk}/"
    ),
    ("PATCH", "/api/v1/measurements/{id}/"): Row(
        "PATCH",
        MANAGERS,
        url=lambda w: f"/api/v1/measurements/{m.once(w, m.measurement).pk}/",
        data=lambda w: {"value": "4.5"},
    ),
    ("POST", "/api/v1/measurements/{id}/approve/"): Row(
        "POST", MANAGERS, url=lambda w: f"/api/v1/measurements/{m.once(w, m.measurement).pk}/approve/"
    ),
    # Surveys: aggregates only.
    ("GET", "/api/v1/surveys/"): Row(
        "GET", LIST, shown=lambda w: m.once(w, m.staff_survey).title, hidden_from=NOT_ON_A
    ),
    ("GET", "/api/v1/surveys/{id}/"): Row(
        "GET", READERS, url=lambda w: f"/api/v1/surveys/{m.once(w, m.staff_survey).pk}/"
    ),
    ("GET", "/api/v1/surveys/{id}/results/"): Row(
        "GET", READERS, url=lambda w: f"/api/v1/surveys/{m.once(w, m.staff_survey).pk}/results/"
    ),
    ("GET", "/api/v1/surveys/{id}/csv/"): Row(
        "GET", READERS, url=lambda w: f"/api/v1/surveys/{m.once(w, m.staff_survey).pk}/csv/"
    ),
    # Templates: not secret; every adult member reads them.
    ("GET", "/api/v1/survey-templates/"): Row(
        "GET", LIST, shown=lambda w: TEMPLATE_NAME, hidden_from={"loner", "student"}
    ),
    ("GET", "/api/v1/survey-templates/{id}/"): Row(
        "GET",
        {
            "anonymous": 401,
            "loner": 404,
            "outsider": 200,
            "student": 404,
            "staff": 200,
            "coordinator": 200,
            "admin": 200,
        },
        url=lambda w: f"/api/v1/survey-templates/{_template(w).pk}/",
    ),
}
