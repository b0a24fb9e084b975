"""Scheduling rules: each one alone blocks a session and says why; a soft warning needs a
recorded reason; rescheduling applies the same checks; PostgreSQL backs the overlap rule."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from accounts.enums import Role
from accounts.errors import ConflictError
from accounts.models import AuditEntry
from notifications.models import OutboundMessage
from partnerships.enums import AgreementStatus
from programs import services
from programs.enums import BlackoutKind, LocationKind, SessionStatus
from programs.models import Facilitation, OfficerQualification, Qualification, Session
from tests.factories import AgencyFactory, member
from tests.programs.factories import ProgramFactory, SessionFactory, active_agreement

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 3, 2, 12, tzinfo=LA)  # a Monday, noon at the school
SLOT_DAY = date(2026, 3, 17)  # a Tuesday inside the spring term, clear of every blackout


def at(day, hour, minute=0):
    """A moment on ``day`` at the school's wall-clock time."""
    return datetime.combine(day, time(hour, minute), tzinfo=LA)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def qualification():
    return Qualification.objects.create(name="Certified online-safety instructor")


@pytest.fixture
def program(world, qualification):
    """A workshop that needs a certified instructor, under an active agreement with school A,
    whose calendar has a spring term and a spring break; the agency has a training week."""
    agreement = active_agreement(world.agency, world.school_a)
    program = ProgramFactory(agreement=agreement, title="Online safety", required_qualification=qualification)
    OfficerQualification.objects.create(
        officer=world.officer, qualification=qualification, earned_on=date(2025, 1, 10), expires_on=date(2027, 1, 10)
    )
    services.add_term(
        institution=world.school_a,
        by=world.coordinator_a,
        name="Spring semester",
        starts_on=date(2026, 1, 12),
        ends_on=date(2026, 6, 12),
    )
    services.add_blackout(
        organization=world.school_a,
        by=world.staff_a,
        name="Spring break",
        kind=BlackoutKind.HOLIDAY,
        starts_on=date(2026, 3, 30),
        ends_on=date(2026, 4, 3),
    )
    services.add_blackout(
        organization=world.agency,
        by=world.agency_coordinator,
        name="Academy training week",
        kind=BlackoutKind.TRAINING,
        starts_on=date(2026, 4, 13),
        ends_on=date(2026, 4, 14),
    )
    return program


def schedule(world, program, *, starts_at=None, minutes=60, **fields):
    starts_at = starts_at or at(SLOT_DAY, 10)
    fields.setdefault("location_kind", LocationKind.SCHOOL)
    fields.setdefault("school", world.school_a)
    fields.setdefault("facilitators", [world.officer])
    return services.schedule_session(
        program=program,
        by=world.agency_coordinator,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        **fields,
    )


def other_program(program, **fields):
    return ProgramFactory(agreement=program.agreement, title="Personal safety", **fields)


def test_the_baseline_slot_passes_every_rule(world, program):
    session = schedule(world, program)
    assert session.status == SessionStatus.SCHEDULED
    assert session.override_reason == ""
    assert list(session.facilitators.all()) == [world.officer]
    facilitation = Facilitation.objects.get(session=session)
    assert (facilitation.starts_at, facilitation.ends_at, facilitation.live) == (
        session.starts_at,
        session.ends_at,
        True,
    )
    invite = OutboundMessage.objects.get(dedupe_key=f"session:{session.pk}:facilitator:{world.officer.pk}:seq:0")
    assert invite.to_email == world.officer.email
    assert "METHOD:REQUEST" in invite.ics_content


# Each hard rule alone blocks, with its code and a message naming the reason.


def _on_spring_break(world, program):
    return {"starts_at": at(date(2026, 3, 31), 10)}


def _after_the_term(world, program):
    return {"starts_at": at(date(2026, 6, 16), 10)}


def _officer_already_busy(world, program):
    schedule(world, other_program(program), starts_at=at(SLOT_DAY, 10, 30))
    return {}


