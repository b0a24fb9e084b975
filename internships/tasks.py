"""Periodic work of internships: thin wrappers that scan the database (never ``eta``).

Each writes its emails to the outbox with a dedupe key, so a run twice sends nothing twice."""

from celery import shared_task

from internships import services


@shared_task(ignore_result=True)
def close_postings() -> int:
    """Nightly: open postings past their apply-by date close."""
    return services.close_due_postings()


@shared_task(ignore_result=True)
def expire_offers() -> int:
    """Offers past their date expire; the application returns to review."""
    return services.expire_offers()


@shared_task(ignore_result=True)
def send_reminders() -> int:
    """Apply-by reminders for drafts, offer-expiry reminders, consent reminders (at most two per
    link), check-in reminders to mentors, and expired consent links."""
    return (
        services.send_apply_by_reminders()
        + services.send_offer_reminders()
        + services.send_consent_reminders()
        + services.expire_consent_links()
        + services.send_check_in_reminders()
    )


@shared_task(ignore_result=True)
def watch_mentoring() -> int:
    """Missed check-ins flagged to coordinators; clearance renewal-window and expiry warnings."""
    return services.flag_missed_check_ins() + services.send_clearance_warnings()
