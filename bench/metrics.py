"""The twelve built-in metrics for one agreement, computed through evaluations.metrics.compute_many.

    uv run python bench/metrics.py                       # the embedded default (SQLite)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/partnerships_bench_m uv run python bench/metrics.py

It builds a throw-away test database (test_<name>, dropped at the end) and, for each size in
--sessions, an agreement with that many delivered sessions over a year (with a confirmed
booking each, a survey with invitations and answers for every fifth, and an internship
placement with hours and check-ins for every twentieth), plus a second agreement of the same
size whose rows must be filtered out. It then times compute_many for all twelve metrics over
the year, and prints the median of --runs runs and the number of queries (which must not
depend on the size). Performance is never asserted in tests.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from accounts.enums import Role  # noqa: E402
from accounts.models import User  # noqa: E402
from evaluations import defaults, metrics  # noqa: E402
from evaluations.enums import MetricKind  # noqa: E402
from evaluations.models import Answer, Metric, Question, Response, Survey, SurveyInvitation, SurveyTemplate  # noqa: E402
from internships.enums import ApplicationStatus, CheckInStatus, HoursStatus, PlacementStatus  # noqa: E402
from internships.models import Application, CheckIn, HoursEntry, Placement, Posting  # noqa: E402
from programs.enums import BookingStatus, LocationKind, SessionStatus  # noqa: E402
from programs.models import Booking, Session  # noqa: E402
from tests.factories import AgencyFactory, SchoolFactory, member  # noqa: E402
from tests.programs.factories import ProgramFactory, active_agreement  # noqa: E402

YEAR = {"period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31)}
BATCH = 2000


def build(n: int, tag: str):
    """An agreement with ``n`` delivered sessions in 2025 and the rows that hang off them."""
    agency = AgencyFactory()
    schools = [SchoolFactory() for _ in range(10)]
    agreement = active_agreement(agency, *schools)
    programs = [ProgramFactory(agreement=agreement) for _ in range(4)]
    staff = member(schools[0], Role.STAFF)
    first = datetime(2025, 1, 1, 15, tzinfo=UTC)
    sessions = Session.objects.bulk_create(
        (
            Session(
                program=programs[i % 4],
                starts_at=first + timedelta(hours=i * 8760 // n),
                ends_at=first + timedelta(hours=i * 8760 // n + 1),
                location_kind=LocationKind.VENUE,
                venue="Hall",
                capacity_seats=30,
                confirmed_seats=25,
                status=SessionStatus.CANCELLED if i % 10 == 9 else SessionStatus.DELIVERED,
            )
            for i in range(n)
        ),
        batch_size=BATCH,
    )
    Booking.objects.bulk_create(
        (
            Booking(
                session=s,
                institution=schools[i % 10],
                booked_by=staff,
                group_name="Class",
                seats=25,
                status=BookingStatus.CONFIRMED,
                attended_count=22,
            )
            for i, s in enumerate(sessions)
        ),
        batch_size=BATCH,
    )
    template = SurveyTemplate.objects.get(code="workshop-staff")
    satisfaction = Question.objects.get(template=template, measures_satisfaction=True)
    surveys = Survey.objects.bulk_create(
        (
            Survey(
                template=template,
                agreement=agreement,
                program=s.program,
                session=s,
                title="Feedback",
                opened_at=s.ends_at,
                closes_at=s.ends_at + timedelta(days=14),
            )
            for s in sessions[::5]
        ),
        batch_size=BATCH,
    )
    SurveyInvitation.objects.bulk_create(
        (
            SurveyInvitation(
                survey=v,
                token_hash=secrets.token_hex(32),
                audience="staff",
                used_on=v.opened_at.date() if k < 3 else None,
            )
            for v in surveys
            for k in range(5)
        ),
        batch_size=BATCH,
    )
    responses = Response.objects.bulk_create(
        (Response(survey=v, audience="staff", submitted_on=v.opened_at.date()) for v in surveys for _ in range(3)),
        batch_size=BATCH,
    )
    Answer.objects.bulk_create(
        (Answer(response=r, question=satisfaction, number=1 + k % 5) for k, r in enumerate(responses)),
        batch_size=BATCH,
    )
    interns = max(1, n // 20)
    posting = Posting.objects.create(
        agreement=agreement,
        agency=agency,
        title="Intern",
        description="Outreach",
        start_date=date(2025, 1, 1),
        end_date=date(2025, 12, 31),
        hours_per_week=10,
        required_hours=100,
        slots=interns,
        apply_by=date(2025, 1, 1),
        status="open",
    )
    students = User.objects.bulk_create(
        (User(email=f"bench-{tag}-{k}@example.test", full_name=f"Student {k}") for k in range(interns)),
        batch_size=BATCH,
    )
    applications = Application.objects.bulk_create(
        (
            Application(
                posting=posting,
                agency_id=posting.agency_id,
                student=st,
                institution=schools[0],
                statement="-",
                availability="-",
                status=ApplicationStatus.ACCEPTED,
                submitted_at=first + timedelta(days=k % 300),
            )
            for k, st in enumerate(students)
        ),
        batch_size=BATCH,
    )
    statuses = (PlacementStatus.ACTIVE, PlacementStatus.COMPLETED, PlacementStatus.ENDED_EARLY, PlacementStatus.PENDING)
    placements = Placement.objects.bulk_create(
        (
            Placement(
                application=a,
                posting=posting,
                student=a.student,
                start_date=date(2025, 1, 1) + timedelta(days=k % 200),
                end_date=date(2025, 1, 1) + timedelta(days=k % 200 + 90),
                required_hours=100,
                status=statuses[k % 4],
                needs_consent=False,
            )
            for k, a in enumerate(applications)
        ),
        batch_size=BATCH,
    )
    HoursEntry.objects.bulk_create(
        (
            HoursEntry(
                placement=p,
                day=p.start_date + timedelta(days=d),
                hours=Decimal("3.5"),
                activity="-",
                status=HoursStatus.APPROVED if d % 4 else HoursStatus.SUBMITTED,
            )
            for p in placements
            for d in range(8)
        ),
        batch_size=BATCH,
    )
    CheckIn.objects.bulk_create(
        (
            CheckIn(
                placement=p,
                due_on=p.start_date + timedelta(days=14 * (d + 1)),
                status=CheckInStatus.HELD if d % 3 else CheckInStatus.MISSED,
            )
            for p in placements
            for d in range(4)
        ),
        batch_size=BATCH,
    )
    return agreement


def measure(agreement, runs: int) -> tuple[list[float], int, dict]:
    computed = list(Metric.objects.filter(kind=MetricKind.COMPUTED))
    agreement.lead_agency  # noqa: B018 -- loaded once, as a page would have it
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            values = metrics.compute_many(computed, agreement=agreement, **YEAR)
            timings.append((time.perf_counter() - started) * 1000)
    return timings, len(captured), {m.computation: values[m.pk] for m in computed}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        defaults.install()
        print(f"database: {connection.vendor}")
        for n in args.sessions:
            started = time.perf_counter()
            agreement = build(n, tag=f"a{n}")
            build(n, tag=f"b{n}")  # a neighbour of the same size, filtered out
            built = time.perf_counter() - started
            timings, queries, values = measure(agreement, args.runs)
            print(
                f"{n:>6} sessions (x2 agreements, built in {built:.1f}s): all 12 metrics in "
                f"median {statistics.median(timings):.1f} ms (runs: {', '.join(f'{t:.0f}' for t in timings)}), "
                f"{queries} queries"
            )
            print("        " + ", ".join(f"{code}={value}" for code, value in values.items()))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
