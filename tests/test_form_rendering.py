"""The project's select.html (templates/django/forms/widgets/) writes Django's option markup out
instead of including it per option, and config.forms.FormRenderer writes the same markup in
Python for plain selects; every select must still come out as Django renders it."""

from unittest import mock

from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from config.forms import FormRenderer
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
    assert settings.FORM_RENDERER == "config.forms.FormRenderer"
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


class Plain(forms.Form):
    """Selects the renderer writes in Python: text, lazy and safe labels, groups, awkward values and attrs."""

    plain = forms.ChoiceField(
        choices=[("", gettext_lazy("All postings")), ("1", "One & <b>two</b>"), ('a"b', mark_safe("<i>safe</i>"))],
        initial='a"b',
    )
    grouped = forms.ChoiceField(choices=[("", "---"), ("Group & <co>", [("a", "A"), ("b", 'B "quoted"')])], initial="b")
    many = forms.MultipleChoiceField(
        choices=[(1, "x"), (2, "y"), (3, "z")],
        widget=forms.SelectMultiple(attrs={"size": 6, "data-x": '<"x">', "hidden": False, "autofocus": True}),
        initial=[1, 3],
    )
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("pk"), required=False)
    typed = forms.TypedChoiceField(choices=[(7, "Seven"), (8, "Eight")], coerce=int, initial=8)


def test_plain_selects_are_written_in_python_as_the_template_writes_them(db):
    AgencyFactory(name="O'Brien & Sons Police")
    initial = {"organization": Organization.objects.get().pk}
    python = Plain(initial=initial).as_p()
    template = Plain(initial=initial, renderer=TemplatesSetting()).as_p()
    assert python == template
    assert "&lt;b&gt;two&lt;/b&gt;" in python and "<i>safe</i>" in python and 'value="a&quot;b" selected' in python
    # Every select of the form was written in Python: the template was never asked for one.
    with mock.patch.object(TemplatesSetting, "render", wraps=TemplatesSetting().render) as rendered:
        Plain(renderer=FormRenderer()).as_p()
    assert "django/forms/widgets/select.html" not in {call.args[0] for call in rendered.call_args_list}
    djangos = Plain(initial=initial, renderer=DjangoTemplates()).as_p()
    assert djangos != python  # Django's own template leaves blank lines
    assert _lines(djangos) == _lines(python)
