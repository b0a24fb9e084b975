"""Writes to evaluations' metrics and targets: manual metrics, their measurements (entered by
one coordinator, approved by another, then locked), targets, and the monthly snapshots."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, DomainError
from accounts.models import User
from accounts.services import record_audit
from evaluations import metrics, rules
from evaluations.enums import Direction, MeasurementStatus, MetricKind, Unit
from evaluations.models import Measurement, Metric, Snapshot, Target
from partnerships.models import Agreement

CENT = Decimal("0.01")
# DecimalField(max_digits=12, decimal_places=2): ten digits before the point.
LARGEST = Decimal("9999999999.99")


class EvaluationsError(DomainError):
    """A rule of evaluations refused the change; the message is for the person."""


def _ensure(allowed: bool, message: str) -> None:
    if not allowed:
        raise EvaluationsError(message, code="forbidden")


def _amount(value, *, field: str, unit: str | None = None, label: str) -> Decimal:
    """A non-negative amount in cents; a percentage is at most 100."""
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, TypeError, ValueError):
        raise EvaluationsError(_("%(label)s must be a number.") % {"label": label}, field=field) from None
    if not amount.is_finite() or amount < 0:
        raise EvaluationsError(_("%(label)s cannot be negative.") % {"label": label}, field=field, code="negative")
    if amount > LARGEST:
        raise EvaluationsError(_("%(label)s is too large.") % {"label": label}, field=field, code="too_large")
    if unit == Unit.PERCENT and amount > 100:
        raise EvaluationsError(
            _("%(label)s is a percentage: at most 100.") % {"label": label}, field=field, code="over_100"
        )
    return amount


def _check_period(period_start: date, period_end: date) -> None:
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise EvaluationsError(_("Give the first and last day of the period."), field="period_start")
    if period_end < period_start:
        raise EvaluationsError(
            _("The period must end on or after the day it starts."), field="period_end", code="period_order"
        )


def _check_program(program, agreement: Agreement) -> None:
    if program is not None and program.agreement_id != agreement.pk:
        raise EvaluationsError(
            _("%(program)s is not a program of this agreement.") % {"program": program},
            field="program",
            code="other_agreement",
        )


def _check_metric_for(metric: Metric, agreement: Agreement) -> None:
    """A built-in metric serves every agreement; a manual one only the agreement it was defined for."""
    if not metric.is_computed and metric.agreement_id != agreement.pk:
        raise EvaluationsError(
            _("%(metric)s was defined for another agreement.") % {"metric": metric},
            field="metric",
            code="other_agreement",
        )


# Manual metrics.


def _free_code(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "metric"
    taken = set(Metric.objects.filter(code__startswith=base).values_list("code", flat=True))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def define_metric(*, agreement: Agreement, by: User, name: str, description: str = "", unit: str) -> Metric:
    """Coordinators of the agreement's parties add a metric they will enter by hand (e.g. a
    figure from a school climate survey); it belongs to that agreement alone."""
    _ensure(
        rules.can_manage_targets(by, agreement),
        _("Only a coordinator of a party of the agreement can define metrics."),
    )
    name = (name or "").strip()
    if not name:
        raise EvaluationsError(_("Give the metric a name."), field="name", code="required")
    if unit not in Unit.values:
        raise EvaluationsError(_("Choose a unit: count, percent, hours or score."), field="unit")
    try:
        with transaction.atomic():
            metric = Metric.objects.create(
                code=_free_code(name),
                name=name,
                description=description.strip(),
                kind=MetricKind.MANUAL,
                unit=unit,
                agreement=agreement,
                created_by=by,
            )
            record_audit(actor=by, action="metric.defined", target=metric, organization=agreement.lead_agency)
    except IntegrityError as error:  # two coordinators chose the same name at the same moment
        raise ConflictError(
            _("A metric with this name was just added; try again."), field="name", code="duplicate"
        ) from error
    return metric


# Measurements.


def record_measurement(
    *,
    metric: Metric,
    agreement: Agreement,
    by: User,
    period_start: date,
    period_end: date,
    value,
    source: str,
    program=None,
) -> Measurement:
    """A coordinator enters a manual metric's value for a period, with where it comes from.
    It counts once another coordinator approves it (four eyes)."""
    _ensure(
        rules.can_manage_targets(by, agreement),
        _("Only a coordinator of a party of the agreement can enter measurements."),
    )
    if metric.is_computed:
        raise EvaluationsError(
            _("%(metric)s is computed from the data; it takes no measurements.") % {"metric": metric},
            field="metric",
            code="computed",
        )
    _check_metric_for(metric, agreement)
    _check_program(program, agreement)
    _check_period(period_start, period_end)
    amount = _amount(value, field="value", unit=metric.unit, label=_("The value"))
    source = (source or "").strip()
    if not source:
        raise EvaluationsError(_("Say where the figure comes from."), field="source", code="required")
    with transaction.atomic():
        measurement = Measurement.objects.create(
            metric=metric,
            agreement=agreement,
            program=program,
            period_start=period_start,
            period_end=period_end,
            value=amount,
            source=source,
            entered_by=by,
        )
        record_audit(
            actor=by,
            action="measurement.recorded",
            target=measurement,
            organization=agreement.lead_agency,
            value=str(amount),
        )
    return measurement


CORRECTABLE = ("period_start", "period_end", "value", "source", "program")


def correct_measurement(*, measurement: Measurement, by: User, **fields) -> Measurement:
    """A pending measurement may be corrected; an approved one is locked. The corrector becomes
    its author, so the approver must still be someone else."""
    unknown = set(fields) - set(CORRECTABLE)
    if unknown:
        raise TypeError(f"correct_measurement() cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        measurement = (
            Measurement.objects.select_for_update(of=("self",))
            .select_related("metric", "agreement__lead_agency")
            .get(pk=measurement.pk)
        )
        _ensure(
            rules.can_manage_targets(by, measurement.agreement),
            _("Only a coordinator of a party of the agreement can correct measurements."),
        )
        if measurement.is_locked:
            raise EvaluationsError(
                _("This measurement was approved and is locked; enter a new one for a correction."),
                code="locked",
            )
        for name, value in fields.items():
            setattr(measurement, name, value)
        _check_program(measurement.program, measurement.agreement)
        _check_period(measurement.period_start, measurement.period_end)
        unit = measurement.metric.unit
        measurement.value = _amount(measurement.value, field="value", unit=unit, label=_("The value"))
        measurement.source = (measurement.source or "").strip()
        if not measurement.source:
            raise EvaluationsError(_("Say where the figure comes from."), field="source", code="required")
        measurement.entered_by = by
        measurement.save(update_fields=[*fields, "entered_by", "updated_at"])
        record_audit(
            actor=by,
            action="measurement.corrected",
            target=measurement,
            organization=measurement.agreement.lead_agency,
            fields=sorted(fields),
        )
    return measurement


def approve_measurement(*, measurement: Measurement, by: User) -> Measurement:
    """Another coordinator than the one who entered it approves a measurement, which locks it.
    The update is conditional on it still pending, so approving twice changes nothing."""
    measurement = Measurement.objects.select_related("agreement__lead_agency").get(pk=measurement.pk)
    _ensure(
        rules.can_approve_measurement(by, measurement),
        _("A measurement is approved by a coordinator of the agreement other than the person who entered it."),
    )
    now = timezone.now()
    with transaction.atomic():
        approved = Measurement.objects.filter(pk=measurement.pk, status=MeasurementStatus.PENDING).update(
            status=MeasurementStatus.APPROVED, approved_by=by, approved_at=now, updated_at=now
        )
        if approved:
            record_audit(
                actor=by,
                action="measurement.approved",
                target=measurement,
                organization=measurement.agreement.lead_agency,
            )
    measurement.refresh_from_db()
    return measurement


# Targets.


@dataclass
class _TargetFields:
    metric: Metric
    program: object
    period_start: date
    period_end: date
    target_value: object
    direction: str
    baseline: object
    notes: str


def _clean_target(agreement: Agreement, f: _TargetFields, *, exclude_pk=None) -> dict:
    _check_metric_for(f.metric, agreement)
    _check_program(f.program, agreement)
    _check_period(f.period_start, f.period_end)
    if f.direction not in Direction.values:
        raise EvaluationsError(_("Choose 'at least' or 'at most'."), field="direction")
    value = _amount(f.target_value, field="target_value", unit=f.metric.unit, label=_("The target"))
    baseline = None
    if f.baseline is not None and f.baseline != "":
        baseline = _amount(f.baseline, field="baseline", unit=f.metric.unit, label=_("The baseline"))
    same = Target.objects.filter(
        agreement=agreement,
        program=f.program,
        metric=f.metric,
        period_start=f.period_start,
        period_end=f.period_end,
    ).exclude(pk=exclude_pk)
    if same.exists():
        raise _duplicate(f.metric)
    return {
        "metric": f.metric,
        "program": f.program,
        "period_start": f.period_start,
        "period_end": f.period_end,
        "target_value": value,
        "direction": f.direction,
        "baseline": baseline,
        "notes": (f.notes or "").strip(),
    }


def _duplicate(metric: Metric) -> ConflictError:
    return ConflictError(
        _("There is already a target for %(metric)s over this period.") % {"metric": metric},
        field="metric",
        code="duplicate",
    )


def _saved_target(target: Target, *, update_fields=None) -> None:
    """Save, turning the unique constraints' refusal (a concurrent duplicate) into a conflict."""
    try:
        with transaction.atomic():
            target.save(update_fields=update_fields)
    except IntegrityError as error:
        if "evaluations_target_once" not in str(error) and "UNIQUE" not in str(error).upper():
            raise
        raise _duplicate(target.metric) from error


