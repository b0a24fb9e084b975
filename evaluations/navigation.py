from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.enums import Role


def items(user, roles):
    """Evaluations for the adults of partnerships (students only answer surveys, by link)."""
    if not (access.is_admin(user) or roles - {Role.STUDENT}):
        return []
    return [(_("Evaluations"), reverse("evaluations:index"))]
