import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage
from tests.factories import UserFactory


def owe(key="k1", to="person@example.test", **extra):
    return services.notify_rendered(to=to, subject="Hello", text="Body", dedupe_key=key, **extra)


def test_notify_twice_with_one_dedupe_key_writes_one_row(db):
    first = owe()
    second = owe()
    assert first.pk == second.pk
    assert OutboundMessage.objects.count() == 1


def test_notify_renders_subject_and_bodies_from_templates(db):
    message = services.notify(
        to="a@example.test",
        template="accounts/invitation",
        context={
            "organization_name": "Lincoln",
            "role": "Staff",
            "invited_by": "Cora",
            "expires_on": "May 1",
            "link": "http://x/i/t/",
        },
        dedupe_key="tpl",
    )
    assert message.subject == "You are invited to Lincoln"
    assert "http://x/i/t/" in message.body_text


def test_deliver_sends_once_even_when_called_twice(db):
    message = owe()
    assert services.deliver(message.pk) is True
    assert services.deliver(message.pk) is False
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert mail.outbox[0].extra_headers["X-Dedupe-Key"] == "k1"


def test_ics_attachment_travels_with_its_method(db):
    message = owe(ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", ics_method="REQUEST", ics_filename="session.ics")
    services.deliver(message.pk)
    (name, content, mimetype) = mail.outbox[0].attachments[0]
    assert name == "session.ics"
    assert "method=REQUEST" in mimetype
    assert "BEGIN:VCALENDAR" in content


def test_notify_publishes_after_commit_only(db, django_capture_on_commit_callbacks):
    with mock.patch("notifications.tasks.deliver_message.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            message = owe()
        delay.assert_not_called()
        for callback in callbacks:
            callback()
        delay.assert_called_once_with(message.pk)


def test_broker_failure_is_logged_and_the_row_waits_for_the_sweep(db, django_capture_on_commit_callbacks, caplog):
    broken = mock.patch("notifications.tasks.deliver_message.delay", side_effect=OperationalError("down"))
    with broken, django_capture_on_commit_callbacks(execute=True):
        message = owe()
    assert "the sweep will send it" in caplog.text
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert services.sweep() == 1
    assert len(mail.outbox) == 1


def test_failed_send_is_retried_with_backoff_then_given_up(db, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = owe()
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("smtp down")):
        assert services.deliver(message.pk) is False
        message.refresh_from_db()
        assert message.status == MessageStatus.PENDING
        assert message.last_error == "OSError: smtp down"
        assert message.next_attempt_at > timezone.now()
        assert services.sweep() == 0  # not due yet
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            assert services.sweep() == 0
        message.refresh_from_db()
        assert message.status == MessageStatus.FAILED
        assert message.attempts == 2
    assert len(mail.outbox) == 0


def test_sweep_reclaims_messages_stuck_in_sending(db, settings):
    message = owe()
    assert services.claim(message_id=message.pk) == [message.pk]  # a worker died after claiming
    assert services.sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT_SECONDS + 60)):
        assert services.sweep() == 1
    assert len(mail.outbox) == 1


def test_sweep_sends_in_batches(db):
    for i in range(7):
        owe(key=f"batch-{i}", to=f"p{i}@example.test")
    assert services.sweep(batch=3) == 7
    assert len(mail.outbox) == 7
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def _sweep_queries(n, prefix):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    for i in range(n):
        owe(key=f"{prefix}-{i}", to=f"p{i}@example.test")
    with CaptureQueriesContext(conn) as ctx:
        assert services.sweep(batch=50) == n
    return len(ctx.captured_queries)


