"""Figures computed from the database, kept in the cache until a table they read is written.

A home panel or a report runs tens of queries and renders a template; the tables behind it change
far less often than people open it. ``cached(key, compute)`` keeps ``compute()``'s result with the
generation of every table its queries read, and returns it for as long as none of those tables has
been written.

Every INSERT, UPDATE, DELETE or TRUNCATE that goes through Django's connection (services, the
admin, bulk updates, raw SQL, the retention purge) gives the tables it writes a new generation:
at once, and again when its transaction commits, so that a figure computed meanwhile from the rows
as they were before the commit is not kept as current. Any other statement that is not a read
(DDL, say) renews every generation. The writes are seen by an execute wrapper on every connection,
so no service has to remember to invalidate anything.

A write can say which agreement's rows it touches (``rows_of``: a booking, an hour logged, a survey
response), and a
figure which agreements' rows it reads (``Figure.within``: a report, a coordinator's charts). Such
a write renews the table's generation and that agreement's generation of it; any other write of
the table renews its generation and the one that stands for "rows of any agreement". A figure
within some agreements checks those and no other agreement's: at state size a booking or an hour
is written somewhere every minute or so, and about one in a thousand of them is in the agreements
a coordinator reads. Only the tables in SCOPES can be written so, and a write that does not say
which rows it touches counts for every agreement.

Tables named in TABLE_CACHE_UNTRACKED (the record of reads, which agency staff write a row of for
every student record they open) are left out: their writes renew nothing, which saves every such
read a round trip to the cache, and a figure that reads one of them is computed every time, never
kept.

What it cannot see: a write by another client of the database (psql, a restore), and a generation
that could not be written because the cache was unreachable. Entries therefore also expire after
TABLE_CACHE_SECONDS (10 minutes by default; 0 turns the cache off), and a process that failed to
reach the cache leaves it alone for a while and then trusts no entry older than the failure.

Generations are kept without expiry. In Redis use a ``volatile-*`` eviction policy (or none), so
that only entries are evicted; an evicted generation only costs a recomputation, never a stale
figure, because an entry always records the generations it was computed at.
"""

import functools
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.signals import connection_created
from django.utils import timezone

logger = logging.getLogger(__name__)

# The generation that every statement of unknown effect renews, and that every entry records.
EVERYTHING = "*"
# How long a process leaves the cache alone after failing to reach it.
BACKOFF_SECONDS = 30

# The tables whose writes can say, with ``rows_of``, which rows of a scope they touch, by scope.
SCOPES = {
    "agreement": frozenset(
        {
            "programs_session",
            "programs_booking",
            "internships_hoursentry",
            "evaluations_surveyinvitation",
            "evaluations_response",
            "evaluations_answer",
        }
    ),
}
_SCOPE_OF = {table: scope for scope, tables in SCOPES.items() for table in tables}

_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
_TRUNCATE = re.compile(r"^\s*TRUNCATE\b", re.I)
_WITH = re.compile(r"^\s*WITH\b", re.I)
_WRITE_IN_WITH = re.compile(r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
_NO_WRITE = re.compile(
    r"^\s*(?:SELECT|VALUES|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|END|SET|RESET|SHOW|EXPLAIN|PRAGMA|ANALYZE|"
    r"DISCARD|DEALLOCATE|LISTEN|NOTIFY)\b",
    re.I,
)
_READ = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.I)
_QUOTED = re.compile(r'"(\w+)"')


def written_tables(sql) -> set[str] | str:
    """The tables ``sql`` writes: their names, none for a read, or EVERYTHING for a statement
    whose effect on the rows is not known from its text."""
    if not isinstance(sql, str):
        return EVERYTHING
    if match := _WRITE.match(sql):
        return {match.group(1)}
    if _NO_WRITE.match(sql):
        return set()
    if _WITH.match(sql):
        return set(_WRITE_IN_WITH.findall(sql))
    if _TRUNCATE.match(sql):
        return set(_QUOTED.findall(sql)) or EVERYTHING
    return EVERYTHING


