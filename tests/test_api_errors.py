"""Bad input to the API gets JSON field errors and changes nothing; never a 500 or HTML."""

import pytest

from accounts.enums import Role
from accounts.models import Invitation


@pytest.fixture
def api(client, world):
    client.force_login(world.coordinator_a)
    return client


def test_unknown_api_path_is_json_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_non_numeric_id_is_json_404(api):
    response = api.get("/api/v1/memberships/abc/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/invitations/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_invalid_fields_are_reported_per_field(api, world):
    response = api.post(
        "/api/v1/invitations/",
        {"organization": world.school_a.pk, "email": "nope", "role": "wizard"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email", "role"}
    assert Invitation.objects.count() == 0


def test_a_rule_refusal_names_the_field(api, world):
    response = api.post(
        "/api/v1/invitations/",
        {"organization": world.school_a.pk, "email": "cop@example.test", "role": Role.OFFICER},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "role" in response.json()
    assert Invitation.objects.count() == 0


def test_oversized_body_is_refused_with_json(api, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(
        "/api/v1/invitations/",
        {"organization": world.school_a.pk, "email": "a@example.test", "role": "staff", "pad": "x" * 5000},
        content_type="application/json",
    )
    assert response.status_code in (400, 413)
    assert response["Content-Type"].startswith("application/json")
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=0", "page_size=1000", "kind=", "kind=bakery"])
def test_malformed_list_parameters_are_400(api, query):
    response = api.get(f"/api/v1/organizations/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


def test_lists_are_paginated(api):
    body = api.get("/api/v1/memberships/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) == 2
    assert body["next"]


def test_token_authentication_works_and_anonymous_gets_401(client, world):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=world.staff_a)
    assert client.get("/api/v1/me/").status_code == 401
    me = client.get("/api/v1/me/", headers={"Authorization": f"Token {token.key}"}).json()
    assert me["email"] == world.staff_a.email
    assert [m["organization"]["name"] for m in me["memberships"]] == [world.school_a.name]


def test_session_writes_need_a_csrf_token(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.coordinator_a)
    response = client.post(
        "/api/v1/invitations/",
        {"organization": world.school_a.pk, "email": "a@example.test", "role": "staff"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Invitation.objects.count() == 0