def set_target(
    *,
    agreement: Agreement,
    by: User,
    metric: Metric,
    period_start: date,
    period_end: date,
    target_value,
    direction: str = Direction.AT_LEAST,
    baseline=None,
    notes: str = "",
    program=None,
) -> Target:
    """Coordinators set what an agreement (or one of its programs) aims for on a metric over a
    period; one target per metric, program and period."""
    _ensure(rules.can_manage_targets(by, agreement), _("Only a coordinator of a party of the agreement sets targets."))
    values = _clean_target(
        agreement, _TargetFields(metric, program, period_start, period_end, target_value, direction, baseline, notes)
    )
    with transaction.atomic():
        target = Target(agreement=agreement, created_by=by, **values)
        _saved_target(target)
        record_audit(
            actor=by,
            action="target.set",
            target=target,
            organization=agreement.lead_agency,
            metric=metric.code,
            value=str(values["target_value"]),
        )
    return target


TARGET_FIELDS = ("metric", "program", "period_start", "period_end", "target_value", "direction", "baseline", "notes")


def update_target(*, target: Target, by: User, **fields) -> Target:
    """Change a target; the same checks as setting one. Its snapshots stay as they were taken."""
    unknown = set(fields) - set(TARGET_FIELDS)
    if unknown:
        raise TypeError(f"update_target() cannot change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        target = (
            Target.objects.select_for_update(of=("self",))
            .select_related("agreement__lead_agency", "metric", "program")
            .get(pk=target.pk)
        )
        _ensure(rules.can_edit_target(by, target), _("Only a coordinator of a party of the agreement edits targets."))
        current = {name: getattr(target, name) for name in TARGET_FIELDS}
        values = _clean_target(target.agreement, _TargetFields(**(current | fields)), exclude_pk=target.pk)
        for name, value in values.items():
            setattr(target, name, value)
        _saved_target(target, update_fields=[*TARGET_FIELDS, "updated_at"])
        record_audit(
            actor=by,
            action="target.updated",
            target=target,
            organization=target.agreement.lead_agency,
            fields=sorted(fields),
        )
    return target


