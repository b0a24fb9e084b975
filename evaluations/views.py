"""Pages of evaluations. Thin: a form checks shape, a service decides, the page shows the outcome.

Everything is fetched through the caller's scope (``access.visible`` and the selectors), so an
agreement, target, survey or answer of a partnership one is not part of answers 404, like a
missing one. Survey results are aggregates from evaluations.results: below a survey's minimum
group they are hidden, and single responses are never shown. The teacher's class links exist
in clear only in the answer to the POST that made them.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from evaluations import charts, forms, metrics, report, results, rules, selectors, services, surveys
from evaluations.enums import Audience, MeasurementStatus, SurveyStatus, TextReview
from evaluations.models import (
    Answer,
    Distribution,
    Measurement,
    Snapshot,
    Survey,
    SurveyConsent,
    Target,
)
from programs.enums import BookingStatus
from programs.models import Booking

PAGE_SIZE = 25


# Small helpers.


def _apply_error(form, error: DomainError):
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _allowed_or_403(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _agreement(user, pk):
    """A readable agreement with what the predicates read (its parties), or 404."""
    found = (
        selectors.readable_agreements(user)
        .select_related("lead_agency")
        .prefetch_related("parties__organization")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _target(user, pk) -> Target:
    found = (
        access.visible(user, Target)
        .select_related("agreement__lead_agency", "metric", "program")
        .prefetch_related("agreement__parties")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _measurement(user, pk) -> Measurement:
    found = (
        access.visible(user, Measurement)
        .select_related("agreement__lead_agency", "metric", "program", "entered_by", "approved_by")
        .prefetch_related("agreement__parties")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _survey(user, pk) -> Survey:
    found = (
        access.visible(user, Survey)
        .select_related("template", "agreement", "program", "session", "placement")
        .prefetch_related("agreement__parties", "template__questions")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _with_progress(targets) -> list:
    """Each target with its progress and a sparkline of its monthly snapshots."""
    rows = []
    for progress in metrics.progress_for(list(targets)):
        target = progress.target
        target.progress = progress
        target.sparkline = charts.sparkline(
            report.trend_of(target), title=_("%(metric)s, monthly trend") % {"metric": target.metric.name}
        )
        rows.append(target)
    return rows


# The index and the evaluation page of one agreement.


@require_GET
def index(request):
    """The agreements whose evaluations the person reads."""
    agreements = (
        selectors.readable_agreements(request.user)
        .select_related("lead_agency")
        .annotate(target_count=Count("targets", distinct=True))
        .order_by("-starts_on", "title", "pk")
    )
    return render(request, "evaluations/index.html", {"page": _page(request, agreements)})


def _targets_of(user, agreement):
    return (
        access.visible(user, Target)
        .filter(agreement=agreement)
        .select_related("agreement__lead_agency", "metric", "program")
        .prefetch_related(Prefetch("snapshots", queryset=Snapshot.objects.order_by("month")))
        .order_by("period_start", "metric__name", "pk")
    )


def _measurements_of(user, agreement):
    return (
        access.visible(user, Measurement)
        .filter(agreement=agreement)
        .select_related("metric", "program", "entered_by", "approved_by")
        .order_by("status", "-period_end", "pk")
    )


def _mark_approvable(user, agreement, measurements) -> list:
    rows = list(measurements)
    for measurement in rows:
        measurement.agreement = agreement  # the predicates read its parties, fetched once
        measurement.can_approve = not measurement.is_locked and rules.can_approve_measurement(user, measurement)
        measurement.can_correct = not measurement.is_locked and rules.can_manage_targets(user, agreement)
    return rows


@require_GET
def agreement_home(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    page = _page(request, _targets_of(user, agreement))
    pending = _measurements_of(user, agreement).filter(status=MeasurementStatus.PENDING)
    return render(
        request,
        "evaluations/agreement_home.html",
        {
            "agreement": agreement,
            "page": page,
            "targets": _with_progress(page.object_list),
            "manual_metrics": agreement.manual_metrics.order_by("name"),
            "pending": _mark_approvable(user, agreement, pending[:PAGE_SIZE]),
            "pending_count": pending.count(),
            "can_manage": rules.can_manage_targets(user, agreement),
            "query": _query_without_page(request),
        },
    )


# Targets.


def _target_fields(data) -> dict:
    return {name: data[name] for name in services.TARGET_FIELDS if name in data}


@require_http_methods(["GET", "POST"])
def target_create(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    _allowed_or_403(rules.can_manage_targets(user, agreement))
    form = forms.TargetForm(request.POST or None, agreement=agreement)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_target(agreement=agreement, by=user, **_target_fields(form.cleaned_data))
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Target set."))
            return redirect("evaluations:agreement_home", pk=agreement.pk)
    return render(
        request,
        "evaluations/target_form.html",
        {"form": form, "agreement": agreement, "target": None},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def target_edit(request, pk):
    user = request.user
    target = _target(user, pk)
    agreement = target.agreement
    _allowed_or_403(rules.can_edit_target(user, target))
    initial = {name: getattr(target, name) for name in services.TARGET_FIELDS}
    form = forms.TargetForm(request.POST or None, agreement=agreement, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in services.TARGET_FIELDS}
        try:
            services.update_target(target=target, by=user, **changed)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Target updated."))
            return redirect("evaluations:agreement_home", pk=agreement.pk)
    return render(
        request,
        "evaluations/target_form.html",
        {"form": form, "agreement": agreement, "target": target},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def target_delete(request, pk):
    user = request.user
    target = _target(user, pk)
    _allowed_or_403(rules.can_edit_target(user, target))
    try:
        services.delete_target(target=target, by=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Target deleted."))
    return redirect("evaluations:agreement_home", pk=target.agreement_id)


# Manual metrics and their measurements.


@require_http_methods(["GET", "POST"])
def metric_create(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    _allowed_or_403(rules.can_manage_targets(user, agreement))
    form = forms.MetricForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.define_metric(agreement=agreement, by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Metric added. Enter its measurements as they come in."))
            return redirect("evaluations:agreement_home", pk=agreement.pk)
    return render(
        request,
        "evaluations/metric_form.html",
        {"form": form, "agreement": agreement},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def measurement_list(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    page = _page(request, _measurements_of(user, agreement))
    return render(
        request,
        "evaluations/measurement_list.html",
        {
            "agreement": agreement,
            "page": page,
            "rows": _mark_approvable(user, agreement, page.object_list),
            "can_manage": rules.can_manage_targets(user, agreement),
            "query": _query_without_page(request),
        },
    )


@require_http_methods(["GET", "POST"])
def measurement_create(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    _allowed_or_403(rules.can_manage_targets(user, agreement))
    form = forms.MeasurementForm(request.POST or None, agreement=agreement)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_measurement(agreement=agreement, by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Measurement recorded. Another coordinator approves it."))
            return redirect("evaluations:measurement_list", pk=agreement.pk)
    return render(
        request,
        "evaluations/measurement_form.html",
        {"form": form, "agreement": agreement, "measurement": None},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def measurement_edit(request, pk):
    user = request.user
    measurement = _measurement(user, pk)
    agreement = measurement.agreement
    _allowed_or_403(rules.can_manage_targets(user, agreement))
    initial = {name: getattr(measurement, name) for name in services.CORRECTABLE}
    form = forms.MeasurementForm(request.POST or None, agreement=agreement, correcting=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in services.CORRECTABLE}
        try:
            services.correct_measurement(measurement=measurement, by=user, **changed)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Measurement corrected. It waits for another coordinator's approval."))
            return redirect("evaluations:measurement_list", pk=agreement.pk)
    return render(
        request,
        "evaluations/measurement_form.html",
        {"form": form, "agreement": agreement, "measurement": measurement},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def measurement_approve(request, pk):
    user = request.user
    measurement = _measurement(user, pk)
    _allowed_or_403(rules.can_approve_measurement(user, measurement))
    try:
        services.approve_measurement(measurement=measurement, by=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Measurement approved; it is now locked."))
    return redirect("evaluations:measurement_list", pk=measurement.agreement_id)


# Surveys.


def _filters(request, form) -> tuple[dict, bool]:
    if not request.GET:
        return {}, False
    if form.is_valid():
        return form.cleaned_data, False
    labels = ", ".join(str(form.fields[name].label or name) for name in form.errors if name in form.fields)
    messages.error(request, _("Some filters were not understood and are ignored: %(names)s.") % {"names": labels})
    return {k: v for k, v in form.cleaned_data.items() if k not in form.errors}, True


@require_GET
def survey_list(request):
    user = request.user
    form = forms.SurveyFilterForm(request.GET or None, agreements=selectors.readable_agreements(user))
    filters, bad = _filters(request, form)
    qs = access.visible(user, Survey).select_related("template", "agreement", "program", "session")
    for name in ("agreement", "program", "template"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    qs = selectors.with_response_counts(qs).order_by("-opened_at", "-pk")
    return render(
        request,
        "evaluations/survey_list.html",
        {"form": form, "page": _page(request, qs), "query": _query_without_page(request)},
        status=400 if bad else 200,
    )


def _class_bookings(user, survey: Survey) -> list:
    """The classes of the survey's session whose teacher (or school coordinator) is ``user``."""
    if survey.template.audience != Audience.STUDENTS or survey.session_id is None:
        return []
    bookings = (
        Booking.objects.filter(session_id=survey.session_id, status=BookingStatus.CONFIRMED)
        .select_related("institution")
        .order_by("group_name", "pk")
    )
    return [b for b in bookings if rules.can_distribute(user, b)]


