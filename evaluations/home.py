"""Homes for evaluations: the coordinator's targets and satisfaction trend, the surveys waiting
for school staff."""

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts import access, home
from accounts.enums import Role
from config import tablecache
from evaluations import metrics, selectors
from partnerships import selectors as partnerships

# KPI cards on the home: the targets ending soonest; the agreement's page has them all.
KPI_CARDS = 6


def panels(user, roles):
    found = []
    if Role.COORDINATOR in roles:
        found += _coordinator(user)
    if Role.STAFF in roles:
        found.append(_surveys(user))
    return found


def _coordinator(user):
    today = timezone.localdate()
    progress = metrics.progress_for(selectors.current_targets(user, today=today, limit=KPI_CARDS))
    kpis = {
        "id": "home-kpis",
        "title": _("Targets this period"),
        "progress": progress,
        "all_url": home.link("evaluations:index"),
    }
    months = home.last_months(today)
    # Kept apart from the cards (config.tablecache.part): the trend reads only the surveys, so a
    # booking, which renews the cards' figures, does not recompute it; and only the surveys of
    # the agreements the person coordinates, so another agreement's response does not either.
    means = tablecache.part(
        ("home satisfaction", months[0].isoformat(), *access.viewer_key(user)),
        lambda: selectors.satisfaction_by_month(user, since=months[0]),
        within=partnerships.coordinated_agreements_within(user),
    )
    trend = {
        "id": "home-satisfaction",
        "title": _("Satisfaction"),
        "charts": [
            home.chart(
                "chart-satisfaction",
                _("Average satisfaction answer per month"),
                "line",
                [formats.date_format(month, "YEAR_MONTH_FORMAT") for month in months],
                [(_("Average satisfaction"), [_rounded(means.get(month)) for month in months])],
            )
        ],
        "more_url": home.link("evaluations:survey_list"),
        "more_label": _("Survey results"),
    }
    return [
        home.Panel("evaluations/home/kpis.html", kpis, home.COORDINATOR + 30),
        home.Panel("accounts/home/charts.html", trend, home.COORDINATOR + 50),
    ]


def _rounded(value):
    return None if value is None else round(float(value), 2)


def _surveys(user):
    invitations = selectors.waiting_invitations(user, now=timezone.now(), limit=home.ROWS)
    context = {
        "id": "home-surveys",
        "title": _("Surveys waiting for your answer"),
        "invitations": invitations,
    }
    # The list holds open surveys, soonest to close first: it changes when the first one closes.
    closes = invitations[0].survey.closes_at if invitations else None
    return home.Panel("evaluations/home/surveys.html", context, home.STAFF + 10, closes)
