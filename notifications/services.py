"""The outbox: the one way the system sends email.

``notify`` writes a row inside the caller's transaction; after commit a task delivers
it. If the broker is down the row waits for the sweep. Rows are claimed before they
are sent (a conditional UPDATE over ``SELECT … FOR UPDATE SKIP LOCKED``), so two
workers never send one message. A batch stops starting sends halfway to the sending
timeout and gives the rest back, so the sweep never reclaims a row that a live worker
may still send. Delivery is at least once: sent rows are marked ten at a time, so a
worker killed after the mail server accepted messages and before their rows were marked
leaves at most ten rows that are reclaimed and sent again after the sending timeout
(docs/faults.md).
"""

import functools
import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.enums import MessageStatus
from notifications.models import OutboundMessage

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def render_message(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML bodies from ``<template>_subject.txt``, ``.txt`` and ``.html``."""
    subject = render_to_string(f"{template}_subject.txt", context, using="text").strip().splitlines()[0]
    text = render_to_string(f"{template}.txt", context, using="text")
    try:
        html = render_to_string(f"{template}.html", context)
    except Exception:
        html = ""
    return subject, text, html


def notify(
    *,
    to: str,
    template: str,
    context: dict,
    dedupe_key: str,
    user=None,
    ics: str = "",
    ics_method: str = "",
    ics_filename: str = "invite.ics",
) -> OutboundMessage:
    """Owe someone an email. Call inside the transaction of the change that caused it.

    Writing the same dedupe key twice returns the first row and sends nothing more.
    """
    subject, text, html = render_message(template, context)
    return notify_rendered(
        to=to,
        subject=subject,
        text=text,
        html=html,
        dedupe_key=dedupe_key,
        user=user,
        ics=ics,
        ics_method=ics_method,
        ics_filename=ics_filename,
    )


def notify_rendered(
    *,
    to: str,
    subject: str,
    text: str,
    dedupe_key: str,
    html: str = "",
    user=None,
    ics: str = "",
    ics_method: str = "",
    ics_filename: str = "invite.ics",
) -> OutboundMessage:
    """``notify`` for a message that is already rendered (e.g. by django-allauth)."""
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                dedupe_key=dedupe_key,
                to_email=to,
                user=user,
                subject=subject[:250],
                body_text=text,
                body_html=html,
                ics_content=ics,
                ics_method=ics_method,
                ics_filename=ics_filename if ics else "",
            )
    except IntegrityError:
        return OutboundMessage.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(lambda: publish(message.pk), robust=True)
    return message


def publish(message_id: int) -> None:
    """Hand a message to the broker; if it cannot take it, the sweep will."""
    from notifications.tasks import deliver_message  # noqa: PLC0415 -- tasks import services

    try:
        deliver_message.delay(message_id)
    except Exception:
        logger.warning("outbox: could not publish message %s; the sweep will send it", message_id)


def _due(now) -> Q:
    return Q(status=MessageStatus.PENDING, next_attempt_at__lte=now)


def claim(*, message_id: int | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Move due messages from pending to sending and return their ids.

    ``SKIP LOCKED`` lets several workers claim side by side without waiting for each
    other; the status condition on the UPDATE keeps a row from being claimed twice
    where the database has no row locks (SQLite).
    """
    return _claim(message_id=message_id, limit=limit)[0]


def _claim(*, message_id: int | None, limit: int):
    """``claim``, with the claim time that marks the rows as this claim's."""
    now = timezone.now()
    with transaction.atomic():
        due = OutboundMessage.objects.filter(_due(now))
        if message_id is not None:
            due = due.filter(pk=message_id)
        ids = list(
            due.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return [], now
        OutboundMessage.objects.filter(_due(now), pk__in=ids).update(
            status=MessageStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        claimed = OutboundMessage.objects.filter(pk__in=ids, status=MessageStatus.SENDING, claimed_at=now)
        return list(claimed.values_list("pk", flat=True)), now


def _email_for(message: OutboundMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"X-Dedupe-Key": message.dedupe_key},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.ics_content:
        method = message.ics_method or "PUBLISH"
        email.attach(
            message.ics_filename or "invite.ics",
            message.ics_content,
            f"text/calendar; charset=utf-8; method={method}",
        )
    return email


def send_claimed(ids: list[int], *, claimed_at=None) -> int:
    """Send messages this process claimed, over one mail connection. Returns how many went.

    The sweep gives a row stuck in sending back to the queue after the sending timeout, so
    a batch must be done with every row before then, however slow the mail server: it
    starts no send after half the timeout and gives the rest back untried. Marking a row
    sent requires this claim's time, so a row someone else took over is never recorded as
    this process's."""
    if not ids:
        return 0
    stop_at = time.monotonic() + settings.OUTBOX_SENDING_TIMEOUT_SECONDS / 2
    messages = OutboundMessage.objects.filter(pk__in=ids, status=MessageStatus.SENDING)
    if claimed_at is not None:
        messages = messages.filter(claimed_at=claimed_at)
    messages = list(messages.order_by("pk"))
    connection = mailers.default
    try:
        connection.open()
    except Exception as error:
        for message in messages:
            _record_failure(message, error)
        return 0
    try:
        with _marks_without_waiting_for_disk():
            sent = _send_each(connection, messages, stop_at)
    finally:
        connection.close()
    return sent


# Sent messages are marked in groups of this many (or sooner, see MARK_WITHIN_SECONDS): a
# worker killed mid-batch sends again at most this many that the mail server had accepted.
MARK_EVERY = 10
MARK_WITHIN_SECONDS = 0.5


def _send_each(connection, messages: list[OutboundMessage], stop_at: float) -> int:
    sent = 0
    accepted: list[OutboundMessage] = []
    marked_at = time.monotonic()

    def mark():
        nonlocal marked_at
        for claimed_at in {m.claimed_at for m in accepted}:
            OutboundMessage.objects.filter(
                pk__in=[m.pk for m in accepted if m.claimed_at == claimed_at],
                status=MessageStatus.SENDING,
                claimed_at=claimed_at,
            ).update(status=MessageStatus.SENT, sent_at=timezone.now(), last_error="")
        accepted.clear()
        marked_at = time.monotonic()

    try:
        for index, message in enumerate(messages):
            if time.monotonic() > stop_at:
                mark()
                _give_back(messages[index:])
                break
            try:
                connection.send_messages([_email_for(message)])
            except Exception as error:
                _record_failure(message, error)
                continue
            accepted.append(message)
            sent += 1
            if len(accepted) >= MARK_EVERY or time.monotonic() - marked_at > MARK_WITHIN_SECONDS:
                mark()
    finally:
        if accepted:
            mark()
    return sent


@contextmanager
def _marks_without_waiting_for_disk():
    """Marks of sent messages are small commits that need not wait for the WAL to reach the
    disk on PostgreSQL (synchronous_commit off, for this connection and this batch only):
    that wait was most of their cost. Only a crash of the database server itself within a
    fraction of a second could lose a mark, and those messages would be sent again: the
    duplicate at-least-once delivery already allows (docs/faults.md)."""
    if db_connection.vendor != "postgresql" or db_connection.in_atomic_block:
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _give_back(messages: list[OutboundMessage]) -> None:
    """Return claimed rows this batch had no time left to send; they were not tried."""
    OutboundMessage.objects.filter(
        pk__in=[m.pk for m in messages],
        status=MessageStatus.SENDING,
        claimed_at__in={m.claimed_at for m in messages},
    ).update(status=MessageStatus.PENDING, next_attempt_at=timezone.now(), attempts=F("attempts") - 1)
    logger.info("outbox: %s messages given back to the queue; the batch ran out of time", len(messages))


def _record_failure(message: OutboundMessage, error: Exception) -> None:
    failed = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    backoff = timedelta(seconds=min(3600, 30 * 2 ** max(0, message.attempts - 1)))
    OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING, claimed_at=message.claimed_at).update(
        status=MessageStatus.FAILED if failed else MessageStatus.PENDING,
        next_attempt_at=timezone.now() + backoff,
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )
    logger.warning(
        "outbox: message %s failed (attempt %s)%s",
        message.pk,
        message.attempts,
        ", giving up" if failed else "",
    )


def deliver(message_id: int) -> bool:
    """Deliver one message if it is still due; a repeat call sends nothing."""
    ids, claimed_at = _claim(message_id=message_id, limit=1)
    return send_claimed(ids, claimed_at=claimed_at) == 1


def reclaim_stuck(*, now=None) -> int:
    """Give rows stuck in sending (a worker died mid-send) back to the queue."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT_SECONDS)
    return OutboundMessage.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=cutoff).update(
        status=MessageStatus.PENDING, next_attempt_at=now
    )


def sweep(*, batch: int = SWEEP_BATCH, max_batches: int = 50) -> int:
    """Deliver whatever is still pending, in batches; returns how many were sent."""
    reclaim_stuck()
    total = 0
    for _ in range(max_batches):
        ids, claimed_at = _claim(message_id=None, limit=batch)
        if not ids:
            break
        total += send_claimed(ids, claimed_at=claimed_at)
    return total


# Many at once: the periodic scans.

NOTIFY_BATCH = 1000


def existing_keys(keys) -> set[str]:
    """Which of these dedupe keys are already in the outbox (one query)."""
    return set(OutboundMessage.objects.filter(dedupe_key__in=list(keys)).values_list("dedupe_key", flat=True))


# The columns a message of ``notify_many`` brings, in this order; every other column of a new row
# takes its field's default.
MESSAGE_COLUMNS = (
    "dedupe_key",
    "to_email",
    "user_id",
    "subject",
    "body_text",
    "body_html",
    "ics_content",
    "ics_method",
    "ics_filename",
)


def _message_values(m: dict) -> tuple:
    user, ics = m.get("user"), m.get("ics", "")
    return (
        m["dedupe_key"],
        m["to"],
        user.pk if user is not None else None,
        m["subject"][:250],
        m["text"],
        m.get("html", ""),
        ics,
        m.get("ics_method", ""),
        m.get("ics_filename", "invite.ics") if ics else "",
    )


@functools.cache
def _insert_new_sql() -> tuple[str, tuple]:
    """PostgreSQL's INSERT of a batch: one array per column a message brings, the defaults of
    the others as single values, ON CONFLICT DO NOTHING, RETURNING the rows that were new."""
    quote = db_connection.ops.quote_name
    fields = {f.attname: f for f in OutboundMessage._meta.concrete_fields if not f.primary_key}
    given = [fields[name] for name in MESSAGE_COLUMNS]
    defaulted = tuple(f for name, f in fields.items() if name not in MESSAGE_COLUMNS)

    def cast(field, suffix=""):
        return f"%s::{field.db_type(db_connection).split('(')[0]}{suffix}"

    columns = ", ".join(quote(f.column) for f in (*given, *defaulted))
    values = ", ".join(["u.*", *(cast(f) for f in defaulted)])
    arrays = ", ".join(cast(f, "[]") for f in given)
    sql = (
        f"INSERT INTO {quote(OutboundMessage._meta.db_table)} ({columns}) SELECT {values} "
        f"FROM UNNEST({arrays}) AS u ON CONFLICT DO NOTHING RETURNING 1"
    )
    return sql, defaulted


def _write_new(messages: list[dict]) -> int:
    """Write the messages whose dedupe key is not in the outbox yet; returns how many were new.

    On PostgreSQL one INSERT of column arrays, which says itself which rows were new: built by
    bulk_create (a model per row, every value prepared one by one) and preceded by a query for
    the keys already there, a batch cost twice as much, a fifth of a 100,000-reminder scan
    (bench/background.py). tests/notifications/test_outbox.py holds its rows to bulk_create's."""
    rows = [_message_values(m) for m in messages]
    if db_connection.vendor == "postgresql":
        sql, defaulted = _insert_new_sql()
        defaults = [f.get_db_prep_save(f.get_default(), db_connection) for f in defaulted]
        with transaction.atomic(), db_connection.cursor() as cursor:
            cursor.execute(sql, [*defaults, *(list(column) for column in zip(*rows, strict=True))])
            return len(cursor.fetchall())
    keys = existing_keys(row[0] for row in rows)
    new = [OutboundMessage(**dict(zip(MESSAGE_COLUMNS, row, strict=True))) for row in rows if row[0] not in keys]
    with transaction.atomic():
        OutboundMessage.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def notify_many(messages) -> int:
    """Owe many rendered emails at once: a scan's reminders. ``messages`` yields dicts of
    ``notify_rendered``'s arguments; they are written NOTIFY_BATCH at a time, each batch one
    INSERT … ON CONFLICT DO NOTHING on the dedupe key in its own transaction, so memory and
    queries per batch stay constant however many there are, and a key written before (a
    rerun, a second beat) is skipped. After the last batch one sweep is asked for: the
    sweep claims and sends in batches too. Returns how many rows were new."""
    written = 0
    batch = []
    for message in messages:
        batch.append(message)
        if len(batch) >= NOTIFY_BATCH:
            written += _write_new(batch)
            batch.clear()
    if batch:
        written += _write_new(batch)
    if written:
        transaction.on_commit(publish_sweep, robust=True)
    return written


def publish_sweep() -> None:
    """Ask a worker to sweep the outbox now; if the broker cannot take it, beat's sweep will."""
    from notifications.tasks import sweep_outbox  # noqa: PLC0415 -- tasks import services

    try:
        sweep_outbox.delay()
    except Exception:
        logger.warning("outbox: could not publish a sweep; beat's sweep will send the messages")
