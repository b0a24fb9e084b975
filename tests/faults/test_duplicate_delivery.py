"""Each outbox message is sent once although Redis redelivers a slow task, two beats and two
workers sweep at once, and a worker is killed in the middle of a send."""

import re
import signal
import time
import uuid
from collections import Counter

import pytest
from celery import Celery

from notifications import services
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage
from tests.faults.conftest import celery_args, child_env, mail_files, shared_database_url, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.slow]

RECEIVED = re.compile(r"Task notifications\.tasks\.deliver_message\[[^\]]+\] received")


@pytest.fixture
def owe(monkeypatch):
    """Write pending messages without publishing them to the shared broker of the test run."""
    monkeypatch.setattr(services, "publish", lambda message_id: None)

    def owe(n: int, prefix: str) -> list[int]:
        return [
            services.notify_rendered(
                to=f"p{i}@example.test", subject=f"{prefix} {i}", text="x", dedupe_key=f"{prefix}-{i}"
            ).pk
            for i in range(n)
        ]

    return owe


@pytest.fixture
def outbox_env(redis_server, tmp_path):
    """Environment of a worker or beat of the fault runs, on a private Redis and queue."""
    redis, queue = redis_server(), f"faults-{uuid.uuid4().hex[:8]}"

    def env(**extra):
        return child_env(
            DJANGO_SETTINGS_MODULE="tests.faults.worker_settings",
            DATABASE_URL=shared_database_url(),
            CELERY_BROKER_URL=redis.url,
            CELERY_QUEUE=queue,
            VAR_DIR=tmp_path / "var",
            MAIL_FILE_PATH=tmp_path / "mail",
            **extra,
        )

    def send(message_id: int) -> None:
        # Celery prefers CELERY_BROKER_URL from the environment (the shared Redis) to its argument.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CELERY_BROKER_URL", redis.url)
            sender = Celery("sender", broker=redis.url)
            sender.conf.broker_transport_options = {"socket_timeout": 2, "socket_connect_timeout": 1}
            sender.send_task("notifications.tasks.deliver_message", args=[message_id], queue=queue)
            sender.close()

    env.queue, env.send, env.mail = queue, send, tmp_path / "mail"
    return env


def _sent_count() -> int:
    return OutboundMessage.objects.filter(status=MessageStatus.SENT).count()


@pytest.mark.django_db(transaction=True)
def test_a_task_redelivered_while_it_runs_sends_the_message_once(owe, outbox_env, processes, tmp_path):
    (message_id,) = owe(1, "redelivered")
    worker = processes(
        "worker",
        celery_args("worker", queue=outbox_env.queue, pool="threads", concurrency=2),
        env=outbox_env(CELERY_VISIBILITY_TIMEOUT=2, SLOW_MAIL_SECONDS=6),
    )
    wait_for(lambda: "ready." in worker.log(), timeout=30, what="the worker")
    started = time.monotonic()
    outbox_env.send(message_id)
    wait_for(lambda: len(RECEIVED.findall(worker.log())) >= 2, timeout=20, what="a redelivery")
    wait_for(lambda: _sent_count() == 1, timeout=20, what="the send")
    time.sleep(3)  # room for a late second send
    runs = len(RECEIVED.findall(worker.log()))
    emails = Counter(mail_files(outbox_env.mail))
    print(
        f"\nredelivery (visibility 2 s, send 6 s): task received {runs} times, emails {sum(emails.values())}, "
        f"sent after {time.monotonic() - started - 3:.1f} s"
    )
    assert runs >= 2, worker.log()[-3000:]
    assert emails == {"redelivered-0": 1}


@pytest.mark.django_db(transaction=True)
def test_two_beats_and_two_workers_send_each_message_once(owe, outbox_env, processes, tmp_path):
    """A slow mail server makes one sweep's batch outlast the sending timeout, while the
    other beat's sweeps keep reclaiming stuck rows: still one email per message."""
    count = 30
    owe(count, "swept")
    env = outbox_env(OUTBOX_SWEEP_SECONDS=1, OUTBOX_SENDING_TIMEOUT_SECONDS=4, SLOW_MAIL_SECONDS=0.3)
    workers = [
        processes("worker", celery_args("worker", queue=outbox_env.queue, pool="threads", concurrency=2), env=env)
        for _ in range(2)
    ]
    beats = [processes("beat", celery_args("beat", queue="", schedule=tmp_path / f"beat-{n}"), env=env) for n in (1, 2)]
    started = time.monotonic()
    wait_for(lambda: _sent_count() == count, timeout=60, interval=0.5, what="every message sent")
    sent_in = time.monotonic() - started
    time.sleep(max(0, 15 - sent_in))  # both beats keep sweeping for a while
    sweeps = sum(w.log().count("Task notifications.tasks.sweep_outbox[") for w in workers) // 2
    emails = Counter(mail_files(outbox_env.mail))
    duplicates = sum(n - 1 for n in emails.values())
    print(
        f"\ntwo beats, two workers: {sweeps} sweeps run, {count} messages, {sum(emails.values())} emails, "
        f"{duplicates} duplicates, all sent in {sent_in:.1f} s"
    )
    assert all(beat.alive() for beat in beats)
    assert sweeps >= 10
    assert duplicates == 0, emails
    assert set(emails) == {f"swept-{i}" for i in range(count)}


@pytest.mark.parametrize("killed", ["before the server accepted it", "after the server accepted it"])
@pytest.mark.django_db(transaction=True)
def test_a_message_whose_worker_was_killed_mid_send_is_sent_later(killed, owe, outbox_env, processes, tmp_path):
    (message_id,) = owe(1, "killed")
    accepted_first = killed.startswith("after")
    doomed = processes(
        "doomed-worker",
        celery_args("worker", queue=outbox_env.queue),
        env=outbox_env(SLOW_MAIL_SECONDS=60, SLOW_MAIL_WHEN="after" if accepted_first else "before"),
    )
    wait_for(lambda: "ready." in doomed.log(), timeout=30, what="the worker")
    outbox_env.send(message_id)
    if accepted_first:
        wait_for(lambda: outbox_env.mail.exists() and mail_files(outbox_env.mail), timeout=20, what="the first copy")
    else:
        wait_for(
            lambda: OutboundMessage.objects.get(pk=message_id).status == MessageStatus.SENDING,
            timeout=20,
            what="the claim",
        )
        time.sleep(0.5)
    doomed.kill(signal.SIGKILL)
    doomed.popen.wait(10)
    killed_at = time.monotonic()
    assert OutboundMessage.objects.get(pk=message_id).status == MessageStatus.SENDING

    timeout = 3
    processes(
        "worker",
        celery_args("worker", "beat", queue=outbox_env.queue, schedule=tmp_path / "beat"),
        env=outbox_env(OUTBOX_SWEEP_SECONDS=1, OUTBOX_SENDING_TIMEOUT_SECONDS=timeout, CELERY_VISIBILITY_TIMEOUT=2),
    )
    wait_for(lambda: _sent_count() == 1, timeout=40, interval=0.2, what="the reclaimed send")
    reclaimed_in = time.monotonic() - killed_at
    time.sleep(3)
    emails = Counter(mail_files(outbox_env.mail))
    print(
        f"\nworker killed {killed}: sent {reclaimed_in:.1f} s after the kill (sending timeout {timeout} s), "
        f"emails {sum(emails.values())}"
    )
    # At least once: a kill after the server accepted the message costs one duplicate, never a loss.
    assert emails == {"killed-0": 2 if accepted_first else 1}
    assert OutboundMessage.objects.get(pk=message_id).attempts == 2