def _in_the_agency_training_week(world, program):
    return {"starts_at": at(date(2026, 4, 14), 10)}


def _officer_without_the_qualification(world, program):
    OfficerQualification.objects.filter(officer=world.officer).delete()
    return {}


def _qualification_expired(world, program):
    OfficerQualification.objects.filter(officer=world.officer).update(expires_on=SLOT_DAY - timedelta(days=1))
    return {}


def _officer_of_another_agency(world, program):
    stranger = member(AgencyFactory(name="Harbor County Sheriff"), Role.OFFICER, full_name="Deputy Dale")
    OfficerQualification.objects.create(officer=stranger, qualification=program.required_qualification)
    return {"facilitators": [stranger]}


def _school_staff_as_facilitator(world, program):
    OfficerQualification.objects.create(officer=world.staff_a, qualification=program.required_qualification)
    return {"facilitators": [world.staff_a]}


def _at_a_school_outside_the_agreement(world, program):
    return {"school": world.school_b}


def _agreement_in(status):
    def change(world, program):
        program.agreement.status = status
        program.agreement.save(update_fields=["status"])
        return {}

    return change


def _agreement_past_its_end(world, program):
    program.agreement.ends_on = date(2026, 3, 1)
    program.agreement.save(update_fields=["ends_on"])
    return {}


@pytest.mark.parametrize(
    ("arrange", "code", "says"),
    [
        (
            _on_spring_break,
            "school_blackout",
            "Lincoln High School is closed for Spring break (2026-03-30 – 2026-04-03)",
        ),
        (_after_the_term, "outside_terms", "2026-06-16 is outside the terms of Lincoln High School"),
        (_officer_already_busy, "facilitator_overlap", "Officer Olive already facilitates “Personal safety”"),
        (_in_the_agency_training_week, "facilitator_blackout", "Academy training week"),
        (_officer_without_the_qualification, "missing_qualification", "Certified online-safety instructor"),
        (_qualification_expired, "missing_qualification", "Officer Olive does not hold the required qualification"),
        (_officer_of_another_agency, "facilitator_not_officer", "Deputy Dale is not an officer of the agreement"),
        (_school_staff_as_facilitator, "facilitator_not_officer", "Sam Staff is not an officer of the agreement"),
        (_at_a_school_outside_the_agreement, "school_not_party", "Jefferson High School is not a party"),
        (_agreement_in(AgreementStatus.DRAFT), "agreement_not_active", "is draft"),
        (_agreement_in(AgreementStatus.EXPIRED), "agreement_not_active", "is expired"),
        (_agreement_in(AgreementStatus.TERMINATED), "agreement_not_active", "is terminated"),
        (_agreement_past_its_end, "agreement_not_active", "runs from"),
    ],
    ids=[
        "school_blackout",
        "outside_terms",
        "facilitator_overlap",
        "agency_blackout",
        "no_qualification",
        "expired_qualification",
        "officer_of_another_agency",
        "not_an_officer",
        "school_not_a_party",
        "agreement_draft",
        "agreement_expired",
        "agreement_terminated",
        "agreement_past_its_end",
    ],
)
def test_each_rule_alone_blocks_with_its_reason(world, program, arrange, code, says):
    changes = arrange(world, program)
    before = Session.objects.count()
    with pytest.raises(services.SchedulingError) as caught:
        schedule(world, program, **changes)
    error = caught.value
    assert error.code == code
    assert [p.code for p in error.problems] == [code]
    assert all(p.hard for p in error.problems)
    assert says in error.message
    assert Session.objects.count() == before


def test_the_agency_blackout_applies_in_the_agency_time_zone(world, program):
    """18:30 on the day before the training week in Los Angeles is already 02:30 the next
    day in UTC; the agency (same zone as the school) is still available that evening."""
    session = schedule(world, program, starts_at=at(date(2026, 4, 12), 18, 30).astimezone(UTC))
    assert session.pk


