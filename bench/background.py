"""Background work at scale: the reminder scan, outbox delivery, survey generation.

    uv run python bench/background.py --engine postgres --size 1     # 100,000 reminders ...
    uv run python bench/background.py --engine postgres --size 100   # 1,000

Each part runs on its own throw-away database (``partnerships_bench_bg_N``; made with the
product's migrations, dropped at the end) and in a fresh worker process, as a Celery worker
would run it, so the peak RSS reported is that process's own.

1. Reminder scan: 100,000 / N reminders due (sessions starting within the next 24 hours,
   each with four confirmed bookings by different staff and one facilitator). One run of
   programs.services.send_session_reminders: seconds, rows written, queries, queries per
   1,000 rows, peak RSS. A second run must write nothing.
2. Outbox delivery: 10,000 / N (at least 1,000) pending messages sent by
   notifications.services.sweep to a local SMTP sink (aiosmtpd, in a thread of its own
   process) over one reused connection per batch, against a bare loop of Django's
   ``send_messages`` with the same messages on one connection to the same sink:
   messages/s of each and their ratio.
3. Survey generation: 1,000 / N (at least 100) sessions delivered in the last days:
   one run of evaluations.surveys.generate_surveys: seconds, surveys, invitations, queries.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

ROOT = common.ROOT


def database(engine: str, size: int) -> str:
    if engine == "postgres":
        return f"{common.PG_SERVER}/partnerships_bench_bg_{size}"
    return f"sqlite:///{ROOT / 'var' / 'bench' / f'bench-bg-{size}.sqlite3'}"


def recreate(engine: str, size: int):
    url = database(engine, size)
    if engine == "postgres":
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"{common.PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def drop(engine: str, size: int):
    if engine == "postgres":
        import psycopg

        name = database(engine, size).rsplit("/", 1)[1]
        with psycopg.connect(f"{common.PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def in_worker(part: str, engine: str, size: int, **options) -> dict:
    """Run ``part`` of this file in a fresh process (the worker) and return its JSON."""
    env = {
        **os.environ,
        "DATABASE_URL": database(engine, size),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "LOG_LEVEL": "WARNING",
        # The scan asks for a sweep when it is done: an in-memory broker keeps it in this process.
        "CELERY_BROKER_URL": "memory://",
        **{k: str(v) for k, v in options.items()},
    }
    out = subprocess.run(
        [sys.executable, __file__, "--part", part, "--engine", engine, "--size", str(size)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"{part} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Counter:
    """Counts queries (and INSERTs) without keeping their SQL: a captured bulk INSERT holds its
    whole text, which would make the worker's memory the benchmark's, not the product's."""

    def __init__(self):
        self.queries = self.inserts = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        self.inserts += sql.lstrip().upper().startswith("INSERT")
        return execute(sql, params, many, context)


def peak_rss_mib() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# The parts, run inside the worker process.


def part_setup(size: int) -> dict:
    """Migrate, then bulk-build the due reminders, the pending messages and the sessions to survey."""
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.enums import OrganizationKind, Role
    from accounts.models import Membership, Organization, User
    from notifications.models import OutboundMessage
    from partnerships.enums import PartyRole
    from partnerships.models import Agreement, AgreementParty
    from programs.models import Booking, Facilitation, Program, Session

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    now = timezone.now()
    sessions_due = max(1, 20000 // size)
    surveyed = max(100, 1000 // size)
    password = make_password(None)
    agency = Organization.objects.create(name="Bench Police", kind=OrganizationKind.AGENCY)
    schools = Organization.objects.bulk_create(
        [Organization(name=f"Bench School {i}", kind=OrganizationKind.K12_SCHOOL) for i in range(40)]
    )
    officers = User.objects.bulk_create(
        [User(email=f"officer{i}@bg.test", full_name=f"Officer {i}", password=password) for i in range(1000)]
    )
    staff = User.objects.bulk_create(
        [User(email=f"staff{i}@bg.test", full_name=f"Staff {i}", password=password) for i in range(4000)]
    )
    Membership.objects.bulk_create(
        [Membership(user=o, organization=agency, role=Role.OFFICER) for o in officers]
        + [Membership(user=u, organization=schools[i % 40], role=Role.STAFF) for i, u in enumerate(staff)]
    )
    agreement = Agreement.objects.create(
        title="Bench MOU",
        lead_agency=agency,
        status="active",
        starts_on=now.date() - timedelta(days=400),
        ends_on=now.date() + timedelta(days=400),
    )
    AgreementParty.objects.bulk_create(
        [AgreementParty(agreement=agreement, organization=agency, role=PartyRole.LEAD_AGENCY)]
        + [AgreementParty(agreement=agreement, organization=s, role=PartyRole.INSTITUTION) for s in schools]
    )
    program = Program.objects.create(
        agreement=agreement, title="Online safety", topic="online_safety", grade_band="high"
    )

    def make_sessions(count, first, status):
        """Sessions 4 s apart, 20 minutes long, each with one facilitator (officer i takes
        every 1,000th, so never two at once) and four classes booked by different staff."""
        rows = Session.objects.bulk_create(
            [
                Session(
                    program=program,
                    starts_at=first + timedelta(seconds=4 * i),
                    ends_at=first + timedelta(seconds=4 * i, minutes=20),
                    school=schools[i % len(schools)],
                    capacity_seats=30,
                    confirmed_seats=20,
                    status=status,
                )
                for i in range(count)
            ],
            batch_size=5000,
        )
        Facilitation.objects.bulk_create(
            [
                Facilitation(session=s, officer=officers[i % len(officers)], starts_at=s.starts_at, ends_at=s.ends_at)
                for i, s in enumerate(rows)
            ],
            batch_size=5000,
        )
        Booking.objects.bulk_create(
            [
                Booking(
                    session=s,
                    institution_id=s.school_id,
                    booked_by=staff[(i * 4 + k) % len(staff)],
                    group_name=f"Class {k}",
                    seats=5,
                    status="confirmed",
                    confirmed_at=now,
                    attended_count=5 if status == "delivered" else None,
                )
                for i, s in enumerate(rows)
                for k in range(4)
            ],
            batch_size=5000,
        )
        return rows

    due = make_sessions(sessions_due, now + timedelta(minutes=30), "scheduled")
    make_sessions(surveyed, now - timedelta(days=2), "delivered")
    messages = max(1000, 10000 // size)
    OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                dedupe_key=f"bench:{i}",
                to_email=f"person{i}@bg.test",
                subject=f"Reminder {i}",
                body_text="Your workshop is tomorrow at 9:00.\n" * 10,
                body_html="<p>Your workshop is tomorrow at 9:00.</p>" * 10,
            )
            for i in range(messages)
        ],
        batch_size=5000,
    )
    return {
        "sessions_due": len(due),
        "surveyed_sessions": surveyed,
        "messages": messages,
        "seconds": round(time.perf_counter() - started, 1),
    }


