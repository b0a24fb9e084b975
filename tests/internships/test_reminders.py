"""The periodic scans of internships: each sends what it should to whom, nothing to anyone
else, and nothing more when the beat runs it twice (dedupe keys). Time is moved with
time_machine; the agency and the school are in Los Angeles, the server in New York."""

from datetime import UTC, date, datetime, time, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.enums import Role
from config import celery as celery_config
from internships import schedule, services, tasks
from internships.enums import (
    ApplicationStatus,
    CheckInStatus,
    ConsentStatus,
    OfferStatus,
    PostingStatus,
    RejectionReason,
)
from internships.models import CheckIn, GuardianConsent, Posting
from internships.services import InternshipsError
from notifications.models import OutboundMessage
from tests.factories import AgencyFactory, member
from tests.internships import factories as f

LA = ZoneInfo("America/Los_Angeles")
# A Monday, noon at the agency. In UTC, so "NOW + 14 days" means 14 × 24 hours across the
# change to daylight time on 8 March, as the services count.
NOW = datetime(2026, 3, 2, 12, tzinfo=LA).astimezone(UTC)
GUARDIAN = "guardian@example.test"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def at(clock, moment):
    """Move to ``moment``: a datetime, or a date (9 a.m. at the agency)."""
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(9), tzinfo=LA)
    clock.move_to(moment)


def titled(subject_start: str):
    return OutboundMessage.objects.filter(subject__startswith=subject_start)


def recipients(subject_start: str) -> list[str]:
    return sorted(titled(subject_start).values_list("to_email", flat=True))


@pytest.fixture
def posting(world):
    """World's agency, open to school A; starts 2026-04-01, apply by 2026-03-22, 3 places."""
    return f.world_posting(world, start_date=date(2026, 4, 1), title="Community Affairs Intern")


@pytest.fixture
def mentor(world):
    f.clear(world.officer, world.agency)
    return world.officer


# Postings close after their apply-by date.


def test_postings_close_after_apply_by_in_the_agency_time_zone(world, clock):
    """Apply-by 10 March ends at midnight where the agency is: New York's posting closes three
    hours before Los Angeles', whatever the server's own zone."""
    apply_by = date(2026, 3, 10)
    los_angeles = f.world_posting(world, start_date=date(2026, 3, 20), apply_by=apply_by)
    new_york = f.posting(AgencyFactory(time_zone="America/New_York"), world.school_a, apply_by=apply_by)
    draft = f.world_posting(world, start_date=date(2026, 3, 20), apply_by=apply_by, status=PostingStatus.DRAFT)

    def statuses():
        return [Posting.objects.get(pk=p.pk).status for p in (los_angeles, new_york, draft)]

    at(clock, datetime(2026, 3, 10, 20, 30, tzinfo=LA))  # 23:30 in New York
    assert services.close_due_postings() == 0
    at(clock, datetime(2026, 3, 10, 21, 30, tzinfo=LA))  # 00:30 on the 11th in New York
    assert services.close_due_postings() == 1
    assert statuses() == ["open", "closed", "draft"]
    at(clock, datetime(2026, 3, 10, 23, 59, tzinfo=LA))
    assert services.close_due_postings() == 0
    at(clock, datetime(2026, 3, 11, 0, 1, tzinfo=LA))
    assert [services.close_due_postings(), services.close_due_postings()] == [1, 0]
    assert statuses() == ["closed", "closed", "draft"]
    assert Posting.objects.get(pk=los_angeles.pk).closed_reason == "The apply-by date passed."


# Offers.


def test_offer_expiry_returns_the_application_to_review_and_records_the_step(world, clock, posting):
    student = f.make_student(world.school_a, full_name="Olivia Offered")
    application = f.application(posting, student, stage=ApplicationStatus.OFFERED)
    offer = application.offers.get()
    assert offer.expires_at == NOW + timedelta(days=7)

    at(clock, offer.expires_at - timedelta(minutes=1))
    assert services.expire_offers() == 0
    at(clock, offer.expires_at)
    assert [services.expire_offers(), services.expire_offers()] == [1, 0]

    offer.refresh_from_db()
    application.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert application.status == ApplicationStatus.UNDER_REVIEW
    step = application.transitions.last()
    assert (step.from_status, step.to_status, step.by, step.note) == (
        ApplicationStatus.OFFERED,
        ApplicationStatus.UNDER_REVIEW,
        None,
        "The offer expired.",
    )
    assert recipients("Your offer has expired: Community Affairs Intern") == [student.email]
    with pytest.raises(InternshipsError):
        services.accept_offer(application=application, by=student)


