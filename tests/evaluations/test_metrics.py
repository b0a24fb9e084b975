"""Each built-in metric against numbers worked out by hand, including the rows that must not
count; the manual metrics; and query counts that do not grow with the data."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations import metrics
from evaluations.enums import Computation, MeasurementStatus, MetricKind, Unit
from evaluations.models import Measurement, Metric, Target
from internships.enums import ApplicationStatus, CheckInStatus, HoursStatus, PlacementStatus
from programs.enums import BookingStatus, SessionStatus
from programs.models import Booking
from tests.evaluations import metric_factories as mf
from tests.factories import AgencyFactory, SchoolFactory
from tests.programs.factories import active_agreement

C = Computation
Q1 = {"period_start": date(2025, 1, 1), "period_end": date(2025, 3, 31)}
CONFIRMED, WAITLISTED, CANCELLED = BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.CANCELLED


def value(code, agreement, program=None, period=Q1):
    return metrics.compute(mf.builtin(code), agreement=agreement, program=program, **period)


@pytest.fixture
def sessions(world):
    """Agreement A (the agency with schools A and B) in the first quarter of 2025, in the
    agency's zone (Los Angeles). School C appears only in rows that must not count."""
    a, b, c = world.school_a, world.school_b, SchoolFactory(name="Washington Middle School")
    by = world.staff_a
    agreement = mf.agreement_for(world)
    p1, p2 = mf.program_of(agreement), mf.program_of(agreement)
    other = active_agreement(AgencyFactory(), a, c)

    s1 = mf.session(p1, date(2025, 1, 10), capacity=20)
    mf.booking(s1, a, by, seats=10, attended=9)
    mf.booking(s1, b, by, seats=5, attended=4)
    mf.booking(s1, c, by, seats=3, status=WAITLISTED, attended=3)
    s2 = mf.session(p2, date(2025, 2, 15), capacity=30)
    mf.booking(s2, a, by, seats=12, attended=10)
    mf.booking(s2, c, by, seats=4, status=CANCELLED, attended=4)
    s8 = mf.session(p1, date(2025, 1, 20), capacity=10)
    mf.booking(s8, a, by, seats=4)  # attendance not recorded yet
    # Late on the last day in Los Angeles: already April 1st in UTC and in New York.
    s7 = mf.session(p1, date(2025, 3, 31), capacity=10, hour=22)
    mf.booking(s7, a, by, seats=2, attended=2)

    # None of these count.
    s3 = mf.session(p1, date(2025, 2, 20), status=SessionStatus.CANCELLED, capacity=25)
    mf.booking(s3, c, by, seats=8, attended=8)
    s4 = mf.session(p1, date(2025, 3, 5), status=SessionStatus.SCHEDULED, capacity=20)
    mf.booking(s4, c, by, seats=6)
    s5 = mf.session(p1, date(2025, 4, 1), capacity=10)
    mf.booking(s5, c, by, seats=5, attended=5)
    # Late on New Year's Eve in Los Angeles: already 2025 in UTC and in New York.
    s6 = mf.session(p1, date(2024, 12, 31), capacity=10, hour=23, minute=30)
    mf.booking(s6, c, by, seats=10, attended=10)
    sx = mf.session(mf.program_of(other), date(2025, 2, 1), capacity=50)
    mf.booking(sx, c, by, seats=40, attended=40)
    return {
        "agreement": agreement,
        "other": other,
        "p1": p1,
        "p2": p2,
        "s1": s1,
        "s2": s2,
        "s5": s5,
        "s6": s6,
        "sx": sx,
    }


def test_sessions_delivered_counts_delivered_sessions_starting_in_the_agency_period(sessions):
    assert value(C.SESSIONS_DELIVERED, sessions["agreement"]) == 4  # s1, s2, s7, s8
    assert value(C.SESSIONS_DELIVERED, sessions["agreement"], sessions["p1"]) == 3
    assert value(C.SESSIONS_DELIVERED, sessions["agreement"], sessions["p2"]) == 1
    assert value(C.SESSIONS_DELIVERED, sessions["other"]) == 1


