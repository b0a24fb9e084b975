"""What a user may see and do: answered here, once.

Every page, API view, export and task asks these functions. A scope returns the
queryset of rows a user may see; fetching through it makes an object outside the
user's reach answer 404, exactly like a missing one. Predicates (``can_*``) say what
the user may do with an object they can see.

Apps that depend on accounts register the scope of their own models with
``@scope_for(Model)`` (in their ``selectors.py``), so the dependency arrows stay one
way while every scope is looked up through ``visible(user, Model)``.
"""

from collections.abc import Callable

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation

from accounts.enums import ROLES_BY_KIND, Role
from accounts.models import AuditEntry, Invitation, Membership, Organization, User
from notifications.models import OutboundMessage

_SCOPES: dict[type[Model], Callable[[User], QuerySet]] = {}


def scope_for(model: type[Model]):
    """Register the function that returns what a user may see of ``model``."""

    def register(function):
        _SCOPES[model] = function
        return function

    return register


def scoped_models() -> set[type[Model]]:
    return set(_SCOPES)


def visible(user, model: type[Model]) -> QuerySet:
    """The rows of ``model`` that ``user`` may see; none for the anonymous."""
    if model not in _SCOPES:
        raise LookupError(f"No access scope is registered for {model.__name__}.")
    if not is_signed_in(user):
        return model._default_manager.none()
    return _SCOPES[model](user)


def get_visible_or_404(user, model: type[Model], **lookup):
    try:
        return visible(user, model).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError) as error:
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from error


# Facts about the user, computed once per request (cached on the user object).


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    return is_signed_in(user) and user.is_superuser


def active_memberships(user) -> list[Membership]:
    if not is_signed_in(user):
        return []
    cached = getattr(user, "_active_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("organization")
            .order_by("created_at", "pk")
        )
        user._active_memberships = cached
    return cached


def roles(user) -> set[str]:
    return {membership.role for membership in active_memberships(user)}


def organization_ids(user, *, role: str | None = None) -> set[int]:
    return {m.organization_id for m in active_memberships(user) if role is None or m.role == role}


def has_role(user, organization: Organization, role: str) -> bool:
    return organization.pk in organization_ids(user, role=role)


def time_zone_for(user) -> str | None:
    memberships = active_memberships(user)
    return memberships[0].organization.time_zone if memberships else None


def viewer_key(user) -> tuple:
    """What figures computed for ``user`` depend on besides the rows they read
    (``config.tablecache``): the person and the facts about them the rules read, each active
    membership, and the language, time zone and day they are written for."""
    return (
        user.pk,
        is_admin(user),
        user.birth_date.isoformat() if getattr(user, "birth_date", None) else None,
        tuple(sorted((m.organization_id, m.organization.kind, m.role) for m in active_memberships(user))),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),
    )


# Scopes of the accounts models.


@scope_for(Organization)
def organizations_for(user) -> QuerySet[Organization]:
    """Organizations the user belongs to (admins: all)."""
    if is_admin(user):
        return Organization.objects.all()
    return Organization.objects.filter(pk__in=organization_ids(user))


@scope_for(Membership)
def memberships_for(user) -> QuerySet[Membership]:
    """One's own memberships; every membership of an organization one coordinates;
    the coordinators of one's organizations; colleagues (not students) for staff and
    officers. Students' memberships are seen only by themselves and coordinators."""
    qs = Membership.objects.select_related("user", "organization")
    if is_admin(user):
        return qs
    coordinated = organization_ids(user, role=Role.COORDINATOR)
    adult_member_of = {m.organization_id for m in active_memberships(user) if m.role != Role.STUDENT}
    return qs.filter(
        Q(user=user)
        | Q(organization_id__in=coordinated)
        | Q(organization_id__in=organization_ids(user), role=Role.COORDINATOR, is_active=True)
        | Q(organization_id__in=adult_member_of, is_active=True, role__in=[Role.STAFF, Role.OFFICER])
    )


@scope_for(Invitation)
def invitations_for(user) -> QuerySet[Invitation]:
    qs = Invitation.objects.select_related("organization", "invited_by")
    if is_admin(user):
        return qs
    return qs.filter(organization_id__in=organization_ids(user, role=Role.COORDINATOR))


@scope_for(AuditEntry)
def audit_entries_for(user) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.select_related("actor", "organization")
    if is_admin(user):
        return qs
    return qs.filter(organization_id__in=organization_ids(user, role=Role.COORDINATOR))


@scope_for(User)
def users_for(user) -> QuerySet[User]:
    """People one may see: oneself and the people behind visible memberships."""
    if is_admin(user):
        return User.objects.all()
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=memberships_for(user).values("user_id"))).distinct()


@scope_for(OutboundMessage)
def messages_for(user) -> QuerySet[OutboundMessage]:
    """The emails sent to oneself (admins: all of them)."""
    if is_admin(user):
        return OutboundMessage.objects.all()
    return OutboundMessage.objects.filter(user=user)


# Predicates.


def can_manage_organization(user, organization: Organization) -> bool:
    """Coordinators run their own organization: members, invitations, settings."""
    return is_admin(user) or has_role(user, organization, Role.COORDINATOR)


def can_invite(user, organization: Organization, role: str) -> bool:
    return can_manage_organization(user, organization) and role in ROLES_BY_KIND.get(organization.kind, ())


def can_change_membership(user, membership: Membership) -> bool:
    """A coordinator changes others' memberships, never removes their own access."""
    if is_admin(user):
        return True
    return membership.user_id != user.pk and has_role(user, membership.organization, Role.COORDINATOR)


def can_revoke_invitation(user, invitation: Invitation) -> bool:
    return can_manage_organization(user, invitation.organization)
