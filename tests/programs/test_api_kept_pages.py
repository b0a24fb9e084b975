"""Pages of the sessions and bookings API kept in the table cache (config.api.KeptPages): a page
asked for again unchanged costs no query of its rows, a filtered one is computed every time; each
reader has their own; every write that changes what a page shows shows at once, and after each
kind of write every page read through the cache is the page computed without it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.enums import Role
from accounts.models import Membership
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement
from programs import services
from programs.enums import LocationKind
from programs.models import Facilitation
from tests.factories import AgencyFactory, member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

pytestmark = pytest.mark.django_db

JOIN = "https://meet.example.test/kept-pages"
LISTS = ("/api/v1/sessions/", "/api/v1/bookings/")


def _get(client, user, url, **headers):
    """GET ``url`` as ``user``, signing in only when another person was signed in: a sign-in
    writes the user's last login, and so renews every page that names a person."""
    if client.session.get("_auth_user_id") != str(user.pk):
        client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    return [q["sql"] for q in queries.captured_queries], response


def _signed_in(*users) -> list[Client]:
    """A client for each of ``users``, all signed in before anything is read (see ``_get``)."""
    clients = [Client() for _user in users]
    for client, user in zip(clients, users, strict=True):
        client.force_login(user)
    return clients


def _reads_rows(ran) -> bool:
    return any("programs_session" in sql or "programs_booking" in sql for sql in ran)


@pytest.fixture
def here(world):
    """A virtual session of the agency's agreement with school A, and school A's booking of it."""
    program = ProgramFactory(agreement=active_agreement(world.agency, world.school_a), title="Online safety")
    session = SessionFactory(program=program, location_kind=LocationKind.VIRTUAL, venue="", join_url=JOIN)
    booking(session, institution=world.school_a, by=world.staff_a, seats=4)
    return session


@pytest.fixture
def elsewhere(world):
    """A session of another agency's agreement with school B, and school B's booking of it."""
    other = active_agreement(AgencyFactory(name="Hillside Sheriff"), world.school_b)
    session = SessionFactory(program=ProgramFactory(agreement=other, title="Drug awareness"))
    booking(session, institution=world.school_b, by=world.staff_b, seats=2)
    return session


@pytest.mark.parametrize("url", LISTS)
def test_a_page_asked_for_again_unchanged_runs_no_query_of_its_rows(client, world, here, url):
    ran, first = _get(client, world.staff_a, url)
    assert first.status_code == 200 and first.json()["count"] == 1
    assert _reads_rows(ran)
    ran, again = _get(client, world.staff_a, url)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert not _reads_rows(ran), ran


@pytest.mark.parametrize("url", LISTS)
def test_each_reader_has_their_own_page_of_the_same_url(world, here, elsewhere, url):
    school_a, school_b = _signed_in(world.staff_a, world.staff_b)
    _ran, mine = _get(school_a, world.staff_a, url)
    ran, theirs = _get(school_b, world.staff_b, url)
    assert _reads_rows(ran)
    ran, mine_again = _get(school_a, world.staff_a, url)
    assert not _reads_rows(ran)
    assert mine.json() == mine_again.json()
    assert theirs.json()["count"] == 1 and mine.json()["count"] == 1
    assert theirs.json()["results"][0]["id"] != mine.json()["results"][0]["id"]


def test_a_page_is_kept_for_its_query_and_host(client, world, here):
    """The page, its size and filters are part of the key, and so is the host the links name."""
    SessionFactory(program=here.program)
    _ran, first = _get(client, world.staff_a, "/api/v1/sessions/?page_size=1")
    _ran, second = _get(client, world.staff_a, "/api/v1/sessions/?page_size=1&page=2")
    assert first.json()["results"][0]["id"] != second.json()["results"][0]["id"]
    assert first.json()["next"].startswith("http://testserver/")
    ran, again = _get(client, world.staff_a, "/api/v1/sessions/?page_size=1")
    assert not _reads_rows(ran) and again.json() == first.json()
    _ran, other_host = _get(client, world.staff_a, "/api/v1/sessions/?page_size=1", host="localhost")
    assert other_host.json()["next"].startswith("http://localhost/")


def test_a_filtered_page_is_computed_every_time(client, world, here):
    """A filter's values are the reader's to choose: kept, each would be an entry of the cache."""
    url = f"/api/v1/bookings/?session={here.pk}"
    _ran, first = _get(client, world.staff_a, url)
    ran, again = _get(client, world.staff_a, url)
    assert _reads_rows(ran) and again.json() == first.json() and first.json()["count"] == 1