def test_students_reached_sums_attendance_of_confirmed_bookings_only(sessions):
    # 9 + 4 (s1) + 10 (s2) + 0 (s8, not recorded) + 2 (s7); not the waitlisted 3, the
    # cancelled 4, the cancelled session's 8, nor s5's 5, s6's 10 or the other agreement's 40.
    assert value(C.STUDENTS_REACHED, sessions["agreement"]) == 25
    assert value(C.STUDENTS_REACHED, sessions["agreement"], sessions["p1"]) == 15
    assert value(C.STUDENTS_REACHED, sessions["agreement"], sessions["p2"]) == 10


def test_students_reached_reads_the_period_in_the_agency_time_zone(sessions):
    # In UTC the quarter would take s6 (10 students) instead of s7 (2).
    assert value(C.STUDENTS_REACHED, sessions["agreement"], period={**Q1, "period_end": date(2025, 3, 30)}) == 23
    new_years_eve = {"period_start": date(2024, 12, 31), "period_end": date(2024, 12, 31)}
    assert value(C.STUDENTS_REACHED, sessions["agreement"], period=new_years_eve) == 10


def test_fill_rate_is_confirmed_seats_over_capacity_of_delivered_sessions(sessions):
    # (10 + 5 + 12 + 4 + 2) / (20 + 30 + 10 + 10) = 33 / 70
    assert value(C.FILL_RATE, sessions["agreement"]) == Decimal("47.14")
    assert value(C.FILL_RATE, sessions["agreement"], sessions["p1"]) == Decimal("52.50")  # 21 / 40
    assert value(C.FILL_RATE, sessions["agreement"], sessions["p2"]) == Decimal("40.00")  # 12 / 30


def test_fill_rate_without_delivered_sessions_is_none(sessions):
    empty = {"period_start": date(2023, 1, 1), "period_end": date(2023, 12, 31)}
    assert value(C.FILL_RATE, sessions["agreement"], period=empty) is None
    assert value(C.SESSIONS_DELIVERED, sessions["agreement"], period=empty) == 0


def test_schools_served_counts_distinct_schools_with_a_confirmed_booking_at_a_delivered_session(sessions):
    # A (three sessions, once) and B; C has only waitlisted, cancelled, undelivered,
    # out-of-period and other-agreement bookings.
    assert value(C.SCHOOLS_SERVED, sessions["agreement"]) == 2
    assert value(C.SCHOOLS_SERVED, sessions["agreement"], sessions["p2"]) == 1
    assert value(C.SCHOOLS_SERVED, sessions["other"]) == 1


@pytest.fixture
def surveys(sessions):
    s = sessions
    staff_1 = mf.session_survey(s["s1"])
    students_1 = mf.session_survey(s["s1"], template_code="workshop-students")
    staff_2 = mf.session_survey(s["s2"])
    staff_5 = mf.session_survey(s["s5"])  # opened April 1st
    staff_6 = mf.session_survey(s["s6"])  # session in 2024, survey opened in 2025
    staff_x = mf.session_survey(s["sx"])
    staff, student = mf.satisfaction_position(), mf.satisfaction_position("workshop-students")
    mf.respond(staff_1, **{f"p{staff}": 5, "p2": 1})  # question 2 does not measure satisfaction
    mf.respond(staff_1, **{f"p{staff}": 4})
    mf.respond(students_1, **{f"p{student}": 4})
    mf.respond(staff_2, **{f"p{staff}": 2})
    for outside in (staff_5, staff_6, staff_x):
        mf.respond(outside, **{f"p{staff}": 1})
    mf.invitations(staff_1, used=2, unused=3, withdrawn=4)
    mf.invitations(students_1, used=1)
    mf.invitations(staff_2, used=1, unused=1)
    mf.invitations(staff_6, unused=2)
    mf.invitations(staff_5, used=5)
    mf.invitations(staff_x, used=3)
    return s