def test_a_qualification_is_valid_through_its_last_local_day(world, program):
    """An evening session on the day the certificate expires (already the next day in UTC)."""
    OfficerQualification.objects.filter(officer=world.officer).update(expires_on=SLOT_DAY)
    session = schedule(world, program, starts_at=at(SLOT_DAY, 17, 30).astimezone(UTC))
    assert session.pk
    with pytest.raises(services.SchedulingError) as caught:
        schedule(world, program, starts_at=at(SLOT_DAY + timedelta(days=1), 17, 30).astimezone(UTC))
    assert caught.value.code == "missing_qualification"


def test_every_broken_rule_is_reported_at_once(world, program):
    OfficerQualification.objects.filter(officer=world.officer).delete()
    with pytest.raises(services.SchedulingError) as caught:
        schedule(world, program, starts_at=at(date(2026, 3, 31), 10))
    assert [p.code for p in caught.value.problems] == ["school_blackout", "missing_qualification"]
    assert "Spring break" in caught.value.message
    assert "Certified online-safety instructor" in caught.value.message


def test_a_cancelled_session_no_longer_blocks_its_facilitator(world, program):
    first = schedule(world, other_program(program), starts_at=at(SLOT_DAY, 10, 30))
    services.cancel_session(session=first, by=world.agency_coordinator, reason="Officer reassigned")
    assert Facilitation.objects.get(session=first).live is False
    assert schedule(world, program).pk


def test_back_to_back_sessions_do_not_overlap(world, program):
    schedule(world, other_program(program), starts_at=at(SLOT_DAY, 9))  # ends at 10:00
    assert schedule(world, program, starts_at=at(SLOT_DAY, 10)).pk


def test_only_a_coordinator_of_the_agreement_schedules(world, program):
    for person in (world.officer, world.staff_a, world.coordinator_b, world.loner):
        with pytest.raises(services.ProgramsError) as caught:
            services.schedule_session(
                program=program,
                by=person,
                starts_at=at(SLOT_DAY, 10),
                ends_at=at(SLOT_DAY, 11),
                school=world.school_a,
            )
        assert caught.value.code == "forbidden"
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_at": NOW - timedelta(hours=1)}, "starts_at"),
        ({"minutes": 0}, "ends_at"),
        ({"location_kind": LocationKind.VIRTUAL, "school": None}, "join_url"),
        ({"location_kind": LocationKind.VENUE, "school": None}, "venue"),
        ({"school": None}, "school"),
    ],
)
def test_a_slot_must_make_sense(world, program, fields, field):
    with pytest.raises(services.ProgramsError) as caught:
        schedule(world, program, **fields)
    assert caught.value.field == field


# The soft warning: a busy week.


@pytest.fixture
def busy_limit(settings):
    settings.PROGRAMS_WEEKLY_SESSIONS_WARNING = 2
    return 2


def test_a_busy_week_needs_a_reason_which_is_recorded(world, program, busy_limit):
    workshop = other_program(program)
    schedule(world, workshop, starts_at=at(date(2026, 3, 16), 9))
    schedule(world, workshop, starts_at=at(date(2026, 3, 18), 9))

    with pytest.raises(services.SchedulingError) as caught:
        schedule(world, program)
    error = caught.value
    assert (error.code, error.field) == ("busy_week", "override_reason")
    assert [(p.code, p.hard) for p in error.problems] == [("busy_week", False)]
    assert "Officer Olive already has 2 sessions that week" in error.message
    assert "Give a reason" in error.message
    assert Session.objects.count() == 2

    with pytest.raises(services.SchedulingError):
        schedule(world, program, override_reason="   ")

    reason = "The principal asked for it before the state tests."
    session = schedule(world, program, override_reason=reason)
    assert session.override_reason == reason
    audit = AuditEntry.objects.get(action="session.scheduled", target_id=str(session.pk))
    assert audit.detail["warnings"] == ["busy_week"]
    assert audit.detail["override_reason"] == reason


