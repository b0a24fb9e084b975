"""The coordinator's home: agreements that need attention, each count linking to its list, and
the agreements newly active, by name."""

from django.utils.translation import gettext_lazy as _

from accounts import home
from accounts.enums import Role
from partnerships import selectors

# An agreement is "newly active" for this many days after its activation.
NEWLY_ACTIVE_DAYS = 30


def panels(user, roles):
    if Role.COORDINATOR not in roles:
        return []
    counts = selectors.attention_counts(user, newly_active_days=NEWLY_ACTIVE_DAYS)
    items = [
        home.item(
            _("draft agreements incomplete"),
            counts["incomplete"],
            home.link("partnerships:agreement_list", status="draft", incomplete=1),
        ),
        home.item(
            _("agreements ending within 90 days"),
            counts["expiring"],
            home.link("partnerships:agreement_list", expiring_within=90),
        ),
        home.item(
            _("agreements due for review"),
            counts["review_due"],
            home.link("partnerships:agreement_list", review_due=1),
        ),
        home.item(
            _("agreements with overdue action items"),
            counts["overdue_items"],
            home.link("partnerships:agreement_list", overdue_items=1),
        ),
    ]
    attention = {"id": "home-agreements", "title": _("Agreements needing attention"), "items": items}
    newly_active = {
        "id": "home-newly-active",
        "title": _("Newly active agreements"),
        "agreements": selectors.newly_active(user, within_days=NEWLY_ACTIVE_DAYS, limit=home.ROWS),
        "count": counts["newly_active"],
        "days": NEWLY_ACTIVE_DAYS,
        "all_url": home.link("partnerships:agreement_list", activated_within=NEWLY_ACTIVE_DAYS),
    }
    return [
        home.Panel("accounts/home/attention.html", attention, home.COORDINATOR),
        home.Panel("partnerships/home/newly_active.html", newly_active, home.COORDINATOR + 5),
    ]