def test_session_satisfaction_is_the_mean_of_satisfaction_answers_of_sessions_in_the_period(surveys):
    assert value(C.SESSION_SATISFACTION, surveys["agreement"]) == Decimal("3.75")  # (5 + 4 + 4 + 2) / 4
    assert value(C.SESSION_SATISFACTION, surveys["agreement"], surveys["p1"]) == Decimal("4.33")  # 13 / 3
    assert value(C.SESSION_SATISFACTION, surveys["other"]) == Decimal("1.00")


def test_session_satisfaction_without_answers_is_none(sessions):
    assert value(C.SESSION_SATISFACTION, sessions["agreement"]) is None


def test_survey_response_rate_is_used_over_sent_invitations_of_surveys_opened_in_the_period(surveys):
    # used 2 + 1 + 1 + 0 of 5 + 1 + 2 + 2 (withdrawn invitations and s5's April survey left out)
    assert value(C.SURVEY_RESPONSE_RATE, surveys["agreement"]) == Decimal("40.00")
    assert value(C.SURVEY_RESPONSE_RATE, surveys["agreement"], surveys["p1"]) == Decimal("37.50")  # 3 / 8
    assert value(C.SURVEY_RESPONSE_RATE, surveys["agreement"], surveys["p2"]) == Decimal("50.00")


@pytest.fixture
def internships(world):
    agreement = mf.agreement_for(world)
    other = active_agreement(AgencyFactory(), world.school_a)
    posting = mf.posting(world, agreement)
    elsewhere = mf.posting(world, other)
    a = world.school_a
    for day, hour in ((date(2025, 1, 5), 9), (date(2025, 3, 31), 23)):
        mf.application(posting, a, submitted_at=mf.at(agreement, day, hour))
    mf.application(posting, a, submitted_at=mf.at(agreement, date(2025, 2, 1)), status=ApplicationStatus.WITHDRAWN)
    mf.application(posting, a, submitted_at=mf.at(agreement, date(2025, 2, 10)), status=ApplicationStatus.REJECTED)
    # Not received in the quarter: a draft, New Year's Eve in LA (2025 in UTC), another agreement.
    mf.application(posting, a, status=ApplicationStatus.DRAFT)
    mf.application(posting, a, submitted_at=mf.at(agreement, date(2024, 12, 31), 23, 30))
    mf.application(elsewhere, a, submitted_at=mf.at(other, date(2025, 2, 10)))

    def place(start, end, status, ended_on=None, on=posting):
        return mf.placement(on, a, start=start, end=end, status=status, ended_on=ended_on)

    P = PlacementStatus
    p1 = place(date(2025, 1, 15), date(2025, 4, 15), P.ACTIVE)
    p2 = place(date(2025, 2, 1), date(2025, 3, 15), P.COMPLETED, ended_on=date(2025, 3, 14))
    place(date(2024, 10, 1), date(2025, 1, 31), P.COMPLETED)  # completes on its end date
    place(date(2025, 1, 10), date(2025, 5, 1), P.ENDED_EARLY, ended_on=date(2025, 2, 20))
    place(date(2025, 3, 20), date(2025, 6, 1), P.SUSPENDED)
    # Not started, or not finished, in the quarter:
    place(date(2025, 3, 1), date(2025, 6, 1), P.PENDING)
    p6 = place(date(2024, 9, 1), date(2025, 6, 1), P.COMPLETED, ended_on=date(2025, 4, 2))
    place(date(2024, 11, 1), date(2025, 2, 28), P.ENDED_EARLY, ended_on=date(2024, 12, 15))
    px = place(date(2025, 2, 1), date(2025, 4, 1), P.COMPLETED, ended_on=date(2025, 3, 1), on=elsewhere)

    mf.hours(p1, date(2025, 1, 20), "4.50")
    mf.hours(p1, date(2025, 2, 3), "3.25")
    mf.hours(p6, date(2025, 3, 31), "1.00")
    mf.hours(p1, date(2025, 2, 4), "5.00", status=HoursStatus.SUBMITTED)
    mf.hours(p1, date(2025, 2, 5), "2.00", status=HoursStatus.RETURNED)
    mf.hours(p6, date(2024, 12, 31), "8.00")
    mf.hours(px, date(2025, 2, 10), "6.00")

    H, M, S, X = CheckInStatus.HELD, CheckInStatus.MISSED, CheckInStatus.SCHEDULED, CheckInStatus.CANCELLED
    for due, status in ((date(2025, 1, 29), H), (date(2025, 2, 12), M), (date(2025, 2, 26), H)):
        mf.check_in(p1, due, status=status)
    mf.check_in(p1, date(2025, 3, 12), status=S)  # overdue, not held
    mf.check_in(p1, date(2025, 3, 26), status=X)  # cancelled: never owed
    mf.check_in(p2, date(2025, 2, 15), status=H)
    mf.check_in(px, date(2025, 2, 15), status=M)
    mf.check_in(p6, date(2024, 12, 30), status=M)
    return {"agreement": agreement, "other": other, "p1": p1, "program": mf.program_of(agreement)}


