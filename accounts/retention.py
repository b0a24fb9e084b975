"""The nightly retention purge: personal data kept past its period is erased; what the
figures are made of stays.

Each domain app that keeps personal data has ``<app>/retention.py`` with
``purge(*, today) -> dict[str, int]`` (rows changed, by what). This module runs them in
dependency order, then the outbox's and the audit log's own purges. A purge blanks the
personal fields of a row (and deletes its files) rather than deleting the row, so counts,
hours and rates, which the metrics and reports read, do not change; only logs past their
own period are deleted. Every purge selects rows that still hold data, so a second run
changes nothing. The periods are in settings (``RETENTION_*``) and docs/security.md.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import AuditEntry
from config.plugins import app_modules
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage


def cutoff(today: date, days: int) -> datetime:
    """The instant before which something ``days`` old is past its period."""
    return datetime.combine(today - timedelta(days=days), time.min, tzinfo=timezone.get_current_timezone())


def purge_outbox(*, today: date) -> int:
    """Sent and failed emails older than RETENTION_OUTBOX_DAYS lose their address, subject,
    bodies and calendar file; the row and its dedupe key stay, so nothing is sent twice."""
    return (
        OutboundMessage.objects.filter(
            status__in=[MessageStatus.SENT, MessageStatus.FAILED],
            created_at__lt=cutoff(today, settings.RETENTION_OUTBOX_DAYS),
        )
        .exclude(to_email="", user=None, body_text="")
        .update(to_email="", user=None, subject="", body_text="", body_html="", ics_content="", last_error="")
    )


def purge_audit_log(*, today: date) -> int:
    """Audit entries are kept RETENTION_AUDIT_DAYS, then deleted."""
    deleted, _ = AuditEntry.objects.filter(at__lt=cutoff(today, settings.RETENTION_AUDIT_DAYS)).delete()
    return deleted


def purge(*, today: date | None = None) -> dict[str, int]:
    """Run every purge; returns rows changed by each (all zero on a second run)."""
    today = today or timezone.localdate()
    changed = {}
    for module in app_modules("retention"):
        changed.update(module.purge(today=today))
    changed["outbox messages"] = purge_outbox(today=today)
    changed["audit entries"] = purge_audit_log(today=today)
    return changed
