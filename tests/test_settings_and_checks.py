"""Settings fail loudly, migrations match the models, production passes Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env_overrides, tmp_path, drop=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST")) and k not in drop}
    env.update({"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "partnerships.example.org",
}


def test_migrations_match_the_models(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_passes_check_deploy_with_no_warnings(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"DJANGO_DEBUG": "True"}, "DJANGO_DEBUG"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(tmp_path, override, complaint):
    result = run_manage("check", env_overrides={**PRODUCTION, **override}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_a_bad_environment_value_fails_loudly(tmp_path):
    result = run_manage("check", env_overrides={"DJANGO_ENV": "staging"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_ENV" in result.stderr


PLANNER = "from django.conf import settings as s; print(s.DATABASES['default'].get('OPTIONS', {}).get('options'))"


@pytest.mark.parametrize(
    ("value", "options"),
    [(None, "-c random_page_cost=1.1"), ("2", "-c random_page_cost=2.0"), ("", "None")],
)
def test_postgresql_connections_price_index_lookups_for_ssd(tmp_path, value, options):
    overrides = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"}
    if value is not None:
        overrides["PG_RANDOM_PAGE_COST"] = value
    result = run_manage(
        "shell", "-c", PLANNER, env_overrides=overrides, drop=("PG_RANDOM_PAGE_COST",), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == options


def test_a_bad_random_page_cost_fails_loudly(tmp_path):
    overrides = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused", "PG_RANDOM_PAGE_COST": "fast"}
    result = run_manage("shell", "-c", PLANNER, env_overrides=overrides, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "PG_RANDOM_PAGE_COST" in result.stderr


@pytest.mark.postgres
def test_the_test_database_connection_uses_the_ssd_page_cost(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


PREPARED = (
    "from django.conf import settings as s; o = s.DATABASES['default'].get('OPTIONS', {}); "
    "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
)


@pytest.mark.parametrize(
    ("value", "options"),
    [(None, "True 5"), ("0", "True 0"), ("12", "True 12"), ("", "None None")],
)
def test_postgresql_connections_prepare_repeated_queries(tmp_path, value, options):
    overrides = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"}
    if value is not None:
        overrides["PG_PREPARE_THRESHOLD"] = value
    result = run_manage(
        "shell", "-c", PREPARED, env_overrides=overrides, drop=("PG_PREPARE_THRESHOLD",), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == options


@pytest.mark.parametrize("value", ["yes", "-1", "2.5"])
def test_a_bad_prepare_threshold_fails_loudly(tmp_path, value):
    overrides = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused", "PG_PREPARE_THRESHOLD": value}
    result = run_manage("shell", "-c", PREPARED, env_overrides=overrides, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "PG_PREPARE_THRESHOLD" in result.stderr


@pytest.mark.postgres
def test_a_query_run_often_is_prepared_on_the_server(db):
    from django.db import connection

    from accounts.models import Organization

    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        list(Organization.objects.filter(name="prepared?").values_list("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('"accounts_organization"' in text and "$1" in text for text in statements), statements


def test_development_defaults_run_with_nothing_installed(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, "
        "s.CACHES['default']['BACKEND'], s.MAILERS['default']['BACKEND'])",
        env_overrides={"DJANGO_ENV": "development"},
        drop=("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "SMTP_URL"),
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "django.db.backends.sqlite3",
        "filesystem://localhost//",
        "django.core.cache.backends.filebased.FileBasedCache",
        "notifications.mail.FolderEmailBackend",
    ]


def test_html_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_inline_script_or_style_in_templates():
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if "<style" in text or " style=" in text or "<script>" in text or "onclick=" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize("value", ["-5", "ten"])
def test_a_bad_table_cache_lifetime_fails_loudly(tmp_path, value):
    result = run_manage("check", env_overrides={"TABLE_CACHE_SECONDS": value}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "TABLE_CACHE_SECONDS" in result.stderr
