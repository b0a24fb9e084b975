"""The home page's plug-in: each domain app adds its panels through ``<app>/home.py``.

An app's ``panels(user, roles)`` returns the panels it has for this person; accounts
collects them by name (``config.plugins``) and never imports a domain app. Each panel
reads a fixed number of rows, so a home costs the same number of queries for a person
with two bookings as for one with two hundred.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.enums import Role
from config import tablecache
from config.plugins import app_modules

# How many rows a panel lists; the link beside it opens the whole list.
ROWS = 5


@dataclass
class Panel:
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100
    # A panel that lists rows by a moment still to come ("the next sessions") names the first of
    # those moments: once it has passed, the list is another, and the panel is computed again.
    fresh_until: datetime | None = None


@dataclass(frozen=True)
class Rendered:
    """A panel as the page shows it: its HTML, where it goes, and until when it holds."""

    order: int
    html: str
    fresh_until: datetime | None = None


# A panel's order places it in its role's section: COORDINATOR + 10 is the coordinator's
# second-row panel. Sections come in this order, each under its own heading.
COORDINATOR, STAFF, OFFICER, STUDENT = 100, 200, 300, 400
SECTIONS = (
    (COORDINATOR, Role.COORDINATOR, _("Coordinator")),
    (STAFF, Role.STAFF, _("School staff")),
    (OFFICER, Role.OFFICER, _("Officer")),
    (STUDENT, Role.STUDENT, _("Student")),
)


def panels_for(user, roles) -> list[Rendered]:
    """Every app's panels for ``user``, rendered and ordered for the page (then by app, in
    dependency order). An app's panels are kept in the table cache (``config.tablecache``) until
    a table they read is written, the day or the person's memberships change, or a moment they
    list passes: a home is opened far more often than its figures change."""
    key = (tuple(sorted(str(role) for role in roles)), *access.viewer_key(user))
    figures = [
        tablecache.Figure(
            ("home", module.__name__, *key),
            lambda module=module: _rendered(module.panels(user, roles)),
            _first_expiry,
        )
        for module in app_modules("home")
    ]
    found = [panel for panels in tablecache.cached_many(figures) for panel in panels]
    return sorted(found, key=lambda panel: panel.order)


def _rendered(panels: list[Panel]) -> list[Rendered]:
    return [
        Rendered(panel.order, render_to_string(panel.template, {"panel": panel.context}), panel.fresh_until)
        for panel in panels
    ]


def _first_expiry(panels: list[Rendered]) -> datetime | None:
    return min((panel.fresh_until for panel in panels if panel.fresh_until), default=None)


def sections_for(user, roles) -> list[dict]:
    """The panels grouped under their role's heading; a section without panels is left out."""
    panels = panels_for(user, roles)
    sections = []
    for start, role, title in SECTIONS:
        mine = [p for p in panels if start <= p.order < start + 100]
        if mine:
            sections.append({"id": f"home-{role}", "title": title, "panels": mine})
    return sections


def chart(element_id: str, title, kind: str, labels, datasets) -> dict:
    """The contract with static/js/charts.js: a ``<figure class="chart" data-chart="bar|line"
    data-source="ID">`` whose ``json_script`` element ``ID`` holds ``{"labels": [...],
    "datasets": [{"label": ..., "data": [...]}]}``, and a table with the same figures inside."""
    labels = [str(label) for label in labels]
    datasets = [(str(label), [_number(v) for v in data]) for label, data in datasets]
    return {
        "id": element_id,
        "title": title,
        "kind": kind,
        "data": {"labels": labels, "datasets": [{"label": label, "data": data} for label, data in datasets]},
        "series": [label for label, _data in datasets],
        "rows": [(label, [data[i] for _label, data in datasets]) for i, label in enumerate(labels)],
    }


def link(name: str, *args, **query) -> str:
    """The URL of a list page, filtered by ``query`` (the list's own filter parameters)."""
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def item(label, count: int, url: str) -> dict:
    """One line of a "needs attention" list: the count links to the list behind it."""
    return {"label": label, "count": count, "url": url}


def _number(value):
    if value is None:
        return None
    return float(value) if not isinstance(value, int) else value


def last_months(today, n: int = 12) -> list:
    """The first day of each of the last ``n`` months, oldest first, ending with ``today``'s."""
    first = today.replace(day=1)
    months = [first]
    for _step in range(n - 1):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return list(reversed(months))
