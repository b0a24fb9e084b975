"""Factories for internships: a posting under an active agreement, applications at any stage,
placements with a cleared mentor, consent in any state.

The builders below go through the services wherever a rule applies, so a test starting from
"an offered application" starts from one the pipeline could really have produced.
"""

import re
import zoneinfo
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.enums import GradeLevel, Role
from accounts.models import Membership
from internships import services
from internships.enums import ApplicationStatus, ConsentStatus
from internships.models import Application, Clearance, ClearanceKind, GuardianConsent, Placement, Posting
from tests.factories import ORGANIZATION_TIME_ZONE, member
from tests.programs.factories import active_agreement

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf(name="resume.pdf", content=PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def today() -> date:
    """Today where the test organizations are (Los Angeles), as the internship rules count it:
    between 05:00 and 08:00 UTC the server's own date (New York) is a day ahead."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(ORGANIZATION_TIME_ZONE))


def adult_birth_date(on: date | None = None) -> date:
    on = on or today()
    return on.replace(year=on.year - 20)


def minor_birth_date(on: date | None = None) -> date:
    on = on or today()
    return on.replace(year=on.year - 16)


def make_student(school, *, birth_date=None, grade=GradeLevel.GRADE_11, **user_fields):
    """A student of ``school`` with a date of birth (an adult unless told) and a grade."""
    student = member(school, Role.STUDENT, birth_date=birth_date or adult_birth_date(), **user_fields)
    Membership.objects.filter(user=student, organization=school).update(grade_level=grade)
    return student


def posting(agency, *institutions, agreement=None, status="open", **fields) -> Posting:
    """A posting under an active agreement between ``agency`` and ``institutions`` (written
    directly, so tests can build postings the form would refuse, e.g. a past apply-by date)."""
    agreement = agreement or active_agreement(agency, *institutions)
    start = fields.pop("start_date", today() + timedelta(days=30))
    values = {
        "title": "Community Affairs Intern",
        "description": "Help run youth outreach events.",
        "unit": "Community Affairs",
        "location": "Headquarters, 1 Main St",
        "start_date": start,
        "end_date": start + timedelta(days=90),
        "hours_per_week": 10,
        "required_hours": 100,
        "slots": 3,
        "apply_by": start - timedelta(days=10),
        "min_age": 16,
        "grade_levels": [],
        "status": status,
        **fields,
    }
    made = Posting.objects.create(agreement=agreement, agency=agency, **values)
    made.institutions.set(institutions)
    return made


def world_posting(world, **fields) -> Posting:
    """A posting of world.agency open to school A (and only school A)."""
    return posting(world.agency, world.school_a, **fields)


def application(posting, student, *, stage=ApplicationStatus.SUBMITTED, reviewer=None, **fields) -> Application:
    """An application moved through the real pipeline up to ``stage``."""
    made = services.apply(
        posting=posting,
        student=student,
        statement=fields.pop("statement", "I want to serve my community."),
        availability=fields.pop("availability", "Weekday afternoons"),
        submit=stage != ApplicationStatus.DRAFT,
        **fields,
    )
    if stage in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED):
        return made
    reviewer = reviewer or reviewer_of(posting)
    if stage == ApplicationStatus.WITHDRAWN:
        return services.withdraw(application=made, by=student)
    services.start_review(application=made, by=reviewer)
    if stage == ApplicationStatus.UNDER_REVIEW:
        return _fresh(made)
    if stage == ApplicationStatus.REJECTED:
        return services.reject(application=made, by=reviewer, reason="other_candidates")
    if stage == ApplicationStatus.INTERVIEW:
        services.schedule_interview(
            application=made, by=reviewer, starts_at=timezone.now() + timedelta(days=3), location="HQ room 2"
        )
        return _fresh(made)
    services.make_offer(application=made, by=reviewer)
    if stage == ApplicationStatus.OFFERED:
        return _fresh(made)
    if stage == ApplicationStatus.DECLINED:
        return services.decline_offer(application=made, by=student)
    if stage == ApplicationStatus.ACCEPTED:
        services.accept_offer(application=made, by=student)
        return _fresh(made)
    raise ValueError(stage)


def _fresh(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def reviewer_of(posting):
    """A coordinator of the posting's agency (made on first use)."""
    existing = Membership.objects.filter(organization=posting.agency, role=Role.COORDINATOR, is_active=True).first()
    return existing.user if existing else member(posting.agency, Role.COORDINATOR)


def clearance_kinds(agency, *names) -> list[ClearanceKind]:
    names = names or ("State police check", "Child-abuse clearance")
    return [ClearanceKind.objects.get_or_create(agency=agency, name=name)[0] for name in names]


def clear(officer, agency, *, until: date | None = None, issued_on: date | None = None) -> list[Clearance]:
    """Every required clearance of ``agency`` for ``officer``, valid until ``until`` (a year by default)."""
    verifier = reviewer_of_agency(agency)
    kinds = ClearanceKind.objects.filter(agency=agency, is_required=True) or clearance_kinds(agency)
    return [
        Clearance.objects.create(
            officer=officer,
            kind=kind,
            issued_on=issued_on or today() - timedelta(days=30),
            expires_on=until or today() + timedelta(days=365),
            verified_by=verifier,
        )
        for kind in kinds
    ]


def reviewer_of_agency(agency):
    existing = Membership.objects.filter(organization=agency, role=Role.COORDINATOR, is_active=True).first()
    return existing.user if existing else member(agency, Role.COORDINATOR)


def cleared_officer(agency, **user_fields):
    officer = member(agency, Role.OFFICER, **user_fields)
    clear(officer, agency)
    return officer


def placement(posting, student, *, mentor=None, consent=None, guardian_email="guardian@example.test") -> Placement:
    """An accepted offer's placement. ``mentor``: a cleared officer to assign; ``consent``:
    "granted" grants it (by a paper form) for a minor."""
    accepted = application(posting, student, stage=ApplicationStatus.ACCEPTED)
    made = Placement.objects.get(application=accepted)
    coordinator = reviewer_of(posting)
    if mentor is not None:
        services.assign_mentor(placement=made, mentor=mentor, by=coordinator)
    if consent == ConsentStatus.GRANTED and made.needs_consent:
        services.record_paper_consent(
            placement=made, by=coordinator, granted=True, guardian_name="Pat Guardian", scan=pdf()
        )
    elif consent == ConsentStatus.PENDING and made.needs_consent:
        pending = GuardianConsent.objects.get(placement=made, status=ConsentStatus.AWAITING_GUARDIAN)
        services.name_guardian(consent=pending, by=student, name="Pat Guardian", email=guardian_email)
    return Placement.objects.get(pk=made.pk)


def active_placement(posting, student, *, mentor=None) -> Placement:
    """An active placement with a cleared mentor (and, for a minor, a granted consent)."""
    mentor = mentor or cleared_officer(posting.agency)
    return placement(posting, student, mentor=mentor, consent=ConsentStatus.GRANTED)


def started(placement: Placement, *, days_ago: int = 20, length_days: int = 90) -> Placement:
    """Move a placement (and its posting) so it began ``days_ago`` days ago: hours and check-ins
    need a running placement, and the pipeline only builds ones that start in the future."""
    start = today() - timedelta(days=days_ago)
    Posting.objects.filter(pk=placement.posting_id).update(
        start_date=start, end_date=start + timedelta(days=length_days), apply_by=start - timedelta(days=1)
    )
    Placement.objects.filter(pk=placement.pk).update(start_date=start, end_date=start + timedelta(days=length_days))
    return Placement.objects.get(pk=placement.pk)


def consent_token_from_outbox(email: str) -> str:
    """The raw token of the newest consent link emailed to ``email`` (only its hash is stored)."""
    from notifications.models import OutboundMessage

    message = OutboundMessage.objects.filter(to_email=email).order_by("-pk").first()
    match = re.search(r"/consent/([A-Za-z0-9_-]{40,})/", message.body_text)
    return match.group(1)
