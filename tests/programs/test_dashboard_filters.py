"""The coordinator's "session requests waiting" count opens the request list filtered to
``?status=open``: the same rows, page after page, and nothing of another school."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from programs.enums import RequestStatus
from programs.models import SessionRequest
from tests.dashboard import FIRST_LINK, dashboard_count, list_rows
from tests.programs.factories import ProgramFactory, active_agreement

URL = reverse("programs:request_list") + "?status=open"


def _requests(world, program, n, *, status=RequestStatus.OPEN):
    today = timezone.localdate()
    made = [
        SessionRequest.objects.create(
            program=program,
            institution=world.school_a,
            requested_by=world.staff_a,
            window_starts_on=today + timedelta(days=20),
            window_ends_on=today + timedelta(days=40),
            preferred_start_time=time(10),
            group_name=f"Class {i}",
            seats=20,
        )
        for i in range(n)
    ]
    SessionRequest.objects.filter(pk__in=[r.pk for r in made]).update(status=status)
    return made


@pytest.fixture
def program(world):
    return ProgramFactory(agreement=active_agreement(world.agency, world.school_a), title="Online safety basics")


def test_requests_waiting_count_is_the_length_of_the_open_request_list(client, world, program):
    waiting = _requests(world, program, 26)  # more than a page
    _requests(world, program, 2, status=RequestStatus.DECLINED)
    _requests(world, program, 1, status=RequestStatus.SCHEDULED)
    coordinator = world.agency_coordinator
    listed = list_rows(client, coordinator, URL, FIRST_LINK)
    assert dashboard_count(client, coordinator, URL) == len(listed) == 26
    assert sorted(listed) == sorted(reverse("programs:request_detail", args=[r.pk]) for r in waiting)
    second = client.get(URL).content.decode()
    assert '<a href="?status=open&amp;page=2" rel="next">' in second  # the filter survives paging


def test_coordinator_of_another_school_sees_no_waiting_request(client, world, program):
    _requests(world, program, 3)
    assert dashboard_count(client, world.coordinator_b, URL) == 0
    assert list_rows(client, world.coordinator_b, URL, FIRST_LINK) == []


def test_request_list_refuses_an_unknown_status_with_a_message(client, world, program):
    _requests(world, program, 1)
    client.force_login(world.agency_coordinator)
    response = client.get(reverse("programs:request_list"), {"status": "waiting"})
    assert response.status_code == 400
    assert "is not a request status" in response.content.decode()
