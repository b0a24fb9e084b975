"""Authentication and sessions (ASVS 6.3.1, 6.3.8, 7.3.1, 7.3.2, 7.4.2, 7.4.3; reliability.md §2.4).

Brute force is throttled on every sign-in path and a forged X-Forwarded-For changes nothing; the
answers to sign-up, sign-in and password reset do not say whether an address has an account; an
unverified address cannot sign in; sessions end when idle, at their absolute limit, after a
password change elsewhere, and when the person is deactivated.

Already covered elsewhere, not repeated here: the admin login redirect to allauth and a lockout
after it (tests/test_admin.py::test_admin_login_is_throttled), the wrong-password message in a
browser (tests/e2e/test_sign_in.py), a deactivated membership losing an organization's page
(tests/accounts/test_invitations.py::test_coordinator_deactivates_a_member_who_then_loses_access),
and sign-up being closed without an invitation (tests/accounts/test_invitations.py).
"""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import services
from accounts.enums import Role
from accounts.models import Membership, User
from notifications.models import OutboundMessage
from tests.factories import PASSWORD, AgencyFactory, UserFactory, member
from tests.security.conftest import figure, normalized, sign_in, signed_in_user_id

ROOT = Path(__file__).resolve().parents[2]
LOCKED = "Too many failed login attempts"
NEW_PASSWORD = "a-different-horse-staple-42"


@pytest.fixture
def person(db):
    return member(AgencyFactory(), Role.OFFICER, email="olive.officer@example.test", full_name="Olive Officer")


# --- brute force -----------------------------------------------------------------------------------


def test_five_failures_lock_the_account_even_for_the_right_password_in_another_case(client, person):
    failures = [sign_in(client, person.email, "wrong-password") for _ in range(5)]
    assert all(r.status_code == 200 and LOCKED not in r.content.decode() for r in failures)
    sixth = sign_in(client, person.email.upper(), PASSWORD)
    assert LOCKED in sixth.content.decode()
    assert signed_in_user_id(client) is None
    # A fresh client (another browser, same address) is refused too: the count is per account.
    assert LOCKED in sign_in(Client(), person.email, PASSWORD).content.decode()
    figure("lockout: 5 failures for one email, then the correct password (upper case) refused, 0 sessions")