def part_scan(size: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from notifications.models import OutboundMessage
    from programs import services

    before = OutboundMessage.objects.count()
    rss_before = peak_rss_mib()
    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        written = services.send_session_reminders()
        seconds = time.perf_counter() - started
    rss_after = peak_rss_mib()
    rerun_started = time.perf_counter()
    again = services.send_session_reminders()
    rerun = time.perf_counter() - rerun_started
    rows = OutboundMessage.objects.count() - before
    return {
        "reminders": written,
        "rows": rows,
        "seconds": round(seconds, 2),
        "per_second": round(written / seconds),
        "queries": counter.queries,
        "insert_queries": counter.inserts,
        "queries_per_1000_rows": round(counter.queries / max(1, written) * 1000, 2),
        "peak_rss_mib_before": rss_before,
        "peak_rss_mib": rss_after,
        "second_run_wrote": again,
        "second_run_seconds": round(rerun, 2),
    }


def _serve_sink(port, received, ready):
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


class Sink:
    """aiosmtpd on 127.0.0.1 in a process of its own (so it takes no time from the sender's
    interpreter): counts what it receives."""

    def __init__(self):
        import multiprocessing
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        self._received = context.Value("i", 0)
        self._ready = context.Event()
        self._process = context.Process(target=_serve_sink, args=(self.port, self._received, self._ready), daemon=True)

    @property
    def received(self):
        return self._received.value

    def __enter__(self):
        self._process.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc):
        self._process.terminate()
        self._process.join(10)


def part_deliver(size: int) -> dict:
    """The outbox's sweep, then the bare loop, to the same sink, in one process."""
    with Sink() as sink:
        os.environ["SMTP_URL"] = f"smtp://127.0.0.1:{sink.port}"
        import django

        django.setup()
        from django.core.mail import EmailMultiAlternatives, mailers

        from notifications import services
        from notifications.models import OutboundMessage

        pending = OutboundMessage.objects.filter(status="pending").count()
        started = time.perf_counter()
        sent = 0
        while True:
            done = services.sweep()
            sent += done
            if not done:
                break
        outbox_seconds = time.perf_counter() - started
        outbox_received = sink.received
        # The bare loop: the same messages, each built and handed to send_messages on one open
        # connection, with no database: what sending costs without an outbox.
        rows = list(OutboundMessage.objects.order_by("pk").values("subject", "body_text", "body_html", "to_email"))
        started = time.perf_counter()
        with mailers.default as connection:
            for m in rows:
                email = EmailMultiAlternatives(subject=m["subject"], body=m["body_text"], to=[m["to_email"]])
                email.attach_alternative(m["body_html"], "text/html")
                connection.send_messages([email])
        bare_seconds = time.perf_counter() - started
    outbox_rate = sent / outbox_seconds
    bare_rate = len(rows) / bare_seconds
    return {
        "messages": pending,
        "outbox_sent": sent,
        "sink_received_from_outbox": outbox_received,
        "outbox_seconds": round(outbox_seconds, 2),
        "outbox_per_second": round(outbox_rate),
        "bare_seconds": round(bare_seconds, 2),
        "bare_per_second": round(bare_rate),
        "ratio": round(outbox_rate / bare_rate, 3),
    }


def part_surveys(size: int) -> dict:
    import django

    django.setup()
    from django.db import connection

    from evaluations import surveys
    from evaluations.models import Survey, SurveyInvitation

    counter = Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        created = surveys.generate_surveys()
        seconds = time.perf_counter() - started
    again = surveys.generate_surveys()
    return {
        "sessions": Survey.objects.values("session").distinct().count(),
        "surveys": created,
        "invitations": SurveyInvitation.objects.count(),
        "seconds": round(seconds, 2),
        "queries": counter.queries,
        "second_run_created": again,
        "peak_rss_mib": peak_rss_mib(),
    }


PARTS = {"setup": part_setup, "scan": part_scan, "deliver": part_deliver, "surveys": part_surveys}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--part", choices=list(PARTS))
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args.size)))
        return
    recreate(args.engine, args.size)
    try:
        result = {"engine": args.engine, "size": args.size}
        for part in ("setup", "deliver", "scan", "surveys"):
            result[part] = in_worker(part, args.engine, args.size)
            print(f"  {part}: {result[part]}", flush=True)
        result["machine"] = common.machine()
        common.write_result(f"background-{args.engine}-{args.size}", result)
    finally:
        drop(args.engine, args.size)


if __name__ == "__main__":
    main()
