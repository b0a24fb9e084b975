"""The form renderer: Django's TemplatesSetting, with plain selects written out in Python.

A select renders its template's loop once per option: a filter listing a busy agency's hundred
postings spent a tenth of the pipeline page there (bench/hotspots.py). ``select_html`` writes the
markup of templates/django/forms/widgets/select.html itself when every option uses Django's
option template and every label is text; any other select still renders through the template.
tests/test_form_rendering.py holds the two to the same bytes, and both to Django's own markup.
"""

from django.forms.renderers import TemplatesSetting
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _text(value) -> str:
    """``{{ value }}`` for a text value: escaped unless marked safe."""
    return conditional_escape(str(value))


def _attrs(attrs: dict) -> str | None:
    """attrs.html: ``name`` alone for True, ``name="value"`` otherwise, nothing for False."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {_text(name)}")
        elif isinstance(value, tuple):
            return None  # stringformat ("%s" % value) treats a tuple otherwise than str()
        else:
            out.append(f' {_text(name)}="{escape(str(value))}"')
    return "".join(out)


def select_html(widget: dict) -> str | None:
    """A select's markup as select.html writes it, or None when the template must write it."""
    head = _attrs(widget["attrs"])
    if head is None:
        return None
    out = [f'<select name="{_text(widget["name"])}"{head}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            if not isinstance(group_name, str | Promise):
                return None
            out.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            label = option["label"]
            if (
                option["template_name"] != OPTION_TEMPLATE
                or not isinstance(label, str | Promise)
                or isinstance(option["value"], tuple)
            ):
                return None
            attrs = _attrs(option["attrs"])
            if attrs is None:
                return None
            out.append(f'\n  <option value="{escape(str(option["value"]))}"{attrs}>{_text(label)}</option>')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")  # the renderer strips what the template file ends with
    return "".join(out)


class FormRenderer(TemplatesSetting):
    """TemplatesSetting, with selects written by ``select_html`` where it can."""

    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE and (html := select_html(context["widget"])) is not None:
            return html
        return super().render(template_name, context, request)
