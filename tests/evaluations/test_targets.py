"""Targets and their status rules, monthly snapshots, manual metrics and their measurements
(four eyes, then locked), and who may write any of it."""

from datetime import date
from decimal import Decimal

import pytest

from accounts.errors import ConflictError, DomainError
from accounts.models import AuditEntry
from evaluations import metrics, services
from evaluations.enums import Computation, Direction, MeasurementStatus, MetricKind, TargetStatus, Unit
from evaluations.models import Measurement, Metric, Snapshot, Target
from tests.evaluations import metric_factories as mf
from tests.factories import AgencyFactory
from tests.programs.factories import active_agreement

C = Computation
AT_LEAST, AT_MOST = Direction.AT_LEAST, Direction.AT_MOST
ON_TRACK, AT_RISK, MISSED, NO_DATA = (
    TargetStatus.ON_TRACK,
    TargetStatus.AT_RISK,
    TargetStatus.MISSED,
    TargetStatus.NO_DATA,
)
# 100 days, so the elapsed share is easy to read: on 19 February half of it has gone by.
PERIOD = {"period_start": date(2025, 1, 1), "period_end": date(2025, 4, 10)}
HALFWAY, LAST_DAY, AFTER = date(2025, 2, 19), date(2025, 4, 10), date(2025, 4, 11)


@pytest.fixture
def agreement(world):
    """The agency and school A only: school B's people are outsiders."""
    return active_agreement(world.agency, world.school_a)


def manual_metric(agreement, unit, code=None) -> Metric:
    return Metric.objects.create(
        code=code or f"manual-{unit}", name=f"Manual {unit}", kind=MetricKind.MANUAL, unit=unit, agreement=agreement
    )


def approved(world, metric, agreement, amount, *, start=date(2025, 1, 1), end=date(2025, 1, 31)) -> Measurement:
    measurement = services.record_measurement(
        metric=metric,
        agreement=agreement,
        by=world.coordinator_a,
        period_start=start,
        period_end=end,
        value=amount,
        source="Spring climate survey",
    )
    return services.approve_measurement(measurement=measurement, by=world.agency_coordinator)


def target(world, agreement, metric, value, direction=AT_LEAST, **fields) -> Target:
    return services.set_target(
        agreement=agreement,
        by=world.coordinator_a,
        metric=metric,
        target_value=value,
        direction=direction,
        **{**PERIOD, **fields},
    )


# Status rules.

STATUS_TABLE = [
    # unit, direction, target, actual, today, status
    ("count", AT_LEAST, "100", "100", HALFWAY, ON_TRACK),
    ("count", AT_LEAST, "100", "45", HALFWAY, ON_TRACK),  # 90 % of the 50 expected by now
    ("count", AT_LEAST, "100", "44.99", HALFWAY, AT_RISK),
    ("count", AT_LEAST, "100", "91", LAST_DAY, ON_TRACK),
    ("count", AT_LEAST, "100", "99", AFTER, MISSED),
    ("hours", AT_LEAST, "100", "30", HALFWAY, AT_RISK),
    ("percent", AT_LEAST, "80", "80", HALFWAY, ON_TRACK),
    ("percent", AT_LEAST, "80", "79", date(2025, 2, 1), AT_RISK),  # a rate is not pro-rated
    ("percent", AT_LEAST, "80", "79", AFTER, MISSED),
    ("score", AT_LEAST, "4", "3.9", HALFWAY, AT_RISK),
    ("count", AT_MOST, "10", "10", HALFWAY, ON_TRACK),
    ("count", AT_MOST, "10", "11", date(2025, 1, 31), MISSED),  # a count cannot come back down
    ("percent", AT_MOST, "20", "25", HALFWAY, AT_RISK),
    ("percent", AT_MOST, "20", "25", AFTER, MISSED),
    ("percent", AT_MOST, "20", "15", AFTER, ON_TRACK),
]


def test_target_status_rules(world, agreement):
    """The table above, one row at a time (one database set-up for all of them, for speed)."""
    for row, (unit, direction, goal, actual, today, status) in enumerate(STATUS_TABLE):
        metric = manual_metric(agreement, unit, code=f"row-{row}")
        approved(world, metric, agreement, actual)
        result = metrics.progress(target(world, agreement, metric, goal, direction), today=today)
        assert (result.actual, result.status) == (Decimal(actual), status), STATUS_TABLE[row]


