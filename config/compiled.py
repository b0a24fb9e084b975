"""Queries whose SQL is made once per shape, then run with each request's values.

Django turns a queryset into SQL on every evaluation: for a page of a list, building the reader's
scope, the annotations and the order, then compiling them, is 1 to 3 ms of CPU that gives the same
text every time for readers alike. Two kinds of query are kept here, each per process and
database, their SQL made from ids no row can have (markers), and each run copies the parameters
and puts the real values where the markers were:

- ``ByIds(build)``: a query that is the same for everyone but for a list of ids (the postings of
  a page of applications), made once per number of ids.
- ``Scoped(rows)``: a reader's list (``rows(user)``: their scope, annotations and order), made
  once per *shape of reader*: whether they are active and an admin, their birth date, and each
  active membership's role and organization kind in order, with which memberships share an
  organization; the day, time zone and language as well. It is built for a stand-in reader of
  that shape whose own id and organizations' ids are markers.

What keeps one reader's values out of another's SQL:

- Markers are substituted by value, everywhere they appear among the parameters; a marker that
  is not the reader's, or one written into the SQL's text, refuses the query. Every other
  parameter is a constant of the shape.
- Building runs no query: a scope that read rows to inline their ids (which the stand-in would
  not have) is refused, and such a list is read the ordinary way.
- With ``COMPILED_QUERIES_CHECK`` (on in the tests), every run also builds the reader's own
  queryset and compares its SQL and parameters with the kept ones, so the whole suite's readers
  and roles check it.
"""

import copy
import threading
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone, translation

# Ids no row has: far below any primary key, and unlike any constant a query is built with.
_MARKER_BASE = -(10**15)


class NotKept(Exception):
    """This query cannot be kept: it is read the ordinary way."""


def _is_marker(value) -> bool:
    return type(value) is int and value <= _MARKER_BASE


@contextmanager
def _no_queries(using: str):
    def refuse(execute, sql, params, many, context):
        raise NotKept("Building the query ran a query.")

    with connections[using].execute_wrapper(refuse):
        yield


def _rows(queryset: QuerySet, compiler, statement: tuple[str, list], using: str) -> list:
    """The rows of ``queryset`` read with ``statement``, made by its own iterable class (models,
    ``select_related``) with its prefetches, as evaluating it would."""
    ready = copy.copy(compiler)
    ready.as_sql = lambda *args, **kwargs: statement
    ready.connection = connections[using]
    rows = list(queryset._iterable_class(_Prepared(queryset, ready)))
    if queryset._prefetch_related_lookups and rows:
        prefetch_related_objects(rows, *queryset._prefetch_related_lookups)
    return rows


class _Prepared:
    """What ``ModelIterable`` reads of a queryset, with a compiler whose SQL is already made."""

    def __init__(self, queryset: QuerySet, compiler):
        self.db = queryset.db
        self.model = queryset.model
        self._fetch_mode = queryset._fetch_mode
        self._known_related_objects = {}
        self.query = self
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


class ByIds[M]:
    """``build(ids)`` run for any ids, its SQL compiled once per number of ids and database."""

    def __init__(self, build: Callable[[list[int]], QuerySet[M]]):
        self.build = build
        self._made: dict[tuple[str, int], tuple] = {}
        self._lock = threading.Lock()

    def _make(self, using: str, n: int) -> tuple:
        markers = [_MARKER_BASE - i for i in range(n)]
        with _no_queries(using):
            queryset = self.build(markers).using(using)
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
        places = [i for i, value in enumerate(params) if _is_marker(value)]
        if sorted(params[i] for i in places) != sorted(markers):
            raise ValueError("The ids of a compiled query must each appear once among its parameters.")
        order = [_MARKER_BASE - params[i] for i in places]  # which id goes in each place
        made = (queryset, compiler, sql, tuple(params), tuple(zip(places, order, strict=True)))
        with self._lock:
            self._made[(using, n)] = made
        return made

    def sql(self, ids: list[int], *, using: str) -> tuple[str, list]:
        """The SQL and parameters that ``run(ids)`` executes."""
        _queryset, _compiler, sql, params, places = self._made.get((using, len(ids))) or self._make(using, len(ids))
        values = list(params)
        for place, which in places:
            values[place] = ids[which]
        return sql, values

    def run(self, ids: list[int], *, using: str) -> list[M]:
        """The rows of ``build(ids)``, read with the SQL kept for this many ids."""
        if not ids:
            return []
        queryset, compiler, _sql, _params, _places = self._made.get((using, len(ids))) or self._make(using, len(ids))
        return _rows(queryset, compiler, self.sql(ids, using=using), using)


# Lists of a reader.


def _reader_shape(user) -> tuple[tuple, dict[int, int], object]:
    """What a reader's scope may depend on besides their ids, the value of each marker, and a
    stand-in reader of the same shape whose ids are the markers (once per request: kept on the
    user, like ``access.active_memberships``)."""
    found = getattr(user, "_compiled_shape", None)
    if found is None:
        found = user._compiled_shape = _made_shape(user)
    return found


