"""Programs with htmx: the catalog and session filters answer with their results only, booking and
cancelling answer with the booking panel; the same requests without htmx behave as before, and
the permission rules do not change with the header."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programs.enums import BookingStatus, Topic
from programs.models import Booking, Session
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking, world_session

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _book(client, session, world, *, seats, group="Class 9B", **extra):
    return client.post(
        reverse("programs:session_book", args=[session.pk]),
        {"institution": world.school_a.pk, "group_name": group, "seats": seats},
        **extra,
    )


def _partial(response) -> str:
    assert response.status_code == 200, response.content[:300]
    body = response.content.decode()
    assert "<html" not in body and "<h1" not in body
    return body


def _htmx_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {}, **HTMX)
    _partial(response)
    return len(ctx.captured_queries)


# --- filters ---------------------------------------------------------------------------------------


def test_htmx_catalog_filter_answers_with_the_results_only(client, world):
    agreement = active_agreement(world.agency, world.school_a)
    ProgramFactory(agreement=agreement, title="Stop Bullying Now", topic=Topic.BULLYING)
    ProgramFactory(agreement=agreement, title="Safe Online", topic=Topic.ONLINE_SAFETY)
    client.force_login(world.staff_a)
    body = _partial(client.get(reverse("programs:catalog"), {"topic": Topic.BULLYING}, **HTMX))
    assert "Stop Bullying Now" in body and "Safe Online" not in body
    assert "1 workshop matches." in body and 'id="catalog-status" hx-swap-oob="innerHTML"' in body
    assert '<form method="get"' not in body  # the filter form stays on the page


def test_without_htmx_the_catalog_is_the_full_page_with_a_filter_form_wired_for_htmx(client, world):
    client.force_login(world.staff_a)
    body = client.get(reverse("programs:catalog"), {"topic": Topic.BULLYING}).content.decode()
    assert "<html" in body and 'id="catalog-results"' in body
    assert 'hx-target="#catalog-results"' in body and 'hx-push-url="true"' in body
    assert 'id="catalog-status" role="status" aria-live="polite"' in body


def test_htmx_session_list_filter_answers_with_the_rows_only(client, world):
    session = world_session(world, capacity_seats=10)
    client.force_login(world.staff_a)
    body = _partial(client.get(reverse("programs:session_list"), **HTMX))
    assert session.program.title in body and "<table>" in body
    assert "1 session matches." in body
    full = client.get(reverse("programs:session_list")).content.decode()
    assert "<html" in full and 'hx-target="#session-results"' in full


@pytest.mark.parametrize("name", ["programs:catalog", "programs:session_list"])
def test_htmx_filter_answers_do_the_same_queries_for_2_and_6_rows(client, world, name):
    session = world_session(world, capacity_seats=200)
    booking(session, institution=world.school_a, by=world.staff_a, seats=2)

    def add(n):
        for i in range(n):
            more = SessionFactory(
                program=ProgramFactory(agreement=session.program.agreement),
                starts_at=session.starts_at + timedelta(hours=i + 2),
            )
            booking(more, institution=world.school_a, by=world.staff_a, seats=1)

    add(1)
    client.force_login(world.coordinator_a)
    url = reverse(name)
    few = _htmx_queries(client, url)
    add(4)
    more = _htmx_queries(client, url)
    assert more == few, f"{few} queries for 2 rows, {more} for 6"


# --- book and cancel -------------------------------------------------------------------------------


def test_htmx_booking_answers_with_the_panel_and_the_seats_left(client, world):
    session = world_session(world, capacity_seats=10)
    client.force_login(world.staff_a)
    body = _partial(_book(client, session, world, seats=8, **HTMX))
    assert body.lstrip().startswith('<div id="booking-panel">')
    assert "2 free of 10" in body and 'id="session-facts" hx-swap-oob="true"' in body
    assert "8 seats are confirmed" in body and 'id="booking-status" hx-swap-oob="innerHTML"' in body
    assert 'tabindex="-1" autofocus>Booked:' in body  # the pressed button is gone: the message takes the focus
    assert "Class 9B" in body and "Cancel this booking" in body
    assert Booking.objects.get().status == BookingStatus.CONFIRMED
    # The message was shown in the answer: it does not come back on the next page.
    assert (
        "8 seats are confirmed"
        not in client.get(reverse("programs:session_detail", args=[session.pk])).content.decode()
    )


def test_without_htmx_booking_still_redirects_to_the_page(client, world):
    session = world_session(world, capacity_seats=10)
    client.force_login(world.staff_a)
    response = _book(client, session, world, seats=8)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "<html" in page and "8 seats are confirmed" in page and "2 free of 10" in page
    assert 'hx-post="{}"'.format(reverse("programs:session_book", args=[session.pk])) in page
    assert 'id="booking-status" role="status" aria-live="polite"' in page


def test_htmx_booking_error_is_shown_next_to_its_field_in_the_panel(client, world):
    session = world_session(world, capacity_seats=10)
    client.force_login(world.staff_a)
    body = _partial(_book(client, session, world, seats=0, **HTMX))
    assert 'class="error" role="alert"' in body and "<html" not in body
    assert Booking.objects.count() == 0
    assert _book(client, session, world, seats=0).status_code == 400  # without htmx: the page, as before


def test_htmx_cancel_answers_with_the_panel_and_the_freed_seats(client, world):
    session = world_session(world, capacity_seats=10)
    mine = booking(session, institution=world.school_a, by=world.staff_a, seats=6)
    client.force_login(world.staff_a)
    body = _partial(client.post(reverse("programs:booking_cancel", args=[mine.pk]), **HTMX))
    assert body.lstrip().startswith('<div id="booking-panel">')
    assert "10 free of 10" in body and "the seats are freed" in body
    assert Session.objects.get(pk=session.pk).confirmed_seats == 0


def test_without_htmx_cancel_still_redirects(client, world):
    session = world_session(world, capacity_seats=10)
    mine = booking(session, institution=world.school_a, by=world.staff_a, seats=6)
    client.force_login(world.staff_a)
    response = client.post(reverse("programs:booking_cancel", args=[mine.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("programs:session_detail", args=[session.pk])


def test_another_schools_staff_gets_404_with_htmx_too(client, world):
    session = world_session(world, capacity_seats=10)
    mine = booking(session, institution=world.school_a, by=world.staff_a, seats=6)
    client.force_login(world.staff_b)
    assert _book(client, session, world, seats=2, **HTMX).status_code == 404
    assert client.post(reverse("programs:booking_cancel", args=[mine.pk]), **HTMX).status_code == 404
    assert Booking.objects.get().status == BookingStatus.CONFIRMED