def test_cumulative_progress_carries_the_pro_rated_expectation_and_percent(world, agreement):
    metric = manual_metric(agreement, Unit.COUNT)
    approved(world, metric, agreement, "45")
    result = metrics.progress(target(world, agreement, metric, "100"), today=HALFWAY)
    assert (result.expected, result.percent) == (Decimal("50.00"), Decimal("45.00"))


def test_rate_progress_has_no_expectation(world, agreement):
    metric = manual_metric(agreement, Unit.PERCENT)
    approved(world, metric, agreement, "40")
    result = metrics.progress(target(world, agreement, metric, "80"), today=HALFWAY)
    assert (result.expected, result.percent, result.status) == (None, Decimal("50.00"), AT_RISK)


def test_no_data_without_a_value(world, agreement):
    rate = metrics.progress(target(world, agreement, mf.builtin(C.FILL_RATE), "80"), today=HALFWAY)
    assert (rate.actual, rate.status, rate.percent) == (None, NO_DATA, None)


def test_no_data_before_the_period_begins(world, agreement):
    # Not "on track with nothing expected yet": a period not begun has no figures at all.
    result = metrics.progress(target(world, agreement, mf.builtin(C.SESSIONS_DELIVERED), "1"), today=date(2024, 12, 31))
    assert (result.actual, result.status) == (None, NO_DATA)


def test_progress_counts_data_up_to_today_only(world, agreement):
    program = mf.program_of(agreement)
    mf.session(program, date(2025, 1, 10))
    mf.session(program, date(2025, 3, 10))
    goal = target(world, agreement, mf.builtin(C.SESSIONS_DELIVERED), "4")
    assert metrics.progress(goal, today=date(2025, 2, 1)).actual == 1
    assert metrics.progress(goal, today=LAST_DAY).actual == 2


def test_progress_of_a_program_target_counts_that_program_only(world, agreement):
    one, two = mf.program_of(agreement), mf.program_of(agreement)
    mf.session(one, date(2025, 1, 10))
    mf.session(two, date(2025, 1, 11))
    mf.session(two, date(2025, 1, 12))
    goal = target(world, agreement, mf.builtin(C.SESSIONS_DELIVERED), "4", program=two)
    assert metrics.progress(goal, today=LAST_DAY).actual == 2


def _all_builtin_targets(world, agreement):
    for metric in Metric.objects.filter(kind=MetricKind.COMPUTED):
        target(world, agreement, metric, "50")


def test_progress_for_costs_one_query_per_source_however_many_agreements(world, agreement, django_assert_num_queries):
    _all_builtin_targets(world, agreement)
    other = active_agreement(AgencyFactory(), world.school_a)
    _all_builtin_targets(world, other)
    program = mf.program_of(other)
    mf.session(program, date(2025, 1, 10))
    # One query for the targets, then one per source (eight) for both agreements together.
    with django_assert_num_queries(1 + 8):
        results = metrics.progress_for(Target.objects.all(), today=HALFWAY)
    assert len(results) == 24
    assert {r.status for r in results} <= set(TargetStatus.values)
    # Batched, each target still gets its own agreement's figures.
    one_by_one = {t.pk: metrics.progress(t, today=HALFWAY).actual for t in Target.objects.all()}
    assert {r.target.pk: r.actual for r in results} == one_by_one
    assert len({r.actual for r in results if r.target.agreement_id == other.pk}) > 1


# Snapshots.


def test_take_snapshots_writes_one_row_per_target_and_month_and_is_idempotent(world, agreement):
    program = mf.program_of(agreement)
    mf.session(program, date(2025, 1, 10))
    sessions = mf.builtin(C.SESSIONS_DELIVERED)
    current = target(world, agreement, sessions, "10", period_start=date(2025, 1, 1), period_end=date(2025, 6, 30))
    ended_lately = target(world, agreement, sessions, "1", period_start=date(2024, 12, 1), period_end=date(2025, 2, 20))
    target(world, agreement, sessions, "1", period_start=date(2024, 10, 1), period_end=date(2025, 1, 31))  # long over
    target(world, agreement, sessions, "1", period_start=date(2025, 5, 1), period_end=date(2025, 5, 31))  # not begun

    assert services.take_snapshots(today=date(2025, 3, 15)) == 2
    assert services.take_snapshots(today=date(2025, 3, 15)) == 2
    assert set(Snapshot.objects.values_list("target_id", "month", "actual")) == {
        (current.pk, date(2025, 3, 1), Decimal("1.00")),
        (ended_lately.pk, date(2025, 3, 1), Decimal("1.00")),
    }

    mf.session(program, date(2025, 3, 16))  # a later run in the same month rewrites the month's row
    assert services.take_snapshots(today=date(2025, 3, 20)) == 2  # 20 February: a month ago
    assert Snapshot.objects.get(target=current).actual == 2

    assert services.take_snapshots(today=date(2025, 4, 2)) == 1  # ended_lately is now over a month ago
    assert Snapshot.objects.count() == 3
    assert metrics.trend(current) == [
        (date(2025, 3, 1), Decimal("2.00"), TargetStatus.AT_RISK),
        (date(2025, 4, 1), Decimal("2.00"), TargetStatus.AT_RISK),
    ]


