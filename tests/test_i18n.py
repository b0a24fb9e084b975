"""The public token pages speak English and Spanish: the browser's language chooses, a switch
changes it, and the committed catalog (locale/es/LC_MESSAGES/django.mo) matches its source."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from internships.enums import ConsentStatus
from tests.evaluations import factories as ef
from tests.internships import factories as inf

pytestmark = pytest.mark.django_db

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"


def _po_translations(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy singular entries of a .po file (what msgfmt compiles)."""
    entries, current, field, fuzzy = {}, {}, None, False

    def flush():
        if current.get("msgid") and current.get("msgstr") and not fuzzy and "msgid_plural" not in current:
            entries[current["msgid"]] = current["msgstr"]

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            current, field, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            current[field] = ast.literal_eval(value)
    flush()
    return entries


def test_the_compiled_spanish_catalog_matches_its_source():
    # Run `uv run python manage.py compilemessages` (GNU gettext) after editing the .po file.
    source = _po_translations(CATALOG / "django.po")
    with (CATALOG / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    stale = {msgid: catalog.gettext(msgid) for msgid, msgstr in source.items() if catalog.gettext(msgid) != msgstr}
    assert stale == {}
    assert len(source) > 50


@pytest.mark.parametrize(
    ("english", "spanish"),
    [
        ("I grant consent", "Doy mi consentimiento"),
        ("Send my answers", "Enviar mis respuestas"),
        ("Strongly agree", "Totalmente de acuerdo"),
        ("This survey link no longer works", "Este enlace de encuesta ya no funciona"),
    ],
)
def test_key_strings_of_the_token_pages_are_translated(english, spanish):
    with translation.override("es"):
        assert translation.gettext(english) == spanish
    with translation.override("en"):
        assert translation.gettext(english) == english


# The guardian's consent page.


def _consent_page(client, world, **headers):
    student = inf.make_student(world.school_a, birth_date=inf.minor_birth_date(), full_name="Mia Minor")
    inf.placement(
        inf.world_posting(world), student, consent=ConsentStatus.PENDING, guardian_email="guardian@example.test"
    )
    token = inf.consent_token_from_outbox("guardian@example.test")
    client.get(reverse("internships:consent_open", args=[token]), **headers)
    return client.get(reverse("internships:consent_respond"), **headers), token


def test_the_consent_page_is_in_english_by_default(client, world):
    page, token = _consent_page(client, world)
    body = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="en">' in body
    assert "I grant consent" in body and "Doy mi consentimiento" not in body
    assert token not in body


def test_the_consent_page_follows_a_spanish_browser(client, world):
    page, token = _consent_page(client, world, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="es">' in body
    assert "Consentimiento para unas prácticas" in body
    assert "Doy mi consentimiento" in body and "I grant consent" not in body
    assert "Su nombre completo (como firma)" in body  # the form's label
    assert token not in body


def test_a_refused_consent_post_answers_in_spanish(client, world):
    _page, token = _consent_page(client, world, HTTP_ACCEPT_LANGUAGE="es")
    response = client.post(reverse("internships:consent_respond"), {"signed_name": "Pat"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Elija si da o no da su consentimiento." in response.content.decode()
    assert token not in response.content.decode()


def test_the_language_switch_changes_the_consent_page(client, world):
    page, token = _consent_page(client, world)
    body = page.content.decode()
    switch = reverse("set_language")
    assert f'action="{switch}"' in body
    assert f'name="next" value="{reverse("internships:consent_respond")}"' in body
    response = client.post(switch, {"language": "es", "next": reverse("internships:consent_respond")})
    assert response.status_code == 302 and response["Location"] == reverse("internships:consent_respond")
    body = client.get(response["Location"]).content.decode()
    assert "Doy mi consentimiento" in body and token not in body
    client.post(switch, {"language": "en", "next": reverse("internships:consent_respond")})
    assert "I grant consent" in client.get(reverse("internships:consent_respond")).content.decode()


def test_a_used_consent_link_says_so_in_spanish_without_the_token_in_the_switch(client, world):
    response = client.get(reverse("internships:consent_open", args=["x" * 43]), HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 410
    assert "Este enlace ya no funciona" in body
    assert 'id="language-switch"' in body and "x" * 43 not in body


# The survey response page.


@pytest.fixture
def survey_link(world):
    survey = ef.survey("workshop-staff", ef.world_delivered(world))
    _invitation, token = ef.invitation(survey, user=world.staff_a, institution=world.school_a)
    return survey, token


def _survey_page(client, token, **headers):
    client.get(reverse("evaluations:survey_open", args=[token]), **headers)
    return client.get(reverse("evaluations:survey_respond"), **headers)


def test_the_survey_page_is_in_english_by_default(client, survey_link):
    _survey, token = survey_link
    page = _survey_page(client, token)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Send my answers" in body and "Strongly agree" in body
    assert token not in body


def test_the_survey_page_follows_a_spanish_browser(client, survey_link):
    _survey, token = survey_link
    page = _survey_page(client, token, HTTP_ACCEPT_LANGUAGE="es")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="es">' in body
    assert "Enviar mis respuestas" in body and "Send my answers" not in body
    assert "Totalmente de acuerdo" in body and "Strongly agree" not in body  # the scale's labels
    assert "Sus respuestas son anónimas" in body
    assert token not in body


def test_survey_answer_errors_are_in_spanish(client, survey_link):
    _survey, token = survey_link
    _survey_page(client, token, HTTP_ACCEPT_LANGUAGE="es")
    response = client.post(reverse("evaluations:survey_respond"), {}, HTTP_ACCEPT_LANGUAGE="es")
    body = response.content.decode()
    assert response.status_code == 400
    assert "Responda a esta pregunta, por favor." in body
    assert token not in body


def test_the_language_switch_changes_the_survey_page(client, survey_link):
    _survey, token = survey_link
    _survey_page(client, token)
    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("evaluations:survey_respond")})
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert "Enviar mis respuestas" in body and token not in body


def test_the_switch_does_not_leave_to_another_site(client, survey_link):
    response = client.post(reverse("set_language"), {"language": "es", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_signed_in_pages_offer_no_language_switch(client, world):
    client.force_login(world.staff_a)
    assert 'id="language-switch"' not in client.get(reverse("home")).content.decode()
