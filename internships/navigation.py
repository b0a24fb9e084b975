from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.enums import Role


def items(user, roles):
    """Internships for students and the adults of agencies and institutions; placements for the
    agencies' people and the coordinators who run them; clearances for the agencies' people."""
    admin = access.is_admin(user)
    if not (admin or roles):
        return []
    agency_people = admin or any(m.organization.is_agency for m in access.active_memberships(user))
    entries = [(_("Internships"), reverse("internships:posting_list"))]
    if agency_people or Role.COORDINATOR in roles:
        entries.append((_("Placements"), reverse("internships:placement_list")))
    if agency_people:
        entries.append((_("Clearances"), reverse("internships:clearance_list")))
    return entries
