"""The evaluation report of one agreement over one period: the page a coordinator brings to the
review meeting. KPIs against their targets with the monthly trend, survey results per
questionnaire (aggregates only, hidden below the minimum group), and a short account of the
activity. The same figures go out as CSV, every cell escaped against spreadsheet formulas.

It reads only: through the caller's scope for targets and surveys, and through
evaluations.metrics and evaluations.results for the figures, so the page, the CSV and the API
show the same numbers.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from config import tablecache
from evaluations import charts, metrics, results
from evaluations.enums import QuestionKind, TargetStatus
from evaluations.models import Snapshot, Survey, SurveyTemplate, Target
from partnerships.models import Agreement, AgreementParty

LIKERT_LABELS = {
    1: gettext_lazy("1 · Strongly disagree"),
    2: gettext_lazy("2 · Disagree"),
    3: gettext_lazy("3 · Neutral"),
    4: gettext_lazy("4 · Agree"),
    5: gettext_lazy("5 · Strongly agree"),
}


def default_period(agreement: Agreement, today: date) -> tuple[date, date]:
    """The school year (August 1 to July 31) around ``today``, within the agreement's term;
    the whole term when the two do not meet (an agreement that ended, or has not begun)."""
    first_year = today.year if today.month >= 8 else today.year - 1
    start, end = date(first_year, 8, 1), date(first_year + 1, 7, 31)
    start, end = max(start, agreement.starts_on), min(end, agreement.ends_on)
    if end < start:
        return agreement.starts_on, agreement.ends_on
    return start, end


def hidden_note(min_group_size: int) -> str:
    return _("Fewer than %(n)s responses: results are hidden to protect respondents.") % {"n": min_group_size}


def answer_label(kind: str, value) -> str:
    if kind == QuestionKind.LIKERT:
        return str(LIKERT_LABELS.get(value, value))
    return str(value)


def question_charts(questions: list[dict]) -> list[dict]:
    """Each result question with a bar chart of its distribution (none for free text)."""
    shown = []
    for question in questions:
        chart = None
        if question["distribution"]:
            bars = [(answer_label(question["kind"], v), n) for v, n in question["distribution"].items()]
            chart = charts.bar_chart(bars, title=question["text"])
        shown.append({**question, "chart": chart})
    return shown


@dataclass
class Kpi:
    progress: metrics.Progress
    trend: list
    chart: SafeString

    @property
    def target(self) -> Target:
        return self.progress.target


@dataclass
class SurveyBlock:
    template: SurveyTemplate
    survey_count: int
    results: dict
    questions: list[dict] = field(default_factory=list)

    @property
    def note(self) -> str:
        return hidden_note(self.results["min_group_size"])


@dataclass
class Figures:
    """The report's own figures: the activity and the KPIs against their targets."""

    agreement: Agreement
    start: date
    end: date
    kpis: list[Kpi]
    activity: dict

    @property
    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(TargetStatus.values, 0)
        for kpi in self.kpis:
            counts[kpi.progress.status] += 1
        return counts


@dataclass
class Report(Figures):
    surveys: list[SurveyBlock] = field(default_factory=list)


def targets_in(user, agreement: Agreement, start: date, end: date):
    """The agreement's targets whose period meets [start, end], with their snapshots."""
    return (
        access.visible(user, Target)
        .filter(agreement=agreement, period_start__lte=end, period_end__gte=start)
        .select_related("agreement__lead_agency", "metric", "program")
        .prefetch_related(Prefetch("snapshots", queryset=Snapshot.objects.order_by("month")))
        .order_by("period_start", "metric__name", "pk")
    )


def trend_of(target: Target) -> list[tuple]:
    """The monthly snapshots of a target fetched with ``targets_in`` (no query of its own)."""
    return [(s.month, s.actual, s.status) for s in target.snapshots.all()]


def build_figures(agreement: Agreement, *, user, start: date, end: date, today: date | None = None) -> Figures:
    """The activity and the KPIs, each with its trend chart."""
    targets = list(targets_in(user, agreement, start, end))
    kpis = []
    found, activity = metrics.progress_and_activity(
        targets, agreement=agreement, period_start=start, period_end=end, today=today
    )
    for progress in found:
        target = progress.target
        trend = trend_of(target)
        title = _("%(metric)s by month, against the target of %(value)s") % {
            "metric": target.metric.name,
            "value": charts.number(target.target_value),
        }
        kpis.append(Kpi(progress, trend, charts.line_chart(trend, title=title, target=target.target_value)))
    return Figures(agreement, start, end, kpis, activity)


def build_surveys(agreement: Agreement, *, user, start: date, end: date) -> list[SurveyBlock]:
    """The results of the surveys opened in the period, one block per questionnaire."""
    surveys = list(
        access.visible(user, Survey)
        .filter(agreement=agreement, opened_at__date__gte=start, opened_at__date__lte=end)
        .select_related("template", "agreement")
        .prefetch_related("agreement__parties", "template__questions")
        .order_by("template__name", "opened_at", "pk")
    )
    by_template: dict[int, list[Survey]] = {}
    for survey in surveys:
        by_template.setdefault(survey.template_id, []).append(survey)
    blocks = []
    groups = list(by_template.values())
    for group, aggregate in zip(groups, results.aggregate_results_many(groups, user=user), strict=True):
        blocks.append(SurveyBlock(group[0].template, len(group), aggregate, question_charts(aggregate["questions"])))
    return blocks


