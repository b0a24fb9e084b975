"""The evaluation report of an agreement: KPIs against targets with their trend, survey results
per questionnaire (hidden below the minimum group), the activity, a print stylesheet, and a CSV
whose every cell is escaped against spreadsheet formulas."""

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluations import report, services
from evaluations.enums import MetricKind, TextReview
from evaluations.models import Answer, Metric, SurveyTemplate, Target
from tests.evaluations import factories as f
from tests.evaluations import matrix as m
from tests.programs.factories import SessionFactory

pytestmark = pytest.mark.django_db

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _report_url(agreement, name="report", **period):
    url = reverse(f"evaluations:{name}", args=[agreement.pk])
    start, end = m.period()
    period = {"start": start.isoformat(), "end": end.isoformat(), **period}
    return f"{url}?start={period['start']}&end={period['end']}"


def _cells(content: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


def test_report_shows_kpis_targets_surveys_and_activity(client, world):
    target = m.once(world, m.target)  # sessions delivered: at least 20, one delivered
    services.take_snapshots()
    survey = m.once(world, m.staff_survey)
    for likert in (5, 4, 4):
        f.respond(survey, institution=world.school_a, likert=likert)
    client.force_login(world.staff_a)
    response = client.get(_report_url(target.agreement))
    assert response.status_code == 200
    page = response.content.decode()
    built = response.context["report"]
    assert [k.target for k in built.kpis] == [target]
    assert built.activity["sessions_delivered"] == Decimal(1)
    assert built.activity["schools_served"] == Decimal(1)
    assert "Sessions delivered" in page and "At least 20" in page
    assert "Workshop feedback (school staff)" in page
    assert "3 responses of 3 invited" in page
    assert "mean 4.33" in page
    assert page.count('data-chart="line"') == 1  # the KPI's trend line, drawn by static/js/charts.js
    assert page.count('data-chart="bar"') >= 4  # the questions' bars
    assert "Target 20" in page  # the target named in the trend chart's caption
    main = page.split("</main>")[0]
    # the figures travel as JSON data blocks, never as inline script (the CSP stays strict)
    assert re.findall(r"<script(?![^>]*application/json)", main) == []


def test_report_links_a_print_stylesheet(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    page = client.get(_report_url(agreement)).content.decode()
    assert 'href="/static/css/print.css" media="print"' in page
    stylesheet = (report.__file__.rsplit("/evaluations/", 1)[0]) + "/static/css/print.css"
    with open(stylesheet, encoding="utf-8") as css:
        assert ".site-header" in css.read()


def test_report_respects_suppression_on_the_page_and_in_the_csv(client, world):
    survey = m.once(world, m.staff_survey)
    f.respond(survey, institution=world.school_a, likert=5, text="Only two of us")
    f.respond(survey, institution=world.school_a, likert=1)
    client.force_login(world.coordinator_a)
    page = client.get(_report_url(survey.agreement)).content.decode()
    assert "Fewer than 3 responses: results are hidden to protect respondents." in page
    assert "Only two of us" not in page
    assert "Overall, I was satisfied" not in page
    content = client.get(_report_url(survey.agreement, "report_csv")).content.decode()
    assert "Fewer than 3 responses" in content
    assert "Only two of us" not in content and "Overall, I was satisfied" not in content


def test_report_aggregates_surveys_of_one_questionnaire_across_sessions(client, world):
    """Two surveys below the minimum each: together they reach it, and the report shows them."""
    first = m.once(world, m.staff_survey)
    session = m.once(world, m.session)
    other = SessionFactory(
        program=session.program,
        starts_at=session.starts_at - timedelta(days=3),
        ends_at=session.ends_at - timedelta(days=3),
        status="delivered",
    )
    second = f.survey("workshop-staff", other, title="Second")
    f.respond(first, institution=world.school_a, likert=5)
    f.respond(first, institution=world.school_a, likert=5)
    f.respond(second, institution=world.school_a, likert=2)
    client.force_login(world.coordinator_a)
    page = client.get(_report_url(first.agreement)).content.decode()
    assert "2 surveys" in page
    assert "results are hidden" not in page
    assert "mean 4.00" in page


def test_report_csv_escapes_every_cell(client, world):
    agreement = m.once(world, m.agreement)
    start, end = m.period()
    metric = Metric.objects.create(
        code="formula", name='=HYPERLINK("http://evil.test")', kind=MetricKind.MANUAL, agreement=agreement
    )
    Target.objects.create(
        agreement=agreement, metric=metric, period_start=start, period_end=end, target_value=Decimal(5)
    )
    survey = m.once(world, m.staff_survey)
    for text in ("+1+2", "@SUM(A1)", "-3"):
        f.respond(survey, institution=world.school_a, text=text)
    client.force_login(world.coordinator_a)  # the school side reads pending text
    response = client.get(_report_url(agreement, "report_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    cells = _cells(response.content.decode())
    assert '\'=HYPERLINK("http://evil.test")' in cells
    assert {"'+1+2", "'@SUM(A1)", "'-3"} <= set(cells)
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)
    assert "Sessions delivered" in cells  # the activity section


def test_report_csv_shows_agency_users_published_text_only(client, world):
    survey = m.once(world, m.staff_survey)
    for text in ("Shared with partners", "Still in review", "Kept at school"):
        f.respond(survey, institution=world.school_a, text=text)
    Answer.objects.filter(text="Shared with partners").update(review=TextReview.PUBLISHED)
    Answer.objects.filter(text="Kept at school").update(review=TextReview.WITHHELD)
    client.force_login(world.agency_coordinator)
    cells = _cells(client.get(_report_url(survey.agreement, "report_csv")).content.decode())
    assert "Shared with partners" in cells
    assert "Still in review" not in cells and "Kept at school" not in cells


def test_report_period_defaults_to_the_school_year_within_the_term(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    built = client.get(reverse("evaluations:report", args=[agreement.pk])).context["report"]
    today = timezone.localdate()
    year = today.year if today.month >= 8 else today.year - 1
    assert built.start == max(date(year, 8, 1), agreement.starts_on)
    assert built.end == min(date(year + 1, 7, 31), agreement.ends_on)
    assert report.default_period(agreement, agreement.ends_on + timedelta(days=800)) == (
        agreement.starts_on,
        agreement.ends_on,
    )


def test_a_bad_period_is_a_field_error_not_a_500(client, world):
    agreement = m.once(world, m.agreement)
    client.force_login(world.coordinator_a)
    url = reverse("evaluations:report", args=[agreement.pk])
    response = client.get(url, {"start": "yesterday", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "start" in response.context["form"].errors
    response = client.get(url, {"start": "2026-06-01", "end": "2026-01-01"})
    assert response.status_code == 400 and "end" in response.context["form"].errors
    response = client.get(url, {"start": "0001-01-01", "end": "9999-12-31"})
    assert response.status_code == 400
    csv_url = reverse("evaluations:report_csv", args=[agreement.pk])
    assert client.get(csv_url, {"start": "2026-06-01", "end": "x"}).status_code == 400


def test_report_is_404_for_another_school(client, world):
    agreement = m.once(world, m.agreement)
    for user in (world.staff_b, world.coordinator_b, world.student_a):
        client.force_login(user)
        assert client.get(_report_url(agreement)).status_code == 404
        assert client.get(_report_url(agreement, "report_csv")).status_code == 404


def test_report_queries_do_not_grow_with_targets_or_surveys(client, world):
    agreement = m.once(world, m.agreement)
    session = m.once(world, m.session)
    start, end = m.period()
    client.force_login(world.coordinator_a)

    def add(first, last):
        for n in range(first, last):
            metric = Metric.objects.create(
                code=f"manual-{n}", name=f"Manual {n}", kind=MetricKind.MANUAL, agreement=agreement
            )
            Target.objects.create(
                agreement=agreement, metric=metric, period_start=start, period_end=end, target_value=Decimal(3)
            )
            other = SessionFactory(
                program=session.program,
                starts_at=session.starts_at - timedelta(days=n + 1),
                ends_at=session.ends_at - timedelta(days=n + 1),
                status="delivered",
            )
            made = f.survey("workshop-staff", other, title=f"Survey {n}")
            for _ in range(2):  # with two surveys the results are already shown, as with six
                f.respond(made, institution=world.school_a)

    def count():
        cache.clear()  # the report's own queries, not what the table cache saves on a second look
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_report_url(agreement)).status_code == 200
        return len(ctx.captured_queries)

    add(0, 2)
    two = count()
    add(2, 6)
    assert count() == two


def test_report_queries_do_not_grow_with_questionnaires(client, world):
    """Every questionnaire's block comes out of the same few grouped queries."""
    agreement = m.once(world, m.agreement)
    session = m.once(world, m.session)
    client.force_login(world.coordinator_a)

    def block(code, days):
        other = SessionFactory(
            program=session.program,
            starts_at=session.starts_at - timedelta(days=days),
            ends_at=session.ends_at - timedelta(days=days),
            status="delivered",
        )
        made = f.survey(code, other, title=f"Survey {code}")
        for _ in range(3):
            f.respond(made, institution=world.school_a)

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(_report_url(agreement))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    block("workshop-staff", 1)
    one, _ = count()
    block("workshop-facilitators", 2)
    block("workshop-students", 3)
    three, page = count()
    assert three == one
    for template in SurveyTemplate.objects.filter(code__startswith="workshop-"):
        assert template.name in page  # each questionnaire has its block
