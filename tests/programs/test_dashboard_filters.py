"""The coordinator's "session requests waiting" count opens the request list filtered to
``?status=open``: the same rows, page after page, and nothing of another school."""

import re
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from programs.enums import RequestStatus
from programs.models import SessionRequest
from tests.programs.factories import ProgramFactory, active_agreement

URL = reverse("programs:request_list") + "?status=open"


def _dashboard_count(client, user, url) -> int:
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    found = re.search(rf'<a href="{re.escape(url.replace("&", "&amp;"))}"><span class="badge">(\d+)</span>', body)
    assert found, url
    return int(found.group(1))


def _listed(client, user, url) -> list[str]:
    """The rows of every page of a list (following its "Next" links)."""
    client.force_login(user)
    rows, page = [], url
    while page:
        response = client.get(page)
        assert response.status_code == 200
        body = response.content.decode()
        rows += re.findall(r'<tr><td><a href="([^"]+)">', body.split("<tbody>")[1].split("</tbody>")[0])
        following = re.search(r'<a href="(\?[^"]+)" rel="next">', body)
        page = url.split("?")[0] + following.group(1).replace("&amp;", "&") if following else None
    return rows


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
    listed = _listed(client, coordinator, URL)
    assert _dashboard_count(client, coordinator, URL) == len(listed) == 26
    assert sorted(listed) == sorted(reverse("programs:request_detail", args=[r.pk]) for r in waiting)
    second = client.get(URL).content.decode()
    assert '<a href="?status=open&amp;page=2" rel="next">' in second  # the filter survives paging


def test_coordinator_of_another_school_sees_no_waiting_request(client, world, program):
    _requests(world, program, 3)
    assert _dashboard_count(client, world.coordinator_b, URL) == 0
    assert _listed(client, world.coordinator_b, URL) == []


def test_request_list_refuses_an_unknown_status_with_a_message(client, world, program):
    _requests(world, program, 1)
    client.force_login(world.agency_coordinator)
    response = client.get(reverse("programs:request_list"), {"status": "waiting"})
    assert response.status_code == 400
    assert "is not a request status" in response.content.decode()
