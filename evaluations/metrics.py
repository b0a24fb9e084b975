"""Reads of metric values and of progress against targets. Nothing here writes.

Every built-in metric is a database aggregate over one table (and its joins) for an
agreement, optionally one of its programs, and a period of days read in the lead agency's
time zone, both ends included. Metrics that aggregate the same rows share one query, so
``compute_many`` costs at most one query per source table however many rows there are:
``tests/evaluations/test_metrics.py`` holds the count equal for 10 and 1,000 sessions.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from evaluations.enums import Computation, Direction, MeasurementStatus, TargetStatus, Unit
from evaluations.models import Answer, Measurement, Metric, Snapshot, SurveyInvitation, Target
from internships.enums import CheckInStatus, HoursStatus, PlacementStatus
from internships.models import Application, CheckIn, HoursEntry, Placement
from programs.enums import BookingStatus, SessionStatus
from programs.models import Booking, Session

C = Computation
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
# A cumulative target is on track while the actual reaches this share of the pro-rated expectation.
ON_TRACK_SHARE = Decimal("0.9")
# A placement counts as started once it became active; these are the states after that.
STARTED_STATUSES = (
    PlacementStatus.ACTIVE,
    PlacementStatus.SUSPENDED,
    PlacementStatus.COMPLETED,
    PlacementStatus.ENDED_EARLY,
)


def _rounded(value) -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))  # SQLite answers AVG with a float
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _share(part, whole) -> Decimal | None:
    """100 × part / whole, or None when there is no whole to take a share of."""
    if not whole:
        return None
    return _rounded(HUNDRED * Decimal(part or 0) / Decimal(whole))


@dataclass(frozen=True)
class _Scope:
    """What a computation is filtered by: the agreement, the program, and the period as
    both dates and the agency-local instants that bound it (start inclusive, end exclusive)."""

    agreement_id: int
    program_id: int | None
    start: date
    end: date
    since: datetime
    until: datetime
    today: date


def _scope(agreement, program, period_start: date, period_end: date) -> _Scope:
    zone = agreement.lead_agency.zone
    return _Scope(
        agreement_id=agreement.pk,
        program_id=program.pk if program is not None else None,
        start=period_start,
        end=period_end,
        since=datetime.combine(period_start, time.min, tzinfo=zone),
        until=datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=zone),
        today=timezone.localdate(timezone=zone),
    )


# Sources: one aggregate query each, returning every figure the computations below need.


def _sessions(scope: _Scope) -> dict:
    rows = Session.objects.filter(
        program__agreement_id=scope.agreement_id,
        status=SessionStatus.DELIVERED,
        starts_at__gte=scope.since,
        starts_at__lt=scope.until,
    )
    if scope.program_id:
        rows = rows.filter(program_id=scope.program_id)
    return rows.aggregate(delivered=Count("pk"), capacity=Sum("capacity_seats"), confirmed=Sum("confirmed_seats"))


def _bookings(scope: _Scope) -> dict:
    rows = Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        session__program__agreement_id=scope.agreement_id,
        session__status=SessionStatus.DELIVERED,
        session__starts_at__gte=scope.since,
        session__starts_at__lt=scope.until,
    )
    if scope.program_id:
        rows = rows.filter(session__program_id=scope.program_id)
    return rows.aggregate(reached=Coalesce(Sum("attended_count"), 0), schools=Count("institution", distinct=True))


def _satisfaction(scope: _Scope) -> dict:
    rows = Answer.objects.filter(
        question__measures_satisfaction=True,
        number__isnull=False,
        response__survey__agreement_id=scope.agreement_id,
        response__survey__session__starts_at__gte=scope.since,
        response__survey__session__starts_at__lt=scope.until,
    )
    if scope.program_id:
        rows = rows.filter(response__survey__session__program_id=scope.program_id)
    return rows.aggregate(mean=Avg("number"))


def _invitations(scope: _Scope) -> dict:
    rows = SurveyInvitation.objects.filter(
        withdrawn=False,
        survey__agreement_id=scope.agreement_id,
        survey__opened_at__gte=scope.since,
        survey__opened_at__lt=scope.until,
    )
    if scope.program_id:
        rows = rows.filter(survey__session__program_id=scope.program_id)
    return rows.aggregate(sent=Count("pk"), used=Count("pk", filter=Q(used_on__isnull=False)))


# Internships belong to an agreement, not to a program: their figures ignore the program.


def _applications(scope: _Scope) -> dict:
    return Application.objects.filter(
        posting__agreement_id=scope.agreement_id, submitted_at__gte=scope.since, submitted_at__lt=scope.until
    ).aggregate(received=Count("pk"))


def _placements(scope: _Scope) -> dict:
    ended_in_period = Q(end__gte=scope.start, end__lte=scope.end)
    return (
        Placement.objects.filter(posting__agreement_id=scope.agreement_id)
        .alias(end=Coalesce("ended_on", "end_date"))
        .aggregate(
            started=Count(
                "pk",
                filter=Q(start_date__gte=scope.start, start_date__lte=scope.end, status__in=STARTED_STATUSES),
            ),
            completed=Count("pk", filter=ended_in_period & Q(status=PlacementStatus.COMPLETED)),
            ended_early=Count("pk", filter=ended_in_period & Q(status=PlacementStatus.ENDED_EARLY)),
        )
    )


def _hours(scope: _Scope) -> dict:
    return HoursEntry.objects.filter(
        placement__posting__agreement_id=scope.agreement_id,
        status=HoursStatus.APPROVED,
        day__gte=scope.start,
        day__lte=scope.end,
    ).aggregate(approved=Coalesce(Sum("hours"), Decimal(0), output_field=DecimalField()))


def _check_ins(scope: _Scope) -> dict:
    # A check-in cancelled because the placement ended was never owed.
    return (
        CheckIn.objects.filter(
            placement__posting__agreement_id=scope.agreement_id,
            due_on__gte=scope.start,
            due_on__lte=min(scope.end, scope.today),
        )
        .exclude(status=CheckInStatus.CANCELLED)
        .aggregate(due=Count("pk"), held=Count("pk", filter=Q(status=CheckInStatus.HELD)))
    )


# Each computation: the source it reads, and how its value comes out of the source's figures.
COMPUTATIONS = {
    C.SESSIONS_DELIVERED: (_sessions, lambda f: Decimal(f["delivered"])),
    C.FILL_RATE: (_sessions, lambda f: _share(f["confirmed"], f["capacity"])),
    C.STUDENTS_REACHED: (_bookings, lambda f: Decimal(f["reached"])),
    C.SCHOOLS_SERVED: (_bookings, lambda f: Decimal(f["schools"])),
    C.SESSION_SATISFACTION: (_satisfaction, lambda f: _rounded(f["mean"])),
    C.SURVEY_RESPONSE_RATE: (_invitations, lambda f: _share(f["used"], f["sent"])),
    C.APPLICATIONS_RECEIVED: (_applications, lambda f: Decimal(f["received"])),
    C.PLACEMENTS_STARTED: (_placements, lambda f: Decimal(f["started"])),
    C.PLACEMENTS_COMPLETED: (_placements, lambda f: Decimal(f["completed"])),
    C.COMPLETION_RATE: (_placements, lambda f: _share(f["completed"], f["completed"] + f["ended_early"])),
    C.MENTORED_HOURS: (_hours, lambda f: _rounded(f["approved"])),
    C.CHECK_INS_ON_SCHEDULE: (_check_ins, lambda f: _share(f["held"], f["due"])),
}


def _computed(codes, scope: _Scope) -> dict[str, Decimal | None]:
    """The values of built-in computations, one query per source they read."""
    figures = {}
    values = {}
    for code in codes:
        source, finish = COMPUTATIONS[code]
        if source not in figures:
            figures[source] = source(scope)
        values[code] = _rounded(finish(figures[source]))
    return values


def _manual(metrics, scope: _Scope) -> dict[int, Decimal | None]:
    """Approved measurements lying within the period, for the same program (or none): summed
    for counts and hours, the most recent one for rates and scores. Two queries at most."""
    approved = Measurement.objects.filter(
        agreement_id=scope.agreement_id,
        program_id=scope.program_id,
        status=MeasurementStatus.APPROVED,
        period_start__gte=scope.start,
        period_end__lte=scope.end,
    )
    summed = [m.pk for m in metrics if m.unit in Unit.cumulative]
    latest = [m.pk for m in metrics if m.unit not in Unit.cumulative]
    values = dict.fromkeys((m.pk for m in metrics), None)
    if summed:
        rows = approved.filter(metric_id__in=summed).values("metric_id").annotate(total=Sum("value")).order_by()
        values.update({row["metric_id"]: _rounded(row["total"]) for row in rows})
    if latest:
        newest = approved.filter(metric_id=OuterRef("pk")).order_by("-period_end", "-approved_at", "-pk")
        rows = Metric.objects.filter(pk__in=latest).annotate(value=Subquery(newest.values("value")[:1]))
        values.update({row.pk: _rounded(row.value) for row in rows})
    return values


def compute_many(
    metrics, *, agreement, period_start: date, period_end: date, program=None
) -> dict[int, Decimal | None]:
    """The value of each metric (keyed by its id) for the agreement, program and period."""
    metrics = list(metrics)
    scope = _scope(agreement, program, period_start, period_end)
    computed = [m for m in metrics if m.is_computed]
    by_code = _computed({m.computation for m in computed}, scope)
    values = {m.pk: by_code[m.computation] for m in computed}
    manual = [m for m in metrics if not m.is_computed]
    if manual:
        values.update(_manual(manual, scope))
    return values


def compute(metric, *, agreement, period_start: date, period_end: date, program=None) -> Decimal | None:
    """One metric's value; None when there is nothing to compute it from."""
    return compute_many(
        [metric], agreement=agreement, period_start=period_start, period_end=period_end, program=program
    )[metric.pk]


