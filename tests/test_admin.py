import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory

PROJECT_APPS = {"accounts", "notifications", "partnerships", "programs", "internships", "evaluations"}


def project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


def test_every_project_model_is_registered_in_the_admin():
    missing = [m._meta.label for m in project_models() if not admin.site.is_registered(m)]
    assert missing == []


def test_every_registered_admin_has_list_display_and_search():
    for model in project_models():
        model_admin = admin.site._registry[model]
        assert model_admin.list_display != ("__str__",), model._meta.label
        assert model_admin.search_fields, model._meta.label


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_admin_changelist_renders_for_admins_and_not_for_others(client, db, model, django_assert_max_num_queries):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    client.force_login(UserFactory(is_staff=False))
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200


def test_admin_login_is_throttled(client, db):
    """allauth's secure_admin_login: the admin login goes through the rate-limited sign-in."""
    user = UserFactory(email="staff@example.test", is_staff=True)
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": "correct-horse-battery-9"})
    assert "Too many failed login attempts" in response.content.decode()
