"""Reads of metric values and of progress against targets. Nothing here writes.

Every built-in metric is a database aggregate over one table (and its joins) for an
agreement, optionally one of its programs, and a period of days read in the lead agency's
time zone, both ends included. Metrics that aggregate the same rows share one query, so
``compute_many`` costs at most one query per source table however many rows there are:
``tests/evaluations/test_metrics.py`` holds the count equal for 10 and 1,000 sessions.
"""

import functools
from collections import defaultdict
from dataclasses import astuple, dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from config import tablecache
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


# Sources: one aggregate query each, returning every figure the computations below need, for
# any number of scopes at once: each scope's figures are aggregates filtered by its own
# condition, over the rows that match any of them (so a page of targets from many agreements
# costs the same queries as one).


def _batched(queryset, scopes, where, figures) -> list[dict]:
    """``figures`` (name → aggregate for a condition) of each scope, in one query."""
    conditions = [where(scope) for scope in scopes]
    union = conditions[0]
    for condition in conditions[1:]:
        union |= condition
    row = queryset.filter(union).aggregate(
        **{f"{name}__{i}": make(condition) for i, condition in enumerate(conditions) for name, make in figures.items()}
    )
    return [{name: row[f"{name}__{i}"] for name in figures} for i in range(len(conditions))]


def _sessions(scopes: list[_Scope]) -> list[dict]:
    def where(scope):
        q = Q(program__agreement_id=scope.agreement_id, starts_at__gte=scope.since, starts_at__lt=scope.until)
        return q & Q(program_id=scope.program_id) if scope.program_id else q

    return _batched(
        Session.objects.filter(status=SessionStatus.DELIVERED),
        scopes,
        where,
        {
            "delivered": lambda c: Count("pk", filter=c),
            "capacity": lambda c: Sum("capacity_seats", filter=c),
            "confirmed": lambda c: Sum("confirmed_seats", filter=c),
        },
    )


def _bookings(scopes: list[_Scope]) -> list[dict]:
    def where(scope):
        q = Q(
            session__program__agreement_id=scope.agreement_id,
            session__starts_at__gte=scope.since,
            session__starts_at__lt=scope.until,
        )
        return q & Q(session__program_id=scope.program_id) if scope.program_id else q

    return _batched(
        Booking.objects.filter(status=BookingStatus.CONFIRMED, session__status=SessionStatus.DELIVERED),
        scopes,
        where,
        {
            "reached": lambda c: Coalesce(Sum("attended_count", filter=c), 0),
            "schools": lambda c: Count("institution", distinct=True, filter=c),
        },
    )


def _satisfaction(scopes: list[_Scope]) -> list[dict]:
    def where(scope):
        q = Q(
            response__survey__agreement_id=scope.agreement_id,
            response__survey__session__starts_at__gte=scope.since,
            response__survey__session__starts_at__lt=scope.until,
        )
        return q & Q(response__survey__session__program_id=scope.program_id) if scope.program_id else q

    return _batched(
        Answer.objects.filter(question__measures_satisfaction=True, number__isnull=False),
        scopes,
        where,
        {"mean": lambda c: Avg("number", filter=c)},
    )


def _invitations(scopes: list[_Scope]) -> list[dict]:
    def where(scope):
        q = Q(
            survey__agreement_id=scope.agreement_id,
            survey__opened_at__gte=scope.since,
            survey__opened_at__lt=scope.until,
        )
        return q & Q(survey__session__program_id=scope.program_id) if scope.program_id else q

    return _batched(
        SurveyInvitation.objects.filter(withdrawn=False),
        scopes,
        where,
        {
            "sent": lambda c: Count("pk", filter=c),
            "used": lambda c: Count("pk", filter=c & Q(used_on__isnull=False)),
        },
    )


# Internships belong to an agreement, not to a program: their figures ignore the program.


