"""Forms check shape (types, lengths, required); rules that need the database live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.enums import Role
from accounts.models import Organization, User
from partnerships.enums import PartyRole
from programs.enums import BlackoutKind, Format, GradeBand, LocationKind, Topic
from programs.models import Program, Qualification


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"


class CatalogFilterForm(forms.Form):
    topic = forms.ChoiceField(choices=[("", _("All topics")), *Topic.choices], required=False)
    grade_band = forms.ChoiceField(choices=[("", _("All grades")), *GradeBand.choices], required=False)
    format = forms.ChoiceField(choices=[("", _("All formats")), *Format.choices], required=False)


class SessionFilterForm(CatalogFilterForm):
    grade_band = None
    starts_on = forms.DateField(required=False, label=_("From"), widget=DateInput)
    has_seats = forms.BooleanField(required=False, label=_("Only with free seats"))


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "agreement",
            "title",
            "description",
            "topic",
            "grade_band",
            "objectives",
            "format",
            "duration_minutes",
            "required_qualification",
            "default_capacity_seats",
        ]

    def __init__(self, *args, agreements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = agreements
        self.fields["required_qualification"].queryset = Qualification.objects.all()


def _party_querysets(program: Program):
    agreement = program.agreement
    schools = Organization.objects.filter(
        agreement_parties__agreement=agreement, agreement_parties__role=PartyRole.INSTITUTION
    )
    officers = User.objects.filter(
        memberships__organization__agreement_parties__agreement=agreement,
        memberships__organization__agreement_parties__role=PartyRole.LEAD_AGENCY,
        memberships__role=Role.OFFICER,
        memberships__is_active=True,
    ).distinct()
    return schools, officers


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput)
    location_kind = forms.ChoiceField(label=_("Location"), choices=LocationKind.choices)
    school = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False)
    venue = forms.CharField(max_length=250, required=False)
    join_url = forms.URLField(label=_("Join link"), required=False, assume_scheme="https")
    capacity_seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=10000)
    booking_cutoff_hours = forms.IntegerField(label=_("Booking closes (hours before)"), min_value=0, initial=48)
    waitlist_enabled = forms.BooleanField(label=_("Keep a waitlist when full"), required=False, initial=True)
    facilitators = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False)
    override_reason = forms.CharField(
        label=_("Reason to override a warning"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        schools, officers = _party_querysets(program)
        self.fields["school"].queryset = schools
        self.fields["facilitators"].queryset = officers
        self.fields["capacity_seats"].initial = program.default_capacity_seats


class BookingForm(forms.Form):
    institution = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("For"))
    group_name = forms.CharField(label=_("Group"), max_length=120)
    grade = forms.CharField(max_length=40, required=False)
    seats = forms.IntegerField(label=_("Students"), min_value=1, max_value=10000)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(self, *args, institution_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Organization.objects.filter(pk__in=institution_ids)


class RescheduleForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput)
    override_reason = forms.CharField(
        label=_("Reason to override a warning"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class CapacityForm(forms.Form):
    capacity_seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=10000)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class TermForm(forms.Form):
    name = forms.CharField(max_length=150)
    starts_on = forms.DateField(label=_("First day"), widget=DateInput)
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput)


class BlackoutForm(TermForm):
    kind = forms.ChoiceField(choices=BlackoutKind.choices)


class CalendarImportForm(forms.Form):
    file = forms.FileField(label=_("iCalendar file (.ics)"))
    as_terms = forms.BooleanField(label=_("The events are terms (not closures)"), required=False)


class SessionRequestForm(forms.Form):
    institution = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("For"))
    window_starts_on = forms.DateField(label=_("Earliest day"), widget=DateInput)
    window_ends_on = forms.DateField(label=_("Latest day"), widget=DateInput)
    preferred_start_time = forms.TimeField(
        label=_("Preferred start time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    group_name = forms.CharField(label=_("Group"), max_length=120)
    seats = forms.IntegerField(label=_("Students"), min_value=1, max_value=10000)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(self, *args, institution_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Organization.objects.filter(pk__in=institution_ids)


class ScheduleRequestForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    facilitators = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False)
    override_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, program: Program, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = _party_querysets(program)[1]


class AttendanceForm(forms.Form):
    notes = forms.CharField(label=_("Facilitator notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, bookings, **kwargs):
        super().__init__(*args, **kwargs)
        self.bookings = list(bookings)
        for booking in self.bookings:
            self.fields[f"attended_{booking.pk}"] = forms.IntegerField(
                label=_("%(group)s (%(seats)s booked)") % {"group": booking.group_name, "seats": booking.seats},
                min_value=0,
                max_value=10000,
                initial=booking.attended_count if booking.attended_count is not None else booking.seats,
            )

    def attended(self) -> dict[int, int]:
        return {b.pk: self.cleaned_data[f"attended_{b.pk}"] for b in self.bookings}