def test_sweep_costs_a_constant_plus_one_update_per_group_of_sent_messages(db):
    """Sent messages are marked MARK_EVERY at a time (a worker killed mid-batch sends again at
    most that many), nothing more per message."""
    assert services.MARK_EVERY == 10
    small = _sweep_queries(5, "small")  # one mark
    large = _sweep_queries(25, "large")  # three marks: 10, 10, 5
    assert large - small == 2
    assert OutboundMessage.objects.filter(status=MessageStatus.SENT).count() == 30
    assert small <= 5 + 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_message():
    """SKIP LOCKED: a claim in progress hides its rows from a concurrent claim."""
    for i in range(10):
        owe(key=f"c-{i}", to=f"p{i}@example.test")
    first_claimed = threading.Event()
    release = threading.Event()
    results = {}

    def slow_claimer():
        try:
            with transaction.atomic():
                ids = list(
                    OutboundMessage.objects.filter(status=MessageStatus.PENDING)
                    .order_by("pk")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)[:5]
                )
                results["held"] = ids
                first_claimed.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=slow_claimer)
    holder.start()
    assert first_claimed.wait(10)
    try:
        results["second"] = services.claim(limit=100)
    finally:
        release.set()
        holder.join()
        close_old_connections()
    assert len(results["held"]) == 5
    assert len(results["second"]) == 5
    assert set(results["held"]).isdisjoint(results["second"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_message_once():
    for i in range(40):
        owe(key=f"s-{i}", to=f"p{i}@example.test")
    barrier = threading.Barrier(4)
    counts = []

    def sweeper():
        try:
            barrier.wait(10)
            counts.append(services.sweep(batch=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 40
    assert len(mail.outbox) == 40
    assert len({m.extra_headers["X-Dedupe-Key"] for m in mail.outbox}) == 40


def test_plain_text_email_is_not_html_escaped_but_html_is(tmp_path, settings):
    from notifications.services import render_message

    template = tmp_path / "mail"
    template.mkdir()
    (template / "t_subject.txt").write_text("Hello {{ name }}")
    (template / "t.txt").write_text("Dear {{ name }}, see {{ link }}")
    (template / "t.html").write_text("<p>{{ name }}</p>")
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]} for engine in settings.TEMPLATES]
    subject, text, html = render_message("mail/t", {"name": "D'Angelo & <Sons>", "link": "https://x.test/?a=1&b=2"})
    assert subject == "Hello D'Angelo & <Sons>"
    assert text == "Dear D'Angelo & <Sons>, see https://x.test/?a=1&b=2"
    assert html == "<p>D&#x27;Angelo &amp; &lt;Sons&gt;</p>"


# Many at once: notify_many, the scans' writer.


def _owed(n, *, prefix="k", user=None, ics=""):
    return [
        {
            "dedupe_key": f"{prefix}{k}",
            "to": f"person{k}@example.test",
            "user": user,
            "subject": f"Reminder {k} " + "x" * 300,
            "text": f"Body {k}, with; commas \\ and\nlines",
            "html": "" if k % 2 else f"<p>Body {k}</p>",
            "ics": ics,
            "ics_method": "REQUEST" if ics else "",
        }
        for k in range(n)
    ]


def test_notify_many_writes_each_new_key_once_and_counts_only_new_rows(db, monkeypatch):
    monkeypatch.setattr(services, "NOTIFY_BATCH", 3)
    OutboundMessage.objects.create(dedupe_key="k4", to_email="earlier@example.test", subject="Earlier", body_text="x")
    assert services.notify_many(iter(_owed(8))) == 7  # k4 was there; batches of 3, 3 and 2
    assert services.notify_many(iter(_owed(8))) == 0
    assert OutboundMessage.objects.count() == 8
    assert OutboundMessage.objects.get(dedupe_key="k4").to_email == "earlier@example.test"
    row = OutboundMessage.objects.get(dedupe_key="k5")
    assert (row.status, row.attempts, row.subject) == (MessageStatus.PENDING, 0, ("Reminder 5 " + "x" * 300)[:250])


@pytest.mark.postgres
def test_notify_many_rows_are_the_rows_bulk_create_writes(db):
    """PostgreSQL writes a batch with one INSERT of column arrays; every column must hold what
    Django's bulk_create of the same messages holds."""
    user = UserFactory()
    owed = _owed(4, prefix="fast", user=user, ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") + _owed(3, prefix="plain")
    before = timezone.now()
    assert services.notify_many(iter(owed)) == 7
    for m in owed:
        values = dict(zip(services.MESSAGE_COLUMNS, services._message_values(m), strict=True))
        values["dedupe_key"] = "orm-" + values["dedupe_key"]
        OutboundMessage.objects.bulk_create([OutboundMessage(**values)])
    fields = [f.attname for f in OutboundMessage._meta.concrete_fields]
    for m in owed:
        fast = OutboundMessage.objects.filter(dedupe_key=m["dedupe_key"]).values(*fields).get()
        orm = OutboundMessage.objects.filter(dedupe_key="orm-" + m["dedupe_key"]).values(*fields).get()
        for moment in ("created_at", "next_attempt_at"):
            assert before <= fast.pop(moment) <= orm.pop(moment)
        assert {**fast, "id": None, "dedupe_key": None} == {**orm, "id": None, "dedupe_key": None}