def test_applications_received_counts_submissions_in_the_agency_period(internships):
    assert value(C.APPLICATIONS_RECEIVED, internships["agreement"]) == 4
    assert value(C.APPLICATIONS_RECEIVED, internships["other"]) == 1


def test_placements_started_counts_those_that_became_active_by_start_date(internships):
    assert value(C.PLACEMENTS_STARTED, internships["agreement"]) == 4  # active, completed, ended early, suspended


def test_placements_completed_counts_completions_by_end_date(internships):
    assert value(C.PLACEMENTS_COMPLETED, internships["agreement"]) == 2  # ended_on 14 March; end_date 31 Jan


def test_completion_rate_is_completed_over_finished(internships):
    assert value(C.COMPLETION_RATE, internships["agreement"]) == Decimal("66.67")  # 2 / (2 + 1)
    assert value(C.COMPLETION_RATE, internships["other"]) == Decimal("100.00")


def test_mentored_hours_sums_approved_hours_by_day_worked(internships):
    assert value(C.MENTORED_HOURS, internships["agreement"]) == Decimal("8.75")  # 4.50 + 3.25 + 1.00


def test_check_ins_on_schedule_is_held_over_due(internships):
    assert value(C.CHECK_INS_ON_SCHEDULE, internships["agreement"]) == Decimal("60.00")  # 3 of 5
    assert value(C.CHECK_INS_ON_SCHEDULE, internships["other"]) == Decimal("0.00")


def test_check_ins_not_yet_due_do_not_count(internships):
    agreement = internships["agreement"]
    with time_machine.travel(mf.at(agreement, date(2025, 2, 20), 12), tick=False):
        # Due so far: 29 Jan (held), 12 Feb (missed), 15 Feb (held).
        assert value(C.CHECK_INS_ON_SCHEDULE, agreement) == Decimal("66.67")
    with time_machine.travel(mf.at(agreement, date(2024, 12, 1), 12), tick=False):
        assert value(C.CHECK_INS_ON_SCHEDULE, agreement) is None


def test_internship_metrics_ignore_the_program(internships):
    agreement, program = internships["agreement"], internships["program"]
    for code in (C.APPLICATIONS_RECEIVED, C.PLACEMENTS_STARTED, C.MENTORED_HOURS, C.CHECK_INS_ON_SCHEDULE):
        assert value(code, agreement, program) == value(code, agreement)


def test_each_computed_metric_is_one_query(sessions, django_assert_num_queries):
    agreement = sessions["agreement"]
    for metric in Metric.objects.filter(kind=MetricKind.COMPUTED):
        with django_assert_num_queries(1):
            metrics.compute(metric, agreement=agreement, **Q1)


