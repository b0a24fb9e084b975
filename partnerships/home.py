"""The coordinator's home: agreements that need attention, each count linking to its list."""

from django.utils.translation import gettext_lazy as _

from accounts import home
from accounts.enums import Role
from partnerships import selectors


def panels(user, roles):
    if Role.COORDINATOR not in roles:
        return []
    counts = selectors.attention_counts(user)
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
        # The agreement list shows each agreement's overdue items; there is no list of items alone.
        home.item(_("action items overdue"), counts["overdue_items"], home.link("partnerships:agreement_list")),
    ]
    context = {"id": "home-agreements", "title": _("Agreements needing attention"), "items": items}
    return [home.Panel("accounts/home/attention.html", context, home.COORDINATOR)]
