"""Factories for programs: an active agreement, a workshop, a session, bookings."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.enums import Role
from partnerships.enums import AgreementStatus, PartyRole
from partnerships.models import Agreement, AgreementParty
from programs.enums import BookingStatus, Format, GradeBand, LocationKind, Topic
from programs.models import Booking, Program, Session
from tests.factories import member


def active_agreement(agency, *institutions, status=AgreementStatus.ACTIVE) -> Agreement:
    today = timezone.localdate()
    agreement = Agreement.objects.create(
        title=f"MOU {agency.name}",
        lead_agency=agency,
        status=status,
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=700),
    )
    AgreementParty.objects.create(agreement=agreement, organization=agency, role=PartyRole.LEAD_AGENCY)
    for institution in institutions:
        AgreementParty.objects.create(agreement=agreement, organization=institution, role=PartyRole.INSTITUTION)
    return agreement


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    title = factory.Sequence(lambda n: f"Workshop {n}")
    description = "What students learn."
    topic = Topic.ONLINE_SAFETY
    grade_band = GradeBand.HIGH
    format = Format.IN_PERSON
    duration_minutes = 60
    default_capacity_seats = 30


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session
        skip_postgeneration_save = True

    program = factory.SubFactory(ProgramFactory)
    starts_at = factory.LazyFunction(lambda: (timezone.now() + timedelta(days=10)).replace(microsecond=0))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + timedelta(hours=1))
    location_kind = LocationKind.VENUE
    venue = "Community hall"
    capacity_seats = 25


def world_session(world, **fields) -> Session:
    """A session of a workshop under an active agreement between the agency and school A."""
    agreement = active_agreement(world.agency, world.school_a)
    program = ProgramFactory(agreement=agreement)
    return SessionFactory(program=program, **fields)


def booking(session, *, institution, by, seats=1, status=BookingStatus.CONFIRMED, group_name="Class 9B") -> Booking:
    """A booking written directly (no rules), keeping the session's seat count right."""
    now = timezone.now()
    made = Booking.objects.create(
        session=session,
        institution=institution,
        booked_by=by,
        group_name=group_name,
        seats=seats,
        status=status,
        confirmed_at=now if status == BookingStatus.CONFIRMED else None,
        waitlisted_at=now if status == BookingStatus.WAITLISTED else None,
    )
    if status == BookingStatus.CONFIRMED:
        session.confirmed_seats += seats
        Session.objects.filter(pk=session.pk).update(confirmed_seats=session.confirmed_seats)
    return made


def staff_of(school, n: int) -> list:
    return [member(school, Role.STAFF) for _ in range(n)]
