import logging

from celery import shared_task

from accounts import retention

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def purge_personal_data() -> dict:
    """Nightly: personal data past its retention period (accounts.retention)."""
    changed = retention.purge()
    logger.info("retention purge: %s", ", ".join(f"{n} {what}" for what, n in changed.items()))
    return changed
