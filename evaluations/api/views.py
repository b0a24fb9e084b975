"""The evaluations API: metrics, targets with their progress, manual measurements (four-eyes
approval), surveys with their aggregate results and CSV, and the survey templates.

Every write goes through evaluations.services. The order of answers is fixed: an object outside
the caller's scope is 404 (an id in the body outside it, a 400 on that field) before the body
is read; a visible object the caller may not change is 403 before the rest of the body is
validated; then field errors (400) and the services' refusals (400/409).

Answering a survey happens only through its single-use link (evaluations.respond); here results
are aggregates, hidden below the survey's minimum group, and agency users read free text only
once the school published it (evaluations.results)."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import access
from config.api import error_responses
from config.filters import IdFilter, StrictFilterSet
from config.parsers import JSONParser
from evaluations import metrics, results, rules, selectors, services
from evaluations.api import serializers as s
from evaluations.enums import Audience, MeasurementStatus, MetricKind, Subject, SurveyStatus
from evaluations.models import Measurement, Metric, Snapshot, Survey, SurveyTemplate, Target

READ = error_responses(400, 401, 404)
WRITE = error_responses(400, 401, 403, 404, 409)
NUMERIC = r"[0-9]+"


def _allowed_or_403(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# Filters.


class MetricFilter(StrictFilterSet):
    agreement = IdFilter(field_name="agreement_id")
    kind = filters.ChoiceFilter(choices=MetricKind.choices)

    class Meta:
        model = Metric
        fields = ["agreement", "kind"]


class TargetFilter(StrictFilterSet):
    agreement = IdFilter(field_name="agreement_id")
    program = IdFilter(field_name="program_id")
    metric = IdFilter(field_name="metric_id")

    class Meta:
        model = Target
        fields = ["agreement", "program", "metric"]


class MeasurementFilter(StrictFilterSet):
    agreement = IdFilter(field_name="agreement_id")
    metric = IdFilter(field_name="metric_id")
    status = filters.ChoiceFilter(choices=MeasurementStatus.choices)

    class Meta:
        model = Measurement
        fields = ["agreement", "metric", "status"]


class SurveyFilter(StrictFilterSet):
    agreement = IdFilter(field_name="agreement_id")
    program = IdFilter(field_name="program_id")
    template = IdFilter(field_name="template_id")
    status = filters.ChoiceFilter(choices=SurveyStatus.choices)

    class Meta:
        model = Survey
        fields = ["agreement", "program", "template", "status"]


class SurveyTemplateFilter(StrictFilterSet):
    subject = filters.ChoiceFilter(choices=Subject.choices)
    audience = filters.ChoiceFilter(choices=Audience.choices)

    class Meta:
        model = SurveyTemplate
        fields = ["subject", "audience"]


# Querysets: everything a row shows, in a fixed number of queries.


def metric_queryset(user):
    return access.visible(user, Metric).order_by("kind", "name", "pk")


def target_queryset(user):
    return (
        access.visible(user, Target)
        .select_related("agreement__lead_agency", "metric", "program")
        .prefetch_related("agreement__parties", Prefetch("snapshots", queryset=Snapshot.objects.order_by("month")))
        .order_by("agreement_id", "period_start", "metric__name", "pk")
    )


def measurement_queryset(user):
    return (
        access.visible(user, Measurement)
        .select_related("agreement__lead_agency", "metric", "entered_by", "approved_by")
        .prefetch_related("agreement__parties")
        .order_by("agreement_id", "-period_end", "pk")
    )


def survey_queryset(user):
    """Visible surveys, their responses and live invitations counted in the same query."""
    return selectors.with_response_counts(
        access.visible(user, Survey)
        .select_related("template", "agreement")
        .prefetch_related("agreement__parties", "template__questions")
    ).order_by("-opened_at", "-pk")


def template_queryset(user):
    return access.visible(user, SurveyTemplate).prefetch_related("questions").order_by("subject", "audience", "name")


# The frame.


class _EvaluationsViewSet(viewsets.GenericViewSet):
    lookup_value_regex = NUMERIC
    # JSON bodies only: a malformed form body parses as an empty form, which a partial update
    # would take as a valid request that changes nothing.
    parser_classes = [JSONParser]
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.scoped(self.request.user)

    def scoped(self, user):
        raise NotImplementedError

    def _input(self, serializer_class, *, partial=False):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _ready(self, rows: list) -> list:
        """Hook: complete rows before they are serialized (the progress of targets)."""
        return rows

    def _out(self, obj, code=status.HTTP_200_OK):
        """The object as the lists show it, read again through the caller's scope."""
        obj = self._ready([self.get_queryset().get(pk=obj.pk)])[0]
        return Response(self.get_serializer(obj).data, status=code)


