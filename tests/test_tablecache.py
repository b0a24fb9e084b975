"""The table cache (config/tablecache.py): a figure is served from the cache until a table it
read is written, however the write is made, and never once its rows may have changed."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.enums import Role
from accounts.models import Membership, Organization
from config import tablecache
from internships import selectors
from internships.enums import AccessPurpose
from internships.models import StudentRecordAccess
from programs.models import Session
from tests.factories import AgencyFactory, SchoolFactory, member
from tests.internships.factories import application as application_of
from tests.internships.factories import make_student, world_posting

ORGS = Organization._meta.db_table
ACCESSES = StudentRecordAccess._meta.db_table
MEMBERSHIPS = Membership._meta.db_table


@pytest.mark.parametrize(
    ("sql", "written"),
    [
        ('INSERT INTO "programs_booking" ("seats") VALUES (%s)', {"programs_booking"}),
        ('INSERT OR IGNORE INTO "internships_checkin" ("placement_id") VALUES (1)', {"internships_checkin"}),
        ('UPDATE "programs_session" SET "confirmed_seats" = 3 WHERE id = 1', {"programs_session"}),
        ('  delete from "programs_booking" WHERE id = 1', {"programs_booking"}),
        ('TRUNCATE "programs_booking", "programs_session" CASCADE;', {"programs_booking", "programs_session"}),
        ('WITH moved AS (DELETE FROM "a_b" RETURNING *) INSERT INTO "a_c" SELECT * FROM moved', {"a_b", "a_c"}),
        ('WITH x AS (SELECT 1) SELECT * FROM "programs_session", x', set()),
        ('SELECT "programs_session"."id" FROM "programs_session" FOR UPDATE', set()),
        ('SAVEPOINT "s1"', set()),
        ('RELEASE SAVEPOINT "s1"', set()),
        ("SET synchronous_commit TO OFF", set()),
        ('ALTER TABLE "programs_session" ADD COLUMN "x" integer', tablecache.EVERYTHING),
        ('CREATE INDEX "i" ON "programs_session" ("starts_at")', tablecache.EVERYTHING),
        ("TRUNCATE some_table", tablecache.EVERYTHING),
    ],
)
def test_statements_name_the_tables_they_write(sql, written):
    assert tablecache.written_tables(sql) == written


def test_reads_name_every_table_after_from_and_join():
    sql = (
        'SELECT COUNT(*) FROM "programs_booking" INNER JOIN "programs_session" ON (1=1) '
        'WHERE "programs_booking"."session_id" IN (SELECT "U0"."id" FROM "programs_facilitation" "U0")'
    )
    assert {"programs_booking", "programs_session", "programs_facilitation"} <= tablecache.read_tables(sql)


class Counter:
    """A figure that counts organizations, and how often it was computed."""

    def __init__(self, key=("test", "organizations")):
        self.key = key
        self.runs = 0

    def __call__(self):
        return tablecache.cached(self.key, self.compute)

    def compute(self):
        self.runs += 1
        return Organization.objects.count()


@pytest.fixture
def organizations(db):
    return [SchoolFactory(), AgencyFactory()]


def test_a_figure_is_served_without_a_query_until_its_table_is_written(organizations):
    figure = Counter()
    assert figure() == 2
    with CaptureQueriesContext(connection) as queries:
        assert figure() == 2
    assert len(queries) == 0 and figure.runs == 1

    SchoolFactory()
    assert figure() == 3
    assert figure.runs == 2


@pytest.mark.parametrize(
    "write",
    [
        lambda orgs: Organization.objects.filter(pk=orgs[0].pk).update(name="Renamed"),
        lambda orgs: Organization.objects.filter(pk=orgs[0].pk).delete(),
        lambda orgs: Organization.objects.bulk_create([Organization(name="Bulk", kind=orgs[0].kind)]),
        lambda orgs: orgs[0].save(update_fields=["name"]),
        lambda orgs: connection.cursor().execute(f'UPDATE "{ORGS}" SET "name" = %s', ["Raw"]),
    ],
    ids=["queryset update", "delete", "bulk_create", "save", "raw SQL"],
)
def test_every_kind_of_write_invalidates(organizations, write):
    figure = Counter()
    figure()
    write(organizations)
    figure()
    assert figure.runs == 2


def test_a_write_to_another_table_keeps_the_figure(organizations):
    figure = Counter()
    figure()
    Membership.objects.filter(role="no such role").update(role=Role.STAFF)  # writes no row, still a write of that table
    member(organizations[0], Role.STAFF)  # a user and a membership: no organization written
    figure()
    assert figure.runs == 1


def test_the_record_of_reads_renews_nothing_and_a_figure_reading_it_is_never_kept(world):
    """Every list of students' records that agency staff open writes the record of reads: those
    writes renew no generation (no round trip to the cache), and so a figure that reads the
    record of reads is computed every time."""
    assert ACCESSES in settings.TABLE_CACHE_UNTRACKED
    posting = world_posting(world)
    application = application_of(posting, make_student(world.school_a))
    database = tablecache._database(connection)
    before = tablecache._snapshot(database)
    runs = []

    def count_reads():
        runs.append(1)
        return StudentRecordAccess.objects.count()

    assert tablecache.cached(("test", "reads"), count_reads) == 0
    assert selectors.record_student_access(world.agency_coordinator, [application], purpose=AccessPurpose.REVIEW)
    assert tablecache._snapshot(database) == before
    assert tablecache.cached(("test", "reads"), count_reads) == 1
    assert len(runs) == 2


def test_a_statement_of_unknown_effect_invalidates_everything(organizations):
    figure = Counter()
    figure()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE tablecache_probe (id integer)")
        cursor.execute("DROP TABLE tablecache_probe")
    figure()
    assert figure.runs == 2


def test_the_key_keeps_figures_apart(organizations):
    one, other = Counter(("test", 1)), Counter(("test", 2))
    one(), other(), one(), other()
    assert (one.runs, other.runs) == (1, 1)


def test_a_figure_is_computed_again_once_its_moment_has_come(organizations):
    runs = []

    def compute():
        runs.append(1)
        return timezone.now() + timedelta(minutes=5)

    def read():
        return tablecache.cached(("test", "moment"), compute, fresh_until=lambda moment: moment)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        read()
        clock.shift(timedelta(minutes=4))
        read()
        assert len(runs) == 1
        clock.shift(timedelta(minutes=2))
        read()
        assert len(runs) == 2


def test_an_enclosing_figure_depends_on_what_a_cached_inner_one_read(organizations):
    inner = Counter(("test", "inner"))
    inner()  # kept; the outer figure below reads it from the cache, with no query of its own

    outer_runs = []

    def outer():
        outer_runs.append(1)
        return inner() + 1

    assert tablecache.cached(("test", "outer"), outer) == 3
    SchoolFactory()
    assert tablecache.cached(("test", "outer"), outer) == 4
    assert len(outer_runs) == 2


def test_parts_are_kept_only_within_a_figure_being_kept(organizations):
    """A part (``parts_only``) is computed every time on its own, and kept while an enclosing
    figure is computed: computed again after a write, that figure reads its unwritten parts from
    the cache and recomputes only the parts whose tables were written."""
    runs = {"organizations": 0, "memberships": 0}

    def part(name, model):
        def compute():
            runs[name] += 1
            return model.objects.count()

        return tablecache.Figure(("test", "part", name), compute)

    def parts():
        return tablecache.cached_many(
            [part("organizations", Organization), part("memberships", Membership)], parts_only=True
        )

    assert parts() == [2, 0] and parts() == [2, 0]
    assert runs == {"organizations": 2, "memberships": 2}  # on their own: never kept

    def outer():
        return sum(parts())

    assert tablecache.cached(("test", "outer of parts"), outer) == 2
    assert runs == {"organizations": 3, "memberships": 3}
    member(organizations[0], Role.STAFF)  # writes memberships, not organizations
    assert tablecache.cached(("test", "outer of parts"), outer) == 3
    assert runs == {"organizations": 3, "memberships": 4}
    SchoolFactory()
    assert tablecache.cached(("test", "outer of parts"), outer) == 4
    assert runs == {"organizations": 4, "memberships": 4}


def test_an_evicted_generation_costs_a_recomputation_not_a_stale_figure(organizations):
    figure = Counter()
    figure()
    cache.delete(tablecache._generation_key(str(connection.settings_dict["NAME"]), ORGS))
    figure()
    assert figure.runs == 2


def test_in_a_transaction_tables_are_renewed_at_once_and_at_commit(organizations, django_capture_on_commit_callbacks):
    database = str(connection.settings_dict["NAME"])
    figure = Counter()
    figure()
    seen = []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        SchoolFactory()
        seen.append(cache.get(tablecache._generation_key(database, ORGS)))
        figure()  # read back inside the transaction: computed afresh
        assert figure.runs == 2
        # A figure computed by another process from the rows before the commit would carry the
        # generation of the first renewal: the commit renews the table again.
    assert cache.get(tablecache._generation_key(database, ORGS)) != seen[0]
    figure()
    assert figure.runs == 3


def test_a_second_write_after_a_figure_was_kept_renews_again(organizations):
    figure = Counter()
    with transaction.atomic():
        SchoolFactory()
        figure()
        SchoolFactory()  # the same table, written again after the figure was kept
        assert figure() == 4
    assert figure.runs == 2


def test_off_computes_every_time(organizations, settings):
    settings.TABLE_CACHE_SECONDS = 0
    figure = Counter()
    figure(), figure()
    assert figure.runs == 2


def test_an_unreachable_cache_computes_and_is_left_alone_for_a_while(organizations, caplog, monkeypatch):
    monkeypatch.setitem(tablecache._unreachable, "until", 0.0)
    monkeypatch.setitem(tablecache._unreachable, "since", 0.0)
    figure = Counter()
    figure()
    with mock.patch.object(cache, "get_many", side_effect=ConnectionError("cache down")) as get_many:
        assert figure() == 2
        assert figure() == 2
    assert figure.runs == 3
    assert get_many.call_count == 1  # the second read did not wait for the cache again
    assert "not using the cache" in caplog.text
    # Back after the pause: an entry kept before the failure is not trusted (a renewal may be lost).
    monkeypatch.setitem(tablecache._unreachable, "until", 0.0)
    figure()
    assert figure.runs == 4
    figure()
    assert figure.runs == 4


def test_a_write_does_not_fail_when_the_cache_is_unreachable(organizations, monkeypatch):
    monkeypatch.setitem(tablecache._unreachable, "until", 0.0)
    with mock.patch.object(cache, "set_many", side_effect=ConnectionError("cache down")):
        SchoolFactory(name="Written anyway")
    assert Organization.objects.filter(name="Written anyway").exists()
    monkeypatch.setitem(tablecache._unreachable, "until", 0.0)


@pytest.mark.django_db(transaction=True)
def test_a_figure_computed_before_another_connection_commits_is_not_kept_as_current():
    """The race the renewal at commit closes: a reader computes from the rows before a commit,
    after the writer's first renewal; once the writer commits, that figure is not served."""
    SchoolFactory()
    figure = Counter()
    wrote, computed = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                SchoolFactory()
                wrote.set()
                computed.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    wrote.wait(10)
    assert figure() == 1  # the other transaction's row is not visible yet
    computed.set()
    thread.join(10)
    assert figure() == 2
    assert figure.runs == 2


