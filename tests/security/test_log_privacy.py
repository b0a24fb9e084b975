"""Secrets and personal data stay out of the logs and the broker (ASVS 16.2.5, 14.2.1;
reliability.md §2.6 test 27).

Every logger is turned up to DEBUG while representative flows run (sign-in, a wrong password,
password reset, invitation, guardian consent, survey, booking, a used token link, outbox
delivery). The output, as the configured console handler would print it, must hold 0 raw
tokens, 0 email addresses and 0 names; every Celery message published meanwhile must carry
primary keys only. tests/test_logging.py covers the redaction helper itself.
"""

import inspect
import json
import logging
import re

import pytest
from celery import signals
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.enums import Role
from accounts.models import User
from config.celery import app as celery_app
from internships.enums import ConsentStatus
from notifications.models import OutboundMessage
from notifications.tasks import deliver_message
from tests.evaluations import factories as ef
from tests.factories import PASSWORD
from tests.internships import factories as inf
from tests.programs.factories import world_session
from tests.security.conftest import figure, sign_in

NEW_PASSWORD = "a-different-horse-staple-42"
TEST_MACHINERY = ("factory", "faker")
# A secret in a link: a path segment of 20 or more url-safe characters.
_LINK_SECRET = re.compile(r"https?://[^\s\"'<>]+")


class Capture(logging.Handler):
    """Keeps each record as the console handler would print it (same filters, same format)."""

    def __init__(self, filters, formatter):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        for f in filters:
            self.addFilter(f)
        if formatter:
            self.setFormatter(formatter)

    def emit(self, record):
        if record.name.startswith(TEST_MACHINERY):
            return
        line = self.format(record)
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(line)


