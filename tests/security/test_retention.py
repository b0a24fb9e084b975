"""The nightly retention purge (accounts.retention): with the clock past each period, no
personal data is left past its period, the figures the metrics read do not change, logs keep
their own longer period, and a second run changes nothing (reliability.md §2.6, scenario 28)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts import retention
from accounts.models import AuditEntry
from accounts.tasks import purge_personal_data
from evaluations import metrics
from evaluations.enums import Computation
from evaluations.models import Metric, SurveyInvitation
from internships.enums import ApplicationStatus, CheckInStatus, ConsentStatus, PlacementStatus
from internships.models import Application, CheckIn, GuardianConsent, HoursEntry, StudentRecordAccess
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage
from partnerships.enums import DataCategory, DataDirection, LawfulBasis
from partnerships.models import DataSharingTerm
from tests.evaluations import metric_factories as mf
from tests.factories import AgencyFactory
from tests.programs.factories import active_agreement

pytestmark = pytest.mark.django_db

START = date(2025, 1, 6)
END = date(2025, 3, 28)
CLOSED_AT = datetime(2025, 4, 1, 12, tzinfo=timezone.get_current_timezone())


def _world(world, agreement):
    """One agreement's closed and open student records, a closed survey, sent mail and logs."""
    posting = mf.posting(world, agreement)
    rejected = mf.application(posting, world.school_a, submitted_at=CLOSED_AT, status=ApplicationStatus.REJECTED)
    rejected.resume.save("x.pdf", ContentFile(b"%PDF-1.4 resume"), save=True)
    Application.objects.filter(pk=rejected.pk).update(updated_at=CLOSED_AT)
    still_open = mf.application(posting, world.school_a, submitted_at=CLOSED_AT)
    placement = mf.placement(
        posting, world.school_a, start=START, end=END, status=PlacementStatus.COMPLETED, ended_on=END
    )
    consent = GuardianConsent.objects.create(
        placement=placement,
        guardian_name="Gina Guardian",
        guardian_email="gina@example.test",
        status=ConsentStatus.GRANTED,
    )
    consent.scan.save("c.pdf", ContentFile(b"%PDF-1.4 consent"), save=True)
    for k in range(3):
        mf.hours(placement, START + timedelta(days=k), "2.5")
    held = mf.check_in(placement, START + timedelta(days=14), status=CheckInStatus.HELD)
    CheckIn.objects.filter(pk=held.pk).update(notes="Talked about school.")
    session = mf.session(mf.program_of(agreement), START)
    survey = mf.session_survey(session)
    mf.invitations(survey, used=2, unused=1)
    first = SurveyInvitation.objects.filter(survey=survey).order_by("pk")[0]
    SurveyInvitation.objects.filter(pk=first.pk).update(user=world.staff_a, email=world.staff_a.email)
    SurveyInvitation.objects.filter(survey=survey).exclude(pk=first.pk).update(email="teacher@example.test")
    return {"rejected": rejected, "open": still_open, "placement": placement, "consent": consent, "survey": survey}


def _figures(agreement):
    codes = [
        Computation.APPLICATIONS_RECEIVED,
        Computation.MENTORED_HOURS,
        Computation.SURVEY_RESPONSE_RATE,
        Computation.PLACEMENTS_COMPLETED,
        Computation.CHECK_INS_ON_SCHEDULE,
    ]
    return metrics.compute_many(
        Metric.objects.filter(computation__in=codes),
        agreement=agreement,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
    )


def _personal(data) -> dict[str, int]:
    """What personal data each record of ``data`` still holds."""
    rejected = Application.objects.get(pk=data["rejected"].pk)
    consent = GuardianConsent.objects.get(pk=data["consent"].pk)
    return {
        "availability": int(bool(rejected.availability)),
        "statement": int(bool(rejected.statement)),
        "resume": int(bool(rejected.resume)),
        "guardian": int(bool(consent.guardian_name or consent.guardian_email or consent.scan)),
        "hours activity": HoursEntry.objects.filter(placement=data["placement"]).exclude(activity="").count(),
        "check-in notes": CheckIn.objects.filter(placement=data["placement"]).exclude(notes="").count(),
        "survey contacts": SurveyInvitation.objects.filter(survey=data["survey"]).exclude(user=None, email="").count(),
    }