class SessionCounter(Counter):
    """A figure that counts sessions, reading only the rows of ``within`` if given."""

    def __init__(self, key, within=None):
        super().__init__(key)
        self.within = within

    def __call__(self):
        return tablecache.cached_many([tablecache.Figure(self.key, self.compute, within=self.within)])[0]

    def compute(self):
        self.runs += 1
        return Session.objects.count()


def _touch_sessions():
    """A write of the sessions table that changes no row (still a write of the table)."""
    Session.objects.filter(venue="No such venue").update(capacity_seats=1)


def test_a_write_of_one_agreements_rows_keeps_the_figures_within_other_agreements(db):
    one = SessionCounter(("test", "within one"), ("agreement", frozenset({1})))
    others = SessionCounter(("test", "within two and three"), ("agreement", frozenset({2, 3})))
    every = SessionCounter(("test", "every agreement"))
    figures = (one, others, every)
    for figure in figures:
        figure()
    with tablecache.rows_of("agreement", 1, Session):
        _touch_sessions()
    for figure in figures:
        figure()
    assert (one.runs, others.runs, every.runs) == (2, 1, 2)

    with tablecache.rows_of("agreement", 3, Session):
        _touch_sessions()
    for figure in figures:
        figure()
    assert (one.runs, others.runs, every.runs) == (2, 2, 3)

    _touch_sessions()  # a write that does not say whose rows it touches counts for every agreement
    for figure in figures:
        figure()
    assert (one.runs, others.runs, every.runs) == (3, 3, 4)