def test_ten_failures_a_minute_from_one_address_lock_that_address(client, person):
    for n in range(10):
        sign_in(client, f"guess{n}@example.test", "wrong-password")
    eleventh = sign_in(client, person.email, PASSWORD)
    assert LOCKED in eleventh.content.decode()
    assert signed_in_user_id(client) is None
    other_address = sign_in(Client(REMOTE_ADDR="198.51.100.9"), person.email, PASSWORD)
    assert other_address.status_code == 302  # the lock is the address's, the account is fine
    figure("lockout: 10 failures/min from one IP over 10 emails, then the 11th (correct) refused; other IP signs in")


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_x_forwarded_for_neither_resets_nor_dodges_the_lock(client, person, settings, proxies):
    """With no trusted proxy the header is ignored; behind one proxy only the address that proxy
    appended counts, whatever the client put in front of it."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    real = "203.0.113.7"

    def forwarded(n):
        spoofed = f"10.0.{n}.{n}"
        return {"HTTP_X_FORWARDED_FOR": f"{spoofed}, {real}" if proxies else spoofed}

    for n in range(5):
        sign_in(client, person.email, "wrong-password", **forwarded(n))
    assert LOCKED in sign_in(client, person.email, PASSWORD, **forwarded(99)).content.decode()
    for n in range(10):
        sign_in(client, f"guess{n}@example.test", "wrong-password", **forwarded(10 + n))
    someone_else = UserFactory()
    assert LOCKED in sign_in(client, someone_else.email, PASSWORD, **forwarded(200)).content.decode()
    assert signed_in_user_id(client) is None
    figure(f"lockout, TRUSTED_PROXY_COUNT={proxies}: 15 forged X-Forwarded-For values, 0 resets or dodges")


def test_every_sign_in_path_goes_through_the_throttled_form(client, person):
    """0 unthrottled login paths: a new route with "login" in its name fails this test until it is
    added here; the admin's login page sends people to allauth's (a POST to it signs nobody in)."""
    person.is_staff = True
    person.save(update_fields=["is_staff"])
    login_routes = {name for name in _all_route_names() if "login" in name}
    assert login_routes == {"account_login", "account_confirm_login_code", "admin:login"}
    # Login by emailed code is off: its confirmation page has nothing to confirm.
    assert client.get(reverse("account_confirm_login_code")).status_code in (302, 404)
    admin_post = client.post(reverse("admin:login"), {"username": person.email, "password": PASSWORD})
    assert admin_post.status_code == 302 and reverse("account_login") in admin_post["Location"]
    assert signed_in_user_id(client) is None
    for _ in range(5):
        sign_in(client, person.email, "wrong-password")
    admin_get = client.get(reverse("admin:login"))
    assert reverse("account_login") in admin_get["Location"]
    assert LOCKED in client.post(admin_get["Location"], {"login": person.email, "password": PASSWORD}).content.decode()
    assert signed_in_user_id(client) is None
    routes = ", ".join(sorted(login_routes))
    figure(f"login paths: {len(login_routes)} routes ({routes}); admin → allauth; 0 unthrottled")


def _all_route_names():
    names = []

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                names.append(f"{namespace}{pattern.name}")

    walk(get_resolver())
    return names


def test_the_lock_is_shared_by_every_process_through_the_cache(client, person, settings, tmp_path):
    """Rate limits live in the cache named by CACHE_URL, so a second worker process sees the
    lock taken in this one (a file cache on one host, Redis across hosts)."""
    url = os.environ.get("CACHE_URL", "")
    if not url.startswith("redis"):
        url = f"filecache://{tmp_path / 'cache'}"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    for _ in range(5):
        sign_in(client, person.email, "wrong-password")
    probe = (
        "from allauth.account.adapter import get_adapter\n"
        "from django.core.exceptions import ValidationError\n"
        "from django.test import RequestFactory\n"
        "request = RequestFactory().post('/accounts/login/')\n"
        "def locked(email):\n"
        "    try:\n"
        "        get_adapter(request).pre_authenticate(request, email=email, password='x')\n"
        "    except ValidationError:\n"
        "        return True\n"
        "    return False\n"
        "import json\n"
        f"print(json.dumps({{'locked': locked({person.email!r}), 'other': locked('nobody@example.test')}}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), "CACHE_URL": url})
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"locked": True, "other": False}
    figure(f"lockout shared across processes via {url.split(':')[0]} cache: second process refuses the locked email")


# --- enumeration and verification ------------------------------------------------------------------


def test_sign_in_answers_alike_for_a_known_and_an_unknown_address(client, person):
    known = sign_in(client, person.email, "wrong-password")
    unknown = sign_in(Client(), "nobody.here@example.test", "wrong-password")
    assert known.status_code == unknown.status_code == 200
    assert normalized(known, person.email) == normalized(unknown, "nobody.here@example.test")
    assert "not correct" in known.content.decode()
    figure("enumeration, sign-in: known vs unknown email → same status 200, 0 differing bytes")


def test_password_reset_answers_alike_and_mails_both_addresses(client, person):
    def reset(email):
        c = Client()
        response = c.post(reverse("account_reset_password"), {"email": email})
        page = c.get(response["Location"]) if response.status_code == 302 else response
        return response, page, OutboundMessage.objects.filter(to_email=email).count()

    known, known_page, known_mail = reset(person.email)
    unknown, unknown_page, unknown_mail = reset("nobody.here@example.test")
    assert (
        (known.status_code, known["Location"])
        == (unknown.status_code, unknown["Location"])
        == (
            302,
            reverse("account_reset_password_done"),
        )
    )
    assert normalized(known_page) == normalized(unknown_page)
    assert known_mail == unknown_mail == 1  # the unknown address is told it has no account
    figure("enumeration, password reset: same 302 → same page, 1 email each (known and unknown)")


def test_sign_up_answers_alike_for_a_taken_and_a_free_address(db):
    """Sign-up needs an invitation, and is for the invited address only: a taken and a free
    address get the same answer, with or without an invitation in hand, and neither gets mail.
    (Before the fix, with an invitation, a free address was signed straight in while a taken one
    was sent to "confirm your email": an oracle for whoever held any invitation link.)"""
    agency = AgencyFactory()
    coordinator = member(agency, Role.COORDINATOR)
    taken = member(agency, Role.OFFICER, email="taken@example.test")

    def sign_up(email, *, invited):
        c = Client()
        if invited:
            _invitation, token = services.invitation_create(
                organization=agency, email=f"invited.{email}", role=Role.OFFICER, by=coordinator
            )
            c.get(reverse("accounts:invitation_open", args=[token]))
        response = c.post(
            reverse("account_signup"),
            {"email": email, "full_name": "Pat Person", "password1": PASSWORD, "password2": PASSWORD},
        )
        return {
            "status": response.status_code,
            "page": normalized(response, email),
            "mail": OutboundMessage.objects.filter(to_email=email).count(),
            "session": signed_in_user_id(c),
        }

    users_before = User.objects.count()
    for invited in (True, False):
        known, unknown = sign_up(taken.email, invited=invited), sign_up("free@example.test", invited=invited)
        assert known == unknown
        assert known["mail"] == 0 and known["session"] is None
    assert User.objects.count() == users_before
    figure("enumeration, sign-up: taken vs free email, with and without an invitation → same status and page, 0 emails")


def test_an_invitation_signs_up_its_own_address_only(db):
    agency = AgencyFactory()
    coordinator = member(agency, Role.COORDINATOR)
    _invitation, token = services.invitation_create(
        organization=agency, email="invited@example.test", role=Role.OFFICER, by=coordinator
    )
    c = Client()
    c.get(reverse("accounts:invitation_open", args=[token]))
    form = {"full_name": "Pat Person", "password1": PASSWORD, "password2": PASSWORD}
    other = c.post(reverse("account_signup"), {"email": "someone.else@example.test", **form})
    assert other.status_code == 200 and "your invitation was sent to" in other.content.decode()
    assert not User.objects.filter(email__in=["someone.else@example.test", "invited@example.test"]).exists()
    own = c.post(reverse("account_signup"), {"email": "Invited@Example.test", **form})
    assert own.status_code == 302
    assert User.objects.get(email="invited@example.test").emailaddress_set.get().verified is True
    figure("invitation sign-up: another address refused (0 accounts), the invited address signs up verified")


def test_an_unverified_address_cannot_sign_in_and_a_get_does_not_verify_it(client, db):
    user = UserFactory(email="unverified@example.test", verified=False)
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("home")).status_code == 302
    link = OutboundMessage.objects.filter(to_email=user.email).latest("pk").body_text
    key = link.split("/confirm-email/")[1].split("/")[0]
    confirm = reverse("account_confirm_email", args=[key])
    client.get(confirm)
    assert EmailAddress.objects.get(user=user).verified is False  # a mail scanner's GET uses nothing
    client.post(confirm)
    assert EmailAddress.objects.get(user=user).verified is True
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    figure("verification: unverified correct password → 0 sessions; GET of link → still unverified; POST → signs in")


# --- sessions --------------------------------------------------------------------------------------


def _signed_in_client(user, **extra):
    c = Client(**extra)
    assert sign_in(c, user.email).status_code == 302
    assert signed_in_user_id(c) == str(user.pk)
    return c


def _page_in(c) -> bool:
    return c.get(reverse("home")).status_code == 200


def _api_status(c) -> int:
    return c.get("/api/v1/me/").status_code


def test_an_idle_session_ends_after_the_idle_timeout(person):
    idle = django_settings.SESSION_IDLE_TIMEOUT
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        page, api = _signed_in_client(person), _signed_in_client(person)
        clock.shift(timedelta(seconds=idle - 60))
        assert _page_in(page) and _api_status(api) == 200
        clock.shift(timedelta(seconds=idle - 60))  # active just now: the clock restarted
        assert _page_in(page) and _api_status(api) == 200
        clock.shift(timedelta(seconds=idle + 1))
        gone = page.get(reverse("home"))
        assert gone.status_code == 302 and reverse("account_login") in gone["Location"]
        assert _api_status(api) in (401, 403)
        assert signed_in_user_id(page) is None and signed_in_user_id(api) is None
    figure(f"idle timeout: in after {idle - 60}s idle (twice), out after {idle + 1}s idle, pages → login, API → 401")


def test_a_busy_session_still_ends_at_the_absolute_timeout(person, settings):
    # Whatever the cookie's own age (an operator may raise SESSION_COOKIE_AGE): the limit holds.
    settings.SESSION_COOKIE_AGE = 14 * 24 * 3600
    absolute = django_settings.SESSION_ABSOLUTE_TIMEOUT
    step = django_settings.SESSION_IDLE_TIMEOUT // 2
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        page, api = _signed_in_client(person), _signed_in_client(person)
        requests = 0
        while (time.time() - start.timestamp()) + step < absolute:
            clock.shift(timedelta(seconds=step))
            assert _page_in(page) and _api_status(api) == 200
            requests += 1
        clock.shift(timedelta(seconds=absolute - (time.time() - start.timestamp()) + 1))
        assert page.get(reverse("home")).status_code == 302
        assert _api_status(api) in (401, 403)
    figure(f"absolute timeout: {requests} active requests every {step}s kept it; out at {absolute}s after sign-in")


def test_a_password_change_ends_the_other_sessions_but_not_this_one(person):
    Token.objects.create(user=person)
    here, elsewhere, api = _signed_in_client(person), _signed_in_client(person), _signed_in_client(person)
    token = Token.objects.get(user=person).key
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 200
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert _page_in(here)
    assert elsewhere.get(reverse("home")).status_code == 302
    assert _api_status(api) in (401, 403)
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 401
    figure("password change: this session stays; 1 other page session and 1 API session out; API token revoked (401)")


def test_a_deactivated_person_is_out_on_the_next_request(person):
    page, api = _signed_in_client(person), _signed_in_client(person)
    token = Token.objects.create(user=person).key
    token_client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert _page_in(page) and _api_status(api) == 200 and _api_status(token_client) == 200
    person.is_active = False
    person.save(update_fields=["is_active"])
    assert page.get(reverse("home")).status_code == 302
    assert _api_status(api) in (401, 403)
    assert _api_status(token_client) == 401
    fresh = Client()
    sign_in(fresh, person.email)
    assert signed_in_user_id(fresh) is None  # and cannot sign in again
    figure("deactivation: next request out on pages (302 → login), session API (401) and token API (401)")


def test_a_person_whose_memberships_ended_sees_nothing_through_the_api(person):
    api = _signed_in_client(person)
    organization = Membership.objects.get(user=person).organization
    assert [o["id"] for o in api.get("/api/v1/organizations/").json()["results"]] == [organization.pk]
    Membership.objects.filter(user=person).update(is_active=False)
    assert api.get("/api/v1/organizations/").json()["results"] == []
    assert api.get(f"/api/v1/organizations/{organization.pk}/").status_code == 404
    figure("membership ended: next API request lists 0 organizations, detail → 404")
