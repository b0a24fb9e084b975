"""Charts as markup: the figures travel twice, as data for Chart.js and as a table, and whatever
people typed (an option's label, a question) is escaped in both."""

import json
import re
from datetime import date
from decimal import Decimal

from django.utils import translation

from evaluations import charts


def _data(html: str) -> dict:
    source = re.search(r'data-source="([^"]+)"', html).group(1)
    return json.loads(re.search(rf'<script id="{source}" type="application/json">(.*?)</script>', html).group(1))


def _cells(html: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*)</tbody>", html).group(1)
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_a_bar_charts_labels_are_escaped_in_its_table_and_its_data():
    html = charts.bar_chart([("<b>Yes</b> & more", 3), ("No", 1)], title="<i>Useful?</i>")
    assert "<b>" not in html and "<i>" not in html
    assert _cells(html) == [["&lt;b&gt;Yes&lt;/b&gt; &amp; more", "3"], ["No", "1"]]
    assert "&lt;i&gt;Useful?&lt;/i&gt;" in html  # the caption
    assert _data(html)["labels"] == ["<b>Yes</b> & more", "No"]  # escaped in the block as \\u003C…
    assert _data(html)["datasets"][0]["data"] == [3, 1]


def test_a_line_chart_labels_its_months_alike_in_its_table_and_its_data():
    series = [(date(2026, 1, 1), Decimal("4.50"), "on_track"), (date(2026, 2, 1), None, "someday")]
    with translation.override("en"):
        html = charts.line_chart(series, title="Sessions", target=Decimal("10"))
    data = _data(html)
    assert data["labels"] == ["Jan 2026", "Feb 2026"]
    assert data["datasets"][0]["data"] == [4.5, None] and data["target"] == 10
    rows = _cells(html)
    assert [row[0] for row in rows] == data["labels"]
    assert [row[1] for row in rows] == ["4.50", "—"]
    assert [row[2] for row in rows] == ["On track", "someday"]  # a status by its label, an unknown one as it is
