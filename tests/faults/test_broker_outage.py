"""Redis, the broker, dies or freezes while people book. The booking and its outbox row
commit together; the publish after the commit gives up within seconds; the sweep of a
real worker and beat sends every email once Redis is back."""

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from rest_framework.authtoken.models import Token

from notifications.enums import MessageStatus
from notifications.models import OutboundMessage
from programs.enums import BookingStatus
from programs.models import Booking
from tests.factories import AgencyFactory, SchoolFactory
from tests.faults.conftest import (
    Gunicorn,
    celery_args,
    child_env,
    mail_files,
    production_env,
    shared_database_url,
    wait_for,
)
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, staff_of

BOOKINGS = 20
SWEEP_SECONDS = 10
PAUSE_MS = 10_000

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.slow]


async def _book_all(url: str, session_id: int, school_id: int, tokens: list[str]):
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def book(n: int, token: str):
            started = time.monotonic()
            response = await client.post(
                "/api/v1/bookings/",
                json={"session": session_id, "institution": school_id, "group_name": f"Class {n}", "seats": 1},
                headers={"Authorization": f"Token {token}"},
            )
            return response.status_code, time.monotonic() - started

        return await asyncio.gather(*(book(n, token) for n, token in enumerate(tokens)))


@pytest.mark.parametrize("outage", ["shutdown", "client-pause"])
@pytest.mark.django_db(transaction=True)
def test_bookings_commit_and_emails_follow_when_the_broker_is_down(outage, processes, redis_server, tmp_path):
    school, agency = SchoolFactory(), AgencyFactory()
    session = SessionFactory(program=ProgramFactory(agreement=active_agreement(agency, school)), capacity_seats=100)
    tokens = [Token.objects.create(user=person).key for person in staff_of(school, BOOKINGS)]
    redis, queue, mail_dir = redis_server(), f"faults-{uuid.uuid4().hex[:8]}", tmp_path / "mail"
    services = {"DATABASE_URL": shared_database_url(), "CELERY_BROKER_URL": redis.url, "CELERY_QUEUE": queue}
    web = processes(
        Gunicorn, env=production_env(VAR_DIR=tmp_path / "web", **services), workers=2, threads=BOOKINGS // 2
    )
    worker = processes(
        "worker",
        celery_args("worker", "beat", queue=queue, schedule=tmp_path / "beat-schedule"),
        env=child_env(
            VAR_DIR=tmp_path / "worker", MAIL_FILE_PATH=mail_dir, OUTBOX_SWEEP_SECONDS=SWEEP_SECONDS, **services
        ),
    )
    web.wait_ready()
    wait_for(lambda: "ready." in worker.log(), timeout=30, what="the worker")

    if outage == "shutdown":
        redis.shutdown()
    else:
        redis.pause(PAUSE_MS)
    down_at = time.monotonic()
    results = asyncio.run(_book_all(web.url, session.pk, school.pk, tokens))
    booked_in = time.monotonic() - down_at

    codes = Counter(code for code, _ in results)
    slowest = max(seconds for _, seconds in results)
    bookings = list(Booking.objects.filter(session=session))
    keys = {f"booking:{b.pk}:{b.status}" for b in bookings}
    rows = set(OutboundMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    assert not mail_files(mail_dir) if mail_dir.exists() else True  # nothing could be sent yet

    if outage == "shutdown":
        redis.start()
    else:
        time.sleep(max(0, PAUSE_MS / 1000 - (time.monotonic() - down_at)))
    back_at = time.monotonic()
    try:
        wait_for(
            lambda: mail_dir.exists() and len(mail_files(mail_dir)) >= BOOKINGS,
            timeout=SWEEP_SECONDS * 3,
            interval=0.2,
            what="the emails",
        )
        delivered_in = time.monotonic() - back_at
    except AssertionError:
        delivered_in = None
    time.sleep(2)  # a late duplicate would show up here
    sent = Counter(mail_files(mail_dir)) if mail_dir.exists() else Counter()
    figure = {
        "outage": outage,
        "codes": dict(codes),
        "slowest response s": round(slowest, 2),
        "20 bookings took s": round(booked_in, 2),
        "bookings": len(bookings),
        "outbox rows": len(rows),
        "emails": sum(sent.values()),
        "duplicates": sum(n - 1 for n in sent.values() if n > 1),
        "emails within s of Redis back": None if delivered_in is None else round(delivered_in, 1),
        "sweep interval s": SWEEP_SECONDS,
    }
    print(f"\nbroker outage: {figure}")

    assert codes == {201: BOOKINGS}, web.log()[-3000:]
    assert slowest < 5
    assert len(bookings) == BOOKINGS
    assert all(b.status == BookingStatus.CONFIRMED for b in bookings)
    assert rows == keys  # every booking committed with its outbox row
    assert delivered_in is not None, worker.log()[-4000:]
    assert delivered_in <= SWEEP_SECONDS, worker.log()[-4000:]
    assert set(sent) == keys
    assert figure["duplicates"] == 0
    assert OutboundMessage.objects.filter(dedupe_key__in=keys, status=MessageStatus.SENT).count() == BOOKINGS