def read_tables(sql) -> set[str]:
    """The names after FROM and JOIN in ``sql``: every table it reads, and perhaps a few words
    that are not tables (``EXTRACT(YEAR FROM "t"."c")``), which only add a dependency."""
    return set(_READ.findall(sql)) if isinstance(sql, str) else set()


@functools.cache
def _all_tables() -> frozenset[str]:
    return frozenset(model._meta.db_table for model in apps.get_models(include_auto_created=True))


# Per thread: the sets that computations in progress record their reads into, how many entries
# this thread has stored (a write after a store must renew its tables again), and when this
# process last failed to reach the cache (a monotonic deadline and a wall-clock moment).
_local = threading.local()
_unreachable = {"until": 0.0, "since": 0.0}


def _recorders() -> list[set[str]]:
    if not hasattr(_local, "recorders"):
        _local.recorders = []
    return _local.recorders


def _declared() -> list[tuple[str, int, frozenset[str]]]:
    if not hasattr(_local, "declared"):
        _local.declared = []
    return _local.declared


def _stores() -> int:
    return getattr(_local, "stores", 0)


def _enabled() -> bool:
    return settings.TABLE_CACHE_SECONDS > 0 and time.monotonic() >= _unreachable["until"]


def _failed(what: str, error: Exception) -> None:
    _unreachable["until"] = time.monotonic() + BACKOFF_SECONDS
    _unreachable["since"] = time.time()
    logger.warning("Table cache: %s failed (%s); not using the cache for %s s.", what, error, BACKOFF_SECONDS)


def _database(connection) -> str:
    return str(connection.settings_dict["NAME"])


def _generation_key(database: str, name: str) -> str:
    return f"tablecache:gen:{database}:{name}"


# A generation is named by its table, or by its table and the rows it stands for: the rows of one
# agreement ("programs_booking|agreement=7") or of any ("programs_booking|unscoped").


def _scoped_name(table: str, scope: str, pk: int) -> str:
    return f"{table}|{scope}={pk}"


def _unscoped_name(table: str) -> str:
    return f"{table}|unscoped"


def _table_of(name: str) -> str:
    return name.partition("|")[0]


@contextmanager
def rows_of(scope: str, pk: int, *models) -> Iterator[None]:
    """Within this block, writes of the tables of ``models`` touch only rows of ``scope`` ``pk``
    (the sessions and bookings of one agreement): they renew that agreement's generation of the
    tables, not the one figures within other agreements check. Writes of other tables count as
    usual. Say it only where the rows written are known to be that agreement's, as under the lock
    of one session: a wrong scope would leave another agreement's figures stale."""
    tables = frozenset(model._meta.db_table for model in models)
    if not tables or not tables <= SCOPES.get(scope, frozenset()):
        raise ValueError(f"Writes of {sorted(tables)} cannot be scoped by {scope!r}; see SCOPES.")
    declared = _declared()
    declared.append((scope, pk, tables))
    try:
        yield
    finally:
        declared.pop()


def _written_names(tables: Iterable[str]) -> list[str]:
    """The generations a write of ``tables`` renews: each table's own, and for a table that can
    be scoped, the generation of the rows the enclosing ``rows_of`` names or else of any rows."""
    scoped = {table: _scoped_name(table, scope, pk) for scope, pk, tables_ in _declared() for table in tables_}
    names = []
    for table in tables:
        names.append(table)
        if table in _SCOPE_OF:
            names.append(scoped.get(table) or _unscoped_name(table))
    return names


def _read_names(tables: Iterable[str], within: tuple[str, frozenset[int]] | None) -> list[str]:
    """The generations a figure that read ``tables`` checks: each table's own, except for a
    figure ``within`` some rows of a scope, which checks, for each table of that scope, the
    generations of those rows and of writes that did not say which rows they touch."""
    names = []
    for table in tables:
        if within is not None and _SCOPE_OF.get(table) == within[0]:
            names.append(_unscoped_name(table))
            names += [_scoped_name(table, within[0], pk) for pk in sorted(within[1])]
        else:
            names.append(table)
    return names


# Writes.


