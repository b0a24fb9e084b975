"""axe-core at WCAG 2.1 A/AA on every list page each role reaches from the navigation, and on
the first detail page each of those lists links to, with data on every page."""

import re

import pytest

from evaluations import defaults, surveys
from internships.enums import ApplicationStatus
from programs.models import Booking
from tests.e2e.conftest import check_axe, new_context, sign_in
from tests.evaluations import factories as ef
from tests.internships import factories as f
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement, booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL = re.compile(r"^/[a-z-]+/\d+/$")
LIST = re.compile(r"^/[a-z-]+/$")
_NAV = "() => Array.from(document.querySelectorAll('header nav a')).map(a => a.getAttribute('href'))"
_LINKS = """() => Array.from(document.querySelectorAll('header nav a, main a'))
  .map(a => a.getAttribute('href') || '')
  .filter(h => h.startsWith('/') && !h.startsWith('//'))"""


def _data(world):
    defaults.install()
    agreement = active_agreement(world.agency, world.school_a)
    program = ProgramFactory(agreement=agreement, title="Staying safe online")
    session = SessionFactory(program=program)
    booking(session, institution=world.school_a, by=world.staff_a, group_name="Class 10A", seats=5)
    delivered = ef.world_delivered(world)
    delivered.program.title = "Talking it out"
    delivered.program.save(update_fields=["title"])
    surveys.generate_surveys()
    posting = f.world_posting(world, title="Community Affairs Intern")
    applicant = f.make_student(world.school_a, full_name="Alex Applicant")
    f.application(posting, applicant, stage=ApplicationStatus.SUBMITTED)
    f.clear(world.officer, world.agency)
    intern = f.make_student(world.school_a, full_name="Ivy Intern")
    f.active_placement(f.world_posting(world, title="Records Intern"), intern, mentor=world.officer)
    return applicant


def _crawl(page, live_server, seen: set[str]) -> set[str]:
    """Every navigation page; the lists they link to (sub-navigation); then the first detail page
    each of those lists links to."""
    nav = list(dict.fromkeys(h for h in page.evaluate(_NAV) if h and h.startswith("/")))
    queue = list(nav)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page.goto(live_server.url + path)
        check_axe(page)
        links = page.evaluate(_LINKS)
        if path in nav:
            queue += [h for h in links if LIST.match(h) and h not in seen and h not in queue]
        detail = next((h for h in links if DETAIL.match(h) and h not in seen), None)
        if detail:
            seen.add(detail)
            page.goto(live_server.url + detail)
            check_axe(page)
    return seen


def test_every_page_each_role_reaches_has_no_wcag_violation(live_server, browser, world):
    applicant = _data(world)
    roles = {
        "coordinator": world.agency_coordinator,
        "school coordinator": world.coordinator_a,
        "staff": world.staff_a,
        "officer": world.officer,
        "student": applicant,
        "admin": world.admin,
    }
    for role, user in roles.items():
        context = new_context(browser)
        page = context.new_page()
        sign_in(page, live_server, user.email)
        check_axe(page)
        visited = _crawl(page, live_server, seen={"/home/"})  # home was just checked
        assert len(visited) >= 4, (role, visited)
        if role == "admin":
            booking_pk = Booking.objects.values_list("pk", flat=True).first()
            for path in ("/admin/", "/admin/programs/booking/", f"/admin/programs/booking/{booking_pk}/change/"):
                page.goto(live_server.url + path)
                check_axe(page)
        context.close()


def test_the_axe_check_fails_on_a_real_violation(live_server, page):
    """The check above can fail: an image without a text alternative is reported."""
    page.goto(live_server.url + "/accounts/login/")
    check_axe(page)
    page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
    with pytest.raises(AssertionError, match="image-alt"):
        check_axe(page)