@require_GET
def survey_detail(request, pk):
    user = request.user
    survey = _survey(user, pk)
    outcome = results.survey_results(survey, user=user)
    bookings = _class_bookings(user, survey)
    consents = {}
    if bookings:
        consents = {
            c.booking_id: c
            for c in SurveyConsent.objects.filter(template=survey.template, booking__in=bookings).order_by()
        }
        for booking in bookings:
            booking.consent = consents.get(booking.pk)
    return render(
        request,
        "evaluations/survey_detail.html",
        {
            "survey": survey,
            "results": outcome,
            "questions": report.question_charts(outcome["questions"]),
            "hidden_note": report.hidden_note(outcome["min_group_size"]),
            "can_close": survey.status == SurveyStatus.OPEN and rules.can_close_survey(user, survey),
            "bookings": bookings,
            "protected": survey.template.has_protected_topics,
        },
    )


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def survey_csv(request, pk):
    survey = _survey(request.user, pk)
    content = results.results_csv(results.survey_results(survey, user=request.user))
    return _csv_response(content, f"survey-{survey.pk}-results.csv")


@require_POST
def survey_close(request, pk):
    user = request.user
    survey = _survey(user, pk)
    _allowed_or_403(rules.can_close_survey(user, survey))
    try:
        surveys.close_survey(survey=survey, by=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Survey closed. Its unanswered links no longer work."))
    return redirect("evaluations:survey_detail", pk=survey.pk)


def _class_booking(user, survey: Survey, booking_pk) -> Booking:
    """A confirmed booking of the survey's session that the caller hands links to, or 404/403."""
    booking = (
        access.visible(user, Booking)
        .select_related("institution", "session")
        .filter(pk=booking_pk, session_id=survey.session_id)
        .first()
        if survey.session_id
        else None
    )
    if booking is None:
        raise Http404
    _allowed_or_403(rules.can_distribute(user, booking))
    return booking


@never_cache
@require_http_methods(["GET", "POST"])
def distribution(request, pk, booking_pk):
    """The teacher's sheet of single-use links for the class: shown once, in the answer to the
    POST that makes them; a new sheet withdraws the unused links of the one before."""
    user = request.user
    survey = _survey(user, pk)
    booking = _class_booking(user, survey, booking_pk)
    form = forms.DistributionForm(request.POST or None, initial={"size": booking.attended_count or booking.seats})
    if request.method == "POST" and form.is_valid():
        try:
            made, tokens = surveys.open_distribution(
                survey=survey, booking=booking, size=form.cleaned_data["size"], by=user
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            links = [request.build_absolute_uri(reverse("evaluations:survey_open", args=[t])) for t in tokens]
            response = render(
                request,
                "evaluations/distribution_slips.html",
                {"survey": survey, "booking": booking, "distribution": made, "links": links},
            )
            response["Referrer-Policy"] = "no-referrer"
            return response
    earlier = (
        Distribution.objects.filter(survey=survey, booking=booking)
        .annotate(answered=Count("invitations", filter=Q(invitations__used_on__isnull=False)))
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:PAGE_SIZE]
    )
    consent = SurveyConsent.objects.filter(template=survey.template, booking=booking).first()
    return render(
        request,
        "evaluations/distribution_form.html",
        {
            "survey": survey,
            "booking": booking,
            "form": form,
            "earlier": earlier,
            "consent": consent,
            "protected": survey.template.has_protected_topics,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def group_consent(request, pk, booking_pk):
    user = request.user
    survey = _survey(user, pk)
    booking = _class_booking(user, survey, booking_pk)
    _allowed_or_403(rules.can_record_group_consent(user, booking))
    current = SurveyConsent.objects.filter(template=survey.template, booking=booking).first()
    initial = {"students_count": current.students_count, "note": current.note} if current else {}
    form = forms.GroupConsentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            surveys.record_group_consent(template=survey.template, booking=booking, by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Consent recorded for the class."))
            return redirect("evaluations:distribution", pk=survey.pk, booking_pk=booking.pk)
    return render(
        request,
        "evaluations/consent_form.html",
        {"survey": survey, "booking": booking, "form": form, "current": current},
        status=400 if request.method == "POST" else 200,
    )


# Free-text review: the text only, never who wrote it.


@require_GET
def review_list(request):
    answers = (
        access.visible(request.user, Answer)
        .filter(review=TextReview.PENDING)
        .select_related("question", "response__survey")
        .order_by("response__survey__opened_at", "question__position", "pk")
    )
    return render(request, "evaluations/review_list.html", {"page": _page(request, answers)})


@require_POST
def review_answer(request, pk):
    user = request.user
    answer = (
        access.visible(user, Answer)
        .select_related("response__survey__agreement")
        .prefetch_related("response__survey__agreement__parties")
        .filter(pk=pk)
        .first()
    )
    if answer is None:
        raise Http404
    _allowed_or_403(rules.can_review_text(user, answer))
    form = forms.ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to publish or to withhold the answer."))
        return redirect("evaluations:review_list")
    publish = form.cleaned_data["decision"] == "publish"
    try:
        surveys.review_text(answer=answer, by=user, publish=publish)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Answer published.") if publish else _("Answer withheld."))
    return redirect("evaluations:review_list")


# The report.


def _period(request, agreement) -> tuple[forms.ReportPeriodForm, object, object, bool]:
    start, end = report.default_period(agreement, timezone.localdate())
    if not request.GET:
        return forms.ReportPeriodForm(initial={"start": start, "end": end}), start, end, False
    form = forms.ReportPeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"], False
    return form, start, end, True


@require_GET
def report_page(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    form, start, end, bad = _period(request, agreement)
    context = {
        "agreement": agreement,
        "form": form,
        "start": start,
        "end": end,
        "sections": report.sections(agreement, user=user, start=start, end=end),
        "csv_query": f"start={start.isoformat()}&end={end.isoformat()}",
    }
    return render(request, "evaluations/report.html", context, status=400 if bad else 200)


@require_GET
def report_csv(request, pk):
    user = request.user
    agreement = _agreement(user, pk)
    form, start, end, bad = _period(request, agreement)
    if bad:
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    built = report.build(agreement, user=user, start=start, end=end)
    name = slugify(agreement.title)[:40] or "agreement"
    return _csv_response(report.to_csv(built), f"evaluation-{name}-{start.isoformat()}-{end.isoformat()}.csv")
