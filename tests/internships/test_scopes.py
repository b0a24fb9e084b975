"""Who sees which internships rows: the scopes every page, endpoint and task reads through."""

import pytest
from django.apps import apps
from django.db.models import ProtectedError
from django.utils import timezone

from accounts import access
from accounts.enums import Role
from internships import selectors
from internships.enums import AccessPurpose, ApplicationStatus, ConsentStatus
from internships.models import (
    Application,
    Clearance,
    GuardianConsent,
    HoursEntry,
    Placement,
    Posting,
    StudentRecordAccess,
)
from partnerships.enums import DataCategory, DataDirection, LawfulBasis
from partnerships.models import DataSharingTerm
from tests.factories import member
from tests.internships import factories as f

pytestmark = pytest.mark.django_db


def test_every_internships_model_has_a_scope():
    models = set(apps.get_app_config("internships").get_models())
    assert models <= access.scoped_models()


def _ids(user, model):
    return set(access.visible(user, model).values_list("pk", flat=True))


def test_students_see_open_postings_of_their_school_and_never_drafts(world):
    open_posting = f.world_posting(world)
    draft = f.world_posting(world, status="draft")
    other_school = f.posting(world.agency, world.school_b)
    student = f.make_student(world.school_a)
    assert _ids(student, Posting) == {open_posting.pk}
    assert draft.pk in _ids(world.agency_coordinator, Posting)
    assert draft.pk not in _ids(world.staff_a, Posting)
    assert open_posting.pk in _ids(world.staff_a, Posting)
    assert other_school.pk not in _ids(world.staff_a, Posting)
    assert _ids(world.loner, Posting) == set()


def test_applications_are_seen_by_the_student_and_the_reviewers_only(world):
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a))
    draft = f.application(posting, f.make_student(world.school_a), stage=ApplicationStatus.DRAFT)
    classmate = f.make_student(world.school_a)
    assert _ids(application.student, Application) == {application.pk}
    assert _ids(draft.student, Application) == {draft.pk}
    for reviewer in (world.agency_coordinator, world.coordinator_a):
        assert _ids(reviewer, Application) == {application.pk}  # a draft is still the student's own
    for stranger in (classmate, world.staff_a, world.officer, world.coordinator_b, world.staff_b, world.loner):
        assert _ids(stranger, Application) == set(), stranger


def test_placements_hours_and_consent_follow_the_placement(world):
    posting = f.world_posting(world)
    minor = f.make_student(world.school_a, birth_date=f.minor_birth_date(posting.start_date))
    placement = f.placement(posting, minor, mentor=f.cleared_officer(world.agency), consent=ConsentStatus.PENDING)
    inside = (minor, placement.mentor, world.agency_coordinator, world.coordinator_a)
    for person in inside:
        assert _ids(person, Placement) == {placement.pk}, person
        assert _ids(person, GuardianConsent) == set(placement.consents.values_list("pk", flat=True))
    assert _ids(world.staff_a, GuardianConsent) == set(placement.consents.values_list("pk", flat=True))
    for person in (world.staff_a, world.officer, world.coordinator_b, world.loner):
        assert _ids(person, Placement) == set(), person
        assert _ids(person, HoursEntry) == set()


def test_clearances_are_the_officers_own_and_their_agency_coordinators(world):
    officer = f.cleared_officer(world.agency)
    colleague = member(world.agency, Role.OFFICER)
    mine = set(Clearance.objects.filter(officer=officer).values_list("pk", flat=True))
    assert _ids(officer, Clearance) == mine
    assert _ids(colleague, Clearance) == set()
    assert mine <= _ids(world.agency_coordinator, Clearance)
    assert _ids(world.coordinator_a, Clearance) == set()


def _share(agreement, *categories):
    for category in categories:
        DataSharingTerm.objects.create(
            agreement=agreement,
            category=category,
            direction=DataDirection.SCHOOL_TO_AGENCY,
            purpose="Internship review",
            lawful_basis=LawfulBasis.WRITTEN_CONSENT,
            retention_days=365,
        )


