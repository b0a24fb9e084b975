"""Figures of related rows for a list, one correlated subquery each.

``annotate(Count("children"), Sum("others__x"))`` joins every relation it names, and their rows
multiply: an agreement's six child tables became thousands of joined rows per agreement, which
``COUNT(DISTINCT ...)`` then had to undo, and a sum of each placement's hours made PostgreSQL
join and group every hours entry of the state before it could take a page of 25 placements.
A subquery per figure reads only the children of the rows it returns (bench/README.md).
"""

from django.db.models import Count, Field, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce


def _per_outer_row(rows: QuerySet, link: str) -> QuerySet:
    return rows.filter(**{link: OuterRef("pk")}).order_by().values(link)


def count_of(rows: QuerySet, link: str) -> Coalesce:
    """How many of ``rows`` point to the outer row through their foreign key ``link`` (0 if none)."""
    counted = _per_outer_row(rows, link).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def sum_of(rows: QuerySet, field: str, link: str, *, output_field: Field, zero) -> Coalesce:
    """The sum of ``field`` over the ``rows`` that point to the outer row through ``link``
    (``zero`` if none)."""
    summed = _per_outer_row(rows, link).annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(Subquery(summed, output_field=output_field), Value(zero, output_field=output_field))