def _applications(scopes: list[_Scope]) -> list[dict]:
    return _batched(
        Application.objects.all(),
        scopes,
        lambda s: Q(posting__agreement_id=s.agreement_id, submitted_at__gte=s.since, submitted_at__lt=s.until),
        {"received": lambda c: Count("pk", filter=c)},
    )


def _placements(scopes: list[_Scope]) -> list[dict]:
    def where(scope):
        return Q(posting__agreement_id=scope.agreement_id)

    def ended(scope):
        return Q(end__gte=scope.start, end__lte=scope.end)

    # Each figure needs its scope's dates, so the conditions are built per scope here.
    rows = Placement.objects.alias(end=Coalesce("ended_on", "end_date"))
    union = where(scopes[0])
    for scope in scopes[1:]:
        union |= where(scope)
    aggregates = {}
    for i, scope in enumerate(scopes):
        mine = where(scope)
        aggregates[f"started__{i}"] = Count(
            "pk",
            filter=mine & Q(start_date__gte=scope.start, start_date__lte=scope.end, status__in=STARTED_STATUSES),
        )
        aggregates[f"completed__{i}"] = Count("pk", filter=mine & ended(scope) & Q(status=PlacementStatus.COMPLETED))
        aggregates[f"ended_early__{i}"] = Count(
            "pk", filter=mine & ended(scope) & Q(status=PlacementStatus.ENDED_EARLY)
        )
    row = rows.filter(union).aggregate(**aggregates)
    return [{name: row[f"{name}__{i}"] for name in ("started", "completed", "ended_early")} for i in range(len(scopes))]


def _hours(scopes: list[_Scope]) -> list[dict]:
    return _batched(
        HoursEntry.objects.filter(status=HoursStatus.APPROVED),
        scopes,
        lambda s: Q(placement__posting__agreement_id=s.agreement_id, day__gte=s.start, day__lte=s.end),
        {"approved": lambda c: Coalesce(Sum("hours", filter=c), Decimal(0), output_field=DecimalField())},
    )


