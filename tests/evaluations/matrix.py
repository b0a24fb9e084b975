"""Permission rows for the evaluations pages (merged into tests/test_permission_matrix.py); the
API rows live in tests/evaluations/matrix_api.py.

Everything belongs to one active agreement between world.agency and school A, with a delivered
session that school A's staff member booked for a class. "staff" (school A staff) reads targets,
survey results and the report, and hands out their class's survey links, but does not manage
targets or measurements (403). "coordinator" (school A's coordinator) manages them, approves a
measurement the agency's coordinator entered (four eyes), and reviews school A's free text.
"student" reads no evaluations at all (404): students only answer, through a single-use link.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from evaluations.enums import Direction, MetricKind, TextReview, Unit
from evaluations.models import Answer, Measurement, Metric, Target
from partnerships.models import Agreement
from tests.evaluations import factories as f
from tests.matrix import HIDDEN, Row, everyone, signed_in

AGREEMENT_TITLE = "Marker Evaluated Partnership 5K"
SURVEY_TITLE = "Marker Staff Feedback Survey 3J"
METRIC_NAME = "Marker climate score 9P"
TARGET_NOTE = "Marker target note 2W"
MEASUREMENT_SOURCE = "Marker spring climate survey 7T"
FREE_TEXT = "Marker free text: more role play please"

READERS = {"anonymous": 302, **HIDDEN, "student": 404, "staff": 200, "coordinator": 200, "admin": 200}
MANAGERS = {**READERS, "staff": 403}
MANAGERS_POST = {**MANAGERS, "coordinator": 302, "admin": 302}
TEACHERS = READERS  # the booking's teacher, the school's coordinator and admins
REVIEWERS_POST = {"anonymous": 302, **HIDDEN, "student": 404, "staff": 404, "coordinator": 302, "admin": 302}


def _url(name, *args):
    return reverse(f"evaluations:{name}", args=args)


def once(w, build):
    cache = w.__dict__.setdefault("_evaluations_matrix", {})
    if build not in cache:
        cache[build] = build(w)
    return cache[build]


def session(w):
    """A delivered session under an agreement of world.agency and school A; staff A booked a class."""
    made = f.world_delivered(w)
    Agreement.objects.filter(pk=made.program.agreement_id).update(title=AGREEMENT_TITLE)
    return made


def agreement(w):
    return Agreement.objects.get(pk=once(w, session).program.agreement_id)


def booking(w):
    return once(w, session).bookings.get()


def period():
    today = timezone.localdate()
    return today - timedelta(days=60), today + timedelta(days=300)


def target(w):
    start, end = period()
    return Target.objects.create(
        agreement=once(w, agreement),
        metric=Metric.objects.get(computation="sessions_delivered"),
        period_start=start,
        period_end=end,
        target_value=Decimal(20),
        direction=Direction.AT_LEAST,
        notes=TARGET_NOTE,
    )


def manual_metric(w):
    return Metric.objects.create(
        code="marker-climate-score",
        name=METRIC_NAME,
        kind=MetricKind.MANUAL,
        unit=Unit.SCORE,
        agreement=once(w, agreement),
        created_by=w.agency_coordinator,
    )


def measurement(w):
    """Entered by the agency's coordinator, so school A's coordinator is the second pair of eyes."""
    start, _end = period()
    return Measurement.objects.create(
        metric=once(w, manual_metric),
        agreement=once(w, agreement),
        period_start=start,
        period_end=start + timedelta(days=30),
        value=Decimal(4),
        source=MEASUREMENT_SOURCE,
        entered_by=w.agency_coordinator,
    )


def staff_survey(w):
    return f.survey("workshop-staff", once(w, session), title=SURVEY_TITLE)


def student_survey(w):
    return f.survey("workshop-students", once(w, session), title="Marker Student Survey")


def answer(w):
    """A free-text answer from school A, waiting for the school's review."""
    f.respond(once(w, staff_survey), institution=w.school_a, text=FREE_TEXT)
    return Answer.objects.get(text=FREE_TEXT, review=TextReview.PENDING)