def test_agency_staff_see_only_the_shared_categories(world):
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a))
    assert selectors.visible_fields(world.agency_coordinator, application) == set()
    _share(posting.agreement, DataCategory.DIRECTORY, DataCategory.PROGRAM)
    application = Application.objects.get(pk=application.pk)
    assert selectors.visible_fields(world.agency_coordinator, application) == {"name", "level", "statement", "resume"}
    assert selectors.visible_fields(application.student, application) == set(selectors.CATEGORY_OF)
    assert selectors.visible_fields(world.coordinator_a, application) == set(selectors.CATEGORY_OF)


def test_agency_reads_of_student_records_are_logged_and_the_students_own_are_not(world):
    posting = f.world_posting(world)
    _share(posting.agreement, DataCategory.DIRECTORY)
    application = f.application(posting, f.make_student(world.school_a))
    assert selectors.record_student_access(application.student, [application], purpose=AccessPurpose.REVIEW) == 0
    assert selectors.record_student_access(world.coordinator_a, [application], purpose=AccessPurpose.REVIEW) == 0
    assert selectors.record_student_access(world.agency_coordinator, [application], purpose=AccessPurpose.REVIEW) == 1
    entry = StudentRecordAccess.objects.get()
    assert (entry.viewer, entry.student, entry.purpose) == (world.agency_coordinator, application.student, "review")
    assert entry.categories == ["directory"]
    assert entry.record == f"application #{application.pk}"
    # The log is the school's and the student's to read, not the agency's.
    assert _ids(application.student, StudentRecordAccess) == {entry.pk}
    assert _ids(world.coordinator_a, StudentRecordAccess) == {entry.pk}
    assert _ids(world.agency_coordinator, StudentRecordAccess) == set()


def test_the_people_and_agreement_of_a_read_on_record_cannot_be_deleted(world):
    """The record of reads keeps its viewer, student and agreement through the ORM (the table has
    no foreign-key constraints in the database, so writing it locks no one's row)."""
    posting = f.world_posting(world)
    application = f.application(posting, f.make_student(world.school_a))
    selectors.record_student_access(world.agency_coordinator, [application], purpose=AccessPurpose.REVIEW)
    entry = StudentRecordAccess.objects.get()
    for protected in (application.student, world.agency_coordinator, posting.agreement):
        with pytest.raises(ProtectedError) as raised:
            protected.delete()
        assert entry in raised.value.protected_objects
    assert StudentRecordAccess.objects.filter(pk=entry.pk, student=application.student).exists()


def test_the_record_of_reads_writes_one_row_per_record_in_batches_as_the_model_would(world, monkeypatch):
    """The rows are written as plain parameters (arrays on PostgreSQL, VALUES batches elsewhere):
    every column as a model instance would have it, across more rows than one batch holds."""
    monkeypatch.setattr(selectors, "_ACCESS_BATCH", 2)
    posting = f.world_posting(world)
    _share(posting.agreement, DataCategory.DIRECTORY, DataCategory.CONTACT)
    other = f.world_posting(world)  # an agreement that shares nothing
    records = [f.application(posting, f.make_student(world.school_a)) for _ in range(3)]
    records.append(f.application(other, f.make_student(world.school_a)))
    before = timezone.now()
    assert selectors.record_student_access(world.agency_coordinator, records, purpose=AccessPurpose.REVIEW) == 4
    written = {entry.record: entry for entry in StudentRecordAccess.objects.all()}
    assert set(written) == {f"application #{record.pk}" for record in records}
    for record in records:
        entry = written[f"application #{record.pk}"]
        shared = ["contact", "directory"] if record.posting_id == posting.pk else []
        assert (entry.viewer_id, entry.student_id, entry.agreement_id) == (
            world.agency_coordinator.pk,
            record.student_id,
            record.posting.agreement_id,
        )
        assert (entry.categories, entry.purpose) == (shared, AccessPurpose.REVIEW)
        assert before <= entry.at <= timezone.now()
    assert len({entry.at for entry in written.values()}) == 1  # one read, one moment
    assert selectors.record_student_access(world.agency_coordinator, [], purpose=AccessPurpose.REVIEW) == 0
    assert StudentRecordAccess.objects.count() == 4
