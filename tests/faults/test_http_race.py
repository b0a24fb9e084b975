"""The seat race over HTTP: 200 school staff POST a booking of one seat at once, through
gunicorn, to a 25-seat session on PostgreSQL."""

import asyncio
import statistics
import time

import httpx
import pytest
from rest_framework.authtoken.models import Token

from notifications.models import OutboundMessage
from programs.enums import BookingStatus
from programs.models import Booking, Session
from tests.factories import AgencyFactory, SchoolFactory
from tests.faults.conftest import Gunicorn, production_env, shared_database_url
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, staff_of

PEOPLE = 200
SEATS = 25

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


async def _post_all(url: str, session_id: int, school_id: int, tokens: list[str]):
    limits = httpx.Limits(max_connections=PEOPLE, max_keepalive_connections=PEOPLE)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        gate = asyncio.Event()

        async def book(token: str, n: int):
            await gate.wait()
            started = time.monotonic()
            response = await client.post(
                "/api/v1/bookings/",
                json={"session": session_id, "institution": school_id, "group_name": f"Class {n}", "seats": 1},
                headers={"Authorization": f"Token {token}"},
            )
            return response.status_code, response.json(), time.monotonic() - started

        tasks = [asyncio.create_task(book(token, n)) for n, token in enumerate(tokens)]
        await asyncio.sleep(0.2)
        started = time.monotonic()
        gate.set()
        results = await asyncio.gather(*tasks)
        return results, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_two_hundred_concurrent_booking_posts_confirm_exactly_the_seats(processes, redis_server):
    school, agency = SchoolFactory(), AgencyFactory()
    session = SessionFactory(program=ProgramFactory(agreement=active_agreement(agency, school)), capacity_seats=SEATS)
    tokens = [Token.objects.create(user=person).key for person in staff_of(school, PEOPLE)]
    broker = redis_server()
    server = processes(Gunicorn, env=production_env(DATABASE_URL=shared_database_url(), CELERY_BROKER_URL=broker.url))
    server.wait_ready()

    results, wall = asyncio.run(_post_all(server.url, session.pk, school.pk, tokens))

    codes = [code for code, _, _ in results]
    statuses = [body.get("status") for code, body, _ in results if code == 201]
    latencies = sorted(seconds for _, _, seconds in results)
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    figure = {
        "201 confirmed": statuses.count(BookingStatus.CONFIRMED),
        "201 waitlisted": statuses.count(BookingStatus.WAITLISTED),
        "409": codes.count(409),
        "5xx": sum(code >= 500 for code in codes),
        "other": sorted({code for code in codes if code not in (201, 409) and code < 500}),
        "median s": round(statistics.median(latencies), 2),
        "p95 s": round(p95, 2),
        "max s": round(latencies[-1], 2),
        "wall s": round(wall, 2),
    }
    print(f"\nHTTP seat race, {PEOPLE} POSTs for {SEATS} seats: {figure}")

    assert figure["5xx"] == 0, server.log()[-3000:]
    assert figure["other"] == []
    assert figure["201 confirmed"] == SEATS
    assert figure["201 waitlisted"] + figure["409"] == PEOPLE - SEATS
    assert Booking.objects.filter(session=session, status=BookingStatus.CONFIRMED).count() == SEATS
    assert Session.objects.get(pk=session.pk).confirmed_seats == SEATS
    # Each booking wrote its email in its own transaction.
    keys = {f"booking:{b.pk}:{b.status}" for b in Booking.objects.filter(session=session)}
    assert (
        set(OutboundMessage.objects.filter(dedupe_key__startswith="booking:").values_list("dedupe_key", flat=True))
        == keys
    )
