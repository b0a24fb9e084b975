"""Forms check shape (types, lengths, required); rules that need the database live in services."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.enums import GradeLevel
from accounts.models import Organization, User
from internships.enums import ApplicationStatus, PlacementStatus, PostingStatus, RejectionReason
from internships.models import ClearanceKind, Posting


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


class Form(forms.Form):
    """A form whose field ids start with its own prefix: a page shows several forms, and a label
    must point at its own field."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


YES_NO = [("", _("Either")), ("yes", _("Yes")), ("no", _("No"))]


def yes_no(value: str):
    """The filter's "yes"/"no"/"" as True/False/None."""
    return {"yes": True, "no": False}.get(value)


# Postings.


class PostingFilterForm(Form):
    id_prefix = "filter"
    agency = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False, empty_label=_("All agencies"))
    starts_after = forms.DateField(label=_("Starts on or after"), required=False, widget=DateInput)
    remote = forms.ChoiceField(label=_("Remote"), choices=YES_NO, required=False)
    paid = forms.ChoiceField(label=_("Paid"), choices=YES_NO, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any status")), *PostingStatus.choices], required=False
    )
    all = forms.BooleanField(label=_("Also show postings I cannot apply to"), required=False)

    def __init__(self, *args, agencies, student: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        if student:
            del self.fields["status"]
        else:
            del self.fields["all"]


class PostingForm(Form):
    id_prefix = "posting"
    agreement = forms.ModelChoiceField(queryset=None, label=_("Agreement"))
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=_textarea(5))
    unit = forms.CharField(max_length=150, required=False, help_text=_("The unit or division, e.g. Community Affairs."))
    location = forms.CharField(max_length=250, required=False)
    is_remote = forms.BooleanField(label=_("Remote"), required=False)
    start_date = forms.DateField(label=_("Starts"), widget=DateInput)
    end_date = forms.DateField(label=_("Ends"), widget=DateInput)
    hours_per_week = forms.IntegerField(label=_("Hours per week"), min_value=1, max_value=40)
    required_hours = forms.IntegerField(
        label=_("Hours required to complete"),
        min_value=1,
        max_value=2000,
        help_text=Posting.required_hours.field.help_text,
    )
    slots = forms.IntegerField(label=_("Places"), min_value=1, max_value=500)
    apply_by = forms.DateField(label=_("Apply by"), widget=DateInput, help_text=Posting.apply_by.field.help_text)
    min_age = forms.IntegerField(label=_("Minimum age on the start date"), min_value=0, max_value=99, required=False)
    grade_levels = forms.MultipleChoiceField(
        label=_("Open to levels"),
        choices=GradeLevel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every level."),
    )
    institutions = forms.ModelMultipleChoiceField(
        label=_("Open to students of"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every school of the agreement."),
    )
    requirements = forms.CharField(widget=_textarea(), required=False)
    is_paid = forms.BooleanField(label=_("Paid"), required=False)
    offer_valid_days = forms.IntegerField(label=_("Days to answer an offer"), min_value=1, max_value=60, initial=7)

    def __init__(self, *args, agreements=None, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        if agreements is None:
            del self.fields["agreement"]
        else:
            self.fields["agreement"].queryset = agreements
        self.fields["institutions"].queryset = institutions

    def changes(self) -> dict:
        """What the person changed (an edit passes only these to the service)."""
        data = self.cleaned_data
        return {name: data[name] for name in self.changed_data if name not in ("agreement", "institutions")}


# Applications.


class ApplicationForm(Form):
    id_prefix = "application"
    statement = forms.CharField(label=_("Why I am applying"), widget=_textarea(6), max_length=5000)
    availability = forms.CharField(
        label=_("When I am available"), max_length=500, help_text=_("Days and times you can attend.")
    )
    resume = forms.FileField(
        label=_("Résumé (PDF, at most 5 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )


class ApplicationFilterForm(Form):
    """``postings``: (id, label) of the postings the person may filter by; any other id is refused."""

    id_prefix = "filter"
    posting = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    status = forms.ChoiceField(choices=[("", _("Any status")), *ApplicationStatus.choices], required=False)

    def __init__(self, *args, postings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["posting"].choices = [("", _("All postings")), *postings]


class InterviewForm(Form):
    id_prefix = "interview"
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput)
    duration_minutes = forms.IntegerField(label=_("Minutes"), min_value=5, max_value=480, initial=30)
    location = forms.CharField(label=_("Where (or the call link)"), max_length=250)
    notes = forms.CharField(
        widget=_textarea(), required=False, max_length=2000, help_text=_("What to bring, who to ask for.")
    )


class OfferForm(Form):
    id_prefix = "offer"
    message = forms.CharField(label=_("Message to the student"), widget=_textarea(), required=False, max_length=2000)


class RejectForm(Form):
    id_prefix = "reject"
    reason = forms.ChoiceField(choices=RejectionReason.choices)
    note = forms.CharField(widget=_textarea(2), required=False, max_length=2000)


class NoteForm(Form):
    id_prefix = "note"
    note = forms.CharField(label=_("Note (optional)"), widget=_textarea(2), required=False, max_length=2000)


class AcceptForm(Form):
    """A minor names a parent or guardian, who is asked for consent at once (or later)."""

    id_prefix = "accept"
    guardian_name = forms.CharField(label=_("Parent or guardian's full name"), max_length=150, required=False)
    guardian_email = forms.EmailField(label=_("Parent or guardian's email"), required=False)


# Consent.


class GuardianForm(Form):
    id_prefix = "guardian"
    guardian_name = forms.CharField(label=_("Parent or guardian's full name"), max_length=150)
    guardian_email = forms.EmailField(label=_("Parent or guardian's email"))


class PaperConsentForm(Form):
    id_prefix = "paper"
    decision = forms.ChoiceField(
        label=_("The guardian"),
        choices=[("granted", _("Granted consent")), ("refused", _("Refused consent"))],
        widget=forms.RadioSelect,
    )
    guardian_name = forms.CharField(label=_("Guardian's full name"), max_length=150)
    scan = forms.FileField(
        label=_("Scan of the signed form (PDF, at most 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    note = forms.CharField(widget=_textarea(2), required=False, max_length=500)


class RevokeForm(Form):
    id_prefix = "revoke"
    note = forms.CharField(label=_("How the guardian withdrew consent"), widget=_textarea(2), max_length=500)


class ConsentDecisionForm(Form):
    id_prefix = "consent"
    signed_name = forms.CharField(label=_("Your full name (as your signature)"), max_length=150)


# Placements.


class MentorForm(Form):
    id_prefix = "mentor"
    mentor = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Mentor"))

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = officers


class ReasonForm(Form):
    id_prefix = "reason"
    reason = forms.CharField(widget=_textarea(2), max_length=300)


class EndForm(Form):
    id_prefix = "end"
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(PlacementStatus.COMPLETED, _("Completed")), (PlacementStatus.ENDED_EARLY, _("Ended early"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason (when ending early)"), widget=_textarea(2), required=False, max_length=300)


class HoursForm(Form):
    id_prefix = "hours"
    day = forms.DateField(widget=DateInput)
    hours = forms.DecimalField(
        min_value=Decimal("0.25"), max_value=24, max_digits=4, decimal_places=2, step_size=Decimal("0.25")
    )
    activity = forms.CharField(label=_("What I did"), max_length=300)


class ReturnHoursForm(Form):
    id_prefix = "return"
    comment = forms.CharField(label=_("What to correct"), max_length=500)


class CheckInForm(Form):
    id_prefix = "check_in"
    held = forms.TypedChoiceField(
        label=_("Was the check-in held?"),
        choices=[("yes", _("Yes, it was held")), ("no", _("No, it was missed"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    held_on = forms.DateField(label=_("Held on"), required=False, widget=DateInput)
    notes = forms.CharField(widget=_textarea(4), max_length=5000)
    observable_setting = forms.BooleanField(
        label=_("Held where other adults could see us"),
        required=False,
        help_text=_("Required with a student under 18."),
    )


class EvaluationForm(Form):
    id_prefix = "evaluation"
    rating = forms.TypedChoiceField(
        label=_("Overall, from 1 (poor) to 5 (excellent)"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    went_well = forms.CharField(label=_("What went well"), widget=_textarea(), required=False, max_length=5000)
    to_improve = forms.CharField(label=_("What to improve"), widget=_textarea(), required=False, max_length=5000)


# Clearances.


class ClearanceKindForm(Form):
    id_prefix = "kind"
    agency = forms.ModelChoiceField(queryset=Organization.objects.none())
    name = forms.CharField(max_length=150)
    description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class ClearanceForm(Form):
    id_prefix = "clearance"
    officer = forms.ModelChoiceField(queryset=User.objects.none())
    kind = forms.ModelChoiceField(queryset=ClearanceKind.objects.none(), label=_("Clearance"))
    reference = forms.CharField(max_length=100, required=False, help_text=_("Certificate or case number."))
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput)
    expires_on = forms.DateField(label=_("Expires on"), widget=DateInput)

    def __init__(self, *args, officers, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers
        self.fields["kind"].queryset = kinds