def test_the_purge_erases_personal_data_past_its_period_and_keeps_the_figures(world):
    termed = active_agreement(world.agency, world.school_a)
    for category in (DataCategory.SCHEDULE, DataCategory.PROGRAM, DataCategory.CONTACT):
        DataSharingTerm.objects.create(
            agreement=termed,
            category=category,
            direction=DataDirection.SCHOOL_TO_AGENCY,
            purpose="Placement",
            lawful_basis=LawfulBasis.WRITTEN_CONSENT,
            retention_days=30,
        )
    untermed = active_agreement(AgencyFactory(), world.school_a)  # RETENTION_DEFAULT_DAYS (365)
    short, default = _world(world, termed), _world(world, untermed)
    files = [short["rejected"].resume.name, short["consent"].scan.name, default["rejected"].resume.name]
    OutboundMessage.objects.create(
        dedupe_key="old",
        to_email="someone@example.test",
        subject="Hello Sam",
        body_text="Dear Sam",
        status=MessageStatus.SENT,
        created_at=CLOSED_AT,
    )
    StudentRecordAccess.objects.create(
        viewer=world.coordinator_a,
        student=short["rejected"].student,
        agreement=termed,
        record="application #1",
        purpose="review",
        at=CLOSED_AT,
    )
    AuditEntry.objects.create(action="x", target_type="t", target_id="1", at=CLOSED_AT)
    before = {"termed": _figures(termed), "untermed": _figures(untermed)}
    held = _personal(short)
    assert all(held.values()), held

    with time_machine.travel(date(2025, 5, 15), tick=False):  # 44 days after closing: past 30, not 365
        first = retention.purge()
    assert sum(_personal(short).values()) == 0, _personal(short)
    kept = _personal(default)
    # Survey contacts go 30 days after the survey closed, whatever the agreement's terms.
    assert kept.pop("survey contacts") == 0
    assert all(kept.values()), kept  # the untermed agreement's 365 days have not passed
    assert not default_storage.exists(files[0]) and not default_storage.exists(files[1])
    assert default_storage.exists(files[2])
    assert Application.objects.get(pk=short["open"].pk).statement  # an open application is kept

    with time_machine.travel(date(2026, 6, 1), tick=False):  # past the default period and the outbox's
        second = retention.purge()
        again = purge_personal_data()
    assert sum(_personal(default).values()) == 0, _personal(default)
    assert not default_storage.exists(files[2])
    message = OutboundMessage.objects.get(dedupe_key="old")
    assert (message.to_email, message.subject, message.body_text) == ("", "", "")
    assert StudentRecordAccess.objects.count() == 1 and AuditEntry.objects.filter(action="x").count() == 1
    assert sum(again.values()) == 0, again  # idempotent

    with time_machine.travel(date(2031, 6, 1), tick=False):  # past the logs' own six years
        logs = retention.purge()
    assert StudentRecordAccess.objects.count() == 0
    assert not AuditEntry.objects.filter(action="x").exists()

    after = {"termed": _figures(termed), "untermed": _figures(untermed)}
    assert after == before
    assert before["termed"][Metric.objects.get(computation=Computation.MENTORED_HOURS).pk] == Decimal("7.50")
    print(
        f"\nretention: 30-day terms purged {sum(first.values())} fields/rows on day 44, the 365-day default "
        f"{sum(second.values())} more after a year (outbox and survey contacts included), logs "
        f"{logs['student record accesses'] + logs['audit entries']} rows after six years; "
        f"0 personal fields left past their period; 5 metrics x 2 agreements unchanged; second run changed 0"
    )
