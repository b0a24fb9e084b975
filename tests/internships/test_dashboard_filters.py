"""The coordinator's internship counts open lists filtered by the same rule: clearances to renew
(``?expiring=60``) and active placements with a missed check-in (``?missed_check_ins=1``). The
number on the home is the number of rows, page after page, and nothing of another agency."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.enums import Role
from internships.enums import CheckInStatus, PlacementStatus
from internships.models import CheckIn, Clearance, Placement
from tests.dashboard import dashboard_count, list_rows
from tests.factories import AgencyFactory, member
from tests.internships.factories import active_placement, clearance_kinds, make_student, started, today
from tests.internships.factories import posting as make_posting
from tests.programs.factories import active_agreement

CLEARANCES = reverse("internships:clearance_list") + "?expiring=60"
MISSED = reverse("internships:placement_list") + "?missed_check_ins=1"


def _clearance(agency, expires_in: int, *, name: str) -> Clearance:
    officer = member(agency, Role.OFFICER, full_name=name)
    (kind,) = clearance_kinds(agency, "State police check")
    return Clearance.objects.create(
        officer=officer,
        kind=kind,
        issued_on=today() - timedelta(days=700),
        expires_on=today() + timedelta(days=expires_in),
        verified_by=member(agency, Role.COORDINATOR),
    )


@pytest.fixture
def clearances(world):
    """To renew: expiring in 5, 60 days and expired 3 days ago; not: in 61 days, expired 20 days
    ago, and one expiring in 10 days that is already renewed."""
    due = [_clearance(world.agency, days, name=f"Due {days}") for days in (5, 60, -3)]
    for days in (61, -20):
        _clearance(world.agency, days, name=f"Fine {days}")
    renewed = _clearance(world.agency, 10, name="Renewed")
    Clearance.objects.create(
        officer=renewed.officer,
        kind=renewed.kind,
        issued_on=today() - timedelta(days=1),
        expires_on=today() + timedelta(days=730),
        verified_by=renewed.verified_by,
    )
    return due


def test_clearances_to_renew_count_is_the_length_of_the_filtered_list(client, world, clearances):
    listed = list_rows(client, world.agency_coordinator, CLEARANCES)
    assert dashboard_count(client, world.agency_coordinator, CLEARANCES) == len(listed) == 3
    assert sorted(re.search(r"<td>(Due -?\d+)</td>", row).group(1) for row in listed) == [
        "Due -3",
        "Due 5",
        "Due 60",
    ]


def test_clearance_list_keeps_the_filter_across_pages(client, world):
    for i in range(26):
        _clearance(world.agency, i, name=f"Officer {i}")
    listed = list_rows(client, world.agency_coordinator, CLEARANCES)
    assert dashboard_count(client, world.agency_coordinator, CLEARANCES) == len(listed) == 26
    client.force_login(world.agency_coordinator)
    assert '<a href="?expiring=60&amp;page=2" rel="next">' in client.get(CLEARANCES).content.decode()


def test_another_agency_sees_none_of_the_clearances_to_renew(client, world, clearances):
    other = AgencyFactory(name="Hillside Sheriff")
    theirs = member(other, Role.COORDINATOR)
    _clearance(other, 7, name="Hillside deputy")
    assert dashboard_count(client, theirs, CLEARANCES) == 1
    assert [re.search(r"<td>([^<]+)</td>", row).group(1) for row in list_rows(client, theirs, CLEARANCES)] == [
        "Hillside deputy"
    ]
    assert list_rows(client, world.coordinator_b, CLEARANCES) == []


@pytest.mark.parametrize("value", ["soon", "-1", "3651", "6O"])
def test_clearance_list_refuses_a_bad_number_of_days(client, world, value):
    client.force_login(world.agency_coordinator)
    response = client.get(reverse("internships:clearance_list"), {"expiring": value})
    assert response.status_code == 400
    assert "is not a number of days" in response.content.decode()


def _placement(world, posting, *check_ins, status=PlacementStatus.ACTIVE) -> Placement:
    placement = started(active_placement(posting, make_student(world.school_a)))
    CheckIn.objects.filter(placement=placement).delete()
    for due_in, state in check_ins:
        CheckIn.objects.create(placement=placement, due_on=today() + timedelta(days=due_in), status=state)
    Placement.objects.filter(pk=placement.pk).update(status=status)
    return placement


@pytest.fixture
def placements(world):
    """Missed: one marked missed, one still scheduled after its day, one with two missed. Not:
    one held and one due tomorrow, and a suspended placement with a missed check-in."""
    agreement = active_agreement(world.agency, world.school_a)
    posting = make_posting(world.agency, world.school_a, agreement=agreement, slots=10)
    missed = [
        _placement(world, posting, (-7, CheckInStatus.MISSED)),
        _placement(world, posting, (-1, CheckInStatus.SCHEDULED)),
        _placement(world, posting, (-14, CheckInStatus.MISSED), (-7, CheckInStatus.MISSED)),
    ]
    _placement(world, posting, (-7, CheckInStatus.HELD), (1, CheckInStatus.SCHEDULED), (0, CheckInStatus.SCHEDULED))
    _placement(world, posting, (-7, CheckInStatus.MISSED), status=PlacementStatus.SUSPENDED)
    return missed


def _placement_links(rows) -> list[str]:
    return sorted(re.search(r'<a href="([^"]+)">', row).group(1) for row in rows)


def test_missed_check_ins_count_is_the_length_of_the_filtered_placement_list(client, world, placements):
    listed = list_rows(client, world.agency_coordinator, MISSED)
    assert dashboard_count(client, world.agency_coordinator, MISSED) == len(listed) == 3
    assert _placement_links(listed) == sorted(reverse("internships:placement_detail", args=[p.pk]) for p in placements)
    # The student's school coordinator sees the same placements, by the same rule.
    assert dashboard_count(client, world.coordinator_a, MISSED) == len(list_rows(client, world.coordinator_a, MISSED))


def test_another_school_sees_none_of_the_missed_check_ins(client, world, placements):
    assert dashboard_count(client, world.coordinator_b, MISSED) == 0
    assert list_rows(client, world.coordinator_b, MISSED) == []


def test_placement_list_refuses_a_bad_missed_check_ins_value(client, world):
    client.force_login(world.agency_coordinator)
    response = client.get(reverse("internships:placement_list"), {"missed_check_ins": "yes"})
    assert response.status_code == 400
    assert "is not a missed check-ins filter" in response.content.decode()
