"""Charts as data for Chart.js, with the same figures as a table.

Each chart is a ``<figure class="chart" data-chart="bar|line" data-source="ID">``: its figures
travel in a ``json_script`` element (a data block, not a script, so the strict
Content-Security-Policy holds) and ``static/js/charts.js`` draws them with Chart.js, which arrives
from npm at build time. The table inside the figure is the alternative: without JavaScript it is
what a person sees, with JavaScript it stays for screen readers, and on paper it is printed.
"""

import hashlib
import itertools
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import conditional_escape, format_html, format_html_join, json_script
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from evaluations.enums import TargetStatus

# A page can show the same figures twice (one question in two survey blocks): the serial keeps
# each data block's id unique on the page.
_serial = itertools.count(1)


def _id(kind: str, *parts) -> str:
    digest = hashlib.sha256(repr((kind, *parts)).encode()).hexdigest()[:10]
    return f"chart-{kind}-{digest}-{next(_serial)}"


def number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return number_format(value, decimal_pos=None if isinstance(value, int) else 2)


def _plain(value) -> float | int | None:
    """A number JSON can carry (Decimal is not one)."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _month(day: date) -> str:
    return date_format(day, "M Y")


def _table(headers: Iterable[str], rows: Iterable[Iterable], *, css: str = "") -> SafeString:
    # Built by joining escaped cells, not with format_html per cell: a report draws some thirty of
    # these tables (with the months formatted once, a bar chart went from 0.32 to 0.14 ms).
    head = "".join(f'<th scope="col">{conditional_escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{conditional_escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    css = f" {conditional_escape(css)}" if css else ""
    return mark_safe(f'<table class="chart-table{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def _figure(kind: str, data: dict, *, caption: SafeString | str, table: SafeString, css: str, **attrs) -> SafeString:
    element_id = _id(kind, caption, data)
    extra = format_html_join("", ' data-{}="{}"', ((name.replace("_", "-"), value) for name, value in attrs.items()))
    return format_html(
        '<figure class="chart {}" data-chart="{}" data-source="{}"{}><figcaption{}>{}</figcaption>{}{}</figure>',
        css,
        kind,
        element_id,
        extra,
        mark_safe(' class="visually-hidden"') if "chart-spark" in css else "",  # a constant
        caption,
        json_script(data, element_id),
        table,
    )


# Bar chart: how the answers to one question are distributed.


def bar_chart(bars, *, title: str, unit: str | None = None) -> SafeString:
    """Horizontal bars, one per option (label, count)."""
    bars = [(str(label), int(count or 0)) for label, count in (bars.items() if isinstance(bars, dict) else bars)]
    unit = str(unit or _("Responses"))
    data = {"labels": [label for label, _count in bars], "datasets": [{"label": unit, "data": [c for _l, c in bars]}]}
    table = _table([_("Answer"), unit], ((label, number(count)) for label, count in bars))
    return _figure("bar", data, caption=title, table=table, css="chart-bars", axis="y")


# Trends: a sparkline for a list, a line chart with the target for the report.


def _points(series) -> list[tuple[str, Decimal | None, str]]:
    """(month label, actual, status) for each item of a series; each month is formatted once,
    for the chart's labels and the table's rows alike."""
    points = []
    for item in series:
        month, actual, *rest = item
        points.append((_month(month), actual, rest[0] if rest else ""))
    return points


def _status_label(status: str) -> str:
    try:
        return TargetStatus(status).label
    except ValueError:
        return status


def _trend(points, *, target=None) -> dict:
    data = {
        "labels": [m for m, _a, _s in points],
        "datasets": [{"label": _("Actual"), "data": [_plain(a) for _m, a, _s in points]}],
    }
    if target is not None:
        data["target"] = _plain(target)
    return data


def _trend_table(points, *, css: str = "") -> SafeString:
    return _table(
        [_("Month"), _("Actual"), _("Status")],
        ((m, number(a), _status_label(s)) for m, a, s in points),
        css=css,
    )


def sparkline(series, *, title: str) -> SafeString:
    """A small trend line for a row of a list: the monthly actuals, oldest first."""
    points = _points(series)
    if not points:
        return format_html('<span class="muted">{}</span>', _("No snapshots yet"))
    # In a list the figures would crowd the row: the table is for screen readers (and paper) only.
    table = _trend_table(points, css="visually-hidden")
    return _figure("line", _trend(points), caption=title, table=table, css="chart-spark")


def line_chart(series, *, title: str, target=None) -> SafeString:
    """The monthly actuals of a target as a line, with the target value as a dashed line."""
    points = _points(series)
    if not points:
        return format_html('<p class="muted">{}</p>', _("No monthly snapshots yet."))
    caption = title
    if target is not None:
        caption = format_html(
            '{} <span class="chart-target">({})</span>', title, _("Target %(value)s") % {"value": number(target)}
        )
    return _figure(
        "line",
        _trend(points, target=target),
        caption=caption,
        table=_trend_table(points),
        css="chart-trend",
        target_label=_("Target"),
    )
