"""The coordinator's agreement counts open the agreement list filtered by the same rule:
``?overdue_items=1`` and ``?activated_within=30``; newly active agreements are named on the
home, with links. Nothing of them reaches a coordinator of a school outside the agreements."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from partnerships import services
from partnerships.models import ActionItem, Agreement
from tests.dashboard import FIRST_LINK, dashboard_count, home_page, list_rows
from tests.partnerships.factories import active

OVERDUE = reverse("partnerships:agreement_list") + "?overdue_items=1"
NEWLY_ACTIVE = reverse("partnerships:agreement_list") + "?activated_within=30"


def _item(world, agreement, due_in: int, *, done=False) -> ActionItem:
    item = services.action_item_add(
        agreement=agreement,
        description="Send the roster",
        owner=world.agency_coordinator,
        due_on=timezone.localdate() + timedelta(days=due_in),
        by=world.agency_coordinator,
    )
    if done:
        ActionItem.objects.filter(pk=item.pk).update(done_at=timezone.now())
    return item


@pytest.fixture
def agreements(world):
    """Overdue: one agreement with two overdue items, one with one. Not: an item done, an item
    due today. The first two were activated 40 days ago; the other two just now."""
    late_two, late_one, done, due_today = (active(world, title=f"MOU {name}") for name in "ABCD")
    _item(world, late_two, -5)
    _item(world, late_two, -1)
    _item(world, late_one, -30)
    _item(world, late_one, 3)
    _item(world, done, -5, done=True)
    _item(world, due_today, 0)
    Agreement.objects.filter(pk__in=[late_two.pk, late_one.pk]).update(activated_at=timezone.now() - timedelta(days=40))
    return late_two, late_one, done, due_today


def test_overdue_items_count_is_the_length_of_the_filtered_agreement_list(client, world, agreements):
    late_two, late_one, _done, _due_today = agreements
    for coordinator in (world.agency_coordinator, world.coordinator_a):
        listed = list_rows(client, coordinator, OVERDUE, FIRST_LINK)
        assert dashboard_count(client, coordinator, OVERDUE) == len(listed) == 2
        assert sorted(listed) == sorted(a.get_absolute_url() for a in (late_two, late_one))


def test_newly_active_agreements_are_named_with_links_and_counted(client, world, agreements):
    _late_two, _late_one, done, due_today = agreements
    listed = list_rows(client, world.agency_coordinator, NEWLY_ACTIVE, FIRST_LINK)
    assert dashboard_count(client, world.agency_coordinator, NEWLY_ACTIVE) == len(listed) == 2
    assert sorted(listed) == sorted(a.get_absolute_url() for a in (done, due_today))
    panel = home_page(client, world.agency_coordinator).split('id="home-newly-active"')[1].split("</section>")[0]
    for agreement in (done, due_today):
        assert f'<a href="{agreement.get_absolute_url()}">{agreement.title}</a>' in panel
    assert "MOU A" not in panel and "MOU B" not in panel  # active for 40 days: not new


def test_a_school_outside_the_agreements_sees_none_of_them(client, world, agreements):
    assert dashboard_count(client, world.coordinator_b, OVERDUE) == 0
    assert dashboard_count(client, world.coordinator_b, NEWLY_ACTIVE) == 0
    assert list_rows(client, world.coordinator_b, OVERDUE, FIRST_LINK) == []
    assert list_rows(client, world.coordinator_b, NEWLY_ACTIVE, FIRST_LINK) == []
    page = home_page(client, world.coordinator_b)
    # By title: a bare "MOU" also turns up, now and then, inside the page's random CSP nonce.
    assert [a.title for a in agreements if a.title in page] == []


def test_agreement_list_keeps_the_filter_across_pages(client, world):
    for i in range(26):
        _item(world, active(world, title=f"MOU {i}"), -1)
    listed = list_rows(client, world.agency_coordinator, OVERDUE, FIRST_LINK)
    assert dashboard_count(client, world.agency_coordinator, OVERDUE) == len(listed) == 26


@pytest.mark.parametrize("query", [{"overdue_items": "maybe"}, {"activated_within": "soon"}])
def test_agreement_list_refuses_a_bad_filter_value_with_a_message(client, world, query):
    client.force_login(world.agency_coordinator)
    response = client.get(reverse("partnerships:agreement_list"), query)
    assert response.status_code == 400
    assert 'class="error" role="alert"' in response.content.decode()
