"""Charts drawn on the server as inline SVG: no chart library, no script, nothing from a CDN.

Each chart is an image with a name (``role="img"`` and a ``<title>``) and is followed by the
same figures as a table, so a screen reader, a printout and a person who cannot tell the
colours apart all get the numbers. Colours are SVG presentation attributes (not inline CSS), so
the strict Content-Security-Policy holds.
"""

import hashlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from evaluations.enums import TargetStatus

BAR = "#1d3f8f"  # the brand blue: 10:1 on white
LINE = "#1d3f8f"
TARGET = "#7a4a00"  # the warning brown: 7:1 on white
GRID = "#c9d1d9"
INK = "#1b1f24"
MUTED = "#4a5560"


def _id(kind: str, *parts) -> str:
    """A stable id for the chart's title: the same figures give the same id."""
    digest = hashlib.sha256(repr((kind, *parts)).encode()).hexdigest()[:10]
    return f"{kind}-{digest}"


def number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return number_format(value, decimal_pos=None if isinstance(value, int) else 2)


def _month(day: date) -> str:
    return date_format(day, "M Y")


def _figure(svg: SafeString, table: SafeString, *, css: str) -> SafeString:
    return format_html(
        '<figure class="{}">{}<details class="chart-data"><summary>{}</summary>{}</details></figure>',
        css,
        svg,
        _("Show the figures as a table"),
        table,
    )


def _table(caption: str, headers: Iterable[str], rows: Iterable[Iterable]) -> SafeString:
    head = format_html_join("", '<th scope="col">{}</th>', ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html(
        "<table><caption>{}</caption><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", caption, head, body
    )


# Bar chart: how the answers to one question are distributed.


def bar_chart(bars, *, title: str, unit: str | None = None) -> SafeString:
    """Horizontal bars, one per option (label, count), with the count written at the bar's end."""
    bars = [(str(label), int(count or 0)) for label, count in (bars.items() if isinstance(bars, dict) else bars)]
    unit = unit or _("Responses")
    row, gap, label_width, bar_width, number_width = 22, 6, 150, 260, 50
    width = label_width + bar_width + number_width
    height = max(1, len(bars)) * (row + gap)
    top = max((count for _label, count in bars), default=0) or 1
    chart_id = _id("bars", title, bars)
    shapes = []
    for i, (label, count) in enumerate(bars):
        y = i * (row + gap)
        length = round(bar_width * count / top)
        shapes.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="{}" font-size="13">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
                '<text x="{}" y="{}" fill="{}" font-size="13">{}</text>',
                label_width - 8,
                y + row - 6,
                INK,
                label if len(label) <= 22 else label[:21] + "…",
                label_width,
                y,
                max(length, 1 if count else 0),
                row,
                BAR,
                label_width + length + 6,
                y + row - 6,
                INK,
                number(count),
            )
        )
    svg = format_html(
        '<svg role="img" aria-labelledby="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'xmlns="http://www.w3.org/2000/svg" class="chart-svg"><title id="{id}">{title}</title>{shapes}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        shapes=mark_safe("".join(shapes)),  # each piece was built by format_html
    )
    table = _table(title, [_("Answer"), unit], ((label, number(count)) for label, count in bars))
    return _figure(svg, table, css="chart chart-bars")


# Trends: a sparkline for a list, a line chart with the target for the report.


def _points(series) -> list[tuple[date, Decimal | None, str]]:
    points = []
    for item in series:
        month, actual, *rest = item
        points.append((month, actual, rest[0] if rest else ""))
    return points


def _scale(values, *, target=None) -> tuple[Decimal, Decimal]:
    known = [v for v in values if v is not None]
    if target is not None:
        known.append(target)
    if not known:
        return Decimal(0), Decimal(1)
    low, high = min(min(known), Decimal(0)), max(known)
    if high == low:
        high = low + 1
    return Decimal(low), Decimal(high)


