from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.enums import Role


def items(user, roles):
    """Workshops and calendars for the adults of agencies and institutions; students do not book."""
    if not (access.is_admin(user) or roles - {Role.STUDENT}):
        return []
    entries = [(_("Workshops"), reverse("programs:catalog")), (_("Calendar"), reverse("programs:calendar"))]
    if access.is_admin(user) or roles & {Role.STAFF, Role.COORDINATOR}:
        entries.insert(1, (_("Bookings"), reverse("programs:booking_list")))
    return entries
