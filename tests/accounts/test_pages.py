import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.enums import Role
from notifications.models import OutboundMessage
from tests.factories import MembershipFactory, SchoolFactory, member


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow_school(school, n):
    for _ in range(n):
        MembershipFactory(organization=school, role=Role.STAFF)


@pytest.mark.parametrize(
    "url_for",
    [
        lambda w: reverse("accounts:organization_detail", args=[w.school_a.pk]),
        lambda w: reverse("accounts:organization_list"),
        lambda w: reverse("home"),
        lambda w: "/api/v1/memberships/",
        lambda w: "/api/v1/organizations/",
        lambda w: "/api/v1/me/",
    ],
    ids=[
        "organization_detail",
        "organization_list",
        "home",
        "api_memberships",
        "api_organizations",
        "api_me",
    ],
)
def test_pages_do_a_bounded_number_of_queries(client, world, url_for):
    client.force_login(world.coordinator_a)
    url = url_for(world)
    few = _queries(client, url)
    _grow_school(world.school_a, 20)
    for _ in range(5):
        school = SchoolFactory()
        MembershipFactory(user=world.coordinator_a, organization=school, role=Role.COORDINATOR)
        _grow_school(school, 3)
    many = _queries(client, url)
    assert many == few, f"{url}: {few} queries with few rows, {many} with many"


def test_notifications_page_query_count_is_flat(client, world):
    client.force_login(world.staff_a)
    url = reverse("notifications:list")
    OutboundMessage.objects.create(
        dedupe_key="first", to_email="x@example.test", user=world.staff_a, subject="S", body_text="b"
    )
    few = _queries(client, url)
    for i in range(30):
        OutboundMessage.objects.create(
            dedupe_key=f"n{i}", to_email="x@example.test", user=world.staff_a, subject=f"S{i}", body_text="b"
        )
    assert _queries(client, url) == few


def test_member_list_is_paginated(client, world):
    _grow_school(world.school_a, 30)
    client.force_login(world.coordinator_a)
    page1 = client.get(reverse("accounts:organization_detail", args=[world.school_a.pk]))
    assert page1.context["members"].paginator.num_pages == 2
    assert len(page1.context["members"]) == 25
    page2 = client.get(reverse("accounts:organization_detail", args=[world.school_a.pk]) + "?page=2")
    assert len(page2.context["members"]) == 8


def test_htmx_request_gets_only_the_members_partial(client, world):
    client.force_login(world.coordinator_a)
    response = client.get(
        reverse("accounts:organization_detail", args=[world.school_a.pk]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="members">')
    assert "<html" not in body


def test_times_are_shown_in_the_organizations_time_zone(client, world):
    """A Los Angeles school sees Los Angeles time, whatever the server's zone."""
    client.force_login(world.staff_a)
    OutboundMessage.objects.create(
        dedupe_key="tz",
        to_email="x@example.test",
        user=world.staff_a,
        subject="TZ",
        body_text="b",
        created_at=timezone.datetime(2026, 1, 15, 20, 30, tzinfo=timezone.UTC),
    )
    body = client.get(reverse("notifications:list")).content.decode()
    assert "12:30" in body  # 20:30 UTC is 12:30 in America/Los_Angeles


@pytest.mark.parametrize("url", ["/home/", "/api/v1/memberships/", "/accounts/login/"])
def test_views_get_the_person_itself_once_it_is_loaded(client, world, url):
    """After the time zone is chosen, request.user is the loaded User (or AnonymousUser), not the
    lazy proxy that costs a call for each attribute the rules read."""
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

    assert type(client.get(url).wsgi_request.user) is AnonymousUser
    client.force_login(world.staff_a)
    seen = client.get(url).wsgi_request.user
    assert type(seen) is User and seen.pk == world.staff_a.pk


def test_home_shows_each_role_its_section(client, world):
    for user, heading in [
        (world.staff_a, "School staff"),
        (world.officer, "Officer"),
        (world.student_a, "Student"),
        (world.coordinator_a, "Coordinator"),
    ]:
        client.force_login(user)
        assert f">{heading}</h2>" in client.get(reverse("home")).content.decode()


def test_pages_have_landmarks_and_a_skip_link(client, world):
    client.force_login(world.coordinator_a)
    body = client.get(reverse("accounts:organization_detail", args=[world.school_a.pk])).content.decode()
    for needle in [
        '<main id="main"',
        "<header",
        "<nav",
        "<footer",
        'href="#main"',
        '<html lang="en"',
        "<label for=",
    ]:
        assert needle in body


def test_login_required_everywhere_but_public_pages(client, db):
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("landing")).status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def test_server_errors_show_no_traceback(client, world, settings, monkeypatch):
    from accounts import views

    def boom(request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.selectors, "my_memberships", lambda user: boom(None))
    client.raise_request_exception = False
    client.force_login(world.staff_a)
    response = client.get(reverse("home"))
    assert response.status_code == 500
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_outsider_cannot_invite_to_another_school(client, world):
    client.force_login(world.coordinator_b)
    response = client.post(
        reverse("accounts:invitation_create", args=[world.school_a.pk]),
        {"email": "x@example.test", "role": Role.STAFF},
    )
    assert response.status_code == 404
    from accounts.models import Invitation

    assert Invitation.objects.count() == 0


def test_student_of_one_school_cannot_see_another(client, world):
    other_student = member(world.school_b, Role.STUDENT)
    client.force_login(other_student)
    assert client.get(reverse("accounts:organization_detail", args=[world.school_a.pk])).status_code == 404
    assert world.school_a.name not in client.get(reverse("accounts:organization_list")).content.decode()
