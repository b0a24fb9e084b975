"""Forms check shape (types, lengths, ranges, required); rules that need the database live in
evaluations.services and evaluations.surveys."""

from datetime import date
from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from evaluations.enums import Direction, SurveyStatus, Unit
from evaluations.models import Metric, SurveyTemplate
from partnerships.models import Agreement
from programs.models import Program

EARLIEST_YEAR, LATEST_YEAR = 2000, 2200
AMOUNT = {"max_digits": 12, "decimal_places": 2}
MAX_AMOUNT = Decimal("9999999999.99")
MAX_LINKS = 200  # one class at a time; a new set withdraws the unused links of the last


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DayField(forms.DateField):
    """A date within the years the period arithmetic handles (no year 1 or 9999)."""

    widget = DateInput
    default_error_messages = {"range": _("Give a date between %(earliest)s and %(latest)s.")}

    def validate(self, value):
        super().validate(value)
        if value and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise forms.ValidationError(
                self.error_messages["range"], code="range", params={"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
            )


def _amount(**kwargs):
    return forms.DecimalField(**AMOUNT, min_value=0, max_value=MAX_AMOUNT, **kwargs)


class Form(forms.Form):
    """A form whose field ids start with its own prefix, so a page may show several."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class _PeriodForm(Form):
    period_start = DayField(label=_("Period starts"))
    period_end = DayField(label=_("Period ends"))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period cannot end before it starts."))
        return data


def _program_field():
    return forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        label=_("Program"),
        empty_label=_("The whole agreement"),
    )


# Targets and metrics.


class TargetForm(_PeriodForm):
    id_prefix = "target"
    metric = forms.ModelChoiceField(queryset=Metric.objects.none(), label=_("Metric"))
    program = _program_field()
    target_value = _amount(label=_("Target value"))
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.AT_LEAST)
    baseline = _amount(label=_("Baseline"), required=False, help_text=_("Where the figure stood before, if known."))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea({"rows": 3}))

    field_order = ["metric", "program", "period_start", "period_end", "target_value", "direction", "baseline", "notes"]

    def __init__(self, *args, agreement: Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = metric_choices(agreement)
        self.fields["program"].queryset = agreement.programs.order_by("title")


def metric_choices(agreement: Agreement):
    """The built-in metrics and the agreement's own manual ones."""
    return Metric.objects.filter(Q(agreement__isnull=True) | Q(agreement=agreement)).order_by("kind", "name")


class MetricForm(Form):
    id_prefix = "metric"
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea({"rows": 3})
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.COUNT)


class MeasurementForm(_PeriodForm):
    id_prefix = "measurement"
    metric = forms.ModelChoiceField(queryset=Metric.objects.none(), label=_("Metric"))
    program = _program_field()
    value = _amount(label=_("Value"))
    source = forms.CharField(
        label=_("Source"), max_length=250, help_text=_("Where the figure comes from, e.g. the spring climate survey.")
    )

    field_order = ["metric", "program", "period_start", "period_end", "value", "source"]

    def __init__(self, *args, agreement: Agreement, correcting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if correcting:
            del self.fields["metric"]
        else:
            self.fields["metric"].queryset = agreement.manual_metrics.order_by("name")
        self.fields["program"].queryset = agreement.programs.order_by("title")


# Surveys.


class SurveyFilterForm(Form):
    id_prefix = "filter"
    agreement = forms.ModelChoiceField(
        queryset=Agreement.objects.none(), required=False, label=_("Agreement"), empty_label=_("All agreements")
    )
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(), required=False, label=_("Program"), empty_label=_("All programs")
    )
    template = forms.ModelChoiceField(
        queryset=SurveyTemplate.objects.none(), required=False, label=_("Questionnaire"), empty_label=_("All")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *SurveyStatus.choices], required=False
    )

    def __init__(self, *args, agreements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = agreements.order_by("title", "pk")
        self.fields["program"].queryset = Program.objects.filter(agreement__in=agreements).order_by("title", "pk")
        self.fields["template"].queryset = SurveyTemplate.objects.order_by("name")


class DistributionForm(Form):
    id_prefix = "links"
    size = forms.IntegerField(
        label=_("Number of links"),
        min_value=1,
        max_value=MAX_LINKS,
        help_text=_("One per student in the class. Each link works once."),
    )


class GroupConsentForm(Form):
    id_prefix = "consent"
    students_count = forms.IntegerField(label=_("Students with a guardian's consent"), min_value=1, max_value=10000)
    note = forms.CharField(
        label=_("How consent was collected"),
        required=False,
        max_length=250,
        help_text=_("For example: signed forms kept in the school office."),
    )


class ReviewForm(Form):
    id_prefix = "review"
    decision = forms.ChoiceField(choices=[("publish", _("Publish")), ("withhold", _("Withhold"))])


# The report.


def school_year(today: date) -> tuple[date, date]:
    """The school year (August 1 to July 31) that contains ``today``."""
    start_year = today.year if today.month >= 8 else today.year - 1
    return date(start_year, 8, 1), date(start_year + 1, 7, 31)


class ReportPeriodForm(Form):
    id_prefix = "period"
    start = DayField(label=_("From"))
    end = DayField(label=_("To"))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The period cannot end before it starts."))
        return data
