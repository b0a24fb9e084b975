"""Production headers and cookies on real responses (ASVS 3.3.1, 3.3.4, 3.4.1, 3.4.3, 3.4.4;
reliability.md §2.6 test 26).

The production values are read from config/settings.py itself, executed with DJANGO_ENV=production,
and applied to this process, so the responses below come from the real middleware with the real
production settings, not from a copy of them.

Already covered elsewhere: `check --deploy --fail-level WARNING` passing with production settings
(tests/test_settings_and_checks.py::test_production_passes_check_deploy_with_no_warnings) and the
CSP/nosniff/Referrer-Policy of a development response (…::test_html_pages_carry_a_strict_content_security_policy).
"""

import runpy
import secrets
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.enums import Role
from tests.factories import AgencyFactory, member
from tests.security.conftest import figure, sign_in
from tests.test_settings_and_checks import PRODUCTION, run_manage

ROOT = Path(__file__).resolve().parents[2]
HTTPS = {"secure": True, "HTTP_X_FORWARDED_PROTO": "https"}
ONE_YEAR = 31_536_000


@pytest.fixture
def production_values(monkeypatch, tmp_path):
    for name in ("DJANGO_DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_AGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DJANGO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.setenv("ALLOWED_HOSTS", "partnerships.example.org")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


@pytest.fixture
def production(settings, production_values):
    """This process, with every security, session and cookie setting as production has it."""
    prefixes = ("SECURE_", "SESSION_", "CSRF_COOKIE_", "X_FRAME_OPTIONS")
    for name, value in production_values.items():
        if name.startswith(prefixes):
            setattr(settings, name, value)
    return production_values


def test_production_keeps_the_auth_defenses_on(production_values):
    values = production_values
    backend = values["CACHES"]["default"]["BACKEND"].rsplit(".", 1)[-1]
    assert backend in {"FileBasedCache", "RedisCache"}  # shared by all workers: rate limits hold
    assert values["ALLAUTH_TRUSTED_PROXY_COUNT"] == 0  # X-Forwarded-For ignored unless configured
    assert values["ACCOUNT_EMAIL_VERIFICATION"] == "mandatory"
    assert values["ACCOUNT_PREVENT_ENUMERATION"] is True
    assert values["ACCOUNT_CONFIRM_EMAIL_ON_GET"] is False
    assert "accounts.middleware.session_timeouts" in values["MIDDLEWARE"]
    assert values["SESSION_IDLE_TIMEOUT"] <= 30 * 60 and values["SESSION_ABSOLUTE_TIMEOUT"] <= 12 * 3600
    assert values.get("SILENCED_SYSTEM_CHECKS", []) == []
    figure(
        f"production: {backend} rate-limit cache, 0 trusted proxies, verification mandatory, "
        f"idle {values['SESSION_IDLE_TIMEOUT']}s / absolute {values['SESSION_ABSOLUTE_TIMEOUT']}s, 0 silenced checks"
    )


def test_production_responses_carry_the_security_headers(production, db):
    client = Client()
    plain = client.get(reverse("account_login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    page = client.get(reverse("account_login"), **HTTPS)
    assert page.status_code == 200
    hsts = dict(
        part.strip().partition("=")[::2] for part in page["Strict-Transport-Security"].split(";") if part.strip()
    )
    assert int(hsts["max-age"]) >= ONE_YEAR and "includeSubDomains" in hsts
    policy = {directive.split()[0]: directive.split()[1:] for directive in page["Content-Security-Policy"].split(";")}
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"
    assert page["X-Frame-Options"] == "DENY"
    api = client.get("/api/v1/me/", **HTTPS)
    assert api.status_code == 401
    assert api["X-Content-Type-Options"] == "nosniff" and "Strict-Transport-Security" in api
    figure(
        f"production headers: http → 301 https; HSTS max-age={hsts['max-age']} includeSubDomains; "
        f"script-src {' '.join(p if 'nonce' not in p else "'nonce-…'" for p in policy['script-src'])} "
        "(no unsafe-inline); nosniff; Referrer-Policy same-origin; COOP same-origin; on the API too"
    )


def test_production_cookies_are_secure_and_http_only(production, db):
    person = member(AgencyFactory(), Role.OFFICER)
    client = Client()
    page = client.get(reverse("account_login"), **HTTPS)
    csrf = page.cookies["csrftoken"]
    response = sign_in(client, person.email, **HTTPS)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    for name, cookie in (("session", session), ("csrf", csrf)):
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name
    figure("production cookies: sessionid and csrftoken Secure + HttpOnly + SameSite=Lax")


def test_the_deploy_gate_fails_when_a_defense_is_turned_off(tmp_path):
    """The control run of `check --deploy --fail-level WARNING`: the gate that passes in
    tests/test_settings_and_checks.py does fail on a weakened deployment (HSTS off)."""
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={**PRODUCTION, "SECURE_HSTS_SECONDS": "0"},
        tmp_path=tmp_path,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
    figure("check --deploy: production clean (tests/test_settings_and_checks.py); HSTS 0 → exit 1 with security.W004")