def test_take_snapshots_queries_stay_bounded(world, agreement, django_assert_max_num_queries):
    _all_builtin_targets(world, agreement)
    # The targets, one query per source, the insert (and its savepoint on some databases).
    with django_assert_max_num_queries(1 + 8 + 3):
        assert services.take_snapshots(today=HALFWAY) == 12


def test_trend_is_empty_without_snapshots(world, agreement):
    assert metrics.trend(target(world, agreement, mf.builtin(C.FILL_RATE), "80")) == []


# Setting targets.


def test_duplicate_target_is_a_conflict(world, agreement):
    metric = mf.builtin(C.SESSIONS_DELIVERED)
    target(world, agreement, metric, "10")
    with pytest.raises(ConflictError) as refused:
        target(world, agreement, metric, "12")
    assert (refused.value.field, refused.value.code) == ("metric", "duplicate")


def test_duplicate_program_target_is_a_conflict_but_another_program_is_not(world, agreement):
    metric = mf.builtin(C.SESSIONS_DELIVERED)
    one, two = mf.program_of(agreement), mf.program_of(agreement)
    target(world, agreement, metric, "10")
    target(world, agreement, metric, "10", program=one)
    target(world, agreement, metric, "10", program=two)
    with pytest.raises(ConflictError):
        target(world, agreement, metric, "5", program=one)
    assert Target.objects.count() == 3


def test_update_target_into_a_duplicate_is_a_conflict(world, agreement):
    metric = mf.builtin(C.SESSIONS_DELIVERED)
    target(world, agreement, metric, "10")
    later = target(world, agreement, metric, "10", period_start=date(2025, 5, 1), period_end=date(2025, 5, 31))
    with pytest.raises(ConflictError):
        services.update_target(target=later, by=world.coordinator_a, **PERIOD)


def test_a_racing_duplicate_is_a_conflict_not_a_server_error(world, agreement, monkeypatch):
    metric = mf.builtin(C.SESSIONS_DELIVERED)
    target(world, agreement, metric, "10")
    monkeypatch.setattr(services, "_clean_target", lambda agreement, f, **kw: vars(f))  # the check lost the race
    with pytest.raises(ConflictError):
        target(world, agreement, metric, "11")


def test_update_target_changes_it_and_is_audited(world, agreement):
    goal = target(world, agreement, mf.builtin(C.FILL_RATE), "80")
    updated = services.update_target(target=goal, by=world.agency_coordinator, target_value="85", notes=" Raised ")
    goal.refresh_from_db()
    assert (goal.target_value, goal.notes, updated.direction) == (Decimal("85.00"), "Raised", AT_LEAST)
    assert AuditEntry.objects.filter(action="target.updated", target_id=str(goal.pk)).exists()


def test_delete_target_removes_it_with_its_snapshots(world, agreement):
    goal = target(world, agreement, mf.builtin(C.FILL_RATE), "80")
    services.take_snapshots(today=HALFWAY)
    services.delete_target(target=goal, by=world.coordinator_a)
    assert not Target.objects.exists()
    assert not Snapshot.objects.exists()
    assert AuditEntry.objects.filter(action="target.deleted").exists()


BAD_TARGETS = [
    ({"target_value": "-1"}, "target_value", "negative"),
    ({"target_value": "many"}, "target_value", "invalid"),
    ({"target_value": "101"}, "target_value", "over_100"),
    ({"baseline": "120"}, "baseline", "over_100"),
    ({"direction": "sideways"}, "direction", "invalid"),
    ({"period_start": date(2025, 5, 1), "period_end": date(2025, 4, 1)}, "period_end", "period_order"),
]


