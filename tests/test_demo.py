"""The demo world that `./dev up` loads: every app's part is created through its services."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Organization
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_world_once():
    call_command("seed_demo", "--if-empty", verbosity=0)
    organizations = Organization.objects.count()
    assert organizations >= 7
    call_command("seed_demo", "--if-empty", verbosity=0)  # a second `./dev up` adds nothing
    assert Organization.objects.count() == organizations


def test_demo_agreements_cover_the_states_a_coordinator_meets():
    call_command("seed_demo", "--if-empty", verbosity=0)
    today = timezone.localdate()
    active = Agreement.objects.filter(status=AgreementStatus.ACTIVE)
    assert active.count() >= 2
    assert active.filter(ends_on__lte=today + timedelta(days=30)).exists()
    in_review = Agreement.objects.get(status=AgreementStatus.IN_REVIEW)
    assert in_review.signatures.count() == 1
