"""A real Celery worker and beat, on the configured broker, deliver outbox messages.

Embedded run: the filesystem broker. Service run: Redis (CELERY_BROKER_URL=redis://…).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from notifications import services
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def broker_for(var_dir: Path) -> tuple[str, dict]:
    url = os.environ.get("CELERY_BROKER_URL") or "filesystem://localhost//"
    if url.startswith("filesystem://"):
        queue, control = var_dir / "broker" / "queue", var_dir / "broker" / "control"
        for folder in (queue, control):
            folder.mkdir(parents=True, exist_ok=True)
        return url, {"data_folder_in": str(queue), "data_folder_out": str(queue), "control_folder": str(control)}
    return url, {"socket_timeout": 2, "socket_connect_timeout": 1, "max_retries": 2}


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "development", **extra})
    return env


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_deliver_outbox_messages(tmp_path):
    var_dir, mail_dir = tmp_path / "var", tmp_path / "mail"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    broker_url, transport = broker_for(var_dir)

    published = services.notify_rendered(to="a@example.test", subject="Published", text="x", dedupe_key="w-1")
    swept = services.notify_rendered(to="b@example.test", subject="Swept", text="y", dedupe_key="w-2")

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--pool",
            "solo",
            "-l",
            "INFO",
            "-Q",
            queue,
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=child_env(
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=broker_url,
            CELERY_QUEUE=queue,
            VAR_DIR=str(var_dir),
            MAIL_FILE_PATH=str(mail_dir),
            OUTBOX_SWEEP_SECONDS="2",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sender = Celery("sender", broker=broker_url)
        sender.conf.broker_transport_options = transport
        sender.send_task("notifications.tasks.deliver_message", args=[published.pk], queue=queue)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if OutboundMessage.objects.filter(status=MessageStatus.SENT).count() == 2:
                break
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            log, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            log, _ = worker.communicate()

    statuses = dict(OutboundMessage.objects.values_list("dedupe_key", "status"))
    assert statuses == {published.dedupe_key: MessageStatus.SENT, swept.dedupe_key: MessageStatus.SENT}, log[-3000:]
    files = sorted(mail_dir.glob("*.eml"))
    assert len(files) == 2, log[-3000:]
    subjects = {line for f in files for line in f.read_text().splitlines() if line.startswith("Subject:")}
    assert subjects == {"Subject: Published", "Subject: Swept"}
    assert "deliver_message" in log  # the published task ran in the worker
    assert "sweep_outbox" in log  # beat scheduled the sweep that sent the other


def test_publish_to_a_frozen_broker_gives_up_within_seconds(tmp_path):
    """A Redis that accepts connections and never answers must not hang a request."""
    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(64)  # the kernel completes handshakes; nobody ever reads or replies
    port = frozen.getsockname()[1]
    script = (
        "import time, django, logging; django.setup();"
        "from notifications.services import publish;"
        "t = time.monotonic(); publish(1); print('elapsed', round(time.monotonic() - t, 2))"
    )
    try:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=40,
            env=child_env(CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0", VAR_DIR=str(tmp_path)),
        )
        wall = time.monotonic() - started
    finally:
        frozen.close()
    assert result.returncode == 0, result.stderr
    elapsed = float(result.stdout.split("elapsed")[-1])
    print(f"publish to a frozen broker returned after {elapsed:.2f} s")
    assert elapsed < 10
    assert wall < 20
    assert "the sweep will send it" in result.stderr