def test_a_booking_made_through_the_api_is_on_the_next_page_at_once(client, world, here):
    _ran, before = _get(client, world.staff_a, "/api/v1/bookings/")
    _ran, sessions_before = _get(client, world.staff_a, "/api/v1/sessions/")
    client.force_login(world.staff_a)
    made = client.post(
        "/api/v1/bookings/",
        {"session": here.pk, "institution": world.school_a.pk, "group_name": "Class 10A", "seats": 3},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    _ran, after = _get(client, world.staff_a, "/api/v1/bookings/")
    _ran, sessions_after = _get(client, world.staff_a, "/api/v1/sessions/")
    assert after.json()["count"] == before.json()["count"] + 1
    assert made.json()["id"] in [row["id"] for row in after.json()["results"]]
    assert sessions_after.json()["results"][0]["free_seats"] == sessions_before.json()["results"][0]["free_seats"] - 3


def test_an_ended_membership_empties_the_page_at_once(client, world, here):
    _ran, before = _get(client, world.staff_a, "/api/v1/bookings/")
    assert before.json()["count"] == 1
    Membership.objects.filter(user=world.staff_a).update(is_active=False)
    _ran, after = _get(client, world.staff_a, "/api/v1/bookings/")
    assert after.status_code == 403 or after.json()["count"] == 0


def test_after_every_kind_of_write_each_kept_page_is_what_computing_it_shows(world, here, elsewhere):
    """The guard on the key and the tables: for every role, list and filter, the page read through
    the cache equals the page computed without it, after each write that changes what some page
    shows (bookings, cancellations, seats, times, a facilitator, an ended agreement)."""
    officer_b = member(elsewhere.program.agreement.lead_agency, Role.OFFICER, full_name="Deputy Dee")
    readers = [
        world.staff_a,
        world.staff_b,
        world.coordinator_a,
        world.coordinator_b,
        world.agency_coordinator,
        world.officer,
        officer_b,
        world.student_a,
        world.admin,
    ]
    urls = [
        *LISTS,
        "/api/v1/sessions/?page_size=1&page=2",
        "/api/v1/sessions/?has_seats=true",
        "/api/v1/sessions/?status=scheduled",
        "/api/v1/bookings/?status=confirmed",
        f"/api/v1/bookings/?session={here.pk}",
    ]
    later = SessionFactory(program=here.program, capacity_seats=5)
    clients = dict(zip(readers, _signed_in(*readers), strict=True))
    compared = []

    def all_as_computed():
        """Every page through the cache and computed; of the pages listed from rows read,
        the URL and whether it came from the cache."""
        served = []
        for user, client in clients.items():
            for url in urls:
                ran, kept = _get(client, user, url)
                with override_settings(TABLE_CACHE_SECONDS=0):
                    ran_computing, computed = _get(client, user, url)
                assert kept.status_code == computed.status_code, (user, url)
                assert kept.json() == computed.json(), (user, url)
                compared.append(kept.status_code)
                if kept.status_code == 200 and _reads_rows(ran_computing):
                    served.append((url, not _reads_rows(ran)))
        return served

    def book(session, institution, by, seats):
        return services.book_session(session=session, institution=institution, by=by, group_name="Class 8", seats=seats)

    moved = (timezone.now() + timedelta(days=12)).replace(microsecond=0)
    writes = [
        lambda: book(later, world.school_a, world.staff_a, 5),  # fills it: has_seats changes
        lambda: book(elsewhere, world.school_b, world.staff_b, 1),
        lambda: services.cancel_booking(booking=later.bookings.get(), by=world.staff_a),
        lambda: services.change_capacity(session=here, capacity_seats=40, by=world.agency_coordinator),
        lambda: services.reschedule_session(
            session=later,
            by=world.agency_coordinator,
            starts_at=moved,
            ends_at=moved + timedelta(hours=1),
            override_reason="Moved for the exams",
        ),
        lambda: Facilitation.objects.create(
            session=here, officer=world.officer, starts_at=here.starts_at, ends_at=here.ends_at
        ),
        lambda: services.cancel_session(session=later, by=world.agency_coordinator, reason="Storm"),
        lambda: Agreement.objects.filter(pk=elsewhere.program.agreement_id).update(status=AgreementStatus.TERMINATED),
    ]
    all_as_computed()  # fills the cache
    plain = {*LISTS, "/api/v1/sessions/?page_size=1&page=2"}
    served = all_as_computed()  # nothing changed: each unfiltered page is kept, no filtered one
    assert len(served) > len(readers) and all(from_cache == (url in plain) for url, from_cache in served), [
        look for look in served if look[1] != (look[0] in plain)
    ]
    for write in writes:
        write()
        all_as_computed()
    assert len(compared) == len(readers) * len(urls) * (len(writes) + 2)


def test_a_kept_page_is_answered_in_the_browsable_api_too(client, world, here):
    """Outside production a browser gets the browsable API: a kept page renders there as well."""
    SessionFactory(program=here.program)
    _ran, as_json = _get(client, world.staff_a, "/api/v1/sessions/?page_size=1")
    ran, page = _get(client, world.staff_a, "/api/v1/sessions/?page_size=1", accept="text/html")
    assert page.status_code == 200 and "text/html" in page["Content-Type"]
    assert not _reads_rows(ran)
    assert as_json.json()["results"][0]["program_title"] in page.content.decode()
