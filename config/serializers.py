"""Output serializers that read their fields by a plan made once per class.

DRF builds a ModelSerializer's fields anew for every serializer it makes (it reads the model's
fields and makes a field object for each), then reads every value of every row through a generic
lookup. For a page of 25 rows of 20 fields that was a third of an API list's time
(bench/hotspots.py). A read plan is made once per serializer class, from an instance made
without any request, and says for each readable field how to read it:

- a column, an annotation or a property: ``getattr`` on the row, written by the field's own
  ``to_representation``;
- a foreign key without a ``pk_field``: its id column, which is what DRF writes for it;
- a ``SerializerMethodField``: the method of the serializer at hand, so it sees this request;
- any other field that only reads its value (a dotted source, a list of ids): the planned
  field's own ``get_attribute`` and ``to_representation``, DRF's steps without making the
  field again;
- a field whose output may depend on the request (a nested serializer, a custom field that
  reads or writes in its own way, a default that needs the context): the field of the
  serializer at hand, made as DRF makes it.

Anything unusual on a row (a missing attribute, a callable, a mapping instead of an object)
takes DRF's own steps for that value, so the output is DRF's in every case;
tests/test_read_plans.py holds every API serializer to that, row for row.
"""

from collections.abc import Mapping

from rest_framework import fields, relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

# Set to False to serialize through DRF's own steps (tests compare the two).
ENABLED = True

# Fields whose get_attribute and to_representation use only the value and the field's own
# arguments: never the serializer, its context or the request.
_PLAIN = (
    fields.BigIntegerField,
    fields.BooleanField,
    fields.CharField,
    fields.ChoiceField,
    fields.DateField,
    fields.DateTimeField,
    fields.DecimalField,
    fields.DictField,
    fields.DurationField,
    fields.FloatField,
    fields.IntegerField,
    fields.JSONField,
    fields.ListField,
    fields.ReadOnlyField,
    fields.TimeField,
    fields.UUIDField,
    relations.ManyRelatedField,
    relations.PrimaryKeyRelatedField,
)
# A serializer that makes its fields in its own way may make them from its context: no plan.
_OWN_FIELDS = ("__init__", "get_fields", "fields", "_readable_fields")

_COLUMN, _FOREIGN_KEY, _METHOD, _FIELD, _BOUND = "column", "foreign key", "method", "field", "bound"


def _is_plain(field) -> bool:
    """Does ``field`` write a value without looking at its serializer or the request?"""
    if getattr(field.default, "requires_context", False):
        return False
    for cls in type(field).__mro__:
        if cls in _PLAIN:
            break
        if "to_representation" in vars(cls) or "get_attribute" in vars(cls):
            return False
    else:
        return False
    if isinstance(field, fields.ListField | fields.DictField):
        return _is_plain(field.child)
    if isinstance(field, relations.ManyRelatedField):
        return _is_plain(field.child_relation)
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return field.pk_field is None or _is_plain(field.pk_field)
    return True


def _step(field) -> tuple:
    name = field.field_name
    if type(field) is fields.SerializerMethodField:
        return name, _METHOD, field.method_name, None
    if not _is_plain(field):
        return name, _BOUND, None, None
    if len(field.source_attrs) == 1:
        if isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None:
            model = getattr(getattr(field.parent, "Meta", None), "model", None)
            try:
                model_field = model._meta.get_field(field.source_attrs[0])
            except Exception:  # not a model field: DRF's steps decide
                return name, _FIELD, None, field
            if model_field.concrete and (model_field.many_to_one or model_field.one_to_one):
                return name, _FOREIGN_KEY, model_field.attname, field
            return name, _FIELD, None, field
        if not isinstance(field, relations.RelatedField | fields.ListField | fields.DictField):
            return name, _COLUMN, field.source_attrs[0], field
    return name, _FIELD, None, field


_plans: dict[type, tuple | None] = {}


def _plan_for(cls) -> tuple | None:
    if cls in _plans:
        return _plans[cls]
    plan = None
    own = [c for c in cls.__mro__ if not c.__module__.startswith("rest_framework") and c not in (ReadPlanMixin, object)]
    if not any(name in vars(c) for c in own for name in _OWN_FIELDS):
        try:
            prototype = cls(context={})
            plan = tuple(_step(field) for field in prototype.fields.values() if not field.write_only)
        except Exception:  # a serializer that needs its context: DRF's steps
            plan = None
    _plans[cls] = plan
    return plan


def _drf(field, instance, out: dict) -> None:
    """DRF's own steps for one value (Serializer.to_representation)."""
    try:
        attribute = field.get_attribute(instance)
    except SkipField:
        return
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    out[field.field_name] = None if check_for_none is None else field.to_representation(attribute)


class ReadPlanMixin:
    """Write an instance by the class's read plan (module docstring); DRF's output, faster."""

    def to_representation(self, instance):
        plan = _plan_for(type(self)) if ENABLED else None
        if plan is None or isinstance(instance, Mapping):
            return super().to_representation(instance)
        out = {}
        for name, how, key, field in plan:
            if how is _COLUMN:
                try:
                    value = getattr(instance, key)
                except Exception:  # DRF's steps decide: default, null, skip or raise
                    _drf(field, instance, out)
                    continue
                if callable(value):
                    _drf(field, instance, out)
                else:
                    out[name] = None if value is None else field.to_representation(value)
            elif how is _FOREIGN_KEY:
                try:
                    out[name] = getattr(instance, key)
                except Exception:  # as for a column
                    _drf(field, instance, out)
            elif how is _METHOD:
                out[name] = getattr(self, key)(instance)
            elif how is _FIELD:
                _drf(field, instance, out)
            else:
                _drf(self.fields[name], instance, out)
        return out


class ReadPlanSerializer(ReadPlanMixin, serializers.Serializer):
    pass


class ReadPlanModelSerializer(ReadPlanMixin, serializers.ModelSerializer):
    pass
