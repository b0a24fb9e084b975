"""Strict query filters for the API: a malformed value is a 400 with a field error,
never silently ignored and never a database error."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1


class StrictFilterSet(filters.FilterSet):
    """A filter named in the query must carry a value: ``?kind=`` is an error, not "all"."""

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name, "").strip() == "":
                self.form.add_error(name, "This filter may not be blank.")
                valid = False
        return valid


class IdFilter(filters.Filter):
    """Filter by a related object's id. An id outside the caller's scope matches nothing."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class TrueFalseFilter(filters.ChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{self.field_name: value == "true"})


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, without building the filter form when the query names none of
    the view's filters: with no filter asked for, the FilterSet would return the queryset as it
    is (every filter here skips an absent value), after building and validating a form of every
    filter on each request. A parameter that starts with a filter's name (``starts_after`` for
    a range filter named ``starts``) counts as asking."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
