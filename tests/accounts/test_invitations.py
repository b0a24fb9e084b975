import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.enums import InvitationStatus, Role
from accounts.models import AuditEntry, Invitation, Membership, User
from notifications.models import OutboundMessage
from tests.factories import PASSWORD


def invite(world, email="new.teacher@example.test", role=Role.STAFF):
    return services.invitation_create(organization=world.school_a, email=email, role=role, by=world.coordinator_a)


def test_invitation_writes_an_outbox_email_with_the_link_and_stores_only_a_hash(world):
    invitation, token = invite(world)
    message = OutboundMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}")
    assert message.to_email == "new.teacher@example.test"
    assert token in message.body_text
    assert len(token) >= 43  # 256 bits, url-safe
    assert token not in invitation.token_hash
    assert Invitation.objects.filter(token_hash=services.hash_token(token)).exists()
    assert AuditEntry.objects.filter(action="invitation.created", target_id=str(invitation.pk)).count() == 1


def test_invitation_refused_for_non_coordinator(world):
    with pytest.raises(services.AccountsError):
        services.invitation_create(
            organization=world.school_a, email="x@example.test", role=Role.STAFF, by=world.staff_a
        )
    with pytest.raises(services.AccountsError):
        services.invitation_create(
            organization=world.school_a, email="x@example.test", role=Role.STAFF, by=world.coordinator_b
        )
    assert Invitation.objects.count() == 0
    assert OutboundMessage.objects.count() == 0


def test_invitation_refused_for_role_that_does_not_fit(world):
    with pytest.raises(services.AccountsError, match="no officer members"):
        invite(world, role=Role.OFFICER)


def test_invitation_refused_for_existing_member(world):
    with pytest.raises(services.AccountsError, match="already a member"):
        invite(world, email=world.staff_a.email.upper(), role=Role.STAFF)


def test_new_invitation_replaces_pending_one(world):
    first, _ = invite(world)
    second, _ = invite(world)
    first.refresh_from_db()
    assert first.status == InvitationStatus.REVOKED
    assert second.status == InvitationStatus.PENDING


def test_invitation_link_moves_token_out_of_url(world, client):
    _, token = invite(world)
    response = client.get(reverse("accounts:invitation_open", args=[token]))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:invitation_accept")
    assert token not in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert "Lincoln High School" in page.content.decode()


def test_get_of_the_link_changes_nothing(world, client):
    invitation, token = invite(world)
    client.get(reverse("accounts:invitation_open", args=[token]))
    client.get(reverse("accounts:invitation_accept"))
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not User.objects.filter(email="new.teacher@example.test").exists()


def test_invited_person_signs_up_verified_and_joins(world, client):
    _, token = invite(world)
    client.get(reverse("accounts:invitation_open", args=[token]))
    response = client.post(
        reverse("account_signup") + "?next=" + reverse("accounts:invitation_accept"),
        {
            "email": "new.teacher@example.test",
            "full_name": "Nia Teacher",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.teacher@example.test")
    assert user.full_name == "Nia Teacher"
    assert user.emailaddress_set.get().verified is True  # proven by receiving the link
    response = client.post(reverse("accounts:invitation_accept"))
    assert response.status_code == 302
    assert Membership.objects.filter(user=user, organization=world.school_a, role=Role.STAFF, is_active=True).exists()


def test_signup_is_closed_without_an_invitation(db, client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "walk.in@example.test",
            "full_name": "Walk In",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert not User.objects.filter(email="walk.in@example.test").exists()
    assert response.status_code in (200, 403)
    assert "closed" in response.content.decode().lower()


def test_invitation_is_single_use(world):
    _, token = invite(world)
    other = world.staff_b
    services.invitation_accept(
        token=token, user=User.objects.create_user("new.teacher@example.test", "x", full_name="N")
    )
    with pytest.raises(services.AccountsError, match="no longer valid"):
        services.invitation_accept(token=token, user=other)
    assert Membership.objects.filter(organization=world.school_a, role=Role.STAFF).count() == 2


def test_invitation_for_another_address_is_refused(world):
    _, token = invite(world)
    with pytest.raises(services.AccountsError, match="another email address"):
        services.invitation_accept(token=token, user=world.staff_b)
    assert not Membership.objects.filter(user=world.staff_b, organization=world.school_a).exists()


def test_expired_invitation_is_refused(world):
    _, token = invite(world)
    user = User.objects.create_user("new.teacher@example.test", "x", full_name="N")
    later = time_machine.travel(timezone.now() + timedelta(days=15))
    with later, pytest.raises(services.AccountsError, match="no longer valid"):
        services.invitation_accept(token=token, user=user)
    assert not Membership.objects.filter(user=user).exists()


def test_revoked_invitation_is_refused(world, client):
    invitation, token = invite(world)
    services.invitation_revoke(invitation=invitation, by=world.coordinator_a)
    client.get(reverse("accounts:invitation_open", args=[token]))
    response = client.get(reverse("accounts:invitation_accept"))
    assert response.status_code == 410


def test_invite_page_sends_invitation_and_shows_field_errors(world, client):
    client.force_login(world.coordinator_a)
    url = reverse("accounts:invitation_create", args=[world.school_a.pk])
    bad = client.post(url, {"email": "not-an-email", "role": Role.STAFF})
    assert bad.status_code == 400
    assert "valid email" in bad.content.decode()
    wrong_role = client.post(url, {"email": "x@example.test", "role": Role.OFFICER})
    assert wrong_role.status_code == 400
    assert Invitation.objects.count() == 0
    ok = client.post(url, {"email": "x@example.test", "role": Role.STUDENT})
    assert ok.status_code == 302
    assert Invitation.objects.get().role == Role.STUDENT


def test_coordinator_deactivates_a_member_who_then_loses_access(world, client):
    client.force_login(world.coordinator_a)
    membership = Membership.objects.get(user=world.staff_a)
    response = client.post(reverse("accounts:membership_deactivate", args=[membership.pk]))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active is False
    client.force_login(world.staff_a)
    assert client.get(reverse("accounts:organization_detail", args=[world.school_a.pk])).status_code == 404


def test_invitation_email_names_expiry_in_the_school_time_zone(world):
    invitation, _ = invite(world)
    body = OutboundMessage.objects.get().body_text
    local = timezone.localtime(invitation.expires_at, world.school_a.zone)
    assert re.search(local.strftime("%Y"), body)