@pytest.fixture
def all_logs(settings):
    """The production logging set-up run with LOG_LEVEL=DEBUG: every logger at DEBUG except those
    LOGGING pins to a level of its own, and output through the console handler's filters.
    (factory-boy's own debug lines are test machinery, not the product's, and are left out.)"""
    root = logging.getLogger()
    console = next((h for h in root.handlers if h.get_name() == "console"), None)
    assert console is not None and console.filters, "the console handler and its redact filter are configured"
    capture = Capture(console.filters, console.formatter)
    pinned = {name: config["level"] for name, config in settings.LOGGING["loggers"].items() if "level" in config}
    loggers = [root] + [
        logger
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and not name.startswith(TEST_MACHINERY)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(pinned.get(logger.name, logging.DEBUG))
        logger.disabled = False
        if logger is root or not logger.propagate:
            logger.addHandler(capture)
    yield capture
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.removeHandler(capture)


@pytest.fixture
def published():
    """The body of every Celery message sent meanwhile (args, kwargs), as the broker gets it."""
    bodies = []

    def record(sender=None, body=None, headers=None, **kwargs):
        bodies.append({"task": sender, "headers": headers or {}, "body": body})

    signals.before_task_publish.connect(record, weak=False)
    yield bodies
    signals.before_task_publish.disconnect(record)


def _secrets_in_links(text: str) -> set[str]:
    found = set()
    for url in _LINK_SECRET.findall(text):
        for segment in re.split(r"[/?&=#]", url):
            if len(segment) >= 20 and re.fullmatch(r"[A-Za-z0-9_:.-]+", segment) and "." not in segment:
                found.add(segment)
    return found


def _run_flows(world, django_capture_on_commit_callbacks):
    """The flows whose logs and messages are checked; returns the secrets they handled."""
    handled: set[str] = set()
    with django_capture_on_commit_callbacks(execute=True):
        # Sign-in: a wrong password, then the right one.
        officer = Client()
        sign_in(officer, world.officer.email, "wrong-password")
        sign_in(officer, world.officer.email)
        handled.add(officer.cookies["sessionid"].value)
        # Password reset from the emailed link, then a sign-in with the new password.
        reset = Client()
        reset.post(reverse("account_reset_password"), {"email": world.staff_a.email})
        reset.post(reverse("account_reset_password"), {"email": "nobody.here@example.test"})
        link = OutboundMessage.objects.filter(to_email=world.staff_a.email).latest("pk").body_text
        url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", link).group(1)
        form_url = reset.get(url)["Location"]
        reset.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        sign_in(Client(), world.staff_a.email, NEW_PASSWORD)
        # An invitation: opened, signed up with, and opened again once used.
        _invitation, invitation_token = account_services.invitation_create(
            organization=world.school_a, email="nia.teacher@example.test", role=Role.STAFF, by=world.coordinator_a
        )
        invited = Client()
        invited.get(reverse("accounts:invitation_open", args=[invitation_token]))
        invited.post(
            reverse("account_signup"),
            {
                "email": "nia.teacher@example.test",
                "full_name": "Nia Teacher",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        invited.post(reverse("accounts:invitation_accept"))
        Client().get(reverse("accounts:invitation_open", args=[invitation_token]))
        # A guardian's consent: the link, the page, the signed answer, the used link again.
        student = inf.make_student(world.school_a, birth_date=inf.minor_birth_date(), full_name="Mia Minor")
        inf.placement(
            inf.world_posting(world), student, consent=ConsentStatus.PENDING, guardian_email="guardian@example.test"
        )
        consent_token = inf.consent_token_from_outbox("guardian@example.test")
        guardian = Client()
        guardian.get(reverse("internships:consent_open", args=[consent_token]))
        guardian.get(reverse("internships:consent_respond"))
        guardian.post(reverse("internships:consent_respond"), {"signed_name": "Pat Guardian", "decision": "grant"})
        guardian.get(reverse("internships:consent_open", args=[consent_token]))
        # A survey: the link, the answers, the used link again.
        survey = ef.survey("workshop-staff", ef.world_delivered(world))
        _made, survey_token = ef.invitation(survey, user=world.staff_b, institution=world.school_b)
        respondent = Client()
        respondent.get(reverse("evaluations:survey_open", args=[survey_token]))
        answers = {f"q{pk}": str(v) for pk, v in ef.answers_for("workshop-staff", text="Keep it").items()}
        respondent.post(reverse("evaluations:survey_respond"), answers)
        respondent.get(reverse("evaluations:survey_open", args=[survey_token]))
        # A booking by the school's coordinator.
        session = world_session(world)
        booker = Client()
        booker.force_login(world.coordinator_a)
        booker.post(
            reverse("programs:session_book", args=[session.pk]),
            {"institution": world.school_a.pk, "group_name": "Class 9B", "seats": 3},
        )
    # The worker's side: deliver everything the flows queued.
    for pk in OutboundMessage.objects.values_list("pk", flat=True):
        deliver_message.apply(args=[pk])
    handled |= {invitation_token, consent_token, survey_token}
    for message in OutboundMessage.objects.all():
        handled |= _secrets_in_links(message.body_text)
    return handled


def _personal_data(world) -> tuple[set[str], set[str]]:
    emails = set(User.objects.values_list("email", flat=True)) | set(
        OutboundMessage.objects.values_list("to_email", flat=True)
    )
    emails |= {"guardian@example.test", "nobody.here@example.test"}
    names = set(User.objects.exclude(full_name="").values_list("full_name", flat=True)) | {"Pat Guardian"}
    return emails, names


def test_logs_hold_no_token_email_or_name(world, all_logs, published, django_capture_on_commit_callbacks):
    secrets = _run_flows(world, django_capture_on_commit_callbacks)
    emails, names = _personal_data(world)
    assert len(secrets) >= 5 and len(emails) >= 10 and len(names) >= 10  # the flows really ran
    output = "\n".join(all_logs.lines)
    assert all_logs.lines, "the flows logged something (a used link is a 410 warning)"
    leaks = {
        "tokens": sorted(s for s in secrets if s in output),
        "emails": sorted(e for e in emails if e.lower() in output.lower()),
        "names": sorted(n for n in names if n in output),
    }
    assert leaks == {"tokens": [], "emails": [], "names": []}, output[:3000]
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", output), "an email address of some other shape"
    figure(
        f"log privacy: {len(all_logs.lines)} log lines at DEBUG over 7 flows; 0 of {len(secrets)} tokens, "
        f"0 of {len(emails)} emails, 0 of {len(names)} names"
    )


def test_celery_messages_carry_primary_keys_only(world, published, django_capture_on_commit_callbacks):
    secrets = _run_flows(world, django_capture_on_commit_callbacks)
    emails, names = _personal_data(world)
    assert published, "the flows published outbox deliveries"
    for message in published:
        args, kwargs, _embed = message["body"]
        assert all(type(value) is int for value in [*args, *kwargs.values()]), message
    everything = json.dumps([m["body"] for m in published] + [str(m["headers"]) for m in published])
    leaks = [s for s in secrets | emails | names if s.lower() in everything.lower()]
    assert leaks == []
    figure(f"broker: {len(published)} messages published, arguments all integer ids, 0 tokens/emails/names in bodies")


def test_every_task_takes_primary_keys_or_nothing():
    """Tasks read what they need from the database: a signature with anything but an integer
    id would put personal data or a secret on the broker (and in its logs)."""
    celery_app.autodiscover_tasks(force=True)
    tasks = {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}
    assert len(tasks) >= 10
    offenders = {}
    for name, task in sorted(tasks.items()):
        parameters = inspect.signature(task.run).parameters.values()
        bad = [p.name for p in parameters if p.annotation is not int or not p.name.endswith("_id")]
        if bad:
            offenders[name] = bad
    assert offenders == {}
    with_args = sum(1 for task in tasks.values() if inspect.signature(task.run).parameters)
    figure(f"tasks: {len(tasks)} registered, {with_args} take arguments, all `<name>_id: int`; 0 take objects or data")