def test_set_target_refuses_bad_input(world, agreement):
    for change, field, code in BAD_TARGETS:
        fields = {"metric": mf.builtin(C.FILL_RATE), "target_value": "80", "direction": AT_LEAST, **PERIOD, **change}
        with pytest.raises(DomainError) as refused:
            services.set_target(agreement=agreement, by=world.coordinator_a, **fields)
        assert (refused.value.field, refused.value.code) == (field, code), change
    assert not Target.objects.exists()


def test_set_target_refuses_another_agreements_metric_and_program(world, agreement):
    other = active_agreement(world.agency, world.school_b)
    with pytest.raises(DomainError) as refused:
        target(world, agreement, manual_metric(other, Unit.COUNT), "1")
    assert refused.value.field == "metric"
    with pytest.raises(DomainError) as refused:
        target(world, agreement, mf.builtin(C.FILL_RATE), "1", program=mf.program_of(other))
    assert refused.value.field == "program"


# Manual metrics and measurements.


def test_define_metric_gives_each_a_unique_code(world, agreement):
    first = services.define_metric(agreement=agreement, by=world.coordinator_a, name="Climate reports", unit="count")
    second = services.define_metric(agreement=agreement, by=world.admin, name="Climate reports", unit="count")
    assert (first.code, second.code) == ("climate-reports", "climate-reports-2")
    assert (first.kind, first.agreement, first.created_by) == (MetricKind.MANUAL, agreement, world.coordinator_a)


def test_define_metric_refuses_bad_input(world, agreement):
    with pytest.raises(DomainError) as refused:
        services.define_metric(agreement=agreement, by=world.coordinator_a, name="  ", unit="count")
    assert refused.value.field == "name"
    with pytest.raises(DomainError) as refused:
        services.define_metric(agreement=agreement, by=world.coordinator_a, name="X", unit="furlongs")
    assert refused.value.field == "unit"


BAD_MEASUREMENTS = [
    ({"value": "-3"}, "value", "negative"),
    ({"value": "100.5"}, "value", "over_100"),
    ({"source": " "}, "source", "required"),
    ({"period_start": date(2025, 2, 1), "period_end": date(2025, 1, 1)}, "period_end", "period_order"),
    ({"metric": "builtin"}, "metric", "computed"),
    ({"metric": "elsewhere"}, "metric", "other_agreement"),
    ({"program": "elsewhere"}, "program", "other_agreement"),
]


def test_record_measurement_refuses_bad_input(world, agreement):
    other = active_agreement(world.agency, world.school_b)
    metric = manual_metric(agreement, Unit.PERCENT)
    substitutes = {
        ("metric", "builtin"): mf.builtin(C.FILL_RATE),
        ("metric", "elsewhere"): manual_metric(other, Unit.PERCENT, code="elsewhere"),
        ("program", "elsewhere"): mf.program_of(other),
    }
    for change, field, code in BAD_MEASUREMENTS:
        fields = {
            "metric": metric,
            "value": "50",
            "source": "Survey",
            "period_start": date(2025, 1, 1),
            "period_end": date(2025, 1, 31),
            **{k: substitutes.get((k, v), v) for k, v in change.items()},
        }
        with pytest.raises(DomainError) as refused:
            services.record_measurement(agreement=agreement, by=world.coordinator_a, **fields)
        assert (refused.value.field, refused.value.code) == (field, code), change
    assert not Measurement.objects.exists()


@pytest.fixture
def pending(world, agreement):
    return services.record_measurement(
        metric=manual_metric(agreement, Unit.COUNT),
        agreement=agreement,
        by=world.coordinator_a,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 1, 31),
        value="12",
        source="Climate survey",
    )


def test_measurement_waits_for_approval_and_does_not_count_before(world, agreement, pending):
    assert (pending.status, pending.entered_by) == (MeasurementStatus.PENDING, world.coordinator_a)
    assert metrics.compute(pending.metric, agreement=agreement, **PERIOD) is None


def test_measurement_is_not_approved_by_who_entered_it(world, pending):
    with pytest.raises(DomainError) as refused:
        services.approve_measurement(measurement=pending, by=world.coordinator_a)
    assert refused.value.code == "forbidden"
    pending.refresh_from_db()
    assert pending.status == MeasurementStatus.PENDING


def test_another_coordinator_approves_and_it_counts(world, agreement, pending):
    done = services.approve_measurement(measurement=pending, by=world.agency_coordinator)
    assert (done.status, done.approved_by) == (MeasurementStatus.APPROVED, world.agency_coordinator)
    assert metrics.compute(pending.metric, agreement=agreement, **PERIOD) == 12


