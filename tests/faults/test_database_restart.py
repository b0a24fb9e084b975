"""PostgreSQL stops and starts again while gunicorn takes bookings (a private cluster; the
shared server is never touched). No booking may lose its outbox row or the other way
round, the outage shows generic error answers, and bookings work again within seconds."""

import asyncio
import json
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.faults.conftest import ROOT, Gunicorn, child_env, production_env

pytestmark = [pytest.mark.faults, pytest.mark.slow]

RATE = 20  # bookings per second
STOP_AT, START_AT, END_AT = 4.0, 9.0, 18.0  # seconds into the load
LEAKS = ("Traceback", "psycopg", "OperationalError", 'File "', "django.db", "connection to server")


def _run(args: list[str], env: dict) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


async def _load(url: str, seed: dict, events: dict) -> list[dict]:
    results = []
    tokens = seed["tokens"]
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:

        async def book(n: int, sent_at: float):
            payload = {"session": seed["session"], "institution": seed["school"], "group_name": f"G{n}", "seats": 1}
            headers = {"Authorization": f"Token {tokens[n % len(tokens)]}"}
            try:
                response = await client.post("/api/v1/bookings/", json=payload, headers=headers)
                code, body = response.status_code, response.text
            except httpx.HTTPError as error:
                code, body = 0, repr(error)
            results.append(
                {"n": n, "sent": sent_at, "took": time.monotonic() - events["t0"] - sent_at, "code": code, "body": body}
            )

        tasks, n = [], 0
        while (elapsed := time.monotonic() - events["t0"]) < END_AT:
            tasks.append(asyncio.create_task(book(n, elapsed)))
            n += 1
            await asyncio.sleep(1 / RATE)
        await asyncio.gather(*tasks)
    return results


def test_bookings_survive_a_database_restart(postgres_cluster, processes, tmp_path):
    env = child_env(DATABASE_URL=postgres_cluster.url, VAR_DIR=tmp_path / "seed")
    prepared = time.monotonic()
    _run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    seed = json.loads(_run([sys.executable, "-m", "tests.faults.seed", "40", "10000"], env))
    prepared = time.monotonic() - prepared
    web = processes(Gunicorn, env=production_env(DATABASE_URL=postgres_cluster.url, VAR_DIR=tmp_path / "web"))
    web.wait_ready()

    events = {"t0": time.monotonic()}

    def outage():
        time.sleep(STOP_AT)
        events["stopping"] = time.monotonic() - events["t0"]
        postgres_cluster.stop("fast")
        events["stopped"] = time.monotonic() - events["t0"]
        time.sleep(max(0, START_AT - events["stopped"]))
        events["starting"] = time.monotonic() - events["t0"]
        postgres_cluster.start()
        events["started"] = time.monotonic() - events["t0"]

    operator = threading.Thread(target=outage)
    operator.start()
    results = asyncio.run(_load(web.url, seed, events))
    operator.join()

    ok = [r for r in results if r["code"] == 201]
    failed = [r for r in results if r["code"] != 201]
    after_start = [r for r in ok if r["sent"] >= events["started"]]
    recovery = after_start[0]["sent"] - events["started"] if after_start else None
    late_failures = [r for r in failed if recovery is not None and r["sent"] > events["started"] + recovery]
    booked = {json.loads(r["body"])["id"] for r in ok}

    q = postgres_cluster.psql
    rows = int(q("SELECT count(*) FROM programs_booking", "faults"))
    without_outbox = int(
        q(
            "SELECT count(*) FROM programs_booking b WHERE NOT EXISTS (SELECT 1 FROM notifications_outboundmessage m "
            "WHERE m.dedupe_key = 'booking:' || b.id || ':' || b.status)",
            "faults",
        )
    )
    orphans = int(
        q(
            "SELECT count(*) FROM notifications_outboundmessage m WHERE m.dedupe_key LIKE 'booking:%' AND NOT EXISTS "
            "(SELECT 1 FROM programs_booking b WHERE m.dedupe_key LIKE 'booking:' || b.id || ':%')",
            "faults",
        )
    )
    stored = set(map(int, q("SELECT id FROM programs_booking", "faults").split()))
    figure = {
        "prepare s": round(prepared, 1),
        "requests": len(results),
        "201": len(ok),
        "errors by code": {
            code: sum(r["code"] == code for r in failed) for code in sorted({r["code"] for r in failed})
        },
        "outage s": [round(events["stopping"], 1), round(events["started"], 1)],
        "first 5xx at s": round(min((r["sent"] for r in failed), default=-1), 1),
        "last 5xx at s": round(max((r["sent"] for r in failed), default=-1), 1),
        "recovered s after start": None if recovery is None else round(recovery, 2),
        "slowest answer s": round(max(r["took"] for r in results), 2),
        "bookings stored": rows,
        "answered 201 but missing": len(booked - stored),
        "stored but not answered 201": len(stored - booked),
        "bookings without outbox row": without_outbox,
        "outbox rows without booking": orphans,
    }
    print(f"\ndatabase restart under {RATE} bookings/s: {figure}")

    assert failed, "the outage was not seen: the test cannot have checked anything"
    assert all(r["code"] in (500, 503) for r in failed), figure
    leaked = [r["body"][:300] for r in failed if any(word in r["body"] for word in LEAKS)]
    assert leaked == [], leaked[:3]
    assert all(r["sent"] >= events["stopping"] - 0.5 for r in failed), figure
    assert recovery is not None and recovery < 10, figure
    assert late_failures == [], late_failures[:3]
    assert without_outbox == 0 and orphans == 0
    assert booked <= stored