def build(agreement: Agreement, *, user, start: date, end: date, today: date | None = None) -> Report:
    figures = build_figures(agreement, user=user, start=start, end=end, today=today)
    surveys = build_surveys(agreement, user=user, start=start, end=end)
    return Report(agreement, start, end, figures.kpis, figures.activity, surveys)


def sections(agreement: Agreement, *, user, start: date, end: date) -> SafeString:
    """The report's activity, KPIs and survey results as the page shows them.

    For the default period each of its two parts is kept in the table cache
    (``config.tablecache``) until a table it reads is written, or the day or the reader's
    memberships change: a report is opened again and again between the changes it reports. The
    parts are kept apart because they read different tables: a booking or an hour logged renews
    the figures (about half of the report's cost), not the survey results, which read only the
    surveys and their answers. Another period is computed each time, so that asking for period
    after period fills nothing."""

    def figures():
        built = build_figures(agreement, user=user, start=start, end=end)
        return render_to_string("evaluations/partials/report_figures.html", {"report": built})

    def surveys():
        blocks = build_surveys(agreement, user=user, start=start, end=end)
        return render_to_string("evaluations/partials/report_surveys.html", {"blocks": blocks})

    if (start, end) != default_period(agreement, timezone.localdate()):
        return SafeString(figures() + surveys())
    key = (agreement.pk, start.isoformat(), end.isoformat(), *access.viewer_key(user))
    # The agreement and its parties come in already read.
    reads = (Agreement._meta.db_table, AgreementParty._meta.db_table)
    within = ("agreement", frozenset({agreement.pk}))
    parts = tablecache.cached_many(
        [
            # Both read only the agreement's own sessions, bookings, hours and survey answers:
            # kept through other agreements' bookings, hours and responses.
            tablecache.Figure(("report figures", *key), figures, reads=reads, within=within),
            tablecache.Figure(("report surveys", *key), surveys, reads=reads, within=within),
        ]
    )
    return SafeString("".join(parts))


ACTIVITY_LABELS = {
    "sessions_delivered": gettext_lazy("Sessions delivered"),
    "schools_served": gettext_lazy("Schools served"),
    "students_reached": gettext_lazy("Students reached"),
    "interns": gettext_lazy("Interns started"),
    "hours_approved": gettext_lazy("Intern hours approved"),
}


def csv_rows(report: Report) -> list[list]:
    """The report as rows: one section per part, the same figures as the page."""
    rows = [
        [_("Evaluation report"), report.agreement.title],
        [_("Period"), report.start.isoformat(), report.end.isoformat()],
        [],
        [_("KPIs"), _("Metric"), _("Program"), _("Period starts"), _("Period ends"), _("Direction"), _("Target")]
        + [_("Baseline"), _("Actual"), _("Expected by now"), _("Percent of target"), _("Status")],
    ]
    for kpi in report.kpis:
        target, progress = kpi.target, kpi.progress
        rows.append(
            [
                "",
                target.metric.name,
                target.program.title if target.program else "",
                target.period_start.isoformat(),
                target.period_end.isoformat(),
                target.get_direction_display(),
                target.target_value,
                target.baseline,
                progress.actual,
                progress.expected,
                progress.percent,
                TargetStatus(progress.status).label,
            ]
        )
    rows += [[], [_("Trend"), _("Metric"), _("Month"), _("Actual"), _("Status")]]
    for kpi in report.kpis:
        for month, actual, status in kpi.trend:
            label = TargetStatus(status).label if status in TargetStatus.values else status
            rows.append(["", kpi.target.metric.name, month.strftime("%Y-%m"), actual, label])
    rows += [[], [_("Surveys"), _("Questionnaire"), _("Question"), _("Answer"), _("Count"), _("Mean")]]
    for block in report.surveys:
        name, res = block.template.name, block.results
        rows.append(["", name, _("surveys"), "", block.survey_count, ""])
        rows.append(["", name, _("responses"), "", res["response_count"], ""])
        rows.append(["", name, _("invited"), "", res["invited_count"], ""])
        rows.append(["", name, _("response rate (%)"), "", res["response_rate"], ""])
        if res["hidden"]:
            rows.append(["", name, block.note, "", "", ""])
            continue
        for question in res["questions"]:
            for value, count in question["distribution"].items():
                rows.append(["", name, question["text"], answer_label(question["kind"], value), count, ""])
            if question["mean"] is not None:
                rows.append(["", name, question["text"], _("mean"), "", question["mean"]])
            for text in question["texts"]:
                rows.append(["", name, question["text"], text, "", ""])
    rows += [[], [_("Activity"), _("Figure"), _("Value")]]
    for key, label in ACTIVITY_LABELS.items():
        rows.append(["", label, report.activity.get(key)])
    return rows


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv_rows(report):
        writer.writerow([results.csv_cell(cell) for cell in row])
    return out.getvalue()
