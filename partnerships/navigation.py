from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.enums import Role


def items(user, roles):
    """Agreements are read by the people of the parties (never students) and by admins."""
    if access.is_admin(user) or roles - {Role.STUDENT}:
        return [(_("Agreements"), reverse("partnerships:agreement_list"))]
    return []