def test_offer_reminder_goes_once_to_the_student_two_days_before_expiry(world, clock, posting):
    student = f.make_student(world.school_a, full_name="Olivia Offered")
    offer = f.application(posting, student, stage=ApplicationStatus.OFFERED).offers.get()
    subject = "Reminder: please answer your offer for Community Affairs Intern"

    at(clock, offer.expires_at - timedelta(days=2, minutes=1))
    services.send_offer_reminders()
    assert not titled(subject).exists()
    for moment in (timedelta(days=2), timedelta(days=2), timedelta(days=1), timedelta(minutes=5)):
        at(clock, offer.expires_at - moment)
        services.send_offer_reminders()
    assert recipients(subject) == [student.email]
    assert titled(subject).get().dedupe_key.startswith(f"internships:offer_reminder:{offer.pk}:")


def test_no_offer_reminder_or_expiry_after_a_decision(world, clock, posting):
    """Accepted, declined, withdrawn and rejected applications hear nothing more about their offer."""
    reviewer = f.reviewer_of(posting)
    students = [f.make_student(world.school_a) for _ in range(4)]
    f.application(posting, students[0], stage=ApplicationStatus.ACCEPTED)
    f.application(posting, students[1], stage=ApplicationStatus.DECLINED)
    withdrawn = f.application(posting, students[2], stage=ApplicationStatus.OFFERED)
    services.withdraw(application=withdrawn, by=students[2])
    rejected = f.application(posting, students[3], stage=ApplicationStatus.OFFERED)
    services.reject(application=rejected, by=reviewer, reason=RejectionReason.OTHER_CANDIDATES)

    at(clock, NOW + timedelta(days=6))
    services.send_offer_reminders()
    at(clock, NOW + timedelta(days=8))
    assert services.expire_offers() == 0
    assert not titled("Reminder: please answer your offer").exists()
    assert not titled("Your offer has expired").exists()
    assert sorted(posting.applications.values_list("status", flat=True)) == sorted(
        [
            ApplicationStatus.ACCEPTED,
            ApplicationStatus.DECLINED,
            ApplicationStatus.WITHDRAWN,
            ApplicationStatus.REJECTED,
        ]
    )


# Apply-by reminders.


def test_apply_by_reminder_goes_once_and_only_to_drafts_of_open_postings(world, clock):
    apply_by = date(2026, 3, 10)
    posting = f.world_posting(world, start_date=date(2026, 3, 20), apply_by=apply_by, title="Records Intern")
    closing = f.world_posting(world, start_date=date(2026, 3, 20), apply_by=apply_by, title="Dispatch Intern")
    drafter, submitter, withdrawer, late = (f.make_student(world.school_a) for _ in range(4))
    f.application(posting, drafter, stage=ApplicationStatus.DRAFT)
    f.application(posting, submitter, stage=ApplicationStatus.SUBMITTED)
    gone = f.application(posting, withdrawer, stage=ApplicationStatus.DRAFT)
    services.withdraw(application=gone, by=withdrawer)
    f.application(closing, late, stage=ApplicationStatus.DRAFT)
    services.close_posting(posting=closing, by=f.reviewer_of(closing), reason="Filled internally.")

    at(clock, apply_by - timedelta(days=4))
    services.send_apply_by_reminders()
    assert not titled("Reminder: finish your application").exists()
    for day in (7, 7, 9, 10, 11, 12):
        at(clock, date(2026, 3, day))
        services.send_apply_by_reminders()
    assert recipients("Reminder: finish your application to Records Intern") == [drafter.email]
    assert titled("Reminder: finish your application").count() == 1


# Guardian consent.


@pytest.fixture
def consent(world, posting):
    """A minor's placement whose guardian was sent the link at NOW."""
    minor = f.make_student(world.school_a, birth_date=f.minor_birth_date(), full_name="Mia Minor")
    placement = f.placement(posting, minor, consent=ConsentStatus.PENDING, guardian_email=GUARDIAN)
    return GuardianConsent.objects.get(placement=placement)


def test_consent_reminders_at_most_two_each_with_a_new_link_that_replaces_the_old(clock, consent):
    subject = "Reminder: your consent is requested for Mia's internship"
    links = [f.consent_token_from_outbox(GUARDIAN)]

    at(clock, NOW + timedelta(days=3, minutes=-1))
    assert services.send_consent_reminders() == 0
    for days in (3, 7):
        at(clock, NOW + timedelta(days=days))
        assert [services.send_consent_reminders(), services.send_consent_reminders()] == [1, 0]
        links.append(f.consent_token_from_outbox(GUARDIAN))
        assert links[-1] not in links[:-1]
        assert services.consent_for_token(links[-2]) is None  # the old link stops working
        with pytest.raises(InternshipsError):
            services.decide_consent(token=links[-2], grant=True, signed_name="Pat Guardian")
        assert services.consent_for_token(links[-1]) == consent
    for days in (10, 13):
        at(clock, NOW + timedelta(days=days))
        assert services.send_consent_reminders() == 0

    assert recipients(subject) == [GUARDIAN, GUARDIAN]
    assert recipients("Your consent is requested") == [GUARDIAN]
    services.decide_consent(token=links[-1], grant=True, signed_name="Pat Guardian")
    consent.refresh_from_db()
    assert (consent.status, consent.reminders_sent) == (ConsentStatus.GRANTED, 2)


