from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.enums import ROLES_BY_KIND, Role


class SignupForm(forms.Form):
    """Extra fields of allauth's sign-up form: only a name, nothing more."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)

    def signup(self, request, user):
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organization is not None:
            allowed = ROLES_BY_KIND.get(organization.kind, ())
            self.fields["role"].choices = [(r.value, r.label) for r in allowed]
