"""Reads of accounts for one screen or endpoint, always starting from the access scope."""

from django.db.models import Count, Q, QuerySet

from accounts import access
from accounts.enums import InvitationStatus
from accounts.models import Invitation, Membership, Organization


def organizations_for(user) -> QuerySet[Organization]:
    return (
        access.visible(user, Organization)
        .select_related("district")
        .annotate(active_members=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("name")
    )


def members_of(user, organization: Organization) -> QuerySet[Membership]:
    return (
        access.visible(user, Membership)
        .filter(organization=organization)
        .select_related("user", "organization")
        .order_by("-is_active", "role", "user__full_name")
    )


def pending_invitations_for(user, organization: Organization) -> QuerySet[Invitation]:
    return (
        access.visible(user, Invitation)
        .filter(organization=organization, status=InvitationStatus.PENDING)
        .select_related("invited_by", "organization")
        .order_by("-created_at")
    )


def my_memberships(user) -> list[Membership]:
    return access.active_memberships(user)
