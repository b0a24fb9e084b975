"""The project's select.html (templates/django/forms/widgets/) writes Django's option markup out
instead of including it per option; every select must still come out as Django renders it."""

from django import forms
from django.forms.renderers import DjangoTemplates

from accounts.models import Organization
from tests.factories import AgencyFactory


class Everything(forms.Form):
    plain = forms.ChoiceField(choices=[("1", "One & <b>two</b>"), ("2", "Two")], initial="2")
    grouped = forms.ChoiceField(choices=[("", "---"), ("Group", [("a", "A"), ("b", 'B "quoted"')])], initial="b")
    many = forms.MultipleChoiceField(
        choices=[(1, "x"), (2, "y"), (3, "z")], widget=forms.SelectMultiple(attrs={"size": 6}), initial=[1, 3]
    )
    maybe = forms.NullBooleanField()
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("pk"), required=False)


class OptionAttrs(forms.Select):
    def create_option(self, *args, **kwargs):
        option = super().create_option(*args, **kwargs)
        option["attrs"].update({"data-code": f"<{option['value']}>", "disabled": option["value"] == "2"})
        return option


class CustomOption(forms.Select):
    option_template_name = "django/forms/widgets/input_option.html"


def _lines(html: str) -> list[str]:
    return [line for line in html.splitlines() if line.strip()]


def test_the_project_renders_selects_through_its_own_template(settings, db):
    assert settings.FORM_RENDERER == "django.forms.renderers.TemplatesSetting"
    # Django's own select.html leaves a blank line after every option; ours does not.
    assert '&lt;/b&gt;</option>\n  <option value="2" selected>' in Everything().as_p()


def test_every_kind_of_select_renders_as_django_renders_it(db):
    AgencyFactory(name="O'Brien & Sons Police")
    form = Everything()
    form.fields["plain"].widget = OptionAttrs(choices=form.fields["plain"].choices)
    form.fields["maybe"].widget = CustomOption(choices=[("", "?"), ("true", "Yes")])
    ours = form.as_p()
    form.renderer = DjangoTemplates()
    djangos = form.as_p()
    assert 'data-code="&lt;1&gt;"' in ours and "disabled" in ours and "O&#x27;Brien &amp; Sons" in ours
    assert ours != djangos  # two renderers really ran
    assert _lines(ours) == _lines(djangos)
