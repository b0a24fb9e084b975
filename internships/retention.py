"""Retention of the student data an agency received through internships (accounts.retention
runs this nightly).

Each field belongs to a category of the agreement's data-sharing terms (selectors.CATEGORY_OF
and below); it is erased once the application or placement it belongs to has been closed for
the period the agreement's school-to-agency term gives that category, or
RETENTION_DEFAULT_DAYS when no term names one. Rows stay, with their statuses, dates and
hours, so counts and hours approved do not change; files are deleted. The record of
disclosures (StudentRecordAccess) is kept RETENTION_ACCESS_LOG_DAYS, then deleted.
"""

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Coalesce

from accounts.retention import cutoff
from internships.enums import ApplicationStatus, PlacementStatus
from internships.models import (
    Application,
    CheckIn,
    CompletionEvaluation,
    GuardianConsent,
    HoursEntry,
    Placement,
    StudentRecordAccess,
)
from internships.selectors import SHARED_WITH_AGENCIES
from partnerships.enums import DataCategory
from partnerships.models import Agreement, DataSharingTerm

CLOSED = (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN, ApplicationStatus.DECLINED)
ENDED = (PlacementStatus.COMPLETED, PlacementStatus.ENDED_EARLY)


def _groups(category: str) -> dict[int, list[int]]:
    """Retention days -> the agreements that keep ``category`` that long."""
    days = dict.fromkeys(Agreement.objects.values_list("pk", flat=True), settings.RETENTION_DEFAULT_DAYS)
    named = defaultdict(int)
    terms = DataSharingTerm.objects.filter(category=category, direction__in=SHARED_WITH_AGENCIES).values_list(
        "agreement_id", "retention_days"
    )
    for agreement_id, retention_days in terms:
        named[agreement_id] = max(named[agreement_id], retention_days)
    days.update(named)
    groups = defaultdict(list)
    for agreement_id, kept in days.items():
        groups[kept].append(agreement_id)
    return groups


def _ended_placements(agreements: list[int], before: date):
    return (
        Placement.objects.filter(posting__agreement_id__in=agreements, status__in=ENDED)
        .alias(closed_on=Coalesce("ended_on", "end_date"))
        .filter(closed_on__lt=before)
    )


def _closed_applications(agreements: list[int], today: date, days: int):
    before = cutoff(today, days)
    return Application.objects.filter(posting__agreement_id__in=agreements).filter(
        Q(status__in=CLOSED, updated_at__lt=before)
        | Q(pk__in=_ended_placements(agreements, today - timedelta(days=days)).values("application_id"))
    )


def _delete_files(rows, field: str) -> None:
    for row in rows:
        stored = getattr(row, field)
        if stored:
            stored.storage.delete(stored.name)


def purge(*, today: date) -> dict[str, int]:
    changed = defaultdict(int)
    for days, agreements in _groups(DataCategory.SCHEDULE).items():
        changed["application availability"] += (
            _closed_applications(agreements, today, days).exclude(availability="").update(availability="")
        )
    for days, agreements in _groups(DataCategory.PROGRAM).items():
        applications = _closed_applications(agreements, today, days)
        with_resume = list(applications.exclude(resume="").only("pk", "resume"))
        _delete_files(with_resume, "resume")
        changed["application résumés"] += applications.filter(pk__in=[a.pk for a in with_resume]).update(
            resume="", resume_name=""
        )
        changed["application statements"] += applications.exclude(statement="").update(statement="")
        placements = _ended_placements(agreements, today - timedelta(days=days)).values("pk")
        changed["hours activities"] += (
            HoursEntry.objects.filter(placement__in=placements).exclude(activity="").update(activity="", comment="")
        )
        changed["check-in notes"] += CheckIn.objects.filter(placement__in=placements).exclude(notes="").update(notes="")
        changed["evaluation comments"] += (
            CompletionEvaluation.objects.filter(placement__in=placements)
            .exclude(went_well="", to_improve="")
            .update(went_well="", to_improve="")
        )
    for days, agreements in _groups(DataCategory.CONTACT).items():
        consents = GuardianConsent.objects.filter(
            placement__in=_ended_placements(agreements, today - timedelta(days=days)).values("pk")
        ).exclude(guardian_name="", guardian_email="", scan="")
        with_scan = list(consents.exclude(scan="").only("pk", "scan"))
        _delete_files(with_scan, "scan")
        changed["guardian contacts"] += consents.update(guardian_name="", guardian_email="", scan="")
    deleted, _ = StudentRecordAccess.objects.filter(at__lt=cutoff(today, settings.RETENTION_ACCESS_LOG_DAYS)).delete()
    changed["student record accesses"] = deleted
    return dict(changed)
