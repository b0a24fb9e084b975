"""Races on PostgreSQL: places of a posting, and a guardian's single-use link.

50 students holding offers on a 3-place posting accept at the same moment: with the posting row
locked before the accepted offers are counted, exactly 3 are accepted. The control run turns the
lock off (a test-only setting) and widens the window; it must oversell, or the harness could not
see a race at all. Twenty concurrent decisions on one consent link record exactly one.
"""

import threading
import time

import pytest
from django.db import close_old_connections, connection

from accounts.errors import ConflictError, DomainError
from internships import services
from internships.enums import ApplicationStatus, ConsentStatus, PlacementStatus
from internships.models import Application, GuardianConsent, Placement
from tests.factories import AgencyFactory, SchoolFactory
from tests.internships import factories as f

STUDENTS = 50
SLOTS = 3
CONNECTIONS = 25


def _run_together(targets):
    """Start one thread per callable, release them together; return (results, errors, seconds)."""
    barrier = threading.Barrier(len(targets))
    gate = threading.BoundedSemaphore(CONNECTIONS)
    results, errors = [], []

    def run(target):
        barrier.wait()
        with gate:
            try:
                close_old_connections()
                results.append(target())
            except DomainError as refusal:
                results.append(refusal)
            except Exception as error:  # every other failure is counted; none may happen
                errors.append(repr(error))
            finally:
                connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors, time.monotonic() - started


def _accept_race():
    school, agency = SchoolFactory(), AgencyFactory()
    posting = f.posting(agency, school, slots=SLOTS)
    offered = [f.application(posting, f.make_student(school), stage=ApplicationStatus.OFFERED) for _ in range(STUDENTS)]
    targets = [
        (lambda application=application: services.accept_offer(application=application, by=application.student))
        for application in offered
    ]
    results, errors, seconds = _run_together(targets)
    return {
        "accepted": Application.objects.filter(posting=posting, status=ApplicationStatus.ACCEPTED).count(),
        "placements": Placement.objects.filter(posting=posting).count(),
        "refused_filled": sum(isinstance(r, ConflictError) and r.code == "filled" for r in results),
        "errors": errors,
        "seconds": round(seconds, 2),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_never_exceed_the_posting_slots(settings):
    settings.INTERNSHIPS_POSTING_LOCK = True
    settings.INTERNSHIPS_ACCEPT_RACE_DELAY = 0.05
    result = _accept_race()
    print(f"locked: {result}")
    assert result["errors"] == []
    assert result["accepted"] == SLOTS
    assert result["placements"] == SLOTS
    assert result["refused_filled"] == STUDENTS - SLOTS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_posting_lock_oversells(settings):
    settings.INTERNSHIPS_POSTING_LOCK = False
    # A wide window (half a second between the count and the write): on a loaded machine the
    # threads start staggered, and the control must still see the race every time.
    settings.INTERNSHIPS_ACCEPT_RACE_DELAY = 0.5
    result = _accept_race()
    print(f"control: {result}")
    assert result["accepted"] > SLOTS, "the race test cannot see a race: the harness is broken"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_consent_link_records_one_decision_under_twenty_concurrent_posts():
    school, agency = SchoolFactory(), AgencyFactory()
    posting = f.posting(agency, school)
    minor = f.make_student(school, birth_date=f.minor_birth_date())
    placement = f.placement(posting, minor, mentor=f.cleared_officer(agency))
    consent = GuardianConsent.objects.get(placement=placement)
    services.name_guardian(consent=consent, by=minor, name="Pat Guardian", email="pat@example.test")
    token = f.consent_token_from_outbox("pat@example.test")  # the raw token lives only in the email
    targets = [
        (lambda grant=(i % 2 == 0): services.decide_consent(token=token, grant=grant, signed_name="Pat Guardian"))
        for i in range(20)
    ]
    results, errors, seconds = _run_together(targets)
    decided = [r for r in results if isinstance(r, GuardianConsent)]
    refused = [r for r in results if isinstance(r, DomainError) and r.code == "token_used"]
    print(f"consent race: {len(decided)} decision, {len(refused)} refused, {errors=} in {seconds:.2f}s")
    assert errors == []
    assert len(decided) == 1 and len(refused) == 19
    consent.refresh_from_db()
    assert consent.status in (ConsentStatus.GRANTED, ConsentStatus.REFUSED)
    assert consent.status == decided[0].status
    placement.refresh_from_db()
    expected = PlacementStatus.ACTIVE if consent.status == ConsentStatus.GRANTED else PlacementStatus.PENDING
    assert placement.status == expected
