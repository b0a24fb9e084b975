"""Queries compiled once per shape (config/compiled.py): the kept SQL, run with other ids, gives
exactly what Django would have made and read for those ids, and never another run's values."""

import pytest
from django.db import DEFAULT_DB_ALIAS

from accounts.models import Organization
from config import compiled
from internships import selectors
from tests.internships import factories as f

pytestmark = pytest.mark.django_db


def _fresh_sql(build, ids):
    return build(ids).query.get_compiler(using=DEFAULT_DB_ALIAS).as_sql()


def test_the_kept_sql_is_what_django_makes_for_each_list_of_ids(world):
    postings = [f.world_posting(world, title=f"Posting {n}") for n in range(4)]
    ids = [p.pk for p in postings]
    kept = compiled.ByIds(selectors._postings_by_id)
    for chosen in ([ids[0]], [ids[2], ids[0]], [ids[1], ids[3]], list(reversed(ids)), [ids[3]]):
        sql, params = kept.sql(chosen, using=DEFAULT_DB_ALIAS)
        fresh_sql, fresh_params = _fresh_sql(selectors._postings_by_id, chosen)
        assert (sql, list(params)) == (fresh_sql, list(fresh_params))
        rows = kept.run(chosen, using=DEFAULT_DB_ALIAS)
        expected = list(selectors._postings_by_id(chosen))
        assert sorted(p.pk for p in rows) == sorted(chosen)
        for row, other in zip(sorted(rows, key=lambda p: p.pk), sorted(expected, key=lambda p: p.pk), strict=True):
            assert (row.title, row.agency.name, row.agreement_id, row.agreement.status) == (
                other.title,
                other.agency.name,
                other.agreement_id,
                other.agreement.status,
            )
            assert getattr(row, "agreement_shared", None) == getattr(other, "agreement_shared", None)
    assert sorted(n for _using, n in kept._made) == [1, 2, 4]  # one SQL per number of ids


def test_ids_that_do_not_all_reach_the_parameters_are_refused():
    partial = compiled.ByIds(lambda ids: Organization.objects.filter(pk__in=ids[:1]))
    with pytest.raises(ValueError, match="each appear once"):
        partial.run([1, 2], using=DEFAULT_DB_ALIAS)


def test_no_ids_read_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert compiled.ByIds(selectors._postings_by_id).run([], using=DEFAULT_DB_ALIAS) == []
