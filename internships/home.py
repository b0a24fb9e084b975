"""Homes for internships: the coordinator's pipeline and what waits, the mentor's interns and
clearances, the student's postings, applications and placement."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import home
from accounts.enums import Role
from internships import selectors
from internships.enums import ApplicationStatus, PlacementStatus
from internships.services import CLEARANCE_RENEWAL_WINDOW

# Stages where an application waits for the agency (or, once offered, for the student).
WAITING = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.INTERVIEW,
    ApplicationStatus.OFFERED,
)
RENEWAL_DAYS = CLEARANCE_RENEWAL_WINDOW.days


def panels(user, roles):
    found = []
    today = timezone.localdate()
    if Role.COORDINATOR in roles:
        found += _coordinator(user, today)
    if Role.OFFICER in roles:
        found.append(_mentor(user, today))
    if Role.STUDENT in roles:
        found.append(_student(user, today))
    return found


def _coordinator(user, today):
    stages = selectors.application_stage_counts(user)
    labels = dict(ApplicationStatus.choices)
    items = [
        home.item(
            _("applications at “%(stage)s”") % {"stage": labels[status]},
            stages[status],
            home.link("internships:application_list", status=status),
        )
        for status in WAITING
    ]
    items += [
        home.item(
            _("placements waiting for consent or a mentor"),
            selectors.pending_placement_count(user),
            home.link("internships:placement_list", status=PlacementStatus.PENDING),
        ),
        home.item(
            _("mentor clearances to renew (expiring within 60 days or just expired)"),
            selectors.expiring_clearance_count(user, today=today, within_days=RENEWAL_DAYS),
            home.link("internships:clearance_list", expiring=RENEWAL_DAYS),
        ),
        home.item(
            _("active placements with a missed check-in"),
            selectors.missed_check_in_count(user, today=today),
            home.link("internships:placement_list", missed_check_ins=1),
        ),
    ]
    attention = {"id": "home-internships-attention", "title": _("Internships needing attention"), "items": items}
    funnel_stages = [*WAITING, ApplicationStatus.ACCEPTED]
    funnel = {
        "id": "home-funnel",
        "title": _("Internship applications"),
        "charts": [
            home.chart(
                "chart-internship-funnel",
                _("Applications per stage"),
                "bar",
                [labels[s] for s in funnel_stages],
                [(_("Applications"), [stages[s] for s in funnel_stages])],
            )
        ],
        "more_url": home.link("internships:application_list"),
        "more_label": _("All applications"),
    }
    return [
        home.Panel("accounts/home/attention.html", attention, home.COORDINATOR + 20),
        home.Panel("accounts/home/charts.html", funnel, home.COORDINATOR + 60),
    ]


def _mentor(user, today):
    renew_by = today + CLEARANCE_RENEWAL_WINDOW
    clearances = selectors.own_clearances(user, limit=home.ROWS)
    for clearance in clearances:
        clearance.expired = clearance.expires_on < today
        clearance.renew = not clearance.expired and clearance.expires_on <= renew_by
    context = {
        "id": "home-mentoring",
        "title": _("Interns you mentor"),
        "placements": selectors.mentored_placements(user, limit=home.ROWS),
        "hours_waiting": selectors.hours_to_approve(user).count(),
        "active_url": home.link("internships:placement_list", status=PlacementStatus.ACTIVE),
        "check_ins": list(selectors.check_ins_due(user, today=today)[: home.ROWS]),
        "clearances": clearances,
        "clearances_url": home.link("internships:clearance_list"),
    }
    return home.Panel("internships/home/mentor.html", context, home.OFFICER + 10)


def _student(user, today):
    placements = selectors.own_placements(user, limit=home.ROWS)
    for placement in placements:
        placement.logged_hours = placement.approved_hours + placement.pending_hours
    context = {
        "id": "home-internships",
        "postings": selectors.postings_to_apply(user, today=today, limit=home.ROWS),
        "postings_url": home.link("internships:posting_list"),
        "applications": selectors.own_applications(user, limit=home.ROWS),
        "applications_url": home.link("internships:application_list"),
        "placements": placements,
        "placements_url": home.link("internships:placement_list"),
    }
    return home.Panel("internships/home/student.html", context, home.STUDENT)