def delete_target(*, target: Target, by: User) -> None:
    """Remove a target set by mistake, with its snapshots; the audit trail keeps what it was."""
    target = Target.objects.select_related("agreement__lead_agency", "metric").get(pk=target.pk)
    _ensure(rules.can_edit_target(by, target), _("Only a coordinator of a party of the agreement deletes targets."))
    with transaction.atomic():
        record_audit(
            actor=by,
            action="target.deleted",
            target=target,
            organization=target.agreement.lead_agency,
            metric=target.metric.code,
            period=f"{target.period_start}/{target.period_end}",
            value=str(target.target_value),
        )
        target.delete()


# Snapshots.


def _month_before(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return date(year, month, min(day.day, last))


def take_snapshots(*, today: date | None = None) -> int:
    """The nightly task: each target whose period has begun and did not end more than a month
    ago gets this month's row (actual up to today, and status), rewritten on every run, so a
    run twice, or a skipped night, leaves one right row per month. Returns the rows written."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    targets = Target.objects.filter(
        Q(period_start__lte=today) & Q(period_end__gte=_month_before(today))
    ).select_related("agreement__lead_agency", "program", "metric")
    now = timezone.now()
    rows = [
        Snapshot(target=p.target, month=month, actual=p.actual, status=p.status, taken_at=now)
        for p in metrics.progress_for(targets, today=today)
    ]
    Snapshot.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["target", "month"], update_fields=["actual", "status", "taken_at"]
    )
    return len(rows)
