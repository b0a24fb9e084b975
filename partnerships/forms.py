from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.enums import OrganizationKind, Role
from accounts.models import Organization, User
from partnerships.enums import AgreementStatus, DataCategory, DataDirection, LawfulBasis, ResponsibilityKind
from partnerships.models import AgreementParty


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class AgreementForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    lead_agency = forms.ModelChoiceField(
        label=_("Lead agency"), queryset=Organization.objects.filter(kind=OrganizationKind.AGENCY)
    )
    institutions = forms.ModelMultipleChoiceField(
        label=_("Institutions"),
        queryset=Organization.objects.filter(kind__in=OrganizationKind.institutions),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    review_interval_months = forms.IntegerField(
        label=_("Review every (months)"), min_value=1, max_value=120, initial=24
    )


class AgreementEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    review_interval_months = forms.IntegerField(label=_("Review every (months)"), min_value=1, max_value=120)


class _AgreementChildForm(forms.Form):
    def __init__(self, *args, agreement=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement = agreement
        if "party" in self.fields and agreement is not None:
            self.fields["party"].queryset = AgreementParty.objects.filter(agreement=agreement).select_related(
                "organization"
            )


class PartyForm(_AgreementChildForm):
    organization = forms.ModelChoiceField(
        label=_("Institution"), queryset=Organization.objects.filter(kind__in=OrganizationKind.institutions)
    )


class ObjectiveForm(_AgreementChildForm):
    description = forms.CharField(label=_("Objective"), max_length=1000)
    measure = forms.CharField(label=_("How it is measured"), max_length=250)
    target_on = forms.DateField(label=_("Target date"), widget=DateInput)


class ResponsibilityForm(_AgreementChildForm):
    party = forms.ModelChoiceField(label=_("Party"), queryset=AgreementParty.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=ResponsibilityKind.choices)
    description = forms.CharField(label=_("Who does what"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class FundingForm(_AgreementChildForm):
    party = forms.ModelChoiceField(label=_("Party"), queryset=AgreementParty.objects.none())
    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=0)
    currency = forms.RegexField(label=_("Currency"), regex=r"^[A-Za-z]{3}$", initial="USD", max_length=3)
    period_start = forms.DateField(label=_("Period start"), widget=DateInput)
    period_end = forms.DateField(label=_("Period end"), widget=DateInput)
    purpose = forms.CharField(label=_("Purpose"), max_length=250)


class DataTermForm(_AgreementChildForm):
    category = forms.ChoiceField(label=_("Category of student data"), choices=DataCategory.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=DataDirection.choices)
    purpose = forms.CharField(label=_("Purpose"), max_length=250)
    lawful_basis = forms.ChoiceField(label=_("Lawful basis"), choices=LawfulBasis.choices)
    retention_days = forms.IntegerField(label=_("Kept for (days)"), min_value=1, max_value=36500)


class SignForm(forms.Form):
    party = forms.ModelChoiceField(label=_("Signing for"), queryset=AgreementParty.objects.none())
    signer_title = forms.CharField(label=_("Your title"), max_length=150)

    def __init__(self, *args, parties=None, **kwargs):
        super().__init__(*args, **kwargs)
        if parties is not None:
            self.fields["party"].queryset = parties


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    effective_on = forms.DateField(label=_("Effective on"), widget=DateInput)


class RenewForm(forms.Form):
    starts_on = forms.DateField(label=_("New term starts on"), widget=DateInput, required=False)
    ends_on = forms.DateField(label=_("New term ends on"), widget=DateInput, required=False)


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("Signed PDF"))


def party_members(agreement):
    return (
        User.objects.filter(
            memberships__organization__agreement_parties__agreement=agreement, memberships__is_active=True
        )
        .exclude(memberships__role=Role.STUDENT)
        .distinct()
        .order_by("full_name")
    )


class MeetingForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Date and time"), widget=DateTimeInput)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    agenda = forms.CharField(
        label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("Attendees"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )

    def __init__(self, *args, agreement=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agreement is not None:
            self.fields["attendees"].queryset = party_members(agreement)


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)


class ActionItemForm(forms.Form):
    description = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    due_on = forms.DateField(label=_("Due on"), widget=DateInput)

    def __init__(self, *args, agreement=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agreement is not None:
            self.fields["owner"].queryset = party_members(agreement)


class AgreementFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any"))] + AgreementStatus.choices, required=False)
    party = forms.ModelChoiceField(label=_("Party"), queryset=Organization.objects.none(), required=False)
    expiring_within = forms.IntegerField(label=_("Expiring within (days)"), min_value=0, max_value=3650, required=False)
    review_due = forms.BooleanField(label=_("Review due"), required=False)
    incomplete = forms.BooleanField(label=_("Incomplete"), required=False)
    overdue_items = forms.BooleanField(label=_("With overdue action items"), required=False)
    activated_within = forms.IntegerField(
        label=_("Activated within (days)"), min_value=0, max_value=3650, required=False
    )

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["party"].queryset = organizations

    def clean_overdue_items(self):
        # A checkbox reads any text as "on"; a link's ``?overdue_items=`` must be 1 (or on, true).
        raw = str(self.data.get("overdue_items", "")).lower()
        if raw not in ("", "0", "1", "on", "true", "false"):
            raise forms.ValidationError(_("Use 1 to show only agreements with overdue action items."))
        return self.cleaned_data["overdue_items"]
