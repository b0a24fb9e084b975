"""Shapes of the evaluations API. Output serializers are read-only; input serializers check
shape only, the rules live in evaluations.services.

Survey results are aggregates (evaluations.results): no single response is ever serialized,
and a survey below its minimum group shows its counts and ``hidden: true`` only."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import access
from config.serializers import ReadPlanModelSerializer
from evaluations import selectors
from evaluations.enums import Direction, TargetStatus, Unit
from evaluations.models import Measurement, Metric, Question, Survey, SurveyTemplate, Target
from programs.models import Program

TEXT = 2000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2200
LARGEST = Decimal("9999999999.99")


class DayField(serializers.DateField):
    default_error_messages = {"range": f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            self.fail("range")
        return day


def _amount(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0), max_value=LARGEST, **kwargs)


def _user(field):
    return field.context["request"].user


@extend_schema_field(OpenApiTypes.INT)
class _ScopedField(serializers.PrimaryKeyRelatedField):
    """An object the caller can see, by id; any other id is "does not exist"."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)

    def get_queryset(self):
        return self.scoped(_user(self))

    def scoped(self, user):
        raise NotImplementedError


class ScopedAgreementField(_ScopedField):
    """An agreement whose evaluations the caller reads."""

    def scoped(self, user):
        return selectors.readable_agreements(user).select_related("lead_agency").prefetch_related("parties")


class ScopedMetricField(_ScopedField):
    def scoped(self, user):
        return access.visible(user, Metric)


class ScopedProgramField(_ScopedField):
    def scoped(self, user):
        return access.visible(user, Program)


def _period_in_order(data, *, start="period_start", end="period_end"):
    if data.get(start) and data.get(end) and data[end] < data[start]:
        raise serializers.ValidationError({end: ["The period cannot end before it starts."]})
    return data


# Metrics.


class MetricSerializer(ReadPlanModelSerializer):
    class Meta:
        model = Metric
        fields = ["id", "code", "name", "description", "kind", "computation", "unit", "agreement", "created_at"]
        read_only_fields = fields


class AgreementRefSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()


class MetricCreateSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")
    unit = serializers.ChoiceField(choices=Unit.choices, default=Unit.COUNT)


# Targets.


class SnapshotSerializer(serializers.Serializer):
    month = serializers.DateField(read_only=True)
    actual = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=TargetStatus.choices, read_only=True)


class TargetSerializer(ReadPlanModelSerializer):
    """A target with its progress today: the actual so far, the status, what a cumulative target
    expects by now, and the actual as a percent of the target; ``trend`` holds the monthly
    snapshots, oldest first."""

    metric_name = serializers.CharField(source="metric.name", read_only=True)
    unit = serializers.ChoiceField(source="metric.unit", choices=Unit.choices, read_only=True)
    actual = serializers.DecimalField(
        source="progress.actual", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    status = serializers.ChoiceField(source="progress.status", choices=TargetStatus.choices, read_only=True)
    expected = serializers.DecimalField(
        source="progress.expected", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    percent = serializers.DecimalField(
        source="progress.percent", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    trend = SnapshotSerializer(source="snapshots", many=True, read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "agreement",
            "program",
            "metric",
            "metric_name",
            "unit",
            "period_start",
            "period_end",
            "target_value",
            "direction",
            "baseline",
            "notes",
            "actual",
            "status",
            "expected",
            "percent",
            "trend",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TargetCreateSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()
    metric = ScopedMetricField()
    program = ScopedProgramField(required=False, allow_null=True, default=None)
    period_start = DayField()
    period_end = DayField()
    target_value = _amount()
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.AT_LEAST)
    baseline = _amount(required=False, allow_null=True, default=None)
    notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")

    def validate(self, data):
        return _period_in_order(data)


class TargetUpdateSerializer(serializers.Serializer):
    metric = ScopedMetricField(required=False)
    program = ScopedProgramField(required=False, allow_null=True)
    period_start = DayField(required=False)
    period_end = DayField(required=False)
    target_value = _amount(required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    baseline = _amount(required=False, allow_null=True)
    notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True)

    def validate(self, data):
        return _period_in_order(data)


# Measurements.


class MeasurementSerializer(ReadPlanModelSerializer):
    metric_name = serializers.CharField(source="metric.name", read_only=True)
    entered_by_name = serializers.CharField(source="entered_by.full_name", read_only=True)
    approved_by_name = serializers.CharField(
        source="approved_by.full_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Measurement
        fields = [
            "id",
            "metric",
            "metric_name",
            "agreement",
            "program",
            "period_start",
            "period_end",
            "value",
            "source",
            "status",
            "entered_by",
            "entered_by_name",
            "approved_by",
            "approved_by_name",
            "approved_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MeasurementCreateSerializer(serializers.Serializer):
    agreement = ScopedAgreementField()
    metric = ScopedMetricField()
    program = ScopedProgramField(required=False, allow_null=True, default=None)
    period_start = DayField()
    period_end = DayField()
    value = _amount()
    source = serializers.CharField(max_length=250)

    def validate(self, data):
        return _period_in_order(data)


class MeasurementUpdateSerializer(serializers.Serializer):
    program = ScopedProgramField(required=False, allow_null=True)
    period_start = DayField(required=False)
    period_end = DayField(required=False)
    value = _amount(required=False)
    source = serializers.CharField(max_length=250, required=False)

    def validate(self, data):
        return _period_in_order(data)


# Surveys.


class SurveySerializer(ReadPlanModelSerializer):
    template_name = serializers.CharField(source="template.name", read_only=True)
    response_count = serializers.IntegerField(read_only=True)
    invited_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "title",
            "template",
            "template_name",
            "agreement",
            "program",
            "session",
            "placement",
            "opened_at",
            "closes_at",
            "status",
            "min_group_size",
            "response_count",
            "invited_count",
        ]
        read_only_fields = fields


class QuestionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    answered = serializers.IntegerField()
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text="How many answered each value or option."
    )
    mean = serializers.FloatField(allow_null=True)
    texts = serializers.ListField(
        child=serializers.CharField(), help_text="Free-text answers you may read (agency users: published ones)."
    )


class SurveyResultsSerializer(serializers.Serializer):
    """Aggregates only. Below ``min_group_size`` responses, ``hidden`` is true and ``questions``
    is empty: the results are hidden to protect respondents."""

    survey = serializers.IntegerField()
    title = serializers.CharField()
    template = serializers.IntegerField()
    is_open = serializers.BooleanField()
    response_count = serializers.IntegerField()
    invited_count = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True)
    min_group_size = serializers.IntegerField()
    hidden = serializers.BooleanField()
    questions = QuestionResultSerializer(many=True)


class SurveyCsvSerializer(serializers.Serializer):
    filename = serializers.CharField()
    csv = serializers.CharField(help_text="The results as CSV text (ask with Accept: text/csv for the file itself).")


# Templates.


class QuestionSerializer(ReadPlanModelSerializer):
    choices = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Question
        fields = ["id", "position", "kind", "text", "choices", "required", "protected_topic", "measures_satisfaction"]
        read_only_fields = fields


class SurveyTemplateSerializer(ReadPlanModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)
    has_protected_topics = serializers.SerializerMethodField()

    class Meta:
        model = SurveyTemplate
        fields = [
            "id",
            "code",
            "name",
            "description",
            "subject",
            "audience",
            "is_active",
            "has_protected_topics",
            "questions",
        ]
        read_only_fields = fields

    def get_has_protected_topics(self, template) -> bool:
        return template.has_protected_topics
