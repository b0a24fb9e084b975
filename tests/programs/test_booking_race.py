"""The seat race on PostgreSQL: 200 threads released together book a 25-seat session.

With the session row locked before the count, exactly 25 are confirmed. The control run
turns the lock off (a test-only setting) and widens the window; it must oversell, or the
harness could not see a race at all.
"""

import threading
import time

import pytest
from django.db import close_old_connections, connection

from accounts.enums import Role
from programs import services
from programs.enums import BookingStatus
from programs.models import Booking, Session
from tests.factories import AgencyFactory, SchoolFactory, member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement

THREADS = 200
SEATS = 25
# The server allows 100 connections (shared with other test runs); all 200 threads are
# released together and at most this many hold a connection at once.
CONNECTIONS = 40


def _race(threads=THREADS):
    school = SchoolFactory()
    agency = AgencyFactory()
    program = ProgramFactory(agreement=active_agreement(agency, school))
    session = SessionFactory(program=program, capacity_seats=SEATS)
    people = [member(school, Role.STAFF) for _ in range(threads)]
    barrier = threading.Barrier(threads)
    connections = threading.BoundedSemaphore(CONNECTIONS)
    errors = []

    def book(person):
        barrier.wait()
        with connections:
            try:
                close_old_connections()
                services.book_session(session=session, institution=school, by=person, group_name="Class", seats=1)
            except Exception as error:  # every failure is counted, none may happen
                errors.append(repr(error))
            finally:
                connection.close()

    workers = [threading.Thread(target=book, args=(person,)) for person in people]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    statuses = Booking.objects.filter(session=session)
    return {
        "confirmed": statuses.filter(status=BookingStatus.CONFIRMED).count(),
        "waitlisted": statuses.filter(status=BookingStatus.WAITLISTED).count(),
        "errors": errors,
        "counter": Session.objects.get(pk=session.pk).confirmed_seats,
        "seconds": elapsed,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_exceed_capacity(settings):
    settings.PROGRAMS_BOOKING_LOCK = True
    settings.PROGRAMS_BOOKING_RACE_DELAY = 0.01
    result = _race()
    print(f"locked: {result}")
    assert result["errors"] == []
    assert result["confirmed"] == SEATS
    assert result["waitlisted"] == THREADS - SEATS
    assert result["counter"] == SEATS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_oversells(settings):
    settings.PROGRAMS_BOOKING_LOCK = False
    # A wide window, so the control sees the race even when a loaded machine staggers the threads.
    settings.PROGRAMS_BOOKING_RACE_DELAY = 0.3
    result = _race()
    print(f"control: {result}")
    assert result["confirmed"] > SEATS, "the race test cannot see a race: the harness is broken"