def _path(points, *, x0, width, y0, height, low, high) -> list[tuple[float, float]]:
    step = width / max(1, len(points) - 1)
    coords = []
    for i, (_month_day, actual, _status) in enumerate(points):
        if actual is None:
            continue
        x = x0 + (i * step if len(points) > 1 else width / 2)
        y = y0 + height - float((Decimal(actual) - low) / (high - low)) * height
        coords.append((round(x, 1), round(y, 1)))
    return coords


def _status_label(status: str) -> str:
    return TargetStatus(status).label if status in TargetStatus.values else status


def _trend_table(title: str, points) -> SafeString:
    return _table(
        title,
        [_("Month"), _("Actual"), _("Status")],
        ((_month(m), number(a), _status_label(s)) for m, a, s in points),
    )


def sparkline(series, *, title: str) -> SafeString:
    """A small trend line for a row of a list: the monthly actuals, oldest first."""
    points = _points(series)
    width, height, pad = 120, 30, 3
    chart_id = _id("spark", title, points)
    if not points:
        return format_html('<span class="muted">{}</span>', _("No snapshots yet"))
    low, high = _scale([a for _m, a, _s in points])
    coords = _path(points, x0=pad, width=width - 2 * pad, y0=pad, height=height - 2 * pad, low=low, high=high)
    line = " ".join(f"{x},{y}" for x, y in coords)
    last = coords[-1] if coords else None
    svg = format_html(
        '<svg role="img" aria-labelledby="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'xmlns="http://www.w3.org/2000/svg" class="chart-svg sparkline"><title id="{id}">{title}</title>'
        '<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"></polyline>{dot}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        line=line,
        color=LINE,
        dot=format_html('<circle cx="{}" cy="{}" r="2.5" fill="{}"></circle>', last[0], last[1], LINE) if last else "",
    )
    table = format_html('<div class="visually-hidden">{}</div>', _trend_table(title, points))
    return format_html('<div class="chart sparkline-wrap">{}{}</div>', svg, table)


def line_chart(series, *, title: str, target=None) -> SafeString:
    """The monthly actuals of a target as a line, with the target value as a dashed line."""
    points = _points(series)
    width, height = 480, 180
    left, right, top, bottom = 56, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    chart_id = _id("trend", title, points, target)
    if not points:
        return format_html('<p class="muted">{}</p>', _("No monthly snapshots yet."))
    low, high = _scale([a for _m, a, _s in points], target=target)
    coords = _path(points, x0=left, width=plot_w, y0=top, height=plot_h, low=low, high=high)
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"></line>',
            left,
            top + plot_h,
            left + plot_w,
            top + plot_h,
            GRID,
        ),
        format_html(
            '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>'
            '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>',
            left - 6,
            top + 10,
            MUTED,
            number(high),
            left - 6,
            top + plot_h,
            MUTED,
            number(low),
        ),
        format_html(
            '<text x="{}" y="{}" font-size="12" fill="{}">{}</text>'
            '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>',
            left,
            height - 8,
            MUTED,
            _month(points[0][0]),
            left + plot_w,
            height - 8,
            MUTED,
            _month(points[-1][0]),
        ),
    ]
    if target is not None:
        y = top + plot_h - float((Decimal(target) - low) / (high - low)) * plot_h
        parts.append(
            format_html(
                '<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2" stroke-dasharray="6 4"></line>'
                '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="{}">{}</text>',
                left,
                left + plot_w,
                TARGET,
                left + plot_w,
                round(y - 4, 1),
                TARGET,
                _("Target %(value)s") % {"value": number(target)},
                y=round(y, 1),
            )
        )
    if coords:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"></polyline>',
                " ".join(f"{x},{y}" for x, y in coords),
                LINE,
            )
        )
        parts.extend(format_html('<circle cx="{}" cy="{}" r="3.5" fill="{}"></circle>', x, y, LINE) for x, y in coords)
    svg = format_html(
        '<svg role="img" aria-labelledby="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'xmlns="http://www.w3.org/2000/svg" class="chart-svg"><title id="{id}">{title}</title>{parts}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        parts=mark_safe("".join(parts)),  # each piece was built by format_html
    )
    return _figure(svg, _trend_table(title, points), css="chart chart-trend")
