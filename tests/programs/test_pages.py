"""Programs through its pages: booking, scheduling in the location's time zone, join links that
never leak, the calendar, the feed, and lists whose queries do not grow with their rows."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programs import services
from programs.enums import BookingStatus, LocationKind, Topic
from programs.models import Booking, Session
from tests.factories import member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking, world_session

pytestmark = pytest.mark.django_db

JOIN = "https://meet.example.test/j/8471-secret"


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def _virtual(world, **fields):
    return world_session(world, location_kind=LocationKind.VIRTUAL, venue="", join_url=JOIN, **fields)


def _book(client, session, *, seats, group="Class 9B", institution=None, world=None):
    return client.post(
        reverse("programs:session_book", args=[session.pk]),
        {"institution": (institution or world.school_a).pk, "group_name": group, "seats": seats},
    )


# --- booking -------------------------------------------------------------------------------------


def test_booking_confirms_then_waitlists_and_says_which(client, world):
    session = world_session(world, capacity_seats=10)
    client.force_login(world.staff_a)
    response = _book(client, session, seats=8, world=world)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "8 seats are confirmed" in page
    response = _book(client, session, seats=5, group="Class 9C", world=world)
    page = client.get(response["Location"]).content.decode()
    assert "waitlist" in page and "position 1" in page
    statuses = dict(Booking.objects.values_list("group_name", "status"))
    assert statuses == {"Class 9B": BookingStatus.CONFIRMED, "Class 9C": BookingStatus.WAITLISTED}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"seats": 0}, "seats"),
        ({"seats": "many"}, "seats"),
        ({"group_name": ""}, "group_name"),
        ({"seats": 26}, "seats"),  # larger than the whole session
    ],
)
def test_bad_booking_input_is_a_field_error_and_books_nothing(client, world, data, field):
    session = world_session(world, capacity_seats=25)
    client.force_login(world.staff_a)
    body = {"institution": world.school_a.pk, "group_name": "Class 9B", "seats": 3, **data}
    response = client.post(reverse("programs:session_book", args=[session.pk]), body)
    assert response.status_code == 400
    assert response.context["booking_form"].errors[field]
    assert Booking.objects.count() == 0


def test_staff_cannot_book_for_another_school(client, world):
    session = world_session(world)
    client.force_login(world.staff_a)
    response = _book(client, session, seats=2, institution=world.school_b, world=world)
    assert response.status_code == 400
    assert "institution" in response.context["booking_form"].errors
    assert Booking.objects.count() == 0


def test_cancelling_frees_seats_and_promotes_the_waitlist(client, world):
    session = world_session(world, capacity_seats=10)
    first = booking(session, institution=world.school_a, by=world.staff_a, seats=10)
    waiting = booking(
        session, institution=world.school_a, by=world.coordinator_a, seats=4, status=BookingStatus.WAITLISTED
    )
    client.force_login(world.staff_a)
    response = client.post(reverse("programs:booking_cancel", args=[first.pk]))
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == BookingStatus.CONFIRMED
    assert Session.objects.get(pk=session.pk).confirmed_seats == 4


# --- scheduling through the page -------------------------------------------------------------------


def test_times_are_typed_in_the_schools_time_zone(client, world):
    world.school_a.time_zone = "America/Los_Angeles"
    world.school_a.save()
    program = ProgramFactory(agreement=active_agreement(world.agency, world.school_a))
    client.force_login(world.coordinator_a)
    day = (timezone.localdate() + timedelta(days=20)).isoformat()
    response = client.post(
        reverse("programs:session_create", args=[program.pk]),
        {
            "starts_at": f"{day}T10:00",
            "ends_at": f"{day}T11:00",
            "location_kind": LocationKind.SCHOOL,
            "school": world.school_a.pk,
            "capacity_seats": 30,
            "booking_cutoff_hours": 48,
            "waitlist_enabled": "on",
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    session = Session.objects.get()
    local = timezone.localtime(session.starts_at, world.school_a.zone)
    assert (local.hour, local.minute) == (10, 0)
    assert session.starts_at.utcoffset() == timedelta(0) or session.starts_at.tzinfo is not None


def test_a_scheduling_rule_is_shown_next_to_its_field(client, world):
    program = ProgramFactory(agreement=active_agreement(world.agency, world.school_a))
    start = timezone.localdate() + timedelta(days=20)
    services.add_blackout(
        organization=world.school_a,
        by=world.coordinator_a,
        name="Testing week",
        kind="testing",
        starts_on=start,
        ends_on=start + timedelta(days=4),
    )
    client.force_login(world.coordinator_a)
    response = client.post(
        reverse("programs:session_create", args=[program.pk]),
        {
            "starts_at": f"{start + timedelta(days=1)}T10:00",
            "ends_at": f"{start + timedelta(days=1)}T11:00",
            "location_kind": LocationKind.SCHOOL,
            "school": world.school_a.pk,
            "capacity_seats": 30,
            "booking_cutoff_hours": 48,
        },
    )
    assert response.status_code == 400
    assert "Testing week" in " ".join(response.context["form"].errors["starts_at"])
    assert Session.objects.count() == 0


def test_capacity_below_confirmed_seats_is_refused_on_the_page(client, world):
    session = world_session(world, capacity_seats=20)
    booking(session, institution=world.school_a, by=world.staff_a, seats=15)
    client.force_login(world.coordinator_a)
    response = client.post(reverse("programs:session_capacity", args=[session.pk]), {"capacity_seats": 10})
    assert response.status_code == 400
    assert response.context["capacity_form"].errors["capacity_seats"]
    assert Session.objects.get(pk=session.pk).capacity_seats == 20


# --- join links never leak -------------------------------------------------------------------------


def test_join_link_only_for_confirmed_bookers_and_facilitators(client, world):
    session = _virtual(world, capacity_seats=5)
    session.facilitators.add(
        world.officer, through_defaults={"starts_at": session.starts_at, "ends_at": session.ends_at}
    )
    booking(session, institution=world.school_a, by=world.staff_a, seats=5)
    waitlisted = member(world.school_a, "staff")
    booking(session, institution=world.school_a, by=waitlisted, seats=2, status=BookingStatus.WAITLISTED)
    bystander = member(world.school_a, "staff")
    pages = [
        reverse("programs:catalog"),
        reverse("programs:program_detail", args=[session.program.pk]),
        reverse("programs:session_list"),
        reverse("programs:session_detail", args=[session.pk]),
        reverse("programs:session_ics", args=[session.pk]),
        reverse("programs:booking_list"),
        f"{reverse('programs:calendar')}?month={timezone.localtime(session.starts_at):%Y-%m}",
    ]
    for person in (waitlisted, bystander, world.coordinator_a, world.agency_coordinator):
        client.force_login(person)
        for url in pages:
            assert JOIN not in client.get(url).content.decode(), (person, url)
        feed = reverse("programs:feed", args=[services.issue_feed_token(user=person)])
        assert JOIN not in client.get(feed).content.decode(), (person, "feed")
    for person in (world.staff_a, world.officer):
        client.force_login(person)
        assert JOIN in client.get(reverse("programs:session_detail", args=[session.pk])).content.decode()
        assert JOIN in client.get(reverse("programs:session_ics", args=[session.pk])).content.decode()
        feed = reverse("programs:feed", args=[services.issue_feed_token(user=person)])
        assert JOIN in client.get(feed).content.decode()


# --- calendar and feed -------------------------------------------------------------------------------


def test_calendar_shows_sessions_on_their_day_and_shades_closures(client, world):
    with time_machine.travel(datetime(2027, 3, 1, 17, 0, tzinfo=UTC), tick=False):
        session = world_session(world, starts_at=datetime(2027, 3, 10, 17, 0, tzinfo=UTC))
        session.ends_at = session.starts_at + timedelta(hours=1)
        session.save()
        services.add_blackout(
            organization=world.school_a,
            by=world.coordinator_a,
            name="Spring break",
            kind="holiday",
            starts_on=datetime(2027, 3, 22).date(),
            ends_on=datetime(2027, 3, 26).date(),
        )
        client.force_login(world.staff_a)
        response = client.get(reverse("programs:calendar"), {"month": "2027-03"})
    body = response.content.decode()
    assert session.program.title in body
    assert body.count('class="blackout"') + body.count(' blackout"') >= 5
    assert "Spring break" in body
    cells = [day for week in response.context["weeks"] for day in week]
    tenth = next(c for c in cells if c["day"].isoformat() == "2027-03-10")
    assert [s.pk for _local, s in tenth["sessions"]] == [session.pk]


def test_feed_address_is_shown_once_and_revoking_ends_it(client, world):
    client.force_login(world.staff_a)
    response = client.post(reverse("programs:feed_settings"), {"action": "issue"})
    url = response.context["feed_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    again = client.get(reverse("programs:feed_settings")).content.decode()
    assert url not in again  # never shown twice: only its hash is kept
    client.post(reverse("programs:feed_settings"), {"action": "revoke"})
    client.logout()
    assert client.get("/" + path).status_code == 404


def test_catalog_filters_and_refuses_a_bad_filter(client, world):
    agreement = active_agreement(world.agency, world.school_a)
    ProgramFactory(agreement=agreement, title="Stop Bullying Now", topic=Topic.BULLYING)
    ProgramFactory(agreement=agreement, title="Safe Online", topic=Topic.ONLINE_SAFETY)
    client.force_login(world.staff_a)
    body = client.get(reverse("programs:catalog"), {"topic": Topic.BULLYING}).content.decode()
    assert "Stop Bullying Now" in body and "Safe Online" not in body
    assert client.get(reverse("programs:catalog"), {"topic": "astrology"}).status_code == 400


# --- bounded queries -------------------------------------------------------------------------------------


def _fill_bookings(world, session, n):
    for i in range(n):
        booking(session, institution=world.school_a, by=world.staff_a, seats=1, group_name=f"Group {i}")


def test_bookings_list_does_the_same_queries_for_5_and_50_bookings(client, world):
    session = world_session(world, capacity_seats=200)
    _fill_bookings(world, session, 4)
    booking(session, institution=world.school_a, by=world.staff_a, seats=1, status=BookingStatus.WAITLISTED)
    client.force_login(world.staff_a)
    url = reverse("programs:booking_list")
    five = _queries(client, url)
    other = SessionFactory(program=session.program, capacity_seats=200)
    for _ in range(5):  # on the first page; each shows its position, counted in the list's query, not per row
        booking(other, institution=world.school_a, by=world.staff_a, seats=1, status=BookingStatus.WAITLISTED)
    _fill_bookings(world, other, 40)
    assert Booking.objects.count() == 50
    fifty = _queries(client, url)
    assert fifty == five, f"{five} queries for 5 bookings, {fifty} for 50"


@pytest.mark.parametrize(
    "url_for",
    [
        lambda s: reverse("programs:catalog"),
        lambda s: reverse("programs:session_list"),
        lambda s: reverse("programs:session_detail", args=[s.pk]),
        lambda s: reverse("programs:program_detail", args=[s.program.pk]),
        lambda s: f"{reverse('programs:calendar')}?month={timezone.localtime(s.starts_at):%Y-%m}",
    ],
    ids=["catalog", "session_list", "session_detail", "program_detail", "calendar"],
)
def test_pages_do_a_bounded_number_of_queries(client, world, url_for):
    session = world_session(world, capacity_seats=200)
    _fill_bookings(world, session, 2)
    client.force_login(world.coordinator_a)
    few = _queries(client, url_for(session))
    for i in range(6):
        more = SessionFactory(
            program=ProgramFactory(agreement=session.program.agreement),
            starts_at=session.starts_at + timedelta(hours=i + 2),
        )
        _fill_bookings(world, more, 2)
    _fill_bookings(world, session, 10)
    assert _queries(client, url_for(session)) == few


def test_bookings_list_refuses_an_unknown_status_with_a_message(client, world):
    client.force_login(world.staff_a)
    response = client.get(reverse("programs:booking_list"), {"status": "sold"})
    assert response.status_code == 400
    assert "is not a booking status" in response.content.decode()