class _CompletedRowsMixin:
    """List and retrieve that pass the rows through ``_ready`` first (listed before the mixins)."""

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(self._ready(list(page)), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._ready([self.get_object()])[0]).data)


# Metrics.


@extend_schema_view(
    list=extend_schema(responses={200: s.MetricSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.MetricSerializer, **READ}),
    create=extend_schema(request=s.MetricCreateSerializer, responses={201: s.MetricSerializer, **WRITE}),
)
class MetricViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _EvaluationsViewSet):
    """The built-in metrics (computed from the data) and the manual ones of the agreements you
    take part in. Coordinators of a party define manual metrics for their agreement."""

    model = Metric
    serializer_class = s.MetricSerializer
    filterset_class = MetricFilter

    def scoped(self, user):
        return metric_queryset(user)

    def create(self, request, *args, **kwargs):
        agreement = self._input(s.AgreementRefSerializer)["agreement"]
        _allowed_or_403(rules.can_manage_targets(request.user, agreement))
        fields = self._input(s.MetricCreateSerializer)
        fields.pop("agreement")
        metric = services.define_metric(agreement=agreement, by=request.user, **fields)
        return self._out(metric, status.HTTP_201_CREATED)


# Targets.


@extend_schema_view(
    list=extend_schema(responses={200: s.TargetSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.TargetSerializer, **READ}),
    create=extend_schema(request=s.TargetCreateSerializer, responses={201: s.TargetSerializer, **WRITE}),
    partial_update=extend_schema(request=s.TargetUpdateSerializer, responses={200: s.TargetSerializer, **WRITE}),
    destroy=extend_schema(responses={204: None, **WRITE}),
)
class TargetViewSet(
    _CompletedRowsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    _EvaluationsViewSet,
):
    """What an agreement (or one of its programs) aims for on a metric over a period, with the
    progress today and the monthly trend. Coordinators of a party set, change and delete them."""

    model = Target
    serializer_class = s.TargetSerializer
    filterset_class = TargetFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped(self, user):
        return target_queryset(user)

    def _ready(self, rows):
        for progress in metrics.progress_for(rows):
            progress.target.progress = progress
        return rows

    def create(self, request, *args, **kwargs):
        agreement = self._input(s.AgreementRefSerializer)["agreement"]
        _allowed_or_403(rules.can_manage_targets(request.user, agreement))
        fields = self._input(s.TargetCreateSerializer)
        fields.pop("agreement")
        target = services.set_target(agreement=agreement, by=request.user, **fields)
        return self._out(target, status.HTTP_201_CREATED)

    def _editable(self):
        target = self.get_object()
        _allowed_or_403(rules.can_edit_target(self.request.user, target))
        return target

    def partial_update(self, request, *args, **kwargs):
        target = self._editable()
        fields = self._input(s.TargetUpdateSerializer, partial=True)
        return self._out(services.update_target(target=target, by=request.user, **fields))

    def destroy(self, request, *args, **kwargs):
        target = self._editable()
        services.delete_target(target=target, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Measurements.


@extend_schema_view(
    list=extend_schema(responses={200: s.MeasurementSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.MeasurementSerializer, **READ}),
    create=extend_schema(request=s.MeasurementCreateSerializer, responses={201: s.MeasurementSerializer, **WRITE}),
    partial_update=extend_schema(
        request=s.MeasurementUpdateSerializer, responses={200: s.MeasurementSerializer, **WRITE}
    ),
)
class MeasurementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _EvaluationsViewSet
):
    """Values of manual metrics. A coordinator enters (or corrects) one; a coordinator other than
    the one who entered it approves it, which locks it."""

    model = Measurement
    serializer_class = s.MeasurementSerializer
    filterset_class = MeasurementFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped(self, user):
        return measurement_queryset(user)

    def create(self, request, *args, **kwargs):
        agreement = self._input(s.AgreementRefSerializer)["agreement"]
        _allowed_or_403(rules.can_manage_targets(request.user, agreement))
        fields = self._input(s.MeasurementCreateSerializer)
        fields.pop("agreement")
        measurement = services.record_measurement(agreement=agreement, by=request.user, **fields)
        return self._out(measurement, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        measurement = self.get_object()
        _allowed_or_403(rules.can_manage_targets(request.user, measurement.agreement))
        fields = self._input(s.MeasurementUpdateSerializer, partial=True)
        return self._out(services.correct_measurement(measurement=measurement, by=request.user, **fields))

    @extend_schema(request=None, responses={200: s.MeasurementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Four eyes: only a coordinator other than the one who entered it (or an admin)."""
        measurement = self.get_object()
        _allowed_or_403(rules.can_approve_measurement(request.user, measurement))
        return self._out(services.approve_measurement(measurement=measurement, by=request.user))


# Surveys.


class CSVRenderer(renderers.BaseRenderer):
    """Chosen with ``Accept: text/csv``: the CSV text itself (an error as its message)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):
            data = data.get("csv", data.get("detail", ""))
        return str(data or "").encode(self.charset)


@extend_schema_view(
    list=extend_schema(responses={200: s.SurveySerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.SurveySerializer, **READ}),
)
class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _EvaluationsViewSet):
    """Feedback surveys of the agreements you take part in, with their aggregate results. Answers
    are given only through the single-use link, never through the API."""

    model = Survey
    serializer_class = s.SurveySerializer
    filterset_class = SurveyFilter

    def scoped(self, user):
        return survey_queryset(user)

    @extend_schema(filters=False, responses={200: s.SurveyResultsSerializer, **READ})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Distributions, means and response rate; below the survey's minimum group size, the
        counts only (``hidden: true``)."""
        survey = self.get_object()
        return Response(s.SurveyResultsSerializer(results.survey_results(survey, user=request.user)).data)

    @extend_schema(
        filters=False,
        responses={
            (200, "application/json"): s.SurveyCsvSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The results as a CSV file."),
            **READ,
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, CSVRenderer])
    def csv(self, request, pk=None):
        """The results as CSV, every cell escaped against spreadsheet formulas. Ask with
        ``Accept: text/csv`` for the file; otherwise the CSV text comes inside JSON."""
        survey = self.get_object()
        content = results.results_csv(results.survey_results(survey, user=request.user))
        filename = f"survey-{survey.pk}-results.csv"
        if request.accepted_renderer.format == "csv":
            response = HttpResponse(content, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        return Response({"filename": filename, "csv": content})


@extend_schema_view(
    list=extend_schema(responses={200: s.SurveyTemplateSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.SurveyTemplateSerializer, **READ}),
)
class SurveyTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _EvaluationsViewSet):
    """The questionnaires with their questions; a question marked ``protected_topic`` never
    reaches a minor without recorded consent."""

    model = SurveyTemplate
    serializer_class = s.SurveyTemplateSerializer
    filterset_class = SurveyTemplateFilter

    def scoped(self, user):
        return template_queryset(user)