def test_compute_many_shares_queries_between_metrics_of_one_source(sessions, django_assert_num_queries):
    computed = list(Metric.objects.filter(kind=MetricKind.COMPUTED))
    assert len(computed) == 12
    # sessions, bookings, answers, invitations, applications, placements, hours, check-ins
    with django_assert_num_queries(8):
        values = metrics.compute_many(computed, agreement=sessions["agreement"], **Q1)
    assert values[mf.builtin(C.SESSIONS_DELIVERED).pk] == 4
    assert values[mf.builtin(C.FILL_RATE).pk] == Decimal("47.14")


def _queries_for_all_metrics(agreement) -> tuple[int, dict]:
    computed = list(Metric.objects.filter(kind=MetricKind.COMPUTED))
    with CaptureQueriesContext(connection) as captured:
        values = metrics.compute_many(
            computed, agreement=agreement, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)
        )
    return len(captured), {m.computation: values[m.pk] for m in computed}


def _bulk(world, n):
    agreement = mf.agreement_for(world)
    made = mf.sessions_bulk(mf.program_of(agreement), date(2025, 1, 1), n)
    Booking.objects.bulk_create(
        Booking(
            session=s, institution=world.school_a, booked_by=world.staff_a, seats=10, attended_count=9, status=CONFIRMED
        )
        for s in made
    )
    return agreement


def test_metric_queries_do_not_grow_with_the_number_of_sessions(world):
    small, small_values = _queries_for_all_metrics(_bulk(world, 10))
    large, large_values = _queries_for_all_metrics(_bulk(world, 1000))
    assert small == large
    assert (small_values[C.SESSIONS_DELIVERED], large_values[C.SESSIONS_DELIVERED]) == (10, 1000)
    assert large_values[C.STUDENTS_REACHED] == 9000


def test_activity_summary_reuses_the_metrics(internships, sessions):
    summary = metrics.activity_summary(sessions["agreement"], **Q1)
    assert summary == {
        "sessions_delivered": 4,
        "schools_served": 2,
        "students_reached": 25,
        "interns": 0,
        "hours_approved": 0,
    }
    summary = metrics.activity_summary(internships["agreement"], **Q1)
    assert (summary["interns"], summary["hours_approved"], summary["sessions_delivered"]) == (4, Decimal("8.75"), 0)


def test_the_report_reads_its_targets_and_its_activity_in_the_same_queries(sessions, django_assert_num_queries):
    """The report's targets and its activity summary need the sessions and bookings sources
    both: read together, each is one query, and the figures are the ones read apart."""
    agreement = sessions["agreement"]
    targets = [
        Target.objects.create(
            agreement=agreement,
            metric=mf.builtin(code),
            period_start=Q1["period_start"],
            period_end=Q1["period_end"],
            target_value=Decimal(10),
        )
        for code in (C.SESSIONS_DELIVERED, C.STUDENTS_REACHED)
    ]
    targets = list(
        Target.objects.filter(pk__in=[t.pk for t in targets]).select_related(
            "agreement__lead_agency", "metric", "program"
        )
    )
    today = date(2025, 6, 30)
    apart = metrics.progress_for(targets, today=today), metrics.activity_summary(agreement, **Q1)
    # sessions, bookings, placements, hours: the targets add no source of their own
    with django_assert_num_queries(4):
        together = metrics.progress_and_activity(targets, agreement=agreement, today=today, **Q1)
    assert [(p.target, p.actual, p.status) for p in together[0]] == [(p.target, p.actual, p.status) for p in apart[0]]
    assert [p.actual for p in together[0]] == [4, 25]
    assert together[1] == apart[1]


# Manual metrics.


