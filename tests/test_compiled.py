"""Queries compiled once per shape (config/compiled.py): the kept SQL, run with other ids, gives
exactly what Django would have made and read for those ids, and never another run's values."""

import pytest
from django.db import DEFAULT_DB_ALIAS

from accounts import access
from accounts.models import Organization
from config import compiled
from internships import selectors
from programs.api.views import BookingViewSet
from tests.internships import factories as f
from tests.programs import factories as pf

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


# Lists of a reader.


def _bookings_of_each_school(world):
    session_a = pf.world_session(world)
    session_b = pf.SessionFactory(
        program=pf.ProgramFactory(agreement=pf.active_agreement(world.agency, world.school_b))
    )
    mine = [pf.booking(session_a, institution=world.school_a, by=world.staff_a, group_name=f"A{n}") for n in range(3)]
    theirs = [pf.booking(session_b, institution=world.school_b, by=world.staff_b, group_name=f"B{n}") for n in range(3)]
    return mine, theirs


def _listed(client, user) -> list[str]:
    client.force_login(user)
    response = client.get("/api/v1/bookings/")
    assert response.status_code == 200
    return sorted(row["group_name"] for row in response.json()["results"])


def test_two_schools_of_the_same_shape_share_the_sql_and_never_the_rows(client, world):
    """Staff of school A and staff of school B are readers of one shape: the second reads with
    the SQL made for the first, and each sees their own school's bookings only."""
    _bookings_of_each_school(world)
    kept = BookingViewSet.kept_list
    kept._made.clear()
    assert _listed(client, world.staff_a) == ["A0", "A1", "A2"]
    made = dict(kept._made)
    assert len(made) == 2  # the count and the page
    assert _listed(client, world.staff_b) == ["B0", "B1", "B2"]
    assert _listed(client, world.staff_a) == ["A0", "A1", "A2"]
    assert kept._made.keys() == made.keys()
    assert all(kept._made[k] is v for k, v in made.items())  # not made again for staff B


@pytest.mark.parametrize(
    ("url", "reader"),
    [
        ("/api/v1/sessions/", "staff_a"),
        ("/api/v1/bookings/", "staff_a"),
        ("/api/v1/applications/", "agency_coordinator"),
    ],
)
def test_the_lists_read_with_kept_sql_answer_the_browsable_api_too(client, world, url, reader):
    """Outside production a browser gets DRF's browsable API, which builds the list's filter form
    from the view's queryset: such a page is read the ordinary way (it was a 500)."""
    _bookings_of_each_school(world)
    client.force_login(getattr(world, reader))
    page = client.get(url, headers={"accept": "text/html"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert client.get(url).json() == page.context["response"].data  # the page the JSON answer lists


def test_a_reader_of_another_shape_gets_sql_of_their_own(client, world):
    _bookings_of_each_school(world)
    kept = BookingViewSet.kept_list
    kept._made.clear()
    _listed(client, world.staff_a)
    _listed(client, world.agency_coordinator)  # an agency coordinator: another role, another scope
    shapes = {key[-6:] for key in kept._made}
    assert len(shapes) == 2


def test_a_list_whose_building_reads_rows_is_read_the_ordinary_way(world):
    """A scope that read ids to put them in its SQL would give the stand-in reader none: such
    a list is refused, and read as Django would."""
    kept = compiled.Scoped(
        lambda user: (
            Organization.objects.filter(pk__in=list(access.organization_ids(user)) or [0])
            .exclude(pk__in=list(Organization.objects.filter(name="No such").values_list("pk", flat=True)))
            .order_by("pk")
        )
    )
    rows = kept.for_reader(world.staff_a)
    assert [o.pk for o in rows[0:10]] == [world.school_a.pk]
    assert rows.count() == 1
    assert set(kept._made.values()) == {compiled._REFUSED}


def test_a_reader_written_into_the_sql_text_is_refused(world):
    kept = compiled.Scoped(lambda user: Organization.objects.extra(where=[f"id <> {int(user.pk)}"]).order_by("pk"))
    rows = kept.for_reader(world.staff_a)
    assert len(rows[0:100]) == Organization.objects.exclude(pk=world.staff_a.pk).count()
    assert set(kept._made.values()) == {compiled._REFUSED}


def test_the_check_fails_when_the_kept_sql_is_not_the_readers_own(world, settings):
    """The tests' check (COMPILED_QUERIES_CHECK): a kept statement that differs from what the
    reader's own query compiles to is an error, not a silent answer."""
    settings.COMPILED_QUERIES_CHECK = True
    kept = compiled.Scoped(
        lambda user: Organization.objects.filter(pk__in=access.organization_ids(user)).order_by("pk")
    )
    kept.for_reader(world.staff_a)[0:10]
    key = next(iter(kept._made))
    queryset, compiler, sql, params = kept._made[key]
    kept._made[key] = (queryset, compiler, sql.replace("IN", "NOT IN"), params)
    with pytest.raises(AssertionError, match="differs"):
        kept.for_reader(world.staff_a)[0:10]
