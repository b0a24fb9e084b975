"""Booking throughput and contention, measured through the real service (programs.services.book_session).

    uv run python bench/bookings.py                      # the embedded default (SQLite)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partnerships_ci uv run python bench/bookings.py

It builds a throw-away test database (test_<name>, dropped at the end), then measures:
1. serial bookings/s on many sessions (no contention): the cost of one booking, with its
   row lock, seat count, counter update, audit-free outbox row and .ics invite;
2. on PostgreSQL, THREADS threads booking one session of SEATS seats at once: bookings/s
   under contention on one row lock, and the outcome (confirmed must equal SEATS).
Figures are medians of --runs repeated runs. Performance is never asserted in tests.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import close_old_connections, connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from accounts.enums import Role  # noqa: E402
from programs import services  # noqa: E402
from programs.enums import BookingStatus  # noqa: E402
from tests.factories import AgencyFactory, SchoolFactory, member  # noqa: E402
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement  # noqa: E402


def serial(n: int) -> float:
    school, agency = SchoolFactory(), AgencyFactory()
    program = ProgramFactory(agreement=active_agreement(agency, school))
    sessions = [SessionFactory(program=program, capacity_seats=1000) for _ in range(20)]
    person = member(school, Role.STAFF)
    started = time.perf_counter()
    for i in range(n):
        services.book_session(
            session=sessions[i % len(sessions)], institution=school, by=person, group_name=f"G{i}", seats=1
        )
    return n / (time.perf_counter() - started)


def contended(threads: int, seats: int) -> tuple[float, int, int]:
    school, agency = SchoolFactory(), AgencyFactory()
    program = ProgramFactory(agreement=active_agreement(agency, school))
    session = SessionFactory(program=program, capacity_seats=seats)
    people = [member(school, Role.STAFF) for _ in range(threads)]
    barrier = threading.Barrier(threads)
    errors = []

    def book(person):
        barrier.wait()
        try:
            close_old_connections()
            services.book_session(session=session, institution=school, by=person, group_name="Class", seats=1)
        except Exception as error:  # counted and reported
            errors.append(repr(error))
        finally:
            connection.close()

    workers = [threading.Thread(target=book, args=(p,)) for p in people]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    confirmed = session.bookings.filter(status=BookingStatus.CONFIRMED).count()
    return threads / elapsed, confirmed, len(errors)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--seats", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        vendor = connection.vendor
        rates = [serial(args.bookings) for _ in range(args.runs)]
        print(f"database: {vendor}")
        print(
            f"serial bookings/s (median of {args.runs}): {statistics.median(rates):.0f}  runs: "
            + ", ".join(f"{r:.0f}" for r in rates)
        )
        if vendor == "postgresql":
            results = [contended(args.threads, args.seats) for _ in range(args.runs)]
            print(
                f"{args.threads} concurrent bookings on one {args.seats}-seat session: "
                f"median {statistics.median(r[0] for r in results):.0f} bookings/s; "
                f"confirmed {[r[1] for r in results]}; errors {[r[2] for r in results]}"
            )
            if any(r[1] != args.seats or r[2] for r in results):
                sys.exit("oversold or failed: see above")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