def _check_ins(scopes: list[_Scope]) -> list[dict]:
    # A check-in cancelled because the placement ended was never owed.
    return _batched(
        CheckIn.objects.exclude(status=CheckInStatus.CANCELLED),
        scopes,
        lambda s: Q(
            placement__posting__agreement_id=s.agreement_id, due_on__gte=s.start, due_on__lte=min(s.end, s.today)
        ),
        {
            "due": lambda c: Count("pk", filter=c),
            "held": lambda c: Count("pk", filter=c & Q(status=CheckInStatus.HELD)),
        },
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


def _computed(requests: list[tuple[set, _Scope]]) -> list[dict[str, Decimal | None]]:
    """The values of built-in computations for each (codes, scope), one query per source read.

    Read for a figure the table cache keeps (a report's figures, a home's KPI cards), each
    source's figures are kept too (``config.tablecache``, ``parts_only``) until a table the
    source reads is written: a booking renews the bookings' figures, not the hours' or the
    surveys', so the report computed again after it runs one source query instead of all of
    them. A scope names its agreement, program, period and day, which is everything a source's
    figures depend on besides the rows. Every source reads only its scopes' agreements' rows, so
    a booking or an hour of another agreement keeps them (``Figure.within``)."""
    by_source = defaultdict(list)
    for index, (codes, _scope) in enumerate(requests):
        for source in {COMPUTATIONS[code][0] for code in codes}:
            by_source[source].append(index)
    sources = list(by_source.items())
    found_by_source = tablecache.cached_many(
        [
            tablecache.Figure(
                ("metric source", source.__name__, *(astuple(requests[i][1]) for i in indexes)),
                functools.partial(source, [requests[i][1] for i in indexes]),
                within=("agreement", frozenset(requests[i][1].agreement_id for i in indexes)),
            )
            for source, indexes in sources
        ],
        parts_only=True,
    )
    figures = {}
    for (source, indexes), found_list in zip(sources, found_by_source, strict=True):
        for index, found in zip(indexes, found_list, strict=True):
            figures[(source, index)] = found
    values = []
    for index, (codes, _scope) in enumerate(requests):
        values.append(
            {code: _rounded(COMPUTATIONS[code][1](figures[(COMPUTATIONS[code][0], index)])) for code in codes}
        )
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
    return compute_batch([(metrics, agreement, program, period_start, period_end)])[0]


def compute_batch(requests) -> list[dict[int, Decimal | None]]:
    """``compute_many`` for several (metrics, agreement, program, start, end) at once: still
    one query per source table, however many agreements, programs and periods are asked for."""
    return _compute_all(requests, [])[0]


def _compute_all(requests, summaries) -> tuple[list[dict[int, Decimal | None]], list[dict]]:
    """The metric values of ``requests`` (as ``compute_batch``) and the activity summaries of
    ``summaries`` ((agreement, start, end) each), all read in one query per source table."""
    requests = [(list(metrics), *rest) for metrics, *rest in requests]
    scopes = [_scope(agreement, program, start, end) for _, agreement, program, start, end in requests]
    computed = _computed(
        [
            ({m.computation for m in metrics if m.is_computed}, scope)
            for (metrics, *_), scope in zip(requests, scopes, strict=True)
        ]
        + [(set(ACTIVITY), _scope(agreement, None, start, end)) for agreement, start, end in summaries]
    )
    results = []
    for (metrics, *_), scope, by_code in zip(requests, scopes, computed[: len(requests)], strict=True):
        values = {m.pk: by_code[m.computation] for m in metrics if m.is_computed}
        manual = [m for m in metrics if not m.is_computed]
        if manual:
            values.update(_manual(manual, scope))
        results.append(values)
    activities = [{name: by_code[code] for code, name in ACTIVITY.items()} for by_code in computed[len(requests) :]]
    return results, activities


def compute(metric, *, agreement, period_start: date, period_end: date, program=None) -> Decimal | None:
    """One metric's value; None when there is nothing to compute it from."""
    return compute_many(
        [metric], agreement=agreement, period_start=period_start, period_end=period_end, program=program
    )[metric.pk]


# The activity summary of the report: each figure's computation and its name.
ACTIVITY = {
    C.SESSIONS_DELIVERED: "sessions_delivered",
    C.SCHOOLS_SERVED: "schools_served",
    C.STUDENTS_REACHED: "students_reached",
    C.PLACEMENTS_STARTED: "interns",
    C.MENTORED_HOURS: "hours_approved",
}


def activity_summary(agreement, *, period_start: date, period_end: date) -> dict:
    """The short account of what happened, for the report: four queries."""
    return _compute_all([], [(agreement, period_start, period_end)])[1][0]


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
    One query per source table for all of them, however many agreements they span."""
    return _progress(targets, today, [])[0]


def progress_and_activity(
    targets, *, agreement, period_start: date, period_end: date, today: date | None = None
) -> tuple[list[Progress], dict]:
    """``progress_for(targets)`` and the agreement's ``activity_summary`` for the period, read
    together: a source both need (sessions, bookings, placements, hours) is queried once."""
    found, activities = _progress(targets, today, [(agreement, period_start, period_end)])
    return found, activities[0]


def _progress(targets, today: date | None, summaries) -> tuple[list[Progress], list[dict]]:
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
    keys = list(groups)
    computed, activities = _compute_all(
        [
            ({t.metric for t in groups[key]}, groups[key][0].agreement, groups[key][0].program, key[2], key[3])
            for key in keys
        ],
        summaries,
    )
    actuals = {}
    for key, values in zip(keys, computed, strict=True):
        actuals.update({t.pk: values[t.metric_id] for t in groups[key]})
    return [_assess(t, actuals.get(t.pk), days[t.pk]) for t in targets], activities


def progress(target: Target, *, today: date | None = None) -> Progress:
    return progress_for([target], today=today)[0]


def trend(target: Target) -> list[tuple[date, Decimal | None, str]]:
    """The target's monthly snapshots, oldest first."""
    return list(Snapshot.objects.filter(target=target).order_by("month").values_list("month", "actual", "status"))
