"""Writes to agreements. Other apps call ``ensure_allows_new_activity`` before they create
sessions or postings under an agreement."""

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement


class PartnershipError(DomainError):
    """A rule of agreements refused the change."""


class AgreementNotActive(PartnershipError):
    """Nothing new may be scheduled or posted under an agreement that is not active."""


def ensure_allows_new_activity(agreement: Agreement, *, on=None) -> None:
    """Only an active agreement, within its term, lets its parties schedule sessions or
    post internships under it (DESIGN: Agreements and data). Raises with the reason."""
    day = on or timezone.localdate()
    if agreement.status != AgreementStatus.ACTIVE:
        raise AgreementNotActive(
            _("The agreement “%(title)s” is %(status)s; only an active agreement allows new sessions and postings.")
            % {"title": agreement.title, "status": agreement.get_status_display().lower()},
            field="agreement",
        )
    if not agreement.starts_on <= day < agreement.ends_on:
        raise AgreementNotActive(
            _("The agreement “%(title)s” runs from %(start)s to %(end)s.")
            % {"title": agreement.title, "start": agreement.starts_on, "end": agreement.ends_on},
            field="agreement",
        )
