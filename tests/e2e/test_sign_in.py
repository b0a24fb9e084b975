"""In a real browser: a coordinator signs in, finds their organization and invites someone."""

import pytest

from accounts.enums import Role
from accounts.models import Invitation
from notifications.models import OutboundMessage
from tests.factories import PASSWORD, AgencyFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coordinator_signs_in_and_invites_an_officer(live_server, page):
    agency = AgencyFactory(name="Riverside Police Department")
    coordinator = member(agency, Role.COORDINATOR, full_name="Dana Brooks", email="dana@example.test")
    member(agency, Role.OFFICER, full_name="Jamal Carter")

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email").fill(coordinator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")
    assert page.get_by_role("heading", name="Hello, Dana").is_visible()

    page.get_by_role("link", name="Riverside Police Department").first.click()
    assert page.get_by_role("cell", name="Jamal Carter", exact=True).is_visible()
    page.get_by_label("Email address").fill("new.officer@example.test")
    page.get_by_label("Role").select_option(Role.OFFICER)
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to new.officer@example.test.").is_visible()
    assert page.get_by_text("new.officer@example.test — Officer").is_visible()

    assert Invitation.objects.get().email == "new.officer@example.test"
    assert OutboundMessage.objects.filter(to_email="new.officer@example.test").count() == 1
    assert page.console_problems == []  # no CSP violation, no failed asset


def test_wrong_password_is_refused_without_saying_whether_the_account_exists(live_server, page):
    agency = AgencyFactory()
    member(agency, Role.OFFICER, email="known@example.test")
    messages = []
    for email in ("known@example.test", "unknown@example.test"):
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        messages.append(page.locator("[role=alert]").inner_text())
    assert messages[0] == messages[1]
    assert "not correct" in messages[0]
