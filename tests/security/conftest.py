"""Helpers for the security suite: sign in the way a person does (through allauth's form)."""

import re

from django.urls import reverse

from tests.factories import PASSWORD

_VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value="…"'),
    (re.compile(r"nonce=\"[^\"]+\""), 'nonce="…"'),
]


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def normalized(response, *echoed) -> str:
    """The page with what differs on every request (CSRF token, CSP nonce) and what the
    visitor typed (echoed back into the form) blanked out, for comparing two answers."""
    body = response.content.decode()
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    for value in echoed:
        body = body.replace(value, "…")
    return body


def figure(text: str) -> None:
    """Each scenario prints its measured figure: visible with -s and in a failure's captured output."""
    print(f"FIGURE {text}")