def _track(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    recorders = _recorders()
    if recorders:
        reads = read_tables(sql)
        for recorder in recorders:
            recorder |= reads
    written = written_tables(sql)
    if written == EVERYTHING:
        _written(context["connection"], (EVERYTHING,))
    elif written and (tracked := [table for table in written if table not in _untracked()]):
        _written(context["connection"], tuple(_written_names(tracked)))
    return result


def _untracked() -> frozenset[str]:
    return frozenset(settings.TABLE_CACHE_UNTRACKED)


def _written(connection, names: tuple[str, ...]) -> None:
    if not _enabled():
        return
    if not connection.in_atomic_block:
        _renew(connection, names)  # autocommit: the write is already committed
        return
    # Renew now, so that a figure read back in this transaction is computed afresh, and again at
    # commit, for figures computed by others from the rows before it. Only the first write of a
    # generation (or the first since this thread stored an entry) needs renewing now.
    pending = connection.__dict__.setdefault("_tablecache_pending", {})
    stores = _stores()
    now = [name for name in names if pending.get(name) != stores]
    for name in names:
        pending[name] = stores
    if now:
        _renew(connection, now)
    connection.on_commit(functools.partial(_committed, connection), robust=True)


def _committed(connection) -> None:
    pending = connection.__dict__.pop("_tablecache_pending", None)
    if pending:
        _renew(connection, tuple(pending))


def _renew(connection, names: Iterable[str]) -> None:
    if not _enabled():
        return
    token = secrets.token_hex(8)
    database = _database(connection)
    try:
        cache.set_many({_generation_key(database, name): token for name in names}, timeout=None)
    except Exception as error:  # an unreachable cache must not fail the write
        _failed("renewing a table's generation", error)


def track_writes(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: watch every statement of the new connection."""
    if _track not in connection.execute_wrappers:
        connection.execute_wrappers.append(_track)


def install() -> None:
    connection_created.connect(track_writes, dispatch_uid="config.tablecache.track_writes")
    for connection in connections.all(initialized_only=True):
        track_writes(None, connection)


# Reads.


def _generations(database: str, names: Iterable[str]) -> dict[str, str]:
    keys = {_generation_key(database, name): name for name in names}
    return {keys[key]: value for key, value in cache.get_many(list(keys)).items()}


def _snapshot(database: str, scoped: Iterable[str] = ()) -> dict[str, str]:
    """The generation of every table now, and of the ``scoped`` names; one never written yet is
    given one, so that no entry ever records a missing generation (which a later eviction could
    seem to match)."""
    names = [*_all_tables(), EVERYTHING, *scoped]
    found = _generations(database, names)
    missing = [name for name in names if name not in found]
    for name in missing:
        cache.add(_generation_key(database, name), secrets.token_hex(8), timeout=None)
    if missing:
        found.update(_generations(database, missing))
    return found


def entry_key(database: str, key: tuple) -> str:
    return f"tablecache:entry:{database}:{blake2b(repr(key).encode(), digest_size=20).hexdigest()}"


@dataclass(frozen=True)
class Figure[T]:
    """One value to read through the cache: what it is for (``key``), how to compute it, and,
    for a value that lists rows by a moment still to come, the first such moment."""

    key: tuple[Hashable, ...]
    compute: Callable[[], T]
    fresh_until: Callable[[T], datetime | None] | None = None
    # Tables the value depends on through rows read before computing it (an object passed in).
    reads: tuple[str, ...] = ()
    # The only rows of the tables of a scope the value reads, as ("agreement", {agreement ids}):
    # it is kept through writes of other agreements' rows. Every query it runs on those tables
    # must be limited to these rows.
    within: tuple[str, frozenset[int]] | None = None


def cached[T](
    key: tuple[Hashable, ...],
    compute: Callable[[], T],
    *,
    fresh_until: Callable[[T], datetime | None] | None = None,
    reads: tuple[str, ...] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> T:
    """``compute()``, or the value it gave last time for ``key`` if no table it read has been
    written since (and, with ``fresh_until``, if the moment that value gives has not come).

    ``key`` must name everything else the value depends on: whose figures, in which language and
    time zone, on which day (``accounts.access.viewer_key``).
    """
    return cached_many([Figure(key, compute, fresh_until, reads)], using=using)[0]


def cached_many(figures: list[Figure], *, using: str = DEFAULT_DB_ALIAS, parts_only: bool = False) -> list:
    """``cached`` for several figures at once, in two reads of the cache when all are there.

    With ``parts_only`` the figures are kept only as parts of a figure being computed for the
    cache (a report's figures read through the metric sources): when that figure is computed
    again after a write, the parts whose tables were not written come from the cache. Outside
    such a computation (a report for a period chosen by hand) they are computed every time, so
    that asking for period after period fills nothing."""
    if not _enabled() or (parts_only and not _recorders()):
        return [figure.compute() for figure in figures]
    database = _database(connections[using])
    names = [entry_key(database, figure.key) for figure in figures]
    try:
        entries = cache.get_many(names)
        values = _still_valid(entries, database)
        missing = [i for i, name in enumerate(names) if name not in values]
        scoped = {
            name
            for i in missing
            if figures[i].within is not None
            for name in _read_names(SCOPES[figures[i].within[0]], figures[i].within)
        }
        snapshot = _snapshot(database, scoped) if missing else {}
    except Exception as error:  # figures are computed without the cache then
        _failed("reading", error)
        return [figure.compute() for figure in figures]
    found = {i: values[name] for i, name in enumerate(names) if name in values}
    recorders = _recorders()
    for tables in ({_table_of(read) for read in entries[name][0]} for name in values):
        for recorder in recorders:
            recorder.update(tables)  # an enclosing computation depends on what this one read
    stored = {}
    for i in missing:
        found[i], entry = _computed(figures[i], snapshot)
        if entry is not None:
            stored[names[i]] = entry
    if stored:
        try:
            cache.set_many(stored, timeout=settings.TABLE_CACHE_SECONDS)
        except Exception as error:
            _failed("storing", error)
        _local.stores = _stores() + 1
    return [found[i] for i in range(len(figures))]


def part[T](
    key: tuple[Hashable, ...],
    compute: Callable[[], T],
    *,
    fresh_until: Callable[[T], datetime | None] | None = None,
    within: tuple[str, frozenset[int]] | None = None,
) -> T:
    """One figure kept only as a part of a figure being kept (``cached_many(parts_only=True)``):
    a home panel's count that reads other tables than the rest of the panel's figures, or its
    charts, which read only the rows of the agreements the person coordinates (``within``)."""
    return cached_many([Figure(key, compute, fresh_until, within=within)], parts_only=True)[0]


def _computed(figure: Figure, snapshot: dict[str, str]):
    """The figure's value, and the entry that keeps it (None if it cannot be kept)."""
    reads: set[str] = set(figure.reads)
    recorders = _recorders()
    recorders.append(reads)
    try:
        value = figure.compute()
    finally:
        recorders.pop()
    names = _read_names(sorted(reads & _all_tables()), figure.within)
    if any(name not in snapshot for name in names):
        return value, None  # a generation went missing meanwhile: keep nothing rather than guess
    if reads & _untracked():
        return value, None  # its writes renew nothing: it cannot be kept
    until = figure.fresh_until(value) if figure.fresh_until else None
    generations = tuple(snapshot[name] for name in [*names, EVERYTHING])
    return value, (tuple(names), generations, until.timestamp() if until else None, time.time(), value)


def _still_valid(entries: dict, database: str) -> dict:
    """Of ``entries`` (name: entry), the values still current: no generation they read renewed since,
    their moment not come, and stored after this process last failed to reach the cache."""
    now = timezone.now().timestamp()
    candidates = {
        name: entry
        for name, entry in entries.items()
        if (entry[2] is None or now < entry[2]) and entry[3] > _unreachable["since"]
    }
    if not candidates:
        return {}
    current = _generations(database, {EVERYTHING, *(t for entry in candidates.values() for t in entry[0])})
    return {
        name: entry[4]
        for name, entry in candidates.items()
        if all(
            current.get(table) == generation
            for table, generation in zip([*entry[0], EVERYTHING], entry[1], strict=True)
        )
    }
