from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.enums import Role
from config.plugins import app_modules


def navigation(request):
    """The menu for the signed-in person's roles."""
    user = getattr(request, "user", None)
    if not access.is_signed_in(user):
        return {"nav_items": [], "user_roles": set()}
    roles = access.roles(user)
    items = [(_("Home"), reverse("home"))]
    if access.is_admin(user) or roles:
        items.append((_("Organizations"), reverse("accounts:organization_list")))
    # Each domain app adds its entries in <app>/navigation.py: items(user, roles) -> [(label, url)].
    for module in app_modules("navigation"):
        items.extend(module.items(user, roles))
    items.append((_("Notifications"), reverse("notifications:list")))
    if access.is_admin(user) or user.is_staff:
        items.append((_("Admin"), reverse("admin:index")))
    return {
        "nav_items": items,
        "user_roles": roles,
        "is_coordinator": Role.COORDINATOR in roles,
    }