def activity_summary(agreement, *, period_start: date, period_end: date) -> dict:
    """The short account of what happened, for the report: four queries."""
    scope = _scope(agreement, None, period_start, period_end)
    values = _computed(
        (C.SESSIONS_DELIVERED, C.SCHOOLS_SERVED, C.STUDENTS_REACHED, C.PLACEMENTS_STARTED, C.MENTORED_HOURS), scope
    )
    return {
        "sessions_delivered": values[C.SESSIONS_DELIVERED],
        "schools_served": values[C.SCHOOLS_SERVED],
        "students_reached": values[C.STUDENTS_REACHED],
        "interns": values[C.PLACEMENTS_STARTED],
        "hours_approved": values[C.MENTORED_HOURS],
    }


# Progress against targets.


@dataclass
class Progress:
    target: Target
    actual: Decimal | None
    status: str
    expected: Decimal | None = None
    percent: Decimal | None = None


def _elapsed_share(target: Target, today: date) -> Decimal:
    """The share of the target's period gone by at the end of ``today`` (0 to 1)."""
    days = (target.period_end - target.period_start).days + 1
    gone = (min(today, target.period_end) - target.period_start).days + 1
    return Decimal(max(0, min(gone, days))) / Decimal(days)


def _assess(target: Target, actual: Decimal | None, today: date) -> Progress:
    """The status rules, in one place."""
    cumulative = target.metric.unit in Unit.cumulative
    expected = _rounded(target.target_value * _elapsed_share(target, today)) if cumulative else None
    if actual is None:
        return Progress(target, None, TargetStatus.NO_DATA, expected)
    percent = _rounded(actual / target.target_value * HUNDRED) if target.target_value else None
    over = today > target.period_end
    if target.direction == Direction.AT_LEAST:
        if actual >= target.target_value:
            status = TargetStatus.ON_TRACK
        elif over:
            status = TargetStatus.MISSED
        elif cumulative:
            status = TargetStatus.ON_TRACK if actual >= ON_TRACK_SHARE * expected else TargetStatus.AT_RISK
        else:
            status = TargetStatus.AT_RISK
    elif actual <= target.target_value:
        status = TargetStatus.ON_TRACK
    elif cumulative or over:
        # A count past its ceiling cannot come back down; a rate still can until the period ends.
        status = TargetStatus.MISSED
    else:
        status = TargetStatus.AT_RISK
    return Progress(target, actual, status, expected, percent)


