"""The demo world that `./dev up` loads: every app's part is created through its services."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Organization
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement
from programs import services as program_services
from programs.enums import BookingStatus, LocationKind, RequestStatus, SessionStatus
from programs.models import BlackoutPeriod, Booking, Program, Session, SessionRequest, Term

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_world_once():
    call_command("seed_demo", "--if-empty", verbosity=0)
    organizations = Organization.objects.count()
    assert organizations >= 7
    call_command("seed_demo", "--if-empty", verbosity=0)  # a second `./dev up` adds nothing
    assert Organization.objects.count() == organizations


def test_demo_agreements_cover_the_states_a_coordinator_meets():
    call_command("seed_demo", "--if-empty", verbosity=0)
    today = timezone.localdate()
    active = Agreement.objects.filter(status=AgreementStatus.ACTIVE)
    assert active.count() >= 2
    assert active.filter(ends_on__lte=today + timedelta(days=30)).exists()
    in_review = Agreement.objects.get(status=AgreementStatus.IN_REVIEW)
    assert in_review.signatures.count() == 1


def test_demo_workshops_have_sessions_a_waitlist_and_calendars():
    call_command("seed_demo", "--if-empty", verbosity=0)
    agreement = Agreement.objects.get(title="Riverside PD – RUSD Prevention Education MOU")
    programs = Program.objects.filter(agreement=agreement)
    assert 8 <= programs.count() <= 10
    assert len({p.topic for p in programs}) >= 8
    certified = programs.filter(required_qualification__isnull=False).first()
    assert certified.required_qualification.holders.filter(officer__email="officer.rpd@demo.test").exists()

    now = timezone.now()
    sessions = Session.objects.filter(program__agreement=agreement, status=SessionStatus.SCHEDULED)
    assert sessions.count() >= 8
    assert all(now < s.starts_at <= now + timedelta(days=65) for s in sessions)
    assert sessions.filter(location_kind=LocationKind.VIRTUAL).exclude(join_url="").exists()
    for session in sessions:
        confirmed = sum(b.seats for b in session.bookings.filter(status=BookingStatus.CONFIRMED))
        assert session.confirmed_seats == confirmed <= session.capacity_seats
        problems = program_services.scheduling_problems(
            program=session.program,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            location_kind=session.location_kind,
            school=session.school,
            facilitators=list(session.facilitators.all()),
            exclude_session=session,
        )
        assert not [p for p in problems if p.hard], (session, problems)

    waitlisted = Booking.objects.get(status=BookingStatus.WAITLISTED)
    assert waitlisted.session.confirmed_seats == waitlisted.session.capacity_seats
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED, booked_by__email__startswith="staff.").exists()

    lincoln = Organization.objects.get(name="Lincoln High School")
    assert Term.objects.filter(institution=lincoln).exists()
    assert BlackoutPeriod.objects.filter(organization=lincoln, name="Winter break").exists()
    assert BlackoutPeriod.objects.filter(organization__name="Riverside Police Department").exists()
    assert SessionRequest.objects.filter(status=RequestStatus.OPEN).count() == 1