def test_no_consent_reminder_or_expiry_after_the_guardian_decides(clock, consent):
    services.decide_consent(token=f.consent_token_from_outbox(GUARDIAN), grant=False, signed_name="Pat Guardian")
    for days in (3, 7, 15):
        at(clock, NOW + timedelta(days=days))
        assert services.send_consent_reminders() == 0
        assert services.expire_consent_links() == 0
    assert not titled("Reminder: your consent").exists()
    assert not titled("Guardian consent link expired").exists()
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REFUSED


def test_an_unanswered_consent_link_expires_and_the_school_is_told_once(world, clock, consent):
    link = f.consent_token_from_outbox(GUARDIAN)
    at(clock, NOW + timedelta(days=14, minutes=-1))
    assert services.expire_consent_links() == 0
    at(clock, NOW + timedelta(days=14))
    assert [services.expire_consent_links(), services.expire_consent_links()] == [1, 0]
    assert services.send_consent_reminders() == 0

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.EXPIRED
    assert services.consent_for_token(link) is None
    # The school asks again; the agency and the guardian are not written to.
    assert recipients("Guardian consent link expired: Community Affairs Intern") == [world.coordinator_a.email]


# Mentoring: check-ins and clearances.


def _mentored(world, posting, mentor, **student_fields):
    student = f.make_student(world.school_a, **student_fields)
    placement = f.active_placement(posting, student, mentor=mentor)
    assert placement.status == "active"
    return placement


def test_check_in_reminder_goes_once_to_the_mentor_two_days_ahead(world, clock, posting, mentor):
    placement = _mentored(world, posting, mentor, full_name="Sam Student")
    check_in = placement.check_ins.order_by("due_on").first()
    subject = f"Check-in due {check_in.due_on.isoformat()}: Sam"

    at(clock, check_in.due_on - timedelta(days=3))
    services.send_check_in_reminders()
    assert not titled(subject).exists()
    for days_before in (2, 2, 1, 0):
        at(clock, check_in.due_on - timedelta(days=days_before))
        services.send_check_in_reminders()
    assert recipients(subject) == [mentor.email]
    assert titled(subject).get().dedupe_key == f"internships:check_in_reminder:{check_in.pk}"


def test_no_check_in_reminder_once_recorded_or_while_suspended(world, clock, posting, mentor):
    recorded = _mentored(world, posting, mentor, full_name="Rita Recorded")
    suspended = _mentored(world, posting, mentor, full_name="Sue Suspended")
    due = recorded.check_ins.order_by("due_on").first().due_on
    services.suspend_placement(placement=suspended, by=world.agency_coordinator, reason="Family emergency")

    at(clock, due - timedelta(days=3))
    services.record_check_in(
        check_in=recorded.check_ins.get(due_on=due), by=mentor, held=True, notes="Met early, all well."
    )
    for days_before in (2, 1, 0):
        at(clock, due - timedelta(days=days_before))
        services.send_check_in_reminders()
    assert not titled("Check-in due").exists()


def test_a_missed_check_in_is_flagged_once_to_the_coordinators(world, clock, posting, mentor):
    placement = _mentored(world, posting, mentor, full_name="Sam Student")
    first, second = placement.check_ins.order_by("due_on")[:2]

    at(clock, first.due_on + timedelta(days=3))
    assert services.flag_missed_check_ins() == 0
    at(clock, first.due_on + timedelta(days=4))
    assert [services.flag_missed_check_ins(), services.flag_missed_check_ins()] == [1, 0]
    first.refresh_from_db()
    assert first.flagged_at is not None
    assert first.status == CheckInStatus.SCHEDULED  # the mentor can still record it
    assert recipients("Missed check-in: Sam") == sorted([world.agency_coordinator.email, world.coordinator_a.email])

    # The second one is held on time: never flagged, and the first is not flagged again.
    at(clock, second.due_on)
    services.record_check_in(check_in=second, by=mentor, held=True, notes="Reviewed the log together.")
    at(clock, second.due_on + timedelta(days=10))
    assert services.flag_missed_check_ins() == 0
    assert titled("Missed check-in").count() == 2
    assert CheckIn.objects.filter(flagged_at__isnull=False).count() == 1