def test_an_override_reason_is_not_recorded_without_a_warning(world, program, busy_limit):
    session = schedule(world, program, override_reason="Just in case")
    assert session.override_reason == ""


def test_a_busy_week_is_not_an_excuse_for_a_hard_rule(world, program, busy_limit):
    workshop = other_program(program)
    schedule(world, workshop, starts_at=at(date(2026, 3, 16), 9))
    schedule(world, workshop, starts_at=at(date(2026, 3, 18), 9))
    OfficerQualification.objects.filter(officer=world.officer).delete()
    with pytest.raises(services.SchedulingError) as caught:
        schedule(world, program, override_reason="Needed")
    assert caught.value.code == "missing_qualification"


def test_the_busy_week_is_the_local_calendar_week(world, program, settings):
    """Monday to Sunday at the school: a Sunday-evening session before (already Monday in
    UTC) and a Monday-morning session after do not make the week busy."""
    settings.PROGRAMS_WEEKLY_SESSIONS_WARNING = 1
    workshop = other_program(program)
    schedule(world, workshop, starts_at=at(date(2026, 3, 15), 20))  # Sunday evening
    schedule(world, workshop, starts_at=at(date(2026, 3, 23), 9))  # the next Monday, 9:00
    session = schedule(world, program, starts_at=at(date(2026, 3, 16), 10).astimezone(UTC))
    assert session.override_reason == ""
    with pytest.raises(services.SchedulingError) as caught:
        schedule(world, program, starts_at=at(date(2026, 3, 20), 10))  # Friday of the same week
    assert caught.value.code == "busy_week"


# Rescheduling: the same checks, a higher SEQUENCE.


@pytest.mark.parametrize(
    ("starts_at", "code"),
    [
        (at(date(2026, 3, 31), 10), "school_blackout"),
        (at(date(2026, 6, 16), 10), "outside_terms"),
        (at(date(2026, 4, 13), 10), "facilitator_blackout"),
        (at(date(2026, 3, 19), 14, 30), "facilitator_overlap"),
    ],
)
def test_reschedule_applies_the_same_checks(world, program, starts_at, code):
    schedule(world, other_program(program), starts_at=at(date(2026, 3, 19), 14))
    session = schedule(world, program)
    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule_session(
            session=session, by=world.agency_coordinator, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)
        )
    assert caught.value.code == code
    session.refresh_from_db()
    assert (session.starts_at, session.ical_sequence) == (at(SLOT_DAY, 10), 0)
    assert Facilitation.objects.get(session=session).starts_at == at(SLOT_DAY, 10)


def test_reschedule_checks_the_qualification_on_the_new_day(world, program):
    session = schedule(world, program)
    OfficerQualification.objects.filter(officer=world.officer).update(expires_on=date(2026, 3, 20))
    new = at(date(2026, 3, 24), 10)
    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule_session(
            session=session, by=world.agency_coordinator, starts_at=new, ends_at=new + timedelta(hours=1)
        )
    assert caught.value.code == "missing_qualification"


def test_reschedule_moves_the_session_and_raises_its_sequence(world, program):
    session = schedule(world, program)
    new = at(date(2026, 3, 19), 13)
    moved = services.reschedule_session(
        session=Session.objects.get(pk=session.pk),
        by=world.agency_coordinator,
        starts_at=new,
        ends_at=new + timedelta(hours=1),
    )
    assert (moved.starts_at, moved.ical_sequence) == (new, 1)
    facilitation = Facilitation.objects.get(session=session)
    assert (facilitation.starts_at, facilitation.ends_at) == (new, new + timedelta(hours=1))
    notice = OutboundMessage.objects.get(dedupe_key=f"session:{session.pk}:seq:1:to:{world.officer.pk}")
    assert "SEQUENCE:1" in notice.ics_content

    # Half an hour later overlaps only its own old time: allowed, and SEQUENCE goes up again.
    later = new + timedelta(minutes=30)
    moved = services.reschedule_session(
        session=moved, by=world.agency_coordinator, starts_at=later, ends_at=later + timedelta(hours=1)
    )
    assert moved.ical_sequence == 2
    assert Session.objects.get(pk=session.pk).ical_uid == session.ical_uid


