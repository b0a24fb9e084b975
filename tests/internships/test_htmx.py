"""Internships with htmx: the posting filter answers with its rows only, approving and returning
hours answers with the hours table and the totals; the same requests without htmx behave as
before, and the permission rules do not change with the header."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from internships import services
from internships.enums import HoursStatus
from internships.models import HoursEntry
from tests.internships import factories as f

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(name, *args):
    return reverse(f"internships:{name}", args=args)


def _partial(response) -> str:
    assert response.status_code == 200, response.content[:300]
    body = response.content.decode()
    assert "<html" not in body and "<h1" not in body
    return body


def _hours(world):
    mentor = f.cleared_officer(world.agency)
    placement = f.started(f.active_placement(f.world_posting(world), f.make_student(world.school_a), mentor=mentor))
    entry, _ = services.log_hours(
        placement=placement, by=placement.student, day=f.today() - timedelta(days=2), hours=3, activity="Filing"
    )
    return mentor, placement, entry


# --- the posting filter ----------------------------------------------------------------------------


def test_htmx_posting_filter_answers_with_the_rows_only(client, world):
    f.posting(world.agency, world.school_a, title="Dispatch intern", is_remote=True)
    f.posting(world.agency, world.school_a, title="Records intern", is_remote=False)
    client.force_login(world.agency_coordinator)
    body = _partial(client.get(_url("posting_list"), {"remote": "yes"}, **HTMX))
    assert "Dispatch intern" in body and "Records intern" not in body
    assert "1 internship matches." in body and 'id="posting-status" hx-swap-oob="innerHTML"' in body
    full = client.get(_url("posting_list"), {"remote": "yes"}).content.decode()
    assert "<html" in full and "Dispatch intern" in full and "Records intern" not in full
    assert 'hx-target="#posting-results"' in full and 'hx-trigger="change, submit"' in full


def test_htmx_posting_filter_does_the_same_queries_for_2_and_6_rows(client, world):
    posting = f.world_posting(world, slots=20)

    def add(n):
        for i in range(n):
            f.posting(world.agency, world.school_a, agreement=posting.agreement, title=f"Extra {i}")

    add(1)
    client.force_login(world.agency_coordinator)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            _partial(client.get(_url("posting_list"), **HTMX))
        return len(ctx.captured_queries)

    few = count()
    add(4)
    more = count()
    assert more == few, f"{few} queries for 2 rows, {more} for 6"


# --- approve and return hours ----------------------------------------------------------------------


def test_htmx_approve_answers_with_the_hours_table_and_the_new_total(client, world):
    mentor, placement, entry = _hours(world)
    client.force_login(mentor)
    body = _partial(client.post(_url("hours_approve", entry.pk), **HTMX))
    assert body.lstrip().startswith('<div id="hours-list">')
    assert '<dd id="placement-hours" hx-swap-oob="true">3 approved of 100 required</dd>' in body
    assert "Hours approved." in body and 'id="hours-status" hx-swap-oob="innerHTML"' in body
    assert 'tabindex="-1" autofocus>Hours approved.' in body  # the pressed button is gone: the message takes the focus
    assert HoursEntry.objects.get().status == HoursStatus.APPROVED


def test_without_htmx_approve_still_redirects_to_the_placement(client, world):
    mentor, placement, entry = _hours(world)
    client.force_login(mentor)
    response = client.post(_url("hours_approve", entry.pk))
    assert response.status_code == 302 and response["Location"] == _url("placement_detail", placement.pk)
    assert HoursEntry.objects.get().status == HoursStatus.APPROVED


def test_the_placement_page_wires_approve_and_return_for_htmx(client, world):
    mentor, placement, entry = _hours(world)
    client.force_login(mentor)
    page = client.get(_url("placement_detail", placement.pk)).content.decode()
    assert f'hx-post="{_url("hours_approve", entry.pk)}"' in page
    assert f'hx-post="{_url("hours_return", entry.pk)}"' in page
    assert 'id="hours-status" role="status" aria-live="polite"' in page


def test_htmx_return_answers_with_the_row_returned(client, world):
    mentor, placement, entry = _hours(world)
    client.force_login(mentor)
    body = _partial(client.post(_url("hours_return", entry.pk), {"comment": "It was 2 hours."}, **HTMX))
    assert "It was 2 hours." in body and "Returned" in body
    assert "0 approved of 100 required" in body
    assert HoursEntry.objects.get().status == HoursStatus.RETURNED


def test_htmx_return_without_a_comment_shows_the_error_as_an_alert(client, world):
    mentor, placement, entry = _hours(world)
    client.force_login(mentor)
    body = _partial(client.post(_url("hours_return", entry.pk), {"comment": ""}, **HTMX))
    assert '<p class="error" role="alert">' in body
    assert HoursEntry.objects.get().status == HoursStatus.SUBMITTED
    assert client.post(_url("hours_return", entry.pk), {"comment": ""}).status_code == 400  # without htmx


def test_htmx_does_not_widen_who_may_approve_or_return(client, world):
    mentor, placement, entry = _hours(world)
    client.force_login(world.staff_b)
    assert client.post(_url("hours_approve", entry.pk), **HTMX).status_code == 404
    assert client.post(_url("hours_return", entry.pk), {"comment": "x"}, **HTMX).status_code == 404
    client.force_login(placement.student)
    assert client.post(_url("hours_approve", entry.pk), **HTMX).status_code == 403
    assert HoursEntry.objects.get().status == HoursStatus.SUBMITTED