def _today_for(target: Target, today: date | None) -> date:
    return today or timezone.localdate(timezone=target.agreement.lead_agency.zone)


def progress_for(targets, *, today: date | None = None) -> list[Progress]:
    """Progress of each target, in the order given, as of the end of ``today`` (the agency's
    date by default). Actuals cover the period up to today; a period not begun has no data.
    Targets sharing an agreement, program and period share their queries."""
    if isinstance(targets, QuerySet):
        targets = targets.select_related("agreement__lead_agency", "program", "metric")
    targets = list(targets)
    groups = defaultdict(list)
    days = {}
    for target in targets:
        days[target.pk] = day = _today_for(target, today)
        if day >= target.period_start:
            until = min(day, target.period_end)
            groups[(target.agreement_id, target.program_id, target.period_start, until)].append(target)
    actuals = {}
    for (_agreement, _program, start, until), members in groups.items():
        first = members[0]
        values = compute_many(
            {t.metric for t in members},
            agreement=first.agreement,
            program=first.program,
            period_start=start,
            period_end=until,
        )
        actuals.update({t.pk: values[t.metric_id] for t in members})
    return [_assess(t, actuals.get(t.pk), days[t.pk]) for t in targets]


def progress(target: Target, *, today: date | None = None) -> Progress:
    return progress_for([target], today=today)[0]


def trend(target: Target) -> list[tuple[date, Decimal | None, str]]:
    """The target's monthly snapshots, oldest first."""
    return list(Snapshot.objects.filter(target=target).order_by("month").values_list("month", "actual", "status"))