def _made_shape(user) -> tuple[tuple, dict[int, int], object]:
    from accounts import access  # noqa: PLC0415 -- accounts depends on config, not the reverse
    from accounts.models import Membership, Organization, User  # noqa: PLC0415

    memberships = access.active_memberships(user)
    values = {_MARKER_BASE: user.pk}
    marker_of: dict[int, int] = {}
    stand_in = User(
        pk=_MARKER_BASE, is_superuser=user.is_superuser, is_active=user.is_active, birth_date=user.birth_date
    )
    kept = []
    for membership in memberships:
        org = membership.organization
        if org.pk not in marker_of:
            marker_of[org.pk] = marker = _MARKER_BASE - 1 - len(marker_of)
            values[marker] = org.pk
        organization = Organization(pk=marker_of[org.pk], kind=org.kind, time_zone=org.time_zone)
        kept.append(Membership(user=stand_in, organization=organization, role=membership.role, is_active=True))
    stand_in._active_memberships = kept
    shape = (
        user.is_active,
        user.is_superuser,
        user.birth_date,
        tuple(
            (marker_of[m.organization_id], m.organization.kind, m.organization.time_zone, m.role) for m in memberships
        ),
        timezone.localdate(),
        timezone.get_current_timezone_name(),
        translation.get_language(),
    )
    return shape, values, stand_in


def _substituted(params, values: dict[int, int]) -> list:
    """``params`` with each marker replaced by its value; a marker without one refuses."""
    out = []
    for value in params:
        if _is_marker(value):
            if value not in values:
                raise NotKept("A marker that is not the reader's.")
            value = values[value]
        elif isinstance(value, list | tuple) and any(_is_marker(v) for v in value):
            value = type(value)(values[v] if _is_marker(v) else v for v in value)
        out.append(value)
    return out


class KeptRows:
    """A reader's list for Django's paginator: its count and its slices, each read with kept SQL."""

    ordered = True

    def __init__(self, kept: "Scoped", user, using: str):
        self.kept, self.user, self.using = kept, user, using

    def count(self) -> int:
        return self.kept.count(self.user, using=self.using)

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("A kept list is read a page at a time.")
        return self.kept.page(self.user, index.start or 0, index.stop, using=self.using)

    def __len__(self) -> int:
        return self.count()


class Scoped:
    """A reader's list (``rows(user)``), its page and count SQL kept per shape of reader. The
    count is of ``counted(user)`` when given: the same rows without the joins that only name
    things on the page."""

    def __init__(self, rows: Callable[..., QuerySet], counted: Callable[..., QuerySet] | None = None):
        self.rows = rows
        self.counted = counted or rows
        self._made: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def for_reader(self, user, *, using: str = DEFAULT_DB_ALIAS) -> KeptRows:
        return KeptRows(self, user, using)

    def _make(self, key: tuple, build: Callable[[], QuerySet], using: str) -> tuple:
        made = self._made.get(key)
        if made is None:
            try:
                with _no_queries(using):
                    queryset = build()
                    compiler = queryset.query.get_compiler(using=using)
                    sql, params = compiler.as_sql()
                if _MARKER_TEXT in sql:
                    raise NotKept("A marker was written into the SQL's text.")
                made = (queryset, compiler, sql, tuple(params))
            except (NotKept, EmptyResultSet):  # nothing to read: the ordinary way says so at once
                made = _REFUSED
            with self._lock:
                if len(self._made) >= MAX_KEPT:
                    self._made.clear()  # shapes of readers and pages are few; this bounds the rest
                self._made[key] = made
        if made is _REFUSED:
            raise NotKept("This shape of reader is read the ordinary way.")
        return made

    def _statement(self, user, what: tuple, source, build, using: str) -> tuple[tuple, tuple[str, list]]:
        shape, values, stand_in = _reader_shape(user)
        made = self._make((*what, using, *shape), lambda: build(source(stand_in).using(using)), using)
        statement = (made[2], _substituted(made[3], values))
        if getattr(settings, "COMPILED_QUERIES_CHECK", False):
            _check(build(source(user).using(using)), statement, using)
        return made, statement

    def page(self, user, start: int, stop: int, *, using: str) -> list:
        def build(qs):
            return qs[start:stop]

        try:
            made, statement = self._statement(user, ("page", start, stop), self.rows, build, using)
        except NotKept:
            return list(build(self.rows(user).using(using)))
        return _rows(made[0], made[1], statement, using)

    def count(self, user, *, using: str) -> int:
        def build(qs):
            return qs.order_by().values("pk")

        try:
            _made, (sql, params) = self._statement(user, ("count",), self.counted, build, using)
        except NotKept:
            return self.counted(user).using(using).count()
        with connections[using].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)
            return cursor.fetchone()[0]


_REFUSED = object()
# How many statements a list keeps before it starts again.
MAX_KEPT = 512
# The digits every marker starts with: a marker in the SQL's text rather than its parameters.
_MARKER_TEXT = str(-_MARKER_BASE)[:8]


def _check(own: QuerySet, statement: tuple[str, list], using: str) -> None:
    """The kept statement is the reader's own query: the same SQL, the same parameters (in an
    order that may differ within an IN list, which Django builds from a set)."""
    own_sql, own_params = own.query.get_compiler(using=using).as_sql()
    sql, params = statement
    if own_sql != sql or sorted(map(repr, own_params)) != sorted(map(repr, params)):
        raise AssertionError(f"Kept SQL differs from the reader's own:\n{sql}\n{params}\n{own_sql}\n{own_params}")
