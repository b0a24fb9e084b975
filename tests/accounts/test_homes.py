"""Every role's home: its panels, numbers that link to the list behind them, a fixed number of
queries whatever the amount of data, and nothing of another school."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import home
from accounts.enums import Role
from evaluations.enums import Direction
from evaluations.models import Metric, Target
from internships.enums import ApplicationStatus
from internships.models import HoursEntry
from programs.enums import BookingStatus, LocationKind, SessionStatus
from programs.models import Facilitation, SessionRequest
from tests.evaluations.factories import invitation, survey
from tests.factories import AgencyFactory, MembershipFactory
from tests.internships.factories import active_placement, application, make_student, started
from tests.internships.factories import posting as make_posting
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking


def _home(client, user):
    """The home's query count and HTML, computed afresh: the counts are the panels' own, not
    what the table cache saves on a second look (tests/accounts/test_home_cache.py)."""
    client.force_login(user)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _mid_last_month():
    """Noon on a day in the middle of last month: every delivery falls in the same month."""
    day = timezone.localdate().replace(day=1) - timedelta(days=15)
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def setting(world):
    """An active agreement between the agency and school A with a workshop, a posting and a target."""
    agreement = active_agreement(world.agency, world.school_a)
    program = ProgramFactory(agreement=agreement, title="Online safety basics")
    posting = make_posting(world.agency, world.school_a, agreement=agreement, title="Records Unit Intern")
    today = timezone.localdate()
    Target.objects.create(
        agreement=agreement,
        metric=Metric.objects.get(computation="sessions_delivered"),
        period_start=today.replace(day=1) - timedelta(days=60),
        period_end=today + timedelta(days=60),
        target_value=Decimal(10),
        direction=Direction.AT_LEAST,
    )
    return agreement, program, posting


def _coordinator_rows(world, program, posting, n):
    """``n`` each of: delivered sessions with attendance, upcoming sessions, session requests,
    submitted applications."""
    today = timezone.localdate()
    for i in range(n):
        starts = _mid_last_month() + timedelta(minutes=i)
        delivered = SessionFactory(
            program=program, starts_at=starts, ends_at=starts + timedelta(hours=1), status=SessionStatus.DELIVERED
        )
        made = booking(delivered, institution=world.school_a, by=world.staff_a, seats=10)
        made.attended_count = 9
        made.save(update_fields=["attended_count"])
        SessionFactory(program=program, starts_at=timezone.now() + timedelta(days=5 + i))
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
        application(posting, make_student(world.school_a))


def test_home_plugin_collects_panels_in_role_sections(world):
    sections = home.sections_for(world.agency_coordinator, {"coordinator"})
    assert [s["title"] for s in sections] == ["Coordinator"]
    orders = [p.order for p in sections[0]["panels"]]
    assert orders == sorted(orders) and all(100 <= o < 200 for o in orders)


def test_coordinator_home_queries_do_not_grow_with_data(client, world, setting):
    _agreement, program, posting = setting
    _coordinator_rows(world, program, posting, 2)
    small, _body = _home(client, world.agency_coordinator)
    _coordinator_rows(world, program, posting, 4)
    large, body = _home(client, world.agency_coordinator)
    assert small == large
    assert ">6</span> session requests waiting" in body
    assert body.count("Online safety basics") == home.ROWS  # upcoming sessions: a fixed number of rows


def test_coordinator_dashboard_numbers_link_to_their_filtered_lists(client, world, setting):
    agreement, program, posting = setting
    _coordinator_rows(world, program, posting, 2)
    _count, body = _home(client, world.agency_coordinator)
    for url in [
        reverse("partnerships:agreement_list") + "?status=draft&amp;incomplete=1",
        reverse("partnerships:agreement_list") + "?expiring_within=90",
        reverse("partnerships:agreement_list") + "?review_due=1",
        reverse("partnerships:agreement_list") + "?overdue_items=1",
        reverse("partnerships:agreement_list") + "?activated_within=30",
        reverse("programs:request_list") + "?status=open",
        reverse("internships:application_list") + "?status=submitted",
        reverse("internships:placement_list") + "?status=pending",
        reverse("internships:clearance_list") + "?expiring=60",
        reverse("internships:placement_list") + "?missed_check_ins=1",
    ]:
        assert f'href="{url}"' in body, url
    assert f'<a href="{reverse("internships:application_list")}?status=submitted"><span class="badge">2</span>' in body
    client.force_login(world.agency_coordinator)
    listed = client.get(reverse("internships:application_list") + "?status=submitted").content.decode()
    assert listed.count(reverse("internships:application_detail", args=[posting.applications.first().pk])) >= 1


def test_coordinator_dashboard_charts_follow_the_charts_contract(client, world, setting):
    _agreement, program, posting = setting
    _coordinator_rows(world, program, posting, 2)
    _count, body = _home(client, world.agency_coordinator)
    for chart_id in (
        "chart-sessions-delivered",
        "chart-students-reached",
        "chart-fill-rate",
        "chart-satisfaction",
        "chart-internship-funnel",
    ):
        assert f'data-source="{chart_id}"' in body
        assert f'<script id="{chart_id}" type="application/json">' in body
    assert '<figure class="chart" data-chart="bar"' in body
    assert '<figure class="chart" data-chart="line"' in body
    assert '<caption class="visually-hidden">Students reached per month</caption>' in body
    assert "<td>18</td>" in body  # two deliveries last month, 9 students each: also in the table


def test_coordinator_kpi_cards_show_progress_against_targets(client, world, setting):
    agreement, program, posting = setting
    _count, body = _home(client, world.agency_coordinator)
    assert "Sessions delivered" in body
    assert reverse("evaluations:agreement_home", args=[agreement.pk]) in body
    assert "status-" in body


def test_coordinator_of_school_b_sees_nothing_of_school_a(client, world, setting):
    _agreement, program, posting = setting
    _coordinator_rows(world, program, posting, 2)
    _count, body = _home(client, world.coordinator_b)
    assert "Online safety basics" not in body
    assert ">0</span> session requests waiting" in body
    assert reverse("evaluations:agreement_home", args=[_agreement.pk]) not in body


def test_coordinator_home_shows_only_the_agreements_they_coordinate(client, world, setting):
    """A coordinator who is also staff of another school sees that school's agreements elsewhere,
    but the coordinator's delivery charts and upcoming sessions are of the agreements they
    coordinate only."""
    _agreement, program, posting = setting
    _coordinator_rows(world, program, posting, 1)
    MembershipFactory(user=world.agency_coordinator, organization=world.school_b, role=Role.STAFF)
    other = ProgramFactory(agreement=active_agreement(AgencyFactory(), world.school_b), title="Bike patrol open day")
    SessionFactory(program=other, starts_at=timezone.now() + timedelta(days=1))
    delivered = SessionFactory(program=other, starts_at=_mid_last_month(), status=SessionStatus.DELIVERED)
    made = booking(delivered, institution=world.school_b, by=world.staff_b, seats=10)
    made.attended_count = 7
    made.save(update_fields=["attended_count"])
    _count, body = _home(client, world.agency_coordinator)
    assert "Online safety basics" in body
    assert "Bike patrol open day" not in body
    assert "<td>9</td>" in body and "<td>16</td>" not in body  # students reached: theirs, not 9 + 7


def _staff_rows(world, program, n):
    for i in range(n):
        session = SessionFactory(
            program=program,
            starts_at=timezone.now() + timedelta(days=3 + i),
            location_kind=LocationKind.VIRTUAL,
            join_url=f"https://meet.example.test/room-{i}",
            capacity_seats=10,
        )
        booking(session, institution=world.school_a, by=world.staff_a, seats=10, group_name=f"Class {i}")
        booking(session, institution=world.school_a, by=world.staff_a, seats=5, status=BookingStatus.WAITLISTED)
        past = SessionFactory(
            program=program, starts_at=timezone.now() - timedelta(days=2 + i), status=SessionStatus.DELIVERED
        )
        invitation(survey("workshop-staff", past), user=world.staff_a)


def test_staff_home_queries_do_not_grow_with_data(client, world, setting):
    _agreement, program, _posting = setting
    _staff_rows(world, program, 1)
    small, _body = _home(client, world.staff_a)
    _staff_rows(world, program, 3)
    large, _body = _home(client, world.staff_a)
    assert small == large


def test_staff_home_shows_bookings_waitlist_join_links_and_surveys(client, world, setting):
    _agreement, program, _posting = setting
    _staff_rows(world, program, 1)
    _count, body = _home(client, world.staff_a)
    assert "https://meet.example.test/room-0" in body  # confirmed: the join link is shown
    assert "#1 on the waitlist" in body
    assert f'href="{reverse("programs:catalog")}"' in body
    assert f'href="{reverse("programs:calendar_manage", args=[world.school_a.pk])}"' in body
    assert "Survey about" in body


def test_staff_home_hides_join_link_of_a_waitlisted_booking(client, world, setting):
    _agreement, program, _posting = setting
    session = SessionFactory(
        program=program,
        starts_at=timezone.now() + timedelta(days=3),
        location_kind=LocationKind.VIRTUAL,
        join_url="https://meet.example.test/secret",
    )
    booking(session, institution=world.school_a, by=world.staff_a, seats=5, status=BookingStatus.WAITLISTED)
    _count, body = _home(client, world.staff_a)
    assert "#1 on the waitlist" in body
    assert "https://meet.example.test/secret" not in body


def test_staff_of_school_b_never_sees_school_a_bookings_or_surveys(client, world, setting):
    _agreement, program, _posting = setting
    _staff_rows(world, program, 2)
    _count, body = _home(client, world.staff_b)
    assert "Online safety basics" not in body
    assert "meet.example.test" not in body
    assert "Survey about" not in body
    assert "No upcoming bookings." in body


def _officer_rows(world, program, posting, n):
    # Each session on a day of its own: PostgreSQL refuses an officer in two sessions at once.
    first = Facilitation.objects.filter(officer=world.officer).count()
    for i in range(first, first + n):
        session = SessionFactory(program=program, starts_at=timezone.now() + timedelta(days=4 + i))
        Facilitation.objects.create(
            session=session, officer=world.officer, starts_at=session.starts_at, ends_at=session.ends_at
        )
        placement = started(active_placement(posting, make_student(world.school_a), mentor=world.officer))
        HoursEntry.objects.create(
            placement=placement, day=timezone.localdate() - timedelta(days=1), hours=Decimal("3"), activity="Filing"
        )


def test_officer_home_queries_do_not_grow_with_data(client, world, setting):
    _agreement, program, posting = setting
    posting.slots = 20
    posting.save(update_fields=["slots"])
    from tests.internships.factories import clear

    clear(world.officer, world.agency)
    _officer_rows(world, program, posting, 2)
    small, _body = _home(client, world.officer)
    _officer_rows(world, program, posting, 4)
    large, body = _home(client, world.officer)
    assert small == large
    assert ">6</span> hours entries waiting" in body
    assert f'href="{reverse("programs:feed_settings")}"' in body
    assert "valid until" in body


def test_student_home_shows_postings_applications_and_placement(client, world, setting):
    _agreement, _program, posting = setting
    other = make_posting(world.agency, world.school_a, agreement=posting.agreement, title="Dispatch Intern")
    student = make_student(world.school_a)
    application(other, student)
    _count, body = _home(client, student)
    assert "Records Unit Intern" in body  # open to them, not applied yet
    assert reverse("internships:application_detail", args=[other.applications.get().pk]) in body
    assert str(ApplicationStatus.SUBMITTED.label) in body


def test_student_home_queries_do_not_grow_with_data(client, world, setting):
    agreement, _program, _posting = setting
    student = make_student(world.school_a)

    def rows(n):
        for i in range(n):
            application(make_posting(world.agency, world.school_a, agreement=agreement, title=f"P{i}"), student)
            make_posting(world.agency, world.school_a, agreement=agreement, title=f"Open {i}")

    rows(2)
    small, _body = _home(client, student)
    rows(4)
    large, _body = _home(client, student)
    assert small == large


def test_student_of_school_b_sees_no_posting_of_school_a(client, world, setting):
    student_b = make_student(world.school_b)
    _count, body = _home(client, student_b)
    assert "Records Unit Intern" not in body
    assert "No open postings for you right now." in body


def test_student_home_shows_placement_hours(client, world, setting):
    _agreement, _program, posting = setting
    student = make_student(world.school_a)
    placement = started(active_placement(posting, student))
    HoursEntry.objects.create(
        placement=placement, day=timezone.localdate() - timedelta(days=1), hours=Decimal("4"), activity="Filing"
    )
    _count, body = _home(client, student)
    assert "4 hours logged: 0 approved, 4 waiting for your mentor; 100 required" in body


def test_last_months_are_twelve_first_days_ending_this_month():
    months = home.last_months(date(2026, 3, 15))
    assert months[0] == date(2025, 4, 1) and months[-1] == date(2026, 3, 1) and len(months) == 12