def test_reschedule_with_a_busy_week_needs_a_reason(world, program, busy_limit):
    workshop = other_program(program)
    schedule(world, workshop, starts_at=at(date(2026, 3, 23), 9))
    schedule(world, workshop, starts_at=at(date(2026, 3, 25), 9))
    session = schedule(world, program)
    new = at(date(2026, 3, 24), 10)
    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule_session(
            session=session, by=world.agency_coordinator, starts_at=new, ends_at=new + timedelta(hours=1)
        )
    assert caught.value.code == "busy_week"
    moved = services.reschedule_session(
        session=session,
        by=world.agency_coordinator,
        starts_at=new,
        ends_at=new + timedelta(hours=1),
        override_reason="Swapped with the Washington visit.",
    )
    assert moved.ical_sequence == 1
    audit = AuditEntry.objects.get(action="session.rescheduled", target_id=str(session.pk))
    assert audit.detail["override_reason"] == "Swapped with the Washington visit."


def test_a_cancelled_session_cannot_be_rescheduled(world, program):
    session = schedule(world, program)
    services.cancel_session(session=session, by=world.agency_coordinator, reason="Assembly moved")
    new = at(date(2026, 3, 19), 13)
    with pytest.raises(services.ProgramsError, match="Only a scheduled session"):
        services.reschedule_session(
            session=session, by=world.agency_coordinator, starts_at=new, ends_at=new + timedelta(hours=1)
        )


# PostgreSQL: the exclusion constraint is the backstop behind the service's check.


@pytest.mark.postgres
def test_the_database_refuses_overlapping_live_facilitations(world):
    agreement = active_agreement(world.agency, world.school_a)
    program = ProgramFactory(agreement=agreement)
    first = SessionFactory(program=program, starts_at=at(SLOT_DAY, 10), ends_at=at(SLOT_DAY, 11))
    second = SessionFactory(program=program, starts_at=at(SLOT_DAY, 10, 30), ends_at=at(SLOT_DAY, 11, 30))
    after = SessionFactory(program=program, starts_at=at(SLOT_DAY, 11), ends_at=at(SLOT_DAY, 12))
    Facilitation.objects.create(session=first, officer=world.officer, starts_at=first.starts_at, ends_at=first.ends_at)

    with pytest.raises(IntegrityError, match="programs_facilitation_no_overlap"), transaction.atomic():
        Facilitation.objects.create(
            session=second, officer=world.officer, starts_at=second.starts_at, ends_at=second.ends_at
        )

    # A cancelled facilitation (live=False) blocks nothing; a session starting as the other ends is fine.
    Facilitation.objects.create(
        session=second, officer=world.officer, starts_at=second.starts_at, ends_at=second.ends_at, live=False
    )
    Facilitation.objects.create(session=after, officer=world.officer, starts_at=after.starts_at, ends_at=after.ends_at)
    # Another officer at the same time is fine too.
    other = member(world.agency, Role.OFFICER)
    Facilitation.objects.create(session=first, officer=other, starts_at=first.starts_at, ends_at=first.ends_at)
    assert Facilitation.objects.filter(officer=world.officer, live=True).count() == 2


@pytest.mark.postgres
def test_the_constraint_reaches_the_person_as_a_conflict(world, program, monkeypatch):
    """If the service's own check were bypassed, the constraint still refuses, readably."""
    schedule(world, other_program(program), starts_at=at(SLOT_DAY, 10, 30))
    monkeypatch.setattr(services, "scheduling_problems", lambda **kwargs: [])
    with pytest.raises(ConflictError) as caught:
        schedule(world, program)
    assert caught.value.code == "facilitator_overlap"
    assert Session.objects.count() == 1
