"""Writes to accounts: invitations, memberships, the audit trail."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.enums import ROLES_BY_KIND, InvitationStatus
from accounts.errors import DomainError
from accounts.models import AuditEntry, Invitation, Membership, Organization, User
from notifications.services import notify


class AccountsError(DomainError):
    """A rule of accounts refused the change; the message is for the person."""


def record_audit(*, actor, action: str, target, organization=None, **detail) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        organization=organization,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        detail=detail,
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, organization: Organization, email: str, role: str, by: User, title: str = ""
) -> tuple[Invitation, str]:
    """A coordinator invites a person to their organization in a role that fits it.

    The secret goes out once, by email; only its hash is stored. Returns the invitation
    and the secret (for the email and for tests).
    """
    email = User.objects.normalize_email(email).strip().lower()
    if not access.can_manage_organization(by, organization):
        raise AccountsError(_("Only a coordinator of %(org)s can invite people.") % {"org": organization})
    if role not in ROLES_BY_KIND.get(organization.kind, ()):
        raise AccountsError(
            _("A %(kind)s has no %(role)s members.") % {"kind": organization.get_kind_display(), "role": role},
            field="role",
        )
    if Membership.objects.filter(
        organization=organization, role=role, user__email__iexact=email, is_active=True
    ).exists():
        raise AccountsError(_("%(email)s is already a member in that role.") % {"email": email}, field="email")

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # A new invitation replaces a pending one for the same person and role.
        Invitation.objects.filter(
            organization=organization, email__iexact=email, role=role, status=InvitationStatus.PENDING
        ).update(status=InvitationStatus.REVOKED, updated_at=now)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    organization=organization,
                    email=email,
                    role=role,
                    token_hash=hash_token(token),
                    invited_by=by,
                    expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
                )
        except IntegrityError as error:
            raise AccountsError(_("An invitation for this person is already pending.")) from error
        record_audit(
            actor=by,
            action="invitation.created",
            target=invitation,
            organization=organization,
            role=role,
        )
        notify(
            to=email,
            user=User.objects.filter(email__iexact=email).first(),
            template="accounts/invitation",
            context={
                "organization_name": organization.name,
                "role": invitation.get_role_display(),
                "invited_by": by.full_name or by.email,
                "expires_on": formats.date_format(
                    timezone.localtime(invitation.expires_at, organization.zone), "DATE_FORMAT"
                ),
                "link": settings.SITE_URL + reverse("accounts:invitation_open", args=[token]),
            },
            dedupe_key=f"invitation:{invitation.pk}",
        )
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organization").filter(token_hash=hash_token(token)).first()


def invitation_accept(*, token: str, user: User) -> Membership:
    """Use an invitation once: the signed-in person becomes a member in its role.

    The invitation is claimed with a conditional UPDATE, so two requests with the same
    link create one membership. The invited address must be the person's own.
    """
    now = timezone.now()
    invitation = invitation_for_token(token)
    if invitation is None or not invitation.is_usable:
        raise AccountsError(_("This invitation link is no longer valid. Ask your coordinator for a new one."))
    if invitation.email.lower() != user.email.lower():
        raise AccountsError(
            _("This invitation was sent to another email address. Sign in with that address to accept it.")
        )
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, status=InvitationStatus.PENDING, expires_at__gt=now
        ).update(status=InvitationStatus.ACCEPTED, accepted_at=now, accepted_by=user, updated_at=now)
        if claimed != 1:
            raise AccountsError(_("This invitation link is no longer valid. Ask your coordinator for a new one."))
        membership, created = Membership.objects.get_or_create(
            user=user,
            organization=invitation.organization,
            role=invitation.role,
            defaults={"invited_by": invitation.invited_by},
        )
        if not created and not membership.is_active:
            membership.is_active = True
            membership.save(update_fields=["is_active", "updated_at"])
        record_audit(
            actor=user,
            action="invitation.accepted",
            target=invitation,
            organization=invitation.organization,
            membership=membership.pk,
        )
    return membership


def invitation_revoke(*, invitation: Invitation, by: User) -> Invitation:
    if not access.can_revoke_invitation(by, invitation):
        raise AccountsError(_("Only a coordinator of the organization can revoke its invitations."))
    with transaction.atomic():
        changed = Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.REVOKED, updated_at=timezone.now()
        )
        if changed != 1:
            raise AccountsError(_("Only a pending invitation can be revoked."))
        record_audit(actor=by, action="invitation.revoked", target=invitation, organization=invitation.organization)
    invitation.refresh_from_db()
    return invitation


def membership_set_active(*, membership: Membership, active: bool, by: User) -> Membership:
    """Coordinators end or restore others' access; nobody locks themselves out."""
    if not access.can_change_membership(by, membership):
        raise AccountsError(_("You cannot change this membership."))
    if membership.is_active == active:
        return membership
    with transaction.atomic():
        membership.is_active = active
        membership.save(update_fields=["is_active", "updated_at"])
        record_audit(
            actor=by,
            action="membership.reactivated" if active else "membership.deactivated",
            target=membership,
            organization=membership.organization,
        )
    return membership