def test_clearance_warnings_in_the_renewal_window_and_at_expiry_not_when_renewed(world, clock, posting):
    """The mentor's two clearances expire 20 days after the placement ends. The state check is
    renewed in time and stays silent; the other is warned about once in its 60-day window and
    once when it has expired, to the officer and the agency's coordinators. An officer who
    mentors no one is not written to."""
    expires = posting.end_date + timedelta(days=20)
    state, child = f.clearance_kinds(world.agency, "State police check", "Child-abuse clearance")
    mentor = world.officer
    f.clear(mentor, world.agency, until=expires)
    _mentored(world, posting, mentor)
    idle = member(world.agency, Role.OFFICER, full_name="Ian Idle")
    f.clear(idle, world.agency, until=expires)
    services.record_clearance(
        officer=mentor,
        kind=state,
        by=world.agency_coordinator,
        issued_on=NOW.date(),
        expires_on=expires + timedelta(days=3 * 365),
    )
    expiring = f"Clearance expiring: {child.name} for {mentor.full_name}"
    expired = f"Clearance expired: {child.name} for {mentor.full_name}"
    people = sorted([mentor.email, world.agency_coordinator.email])

    at(clock, expires - timedelta(days=61))
    services.send_clearance_warnings()
    assert not titled("Clearance").exists()
    for days_before in (60, 60, 30, 1, 0):
        at(clock, expires - timedelta(days=days_before))
        services.send_clearance_warnings()
    assert recipients(expiring) == people
    assert not titled("Clearance expired").exists()
    for days_after in (1, 1, 2, 10):
        at(clock, expires + timedelta(days=days_after))
        services.send_clearance_warnings()
    assert recipients(expired) == people
    assert titled("Clearance").count() == 4  # nothing about the renewed check, nothing to Ian
    assert not OutboundMessage.objects.filter(to_email=idle.email).exists()


# The beat: tasks call the scans, the schedule names the tasks.


SCANS = {
    "close_postings": ["close_due_postings"],
    "expire_offers": ["expire_offers"],
    "send_reminders": [
        "send_apply_by_reminders",
        "send_offer_reminders",
        "send_consent_reminders",
        "expire_consent_links",
        "send_check_in_reminders",
    ],
    "watch_mentoring": ["flag_missed_check_ins", "send_clearance_warnings"],
}


def test_each_task_runs_its_scans(monkeypatch):
    called = []
    for names in SCANS.values():
        for power, name in enumerate(names):
            monkeypatch.setattr(services, name, lambda _name=name, _n=2**power, **kw: called.append(_name) or _n)
    for task, names in SCANS.items():
        called.clear()
        assert getattr(tasks, task)() == 2 ** len(names) - 1, task
        assert called == names


def test_the_tasks_act_on_the_database(world, clock, posting):
    """The same scenario through the tasks as the beat runs them: a due posting closes, an old
    offer expires, a draft is reminded, a missed check-in is flagged."""
    student, drafter = f.make_student(world.school_a), f.make_student(world.school_a)
    offered = f.application(posting, student, stage=ApplicationStatus.OFFERED)
    f.application(posting, drafter, stage=ApplicationStatus.DRAFT)

    at(clock, posting.apply_by - timedelta(days=1))
    assert tasks.send_reminders() >= 1
    assert recipients("Reminder: finish your application") == [drafter.email]
    assert tasks.expire_offers() == 1
    assert offered.offers.get().status == OfferStatus.EXPIRED
    at(clock, posting.apply_by + timedelta(days=1))
    assert tasks.close_postings() == 1
    assert Posting.objects.get(pk=posting.pk).status == PostingStatus.CLOSED


def test_watch_mentoring_task_flags_missed_check_ins(world, clock, posting, mentor):
    placement = _mentored(world, posting, mentor, full_name="Sam Student")
    first = placement.check_ins.order_by("due_on").first()
    at(clock, first.due_on + timedelta(days=5))
    assert tasks.watch_mentoring() == 1
    assert titled("Missed check-in: Sam").count() == 2


def test_the_schedule_names_existing_tasks_and_every_task_is_scheduled():
    scheduled = {entry["task"] for entry in schedule.BEAT_SCHEDULE.values()}
    for name in scheduled:
        module, attribute = name.rsplit(".", 1)
        task = getattr(import_module(module), attribute)
        assert task.name == name
        assert name in celery_config.app.tasks
    assert scheduled == {f"internships.tasks.{task}" for task in SCANS}
    assert schedule.BEAT_SCHEDULE.items() <= celery_config._beat_schedule().items()
