"""Homes for programs: the coordinator's delivery charts and upcoming sessions, the school
staff's bookings, the officer's sessions and calendar feed."""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts import access, home
from accounts.enums import Role
from config import tablecache
from partnerships import selectors as partnerships
from programs import selectors
from programs.enums import BookingStatus, RequestStatus


def panels(user, roles):
    found = []
    if Role.COORDINATOR in roles:
        found += _coordinator(user)
    if Role.STAFF in roles:
        found.append(_staff(user))
    if Role.OFFICER in roles:
        found.append(_officer(user))
    return found


def _coordinator(user):
    # Kept apart from the charts (config.tablecache.part): it reads the requests, not the
    # bookings and sessions that a booking renews.
    waiting = home.item(
        _("session requests waiting for a decision"),
        tablecache.part(("home open requests", *access.viewer_key(user)), lambda: selectors.open_request_count(user)),
        home.link("programs:request_list", status=RequestStatus.OPEN),
    )
    attention = {"id": "home-workshops-attention", "title": _("Workshops needing attention"), "items": [waiting]}
    months = home.last_months(timezone.localdate())
    # The charts and the upcoming sessions read only the sessions and bookings of the agreements
    # the person coordinates: parts kept through the bookings of every other agreement.
    within = partnerships.coordinated_agreements_within(user)
    figures = tablecache.part(
        ("home delivery", months[0].isoformat(), *access.viewer_key(user)),
        lambda: selectors.delivery_by_month(user, since=months[0]),
        within=within,
    )
    labels = [formats.date_format(month, "YEAR_MONTH_FORMAT") for month in months]
    rows = [figures.get(month, {}) for month in months]
    fill = [round(100 * row["confirmed"] / row["capacity"], 1) if row.get("capacity") else None for row in rows]
    charts = {
        "id": "home-delivery",
        "title": _("Workshop delivery, last 12 months"),
        "charts": [
            home.chart(
                "chart-sessions-delivered",
                _("Sessions delivered per month"),
                "bar",
                labels,
                [(_("Sessions delivered"), [row.get("delivered", 0) for row in rows])],
            ),
            home.chart(
                "chart-students-reached",
                _("Students reached per month"),
                "bar",
                labels,
                [(_("Students reached"), [row.get("reached", 0) for row in rows])],
            ),
            home.chart(
                "chart-fill-rate", _("Seats filled per month (%)"), "line", labels, [(_("Fill rate (%)"), fill)]
            ),
        ],
        "more_url": home.link("evaluations:index"),
        "more_label": _("Reports per agreement"),
    }
    sessions = tablecache.part(
        ("home upcoming sessions", *access.viewer_key(user)),
        lambda: selectors.upcoming_sessions_of_agreements(user, limit=home.ROWS),
        fresh_until=_first_start,
        within=within,
    )
    upcoming = {
        "id": "home-upcoming-sessions",
        "title": _("Upcoming sessions"),
        "sessions": sessions,
        "all_url": home.link("programs:session_list"),
        "calendar_url": home.link("programs:calendar"),
    }
    return [
        home.Panel("accounts/home/attention.html", attention, home.COORDINATOR + 10),
        home.Panel("accounts/home/charts.html", charts, home.COORDINATOR + 40),
        home.Panel("programs/home/upcoming_sessions.html", upcoming, home.COORDINATOR + 70, _first_start(sessions)),
    ]


def _first_start(sessions) -> datetime | None:
    """Lists of sessions still to start change when the first one starts."""
    return sessions[0].starts_at if sessions else None


def _staff(user):
    bookings = selectors.upcoming_bookings_of(user, limit=home.ROWS)
    joinable = selectors.join_link_session_ids(user, [b.session for b in bookings])
    for booking in bookings:
        booking.position = selectors.waitlist_position(booking)  # from the annotation: no query
        booking.show_join = booking.session_id in joinable
    schools = [m.organization for m in access.active_memberships(user) if m.role == Role.STAFF]
    context = {
        "id": "home-bookings",
        "title": _("Your upcoming bookings"),
        "bookings": bookings,
        "confirmed_url": home.link("programs:booking_list", status=BookingStatus.CONFIRMED),
        "waitlisted_url": home.link("programs:booking_list", status=BookingStatus.WAITLISTED),
        "all_url": home.link("programs:booking_list"),
        "catalog_url": home.link("programs:catalog"),
        "calendar_url": home.link("programs:calendar"),
        "schools": [(school, home.link("programs:calendar_manage", school.pk)) for school in schools],
    }
    return home.Panel("programs/home/bookings.html", context, home.STAFF, _first_start([b.session for b in bookings]))


def _officer(user):
    sessions = selectors.facilitated_sessions(user, limit=home.ROWS)
    context = {
        "id": "home-my-sessions",
        "title": _("Your upcoming sessions"),
        "sessions": sessions,
        "all_url": home.link("programs:session_list"),
        "calendar_url": home.link("programs:calendar"),
        "feed_url": home.link("programs:feed_settings"),
    }
    return home.Panel("programs/home/my_sessions.html", context, home.OFFICER, _first_start(sessions))