def token(w):
    _invitation, raw = f.invitation(once(w, staff_survey), institution=w.school_a)
    return raw


def report_query(w):
    return f"?start={date(2020, 1, 1).isoformat()}&end={(timezone.localdate() + timedelta(days=400)).isoformat()}"


PAGES = {
    "evaluations:index": Row(
        "GET",
        signed_in(200),
        shown=lambda w: once(w, agreement).title,
        hidden_from={"loner", "outsider", "student"},
    ),
    "evaluations:agreement_home": Row(
        "GET", READERS, url=lambda w: _url("agreement_home", once(w, target).agreement_id)
    ),
    "evaluations:target_create": Row("GET", MANAGERS, url=lambda w: _url("target_create", once(w, agreement).pk)),
    "evaluations:target_edit": Row("GET", MANAGERS, url=lambda w: _url("target_edit", once(w, target).pk)),
    "evaluations:target_delete": Row("POST", MANAGERS_POST, url=lambda w: _url("target_delete", once(w, target).pk)),
    "evaluations:metric_create": Row("GET", MANAGERS, url=lambda w: _url("metric_create", once(w, agreement).pk)),
    "evaluations:measurement_list": Row(
        "GET", READERS, url=lambda w: _url("measurement_list", once(w, measurement).agreement_id)
    ),
    "evaluations:measurement_create": Row(
        "GET", MANAGERS, url=lambda w: _url("measurement_create", once(w, manual_metric).agreement_id)
    ),
    "evaluations:measurement_edit": Row(
        "GET", MANAGERS, url=lambda w: _url("measurement_edit", once(w, measurement).pk)
    ),
    "evaluations:measurement_approve": Row(
        "POST", MANAGERS_POST, url=lambda w: _url("measurement_approve", once(w, measurement).pk)
    ),
    "evaluations:report": Row(
        "GET", READERS, url=lambda w: _url("report", once(w, target).agreement_id) + report_query(w)
    ),
    "evaluations:report_csv": Row(
        "GET", READERS, url=lambda w: _url("report_csv", once(w, target).agreement_id) + report_query(w)
    ),
    "evaluations:survey_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: once(w, staff_survey).title,
        hidden_from={"loner", "outsider", "student"},
    ),
    "evaluations:survey_detail": Row("GET", READERS, url=lambda w: _url("survey_detail", once(w, staff_survey).pk)),
    "evaluations:survey_csv": Row("GET", READERS, url=lambda w: _url("survey_csv", once(w, staff_survey).pk)),
    "evaluations:survey_close": Row(
        "POST", MANAGERS_POST, url=lambda w: _url("survey_close", once(w, staff_survey).pk)
    ),
    "evaluations:distribution": Row(
        "GET", TEACHERS, url=lambda w: _url("distribution", once(w, student_survey).pk, once(w, booking).pk)
    ),
    "evaluations:group_consent": Row(
        "GET", TEACHERS, url=lambda w: _url("group_consent", once(w, student_survey).pk, once(w, booking).pk)
    ),
    "evaluations:review_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: once(w, answer).text,
        hidden_from={"loner", "outsider", "student", "staff"},
    ),
    "evaluations:review_answer": Row(
        "POST",
        REVIEWERS_POST,
        url=lambda w: _url("review_answer", once(w, answer).pk),
        data=lambda w: {"decision": "publish"},
    ),
    # The respondent's link: no account; the token moves into the session at once.
    "evaluations:survey_open": Row("GET", everyone(302), url=lambda w: _url("survey_open", once(w, token))),
    "evaluations:survey_respond": Row("GET", everyone(410)),
}

try:
    from tests.evaluations.matrix_api import API
except ImportError:  # pragma: no cover -- while the API rows are being written
    API = {}
