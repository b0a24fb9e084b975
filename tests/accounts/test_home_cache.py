"""Homes and reports through the table cache (config/tablecache.py): a second look costs a few
queries, a change anyone makes shows at once, a listed moment that passes changes the list, and
nobody is ever shown figures kept for somebody else."""

import re
from datetime import time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.enums import Role
from accounts.models import Membership
from evaluations import surveys
from internships import services as internships
from programs import services
from programs.enums import SessionStatus
from programs.models import Booking, Program
from tests.evaluations import factories as ef
from tests.evaluations import matrix as em
from tests.factories import AgencyFactory, member
from tests.internships import factories as inf
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

pytestmark = pytest.mark.django_db


def _get(client, user, url=None):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url or reverse("home"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _main(page: str) -> str:
    """The page's content, without what differs on every request (CSRF tokens, CSP nonces)."""
    main = page[page.index("<main") : page.index("</main>")]
    return re.sub(r'(value|nonce)="[^"]*"', "", main)


@pytest.fixture
def program(world) -> Program:
    agreement = active_agreement(world.agency, world.school_a)
    return ProgramFactory(agreement=agreement, title="Online safety basics")


def _request(world, program, group_name):
    today = timezone.localdate()
    return services.request_session(
        program=program,
        institution=world.school_a,
        by=world.staff_a,
        window_starts_on=today + timedelta(days=20),
        window_ends_on=today + timedelta(days=40),
        preferred_start_time=time(10),
        group_name=group_name,
        seats=20,
    )


def test_a_second_look_at_the_coordinator_home_costs_only_the_signed_in_person(client, world, program):
    SessionFactory(program=program)
    _request(world, program, "Class 1")
    first, page = _get(client, world.agency_coordinator)
    again, same = _get(client, world.agency_coordinator)
    assert again < first
    assert again <= 3, again  # the session, the person and their memberships; no panel asks the database
    assert _main(same) == _main(page)


def test_a_request_from_a_school_shows_on_the_coordinators_home_at_once(client, world, program):
    _request(world, program, "Class 1")
    _count, page = _get(client, world.agency_coordinator)
    assert ">1</span> session requests waiting" in page
    _request(world, program, "Class 2")  # through the service, as the school's page does
    _count, page = _get(client, world.agency_coordinator)
    assert ">2</span> session requests waiting" in page


def test_a_booking_recomputes_the_home_without_its_request_count_and_satisfaction_trend(client, world, program):
    """A booking renews the sessions and bookings the home's charts read; the count of requests
    and the satisfaction trend read neither, and come from the cache while the rest is computed
    again."""
    session = SessionFactory(program=program)
    _request(world, program, "Class 1")
    _count, page = _get(client, world.agency_coordinator)
    booking(session, institution=world.school_a, by=world.staff_a, seats=4)
    client.force_login(world.agency_coordinator)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()
    ran = [q["sql"] for q in queries.captured_queries]
    assert any('"programs_booking"' in sql for sql in ran)  # the charts were computed again
    assert not [sql for sql in ran if "programs_sessionrequest" in sql or "evaluations_answer" in sql]
    assert ">1</span> session requests waiting" in page and 'data-source="chart-satisfaction"' in page


def _elsewhere(world):
    """A session of another agency's agreement with school B: world.agency and school A are no
    party of it."""
    other = active_agreement(AgencyFactory(name="Hillside Sheriff"), world.school_b)
    return SessionFactory(program=ProgramFactory(agreement=other, title="Drug awareness in Hillside"))


def _book(session, institution, by):
    """A booking through the service, as the school's page makes it."""
    return services.book_session(session=session, institution=institution, by=by, group_name="Class 7", seats=3)


def _ran(client, user, url):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    return [q["sql"] for q in queries.captured_queries], page


def test_a_booking_in_another_agreement_keeps_the_coordinators_charts_and_upcoming_sessions(client, world, program):
    """The charts and the upcoming sessions read only the agreements the coordinator coordinates:
    another agreement's booking does not compute them again, a booking in theirs does."""
    mine = SessionFactory(program=program)
    elsewhere = _elsewhere(world)
    _get(client, world.agency_coordinator)
    _book(elsewhere, world.school_b, world.staff_b)
    ran, page = _ran(client, world.agency_coordinator, reverse("home"))
    assert not [sql for sql in ran if '"programs_booking"' in sql or '"programs_session"' in sql]
    assert "Online safety basics" in page and "Drug awareness in Hillside" not in page
    _book(mine, world.school_a, world.staff_a)
    ran, page = _ran(client, world.agency_coordinator, reverse("home"))
    assert any('"programs_booking"' in sql for sql in ran) and any('"programs_session"' in sql for sql in ran)


def test_a_booking_in_another_agreement_keeps_a_report_and_attendance_in_its_own_shows_at_once(client, world):
    target = em.once(world, em.target)
    elsewhere = _elsewhere(world)
    url = reverse("evaluations:report", args=[target.agreement_id])
    _get(client, world.staff_a, url)
    kept, page = _get(client, world.staff_a, url)
    _book(elsewhere, world.school_b, world.staff_b)
    count, same = _get(client, world.staff_a, url)
    assert count == kept and _main(same) == _main(page)
    services.record_attendance(
        session=em.once(world, em.session), by=world.agency_coordinator, attended={em.booking(world).pk: 19}
    )
    count, page = _get(client, world.staff_a, url)
    assert count > kept and "<dt>Students reached</dt><dd>19</dd>" in page


def test_an_upcoming_session_leaves_the_home_when_it_starts(client, world, program):
    soon = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    SessionFactory(program=program, starts_at=soon, venue="Gymnasium at two")
    SessionFactory(program=program, starts_at=soon + timedelta(days=3), venue="Library in three days")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _count, page = _get(client, world.agency_coordinator)
        listed = page.count("Online safety basics")
        assert listed >= 2
        clock.shift(timedelta(hours=3))  # no write in between: only the clock moved
        _count, later = _get(client, world.agency_coordinator)
        assert later.count("Online safety basics") == listed - 1


def test_homes_kept_for_one_person_are_never_shown_to_another(client, world, program):
    other = active_agreement(world.agency, world.school_b)
    ProgramFactory(agreement=other, title="Conflict resolution for Jefferson")
    SessionFactory(program=Program.objects.get(title="Conflict resolution for Jefferson"))
    SessionFactory(program=program)
    _count, agency_home = _get(client, world.agency_coordinator)
    assert "Conflict resolution for Jefferson" in agency_home and "Online safety basics" in agency_home
    for outsider in (world.coordinator_b, world.coordinator_a, world.staff_b):
        _count, page = _get(client, outsider)
        assert "Online safety basics" not in page or outsider == world.coordinator_a
        assert "Conflict resolution for Jefferson" not in page or outsider == world.coordinator_b


def test_a_coordinator_who_leaves_no_longer_sees_the_figures_kept_for_them(client, world, program):
    _request(world, program, "Class 1")
    _count, page = _get(client, world.agency_coordinator)
    assert "session requests waiting" in page
    Membership.objects.filter(user=world.agency_coordinator).update(is_active=False)
    _count, page = _get(client, world.agency_coordinator)
    assert "session requests waiting" not in page


def test_a_report_is_kept_until_a_response_arrives(client, world):
    target = em.once(world, em.target)
    survey = em.once(world, em.staff_survey)
    ef.respond(survey, institution=world.school_a, likert=5)
    url = reverse("evaluations:report", args=[target.agreement_id])
    first, page = _get(client, world.staff_a, url)
    again, same = _get(client, world.staff_a, url)
    assert again < first and _main(same) == _main(page)
    assert "1 responses of" in page or "1 response of" in page
    ef.respond(survey, institution=world.school_a, likert=4)
    _count, page = _get(client, world.staff_a, url)
    assert "2 responses of" in page


def test_a_booking_renews_the_reports_figures_and_keeps_its_survey_results(client, world):
    """The two parts of a report are kept apart: a booking changes what the figures read, and
    the survey results, which read none of its tables, are not computed again."""
    target = em.once(world, em.target)
    survey = em.once(world, em.staff_survey)
    ef.respond(survey, institution=world.school_a, likert=5)
    url = reverse("evaluations:report", args=[target.agreement_id])
    _get(client, world.staff_a, url)
    Booking.objects.filter(pk=em.booking(world).pk).update(attended_count=417)
    client.force_login(world.staff_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert "<dt>Students reached</dt><dd>417</dd>" in page
    assert "1 responses of" in page or "1 response of" in page
    survey_tables = ("evaluations_answer", "evaluations_response", "evaluations_surveyinvitation")
    assert not [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in survey_tables)]


def test_a_booking_recomputes_only_the_metric_sources_that_read_its_tables(client, world):
    """The report's figures are computed again after a booking, but of their sources only those
    that read the bookings run again: the placements' and hours' figures come from the cache."""
    target = em.once(world, em.target)
    url = reverse("evaluations:report", args=[target.agreement_id])
    _count, page = _get(client, world.staff_a, url)
    assert "<dt>Intern hours approved</dt>" in page
    Booking.objects.filter(pk=em.booking(world).pk).update(attended_count=418)
    client.force_login(world.staff_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert "<dt>Students reached</dt><dd>418</dd>" in page
    assert "<dt>Intern hours approved</dt>" in page
    ran = [q["sql"] for q in queries.captured_queries]
    assert any('"programs_booking"' in sql for sql in ran)
    assert not [sql for sql in ran if "internships_" in sql]


def test_a_report_for_another_period_is_computed_and_not_kept(client, world):
    target = em.once(world, em.target)
    start, end = em.period()
    url = reverse("evaluations:report", args=[target.agreement_id]) + f"?start={start}&end={end - timedelta(days=1)}"
    first, _page = _get(client, world.staff_a, url)
    again, _page = _get(client, world.staff_a, url)
    assert again == first


def test_hours_approved_show_on_their_agreements_report_at_once_and_keep_the_others(client, world):
    """Hours are written with the agreement of their placement: approving them computes that
    agreement's report again, and no other's."""
    placement = inf.started(inf.active_placement(inf.world_posting(world), inf.make_student(world.school_a)))
    entry, _warnings = internships.log_hours(
        placement=placement, by=placement.student, day=inf.today() - timedelta(days=1), hours=3, activity="Patrol"
    )
    theirs = reverse("evaluations:report", args=[placement.posting.agreement_id])
    other = reverse("evaluations:report", args=[em.once(world, em.target).agreement_id])
    for url in (theirs, other):
        _get(client, world.agency_coordinator, url)
    kept, page = _get(client, world.agency_coordinator, other)
    _count, before = _get(client, world.agency_coordinator, theirs)
    assert "<dt>Intern hours approved</dt><dd>0</dd>" in before
    internships.approve_hours(entry=entry, by=placement.mentor)
    count, same = _get(client, world.agency_coordinator, other)
    assert count == kept and _main(same) == _main(page)
    _count, after = _get(client, world.agency_coordinator, theirs)
    assert "<dt>Intern hours approved</dt><dd>3</dd>" in after


def test_a_response_to_another_agreements_survey_keeps_a_report_and_one_to_its_own_shows_at_once(client, world):
    """A response is written with its survey's agreement: the report of another agreement, both
    its figures and its survey results, and the coordinator's satisfaction trend stay kept."""
    target = em.once(world, em.target)
    survey = em.once(world, em.staff_survey)
    ef.respond(survey, institution=world.school_a, likert=5)
    _invitation, own = ef.invitation(survey, institution=world.school_a)
    other_survey = ef.survey("workshop-staff", ef.delivered_session(AgencyFactory(), world.school_b))
    _invitation, other = ef.invitation(other_survey, institution=world.school_b)
    url = reverse("evaluations:report", args=[target.agreement_id])
    _get(client, world.agency_coordinator)
    _get(client, world.staff_a, url)
    kept, page = _get(client, world.staff_a, url)
    assert "1 responses of" in page or "1 response of" in page

    surveys.submit_response(token=other, answers=ef.answers_for("workshop-staff", likert=2))
    count, same = _get(client, world.staff_a, url)
    assert count == kept and _main(same) == _main(page)
    ran, _home = _ran(client, world.agency_coordinator, reverse("home"))
    assert not [sql for sql in ran if "evaluations_answer" in sql]

    surveys.submit_response(token=own, answers=ef.answers_for("workshop-staff", likert=4))
    _count, page = _get(client, world.staff_a, url)
    assert "2 responses of" in page
    ran, _home = _ran(client, world.agency_coordinator, reverse("home"))
    assert [sql for sql in ran if "evaluations_answer" in sql]


def test_after_every_kind_of_scoped_write_each_kept_page_is_what_computing_it_shows(client, world, settings):
    """The guard on the scopes: after each booking, cancellation, attendance, hours approval and
    survey response, in this agreement or another, every home and report looked at through the
    cache shows exactly what computing it without the cache shows. A write or a figure scoped to
    the wrong agreement would leave one of them stale."""
    here = em.once(world, em.session)  # agreement X: world.agency and school A, a booked class
    em.once(world, em.target)
    survey = em.once(world, em.staff_survey)
    ef.respond(survey, institution=world.school_a, likert=5)
    _invitation, own = ef.invitation(survey, institution=world.school_a)
    upcoming_here = SessionFactory(program=here.program)
    elsewhere = _elsewhere(world)  # agreement Y: another agency and school B
    sheriff = member(elsewhere.program.agreement.lead_agency, Role.COORDINATOR, full_name="Sheriff Coordinator")
    ended = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    delivered_elsewhere = SessionFactory(
        program=elsewhere.program, starts_at=ended - timedelta(hours=1), ends_at=ended, status=SessionStatus.DELIVERED
    )
    theirs = booking(delivered_elsewhere, institution=world.school_b, by=world.staff_b, seats=6)
    other_survey = ef.survey("workshop-staff", delivered_elsewhere)
    _invitation, other = ef.invitation(other_survey, institution=world.school_b)
    placement = inf.started(inf.active_placement(inf.world_posting(world), inf.make_student(world.school_a)))
    entry, _warnings = internships.log_hours(
        placement=placement, by=placement.student, day=inf.today() - timedelta(days=1), hours=3, activity="Patrol"
    )
    looks = [
        (world.agency_coordinator, reverse("home")),
        (world.coordinator_b, reverse("home")),
        (world.staff_a, reverse("evaluations:report", args=[here.program.agreement_id])),
        (world.agency_coordinator, reverse("evaluations:report", args=[placement.posting.agreement_id])),
        (sheriff, reverse("home")),
        (sheriff, reverse("evaluations:report", args=[elsewhere.program.agreement_id])),
    ]
    kept_for = settings.TABLE_CACHE_SECONDS

    def all_as_computed():
        for user, url in looks:
            _count, kept = _get(client, user, url)
            settings.TABLE_CACHE_SECONDS = 0
            _count, computed = _get(client, user, url)
            settings.TABLE_CACHE_SECONDS = kept_for
            assert _main(kept) == _main(computed), (user, url)

    all_as_computed()
    writes = [
        lambda: _book(elsewhere, world.school_b, world.staff_b),
        lambda: _book(upcoming_here, world.school_a, world.staff_a),
        lambda: services.record_attendance(session=delivered_elsewhere, by=sheriff, attended={theirs.pk: 5}),
        lambda: services.record_attendance(
            session=here, by=world.agency_coordinator, attended={em.booking(world).pk: 17}
        ),
        lambda: services.cancel_booking(booking=theirs, by=world.staff_b),
        lambda: internships.approve_hours(entry=entry, by=placement.mentor),
        lambda: surveys.submit_response(token=other, answers=ef.answers_for("workshop-staff", likert=1)),
        lambda: surveys.submit_response(token=own, answers=ef.answers_for("workshop-staff", likert=2)),
    ]
    for write in writes:
        write()
        all_as_computed()
