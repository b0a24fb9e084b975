"""Retention of survey contacts (accounts.retention runs this nightly): once a survey has been
closed RETENTION_SURVEY_CONTACT_DAYS, its invitations forget whom they were sent to. Whether
each was used stays (a date, never a person), so response rates do not change; responses
never held a person in the first place."""

from datetime import date

from django.conf import settings
from django.db.models import Q

from accounts.retention import cutoff
from evaluations.models import SurveyInvitation


def purge(*, today: date) -> dict[str, int]:
    invitations = SurveyInvitation.objects.filter(
        survey__closes_at__lt=cutoff(today, settings.RETENTION_SURVEY_CONTACT_DAYS)
    ).filter(Q(user__isnull=False) | ~Q(email=""))
    return {"survey invitation contacts": invitations.update(user=None, email="")}