@pytest.fixture
def manual(world):
    agreement = mf.agreement_for(world)
    count = Metric.objects.create(
        code="climate-reports", name="Climate reports", kind=MetricKind.MANUAL, unit=Unit.COUNT, agreement=agreement
    )
    rate = Metric.objects.create(
        code="feel-safe", name="Students who feel safe", kind=MetricKind.MANUAL, unit=Unit.PERCENT, agreement=agreement
    )
    program = mf.program_of(agreement)

    def measure(metric, start, end, amount, *, approved=True, program=None):
        Measurement.objects.create(
            metric=metric,
            agreement=agreement,
            program=program,
            period_start=start,
            period_end=end,
            value=Decimal(amount),
            source="Climate survey",
            entered_by=world.coordinator_a,
            status=MeasurementStatus.APPROVED if approved else MeasurementStatus.PENDING,
            approved_by=world.agency_coordinator if approved else None,
            approved_at=mf.at(agreement, end) if approved else None,
        )

    measure(count, date(2025, 1, 1), date(2025, 1, 31), "12")
    measure(count, date(2025, 2, 1), date(2025, 2, 28), "7.5")
    measure(count, date(2025, 3, 1), date(2025, 3, 31), "100", approved=False)  # pending
    measure(count, date(2025, 3, 15), date(2025, 4, 15), "50")  # straddles the quarter's end
    measure(count, date(2025, 3, 1), date(2025, 3, 31), "30", program=program)  # another program
    measure(rate, date(2025, 1, 1), date(2025, 1, 31), "70")
    measure(rate, date(2025, 3, 1), date(2025, 3, 31), "81.5")
    measure(rate, date(2025, 2, 1), date(2025, 2, 28), "90")
    measure(rate, date(2025, 3, 1), date(2025, 3, 31), "99", approved=False)
    return {"agreement": agreement, "count": count, "rate": rate, "program": program}


def test_manual_count_sums_approved_measurements_within_the_period(manual):
    agreement = manual["agreement"]
    assert metrics.compute(manual["count"], agreement=agreement, **Q1) == Decimal("19.50")
    assert metrics.compute(manual["count"], agreement=agreement, program=manual["program"], **Q1) == Decimal("30")


def test_manual_rate_is_the_latest_approved_measurement(manual):
    assert metrics.compute(manual["rate"], agreement=manual["agreement"], **Q1) == Decimal("81.50")
    january = {"period_start": date(2025, 1, 1), "period_end": date(2025, 1, 31)}
    assert metrics.compute(manual["rate"], agreement=manual["agreement"], **january) == Decimal("70.00")


def test_manual_metric_without_measurements_is_none(manual):
    later = {"period_start": date(2026, 1, 1), "period_end": date(2026, 3, 31)}
    assert metrics.compute(manual["count"], agreement=manual["agreement"], **later) is None
    assert metrics.compute(manual["rate"], agreement=manual["agreement"], **later) is None


def test_manual_metrics_cost_two_queries_however_many(manual, django_assert_num_queries):
    extra = [
        Metric.objects.create(
            code=f"m{i}", name=f"M {i}", kind=MetricKind.MANUAL, unit=unit, agreement=manual["agreement"]
        )
        for i, unit in enumerate([Unit.COUNT, Unit.SCORE] * 3)
    ]
    with django_assert_num_queries(2):
        values = metrics.compute_many([manual["count"], manual["rate"], *extra], agreement=manual["agreement"], **Q1)
    assert values[manual["count"].pk] == Decimal("19.50")
    assert values[manual["rate"].pk] == Decimal("81.50")
    assert all(values[m.pk] is None for m in extra)


def test_a_day_more_or_less_moves_sessions_across_the_period_edge(sessions):
    march_31 = {"period_start": date(2025, 3, 31), "period_end": date(2025, 3, 31)}
    assert value(C.SESSIONS_DELIVERED, sessions["agreement"], period=march_31) == 1
    april_1 = {"period_start": date(2025, 4, 1), "period_end": date(2025, 4, 1)}
    assert value(C.SESSIONS_DELIVERED, sessions["agreement"], period=april_1) == 1