def test_approving_twice_is_harmless(world, pending):
    first = services.approve_measurement(measurement=pending, by=world.agency_coordinator)
    again = services.approve_measurement(measurement=pending, by=world.admin)
    assert (again.approved_by, again.approved_at) == (world.agency_coordinator, first.approved_at)
    assert AuditEntry.objects.filter(action="measurement.approved").count() == 1


def test_approved_measurement_is_locked(world, pending):
    services.approve_measurement(measurement=pending, by=world.agency_coordinator)
    with pytest.raises(DomainError) as refused:
        services.correct_measurement(measurement=pending, by=world.coordinator_a, value="13")
    assert refused.value.code == "locked"
    assert "locked" in refused.value.message
    pending.refresh_from_db()
    assert pending.value == 12


def test_correcting_makes_the_corrector_the_author_who_may_not_approve(world, pending):
    fixed = services.correct_measurement(measurement=pending, by=world.agency_coordinator, value="14")
    assert (fixed.value, fixed.entered_by) == (Decimal("14.00"), world.agency_coordinator)
    with pytest.raises(DomainError):
        services.approve_measurement(measurement=pending, by=world.agency_coordinator)
    assert services.approve_measurement(measurement=pending, by=world.coordinator_a).status == "approved"


def test_correction_is_checked_like_an_entry(world, pending):
    with pytest.raises(DomainError) as refused:
        services.correct_measurement(measurement=pending, by=world.coordinator_a, value="-1")
    assert refused.value.field == "value"


# Who may write.

REFUSED = ["staff", "outsider", "outsider_coordinator", "student", "officer", "loner"]
ALLOWED = ["coordinator", "agency_coordinator", "admin"]


def _writes(world, agreement, user):
    """Each write, run as ``user`` on rows another coordinator made."""
    metric = manual_metric(agreement, Unit.COUNT)
    goal = target(world, agreement, mf.builtin(C.FILL_RATE), "80")
    to_approve, to_correct = (
        services.record_measurement(
            metric=metric,
            agreement=agreement,
            by=world.agency_coordinator if user == world.coordinator_a else world.coordinator_a,
            period_start=date(2025, 1, 1),
            period_end=date(2025, 1, 31),
            value="3",
            source="Survey",
        )
        for _ in range(2)
    )
    return {
        "define_metric": lambda: services.define_metric(agreement=agreement, by=user, name="Reports", unit="count"),
        "record_measurement": lambda: services.record_measurement(
            metric=metric,
            agreement=agreement,
            by=user,
            period_start=date(2025, 2, 1),
            period_end=date(2025, 2, 28),
            value="1",
            source="Survey",
        ),
        "correct_measurement": lambda: services.correct_measurement(measurement=to_correct, by=user, value="4"),
        "approve_measurement": lambda: services.approve_measurement(measurement=to_approve, by=user),
        "set_target": lambda: services.set_target(
            agreement=agreement,
            by=user,
            metric=mf.builtin(C.SESSIONS_DELIVERED),
            target_value="5",
            direction=AT_LEAST,
            **PERIOD,
        ),
        "update_target": lambda: services.update_target(target=goal, by=user, target_value="70"),
        "delete_target": lambda: services.delete_target(target=goal, by=user),
    }


@pytest.mark.parametrize("role", REFUSED)
def test_writes_are_refused_to_anyone_but_coordinators(world, agreement, role):
    for name, write in _writes(world, agreement, world.user(role)).items():
        with pytest.raises(DomainError) as refused:
            write()
        assert refused.value.code == "forbidden", name
    assert Target.objects.get().target_value == 80
    assert list(Measurement.objects.values_list("status", "value")) == [("pending", Decimal("3.00"))] * 2


@pytest.mark.parametrize("role", ALLOWED)
def test_coordinators_of_a_party_and_admins_may_write(world, agreement, role):
    for write in _writes(world, agreement, world.user(role)).values():
        write()
    assert not Target.objects.filter(metric__computation=C.FILL_RATE).exists()
    assert Target.objects.get().metric.computation == C.SESSIONS_DELIVERED
    assert Measurement.objects.filter(status=MeasurementStatus.APPROVED).count() == 1
    assert Measurement.objects.filter(value=4).count() == 1
    assert Metric.objects.filter(code="reports").exists()