def test_rows_of_scopes_only_the_tables_it_names(organizations):
    """A figure within an agreement that reads another table is computed again after any write of
    that table, inside ``rows_of`` or not; and only tables of the scope can be named."""
    runs = []

    def compute():
        runs.append(1)
        return Organization.objects.count() + Session.objects.count()

    def figure():
        return tablecache.cached_many(
            [tablecache.Figure(("test", "orgs and sessions"), compute, within=("agreement", frozenset({2})))]
        )[0]

    figure()
    with tablecache.rows_of("agreement", 1, Session):
        Organization.objects.filter(pk=organizations[0].pk).update(name="Renamed")
    figure()
    assert len(runs) == 2
    with pytest.raises(ValueError, match="cannot be scoped"), tablecache.rows_of("agreement", 1, Organization):
        pass
    with pytest.raises(ValueError, match="cannot be scoped"), tablecache.rows_of("district", 1, Session):
        pass


def test_a_figure_reading_a_part_within_an_agreement_is_computed_again_and_the_part_kept(db):
    """The home's charts: a part within the coordinator's agreements, in a figure that reads
    other tables too. Another agreement's booking computes the figure again, not its part."""
    part = SessionCounter(("test", "part within one"), ("agreement", frozenset({1})))
    outer_runs = []

    def outer():
        outer_runs.append(1)
        return tablecache.cached_many([tablecache.Figure(part.key, part.compute, within=part.within)], parts_only=True)

    tablecache.cached(("test", "outer of a scoped part"), outer)
    with tablecache.rows_of("agreement", 2, Session):
        _touch_sessions()
    tablecache.cached(("test", "outer of a scoped part"), outer)
    assert len(outer_runs) == 2 and part.runs == 1


def test_in_a_transaction_an_agreements_generation_is_renewed_at_once_and_at_commit(
    db, django_capture_on_commit_callbacks
):
    database = str(connection.settings_dict["NAME"])
    key = tablecache._generation_key(database, "programs_session|agreement=1")
    seen = []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with tablecache.rows_of("agreement", 1, Session):
            _touch_sessions()
        seen.append(cache.get(key))
        assert seen[0] is not None
    assert cache.get(key) not in (None, seen[0])
