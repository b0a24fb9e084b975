"""Queries whose SQL is made once per shape, then run with each request's values.

Django turns a queryset into SQL on every evaluation. For a query that is the same for every
reader but for a list of ids (the postings of a page of applications: about 1 ms of CPU for two
array subqueries, two joins and a deferred load), that work gives the same text every time.
``ByIds(build)`` makes the query of ``n`` ids once per process and database: it builds
``build(ids)`` with ids no row can have, compiles it, and records where those ids sit among the
parameters. Each later run copies the parameters, puts the real ids in those places, and lets
Django's own ``ModelIterable`` execute the kept SQL and make the rows, ``select_related``
included.

Only ids are ever substituted, and only where the compiled parameters hold exactly the markers
put in, each once; every other parameter is a constant of ``build``. So ``build`` must depend on
nothing but its ids (no reader, no clock): that is what makes the SQL the same for everyone, and
it is why scoped queries, whose shape follows the reader, are not made this way.
"""

import copy
import threading
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ModelIterable

# Ids no row has: far below any primary key, and unlike any constant a query is built with.
_MARKER_BASE = -(10**15)


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
        queryset = self.build(markers).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        places = [i for i, value in enumerate(params) if isinstance(value, int) and value <= _MARKER_BASE]
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
        queryset, compiler, sql, _params, _places = self._made.get((using, len(ids))) or self._make(using, len(ids))
        ready = copy.copy(compiler)
        statement = self.sql(ids, using=using)
        ready.as_sql = lambda *args, **kwargs: statement
        ready.connection = connections[using]
        return list(ModelIterable(_Prepared(queryset, ready)))
