"""Permission rows for the internships API (imported by tests/internships/matrix.py).

A posting of world.agency is open to school A under an active agreement; student_a (a grade 11
student with a date of birth: an adult, or 16 for the rows about guardian consent) applies.
"coordinator" is school A's coordinator: an institution reviewer, who sees school A students'
applications once submitted, runs the pipeline and coordinates their placements, but does not
post, mentor or verify clearances. "staff" (school A staff) sees postings and consent status,
not applications or placements (404). "student" acts on their own application only.
An id in the body that the caller cannot see is a field error (400), like a missing one.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.enums import GradeLevel
from accounts.models import Membership, User
from internships import services
from internships.enums import ApplicationStatus, CheckInStatus, ConsentStatus
from internships.models import CheckIn, Clearance, GuardianConsent, Placement, StudentRecordAccess
from tests.internships import factories as f
from tests.matrix import HIDDEN, Row, signed_in

LIST = signed_in(200, anonymous=401)
# Seen by the student, school A's coordinator and admins; never by school A's staff.
RECORD = {"anonymous": 401, **HIDDEN, "student": 200, "staff": 404, "coordinator": 200, "admin": 200}
EVERYONE_ON_A = {"anonymous": 401, **HIDDEN, "student": 200, "staff": 200, "coordinator": 200, "admin": 200}


def _with(base, **statuses):
    return {**base, **statuses}


# What the student may do with their own record (school A's coordinator and admins see it: 403).
STUDENTS_OWN = _with(RECORD, coordinator=403, admin=403)
# What a reviewer (the school's coordinator, an admin) may do; the student sees it: 403.
REVIEWERS = _with(RECORD, student=403)
# What only the mentor may do: everyone who sees the placement is refused.
MENTORS_ONLY = _with(RECORD, student=403, coordinator=403, admin=403)
# What only the agency's coordinators and admins may do with a posting everyone on A sees.
AGENCY_MANAGES = _with(EVERYONE_ON_A, student=403, staff=403, coordinator=403)
# Created under an object named in the body that only the agency and admins can see.
AGENCY_BODY = {"anonymous": 401, **dict.fromkeys(["loner", "outsider", "student", "staff", "coordinator"], 400)}
ONLY_ADMIN = {"anonymous": 401, **dict.fromkeys(["loner", "outsider", "student", "staff", "coordinator"], 404)}
NOT_ON_A = {"loner", "outsider"}
NOT_THE_RECORD = {"loner", "outsider", "staff"}
NOT_THE_AGENCY = {"loner", "outsider", "student", "staff", "coordinator"}

POSTING_TITLE = "Marker Records Unit Intern 4Z"
STATEMENT = "Marker statement: I want to learn how records are kept."
INTERVIEW_PLACE = "Marker Interview Room 7Q"
OFFER_MESSAGE = "Marker offer: welcome to the Records Unit."
GUARDIAN_EMAIL = "marker.guardian@example.test"
HOURS_ACTIVITY = "Marker activity: filed incident reports"
CHECK_IN_NOTES = "Marker check-in: settling in well"
KIND_NAME = "Marker juvenile-contact clearance"
CLEARANCE_REFERENCE = "MARKER-REF-88"
ACCESS_RECORD = "Marker application #0"


def _once(w, build):
    """Build an object once per test, for rows whose URL, body and marker refer to it."""
    cache = w.__dict__.setdefault("_internships_matrix_cache", {})
    if build not in cache:
        cache[build] = build(w)
    return cache[build]


def _api(path, *args):
    return "/api/v1/" + path.format(*args)


def _student(w, born):
    User.objects.filter(pk=w.student_a.pk).update(birth_date=born)
    Membership.objects.filter(user=w.student_a, organization=w.school_a).update(grade_level=GradeLevel.GRADE_11)
    w.student_a.refresh_from_db()
    w.student_a.__dict__.pop("_active_memberships", None)
    return w.student_a


def _adult(w):
    return _student(w, f.adult_birth_date())


def _minor(w):
    """16 today: old enough for the posting (16 on its start date), young enough to need consent."""
    return _student(w, f.minor_birth_date())


def _posting(w):
    return f.world_posting(w, title=POSTING_TITLE)


def _closed_posting(w):
    return f.world_posting(w, title=POSTING_TITLE, status="closed")


def _stage(stage, **fields):
    def build(w):
        return f.application(_once(w, _posting), _once(w, _adult), stage=stage, statement=STATEMENT, **fields)

    build.__name__ = f"_{stage}"
    return build


_draft = _stage(ApplicationStatus.DRAFT)
_submitted = _stage(ApplicationStatus.SUBMITTED)
_under_review = _stage(ApplicationStatus.UNDER_REVIEW)
_offered = _stage(ApplicationStatus.OFFERED)


def _interview(w):
    application = _once(w, _under_review)
    return services.schedule_interview(
        application=application,
        by=w.agency_coordinator,
        starts_at=timezone.now() + timedelta(days=3),
        location=INTERVIEW_PLACE,
    )


def _offer(w):
    return services.make_offer(application=_once(w, _under_review), by=w.agency_coordinator, message=OFFER_MESSAGE)


def _cleared_officer(w):
    f.clear(w.officer, w.agency)
    return w.officer


def _pending_placement(w):
    """Accepted by the adult student, no mentor yet."""
    return f.placement(_once(w, _posting), _once(w, _adult))


def _ready_placement(w):
    """Pending with a cleared mentor already set (e.g. the student was busy elsewhere)."""
    placement = _once(w, _pending_placement)
    Placement.objects.filter(pk=placement.pk).update(mentor=_once(w, _cleared_officer))
    return placement


def _active_placement(w):
    placement = f.active_placement(_once(w, _posting), _once(w, _adult), mentor=_once(w, _cleared_officer))
    return f.started(placement)


def _suspended_placement(w):
    return services.suspend_placement(
        placement=_once(w, _active_placement), by=w.agency_coordinator, reason="Paused for exams."
    )


def _awaiting_consent(w):
    placement = f.placement(_once(w, _posting), _once(w, _minor))
    return GuardianConsent.objects.get(placement=placement, status=ConsentStatus.AWAITING_GUARDIAN)


def _pending_consent(w):
    placement = f.placement(
        _once(w, _posting), _once(w, _minor), consent=ConsentStatus.PENDING, guardian_email=GUARDIAN_EMAIL
    )
    return GuardianConsent.objects.get(placement=placement, status=ConsentStatus.PENDING)


def _hours(w):
    entry, _ = services.log_hours(
        placement=_once(w, _active_placement),
        by=w.student_a,
        day=f.today() - timedelta(days=1),
        hours=2,
        activity=HOURS_ACTIVITY,
    )
    return entry


def _scheduled_check_in(w):
    placement = _once(w, _active_placement)
    return CheckIn.objects.filter(placement=placement, status=CheckInStatus.SCHEDULED).order_by("due_on").first()


def _held_check_in(w):
    return services.record_check_in(
        check_in=_once(w, _scheduled_check_in), by=w.officer, held=True, notes=CHECK_IN_NOTES, observable_setting=True
    )


def _kind(w):
    return f.clearance_kinds(w.agency, KIND_NAME)[0]


def _clearance(w):
    return Clearance.objects.create(
        officer=w.officer,
        kind=_once(w, _kind),
        reference=CLEARANCE_REFERENCE,
        issued_on=f.today() - timedelta(days=10),
        expires_on=f.today() + timedelta(days=300),
        verified_by=w.agency_coordinator,
    )


def _record_access(w):
    return StudentRecordAccess.objects.create(
        viewer=w.agency_coordinator,
        student=_once(w, _adult),
        agreement=_once(w, _posting).agreement,
        record=ACCESS_RECORD,
        categories=["directory"],
        purpose="review",
    )


def _marker(build, value):
    return lambda w: (_once(w, build), value)[1]


def _day(days):
    return str(f.today() + timedelta(days=days))


def _apply_body(w):
    return {
        "posting": _once(w, _posting).pk,
        "statement": "I would like to learn about policing.",
        "availability": "Tuesday and Thursday afternoons",
    }


def _posting_body(w):
    return {
        "agreement": _once(w, _posting).agreement_id,
        "agency": w.agency.pk,
        "title": "Dispatch Intern",
        "description": "Shadow the dispatchers.",
        "location": "Dispatch Center",
        "start_date": _day(40),
        "end_date": _day(100),
        "hours_per_week": 8,
        "required_hours": 60,
        "slots": 2,
        "apply_by": _day(30),
        "min_age": 16,
        "grade_levels": [GradeLevel.GRADE_11, GradeLevel.GRADE_12],
    }


API = {
    # --- postings ------------------------------------------------------------------------------
    ("GET", "/api/v1/postings/"): Row("GET", LIST, shown=_marker(_posting, POSTING_TITLE), hidden_from=NOT_ON_A),
    # Students are not shown agreements; school A's people see the agreement but do not post.
    ("POST", "/api/v1/postings/"): Row(
        "POST",
        {
            "anonymous": 401,
            "loner": 400,
            "outsider": 400,
            "student": 400,
            "staff": 403,
            "coordinator": 403,
            "admin": 201,
        },
        data=_posting_body,
    ),
    ("GET", "/api/v1/postings/{id}/"): Row(
        "GET", EVERYONE_ON_A, url=lambda w: _api("postings/{}/", _once(w, _posting).pk)
    ),
    ("PATCH", "/api/v1/postings/{id}/"): Row(
        "PATCH",
        _with(AGENCY_MANAGES, admin=200),
        url=lambda w: _api("postings/{}/", _once(w, _posting).pk),
        data=lambda w: {"slots": 5},
    ),
    ("POST", "/api/v1/postings/{id}/publish/"): Row(
        "POST",
        _with(AGENCY_MANAGES, admin=200),
        url=lambda w: _api("postings/{}/publish/", _once(w, _closed_posting).pk),
    ),
    ("POST", "/api/v1/postings/{id}/close/"): Row(
        "POST",
        _with(AGENCY_MANAGES, admin=200),
        url=lambda w: _api("postings/{}/close/", _once(w, _posting).pk),
        data=lambda w: {"reason": "Filled internally."},
    ),
    # --- applications --------------------------------------------------------------------------
    ("GET", "/api/v1/applications/"): Row(
        "GET", LIST, shown=_marker(_submitted, STATEMENT), hidden_from=NOT_THE_RECORD
    ),
    # Only a student applies; adults who see the posting are refused, strangers do not see it.
    ("POST", "/api/v1/applications/"): Row(
        "POST",
        _with(RECORD, student=201, staff=403, coordinator=403, admin=403, loner=400, outsider=400),
        data=lambda w: (_once(w, _adult), _apply_body(w))[1],
    ),
    ("GET", "/api/v1/applications/{id}/"): Row(
        "GET", RECORD, url=lambda w: _api("applications/{}/", _once(w, _submitted).pk)
    ),
    # A draft is the student's alone until submitted.
    ("POST", "/api/v1/applications/{id}/submit/"): Row(
        "POST",
        _with(RECORD, coordinator=404, admin=403),
        url=lambda w: _api("applications/{}/submit/", _once(w, _draft).pk),
    ),
    ("POST", "/api/v1/applications/{id}/withdraw/"): Row(
        "POST",
        STUDENTS_OWN,
        url=lambda w: _api("applications/{}/withdraw/", _once(w, _submitted).pk),
        data=lambda w: {"note": "I found another internship."},
    ),
    ("POST", "/api/v1/applications/{id}/review/"): Row(
        "POST", REVIEWERS, url=lambda w: _api("applications/{}/review/", _once(w, _submitted).pk)
    ),
    ("POST", "/api/v1/applications/{id}/interview/"): Row(
        "POST",
        REVIEWERS,
        url=lambda w: _api("applications/{}/interview/", _once(w, _under_review).pk),
        data=lambda w: {
            "starts_at": (timezone.now() + timedelta(days=5)).isoformat(),
            "duration_minutes": 45,
            "location": "HQ, room 2",
        },
    ),
    ("POST", "/api/v1/applications/{id}/offer/"): Row(
        "POST",
        _with(REVIEWERS, coordinator=201, admin=201),
        url=lambda w: _api("applications/{}/offer/", _once(w, _under_review).pk),
        data=lambda w: {"message": "Welcome aboard."},
    ),
    ("POST", "/api/v1/applications/{id}/reject/"): Row(
        "POST",
        REVIEWERS,
        url=lambda w: _api("applications/{}/reject/", _once(w, _submitted).pk),
        data=lambda w: {"reason": "other_candidates"},
    ),
    ("POST", "/api/v1/applications/{id}/accept/"): Row(
        "POST",
        _with(STUDENTS_OWN, student=201),
        url=lambda w: _api("applications/{}/accept/", _once(w, _offered).pk),
    ),
    ("POST", "/api/v1/applications/{id}/decline/"): Row(
        "POST", STUDENTS_OWN, url=lambda w: _api("applications/{}/decline/", _once(w, _offered).pk)
    ),
    # --- interviews and offers -----------------------------------------------------------------
    ("GET", "/api/v1/interviews/"): Row(
        "GET", LIST, shown=_marker(_interview, INTERVIEW_PLACE), hidden_from=NOT_THE_RECORD
    ),
    ("GET", "/api/v1/interviews/{id}/"): Row(
        "GET", RECORD, url=lambda w: _api("interviews/{}/", _once(w, _interview).pk)
    ),
    ("GET", "/api/v1/offers/"): Row("GET", LIST, shown=_marker(_offer, OFFER_MESSAGE), hidden_from=NOT_THE_RECORD),
    ("GET", "/api/v1/offers/{id}/"): Row("GET", RECORD, url=lambda w: _api("offers/{}/", _once(w, _offer).pk)),
    # --- guardian consent ----------------------------------------------------------------------
    # School A's staff see consent status (and the guardian's email) to help name the guardian.
    ("GET", "/api/v1/consents/"): Row(
        "GET", LIST, shown=_marker(_pending_consent, GUARDIAN_EMAIL), hidden_from=NOT_ON_A
    ),
    ("GET", "/api/v1/consents/{id}/"): Row(
        "GET", EVERYONE_ON_A, url=lambda w: _api("consents/{}/", _once(w, _pending_consent).pk)
    ),
    ("POST", "/api/v1/consents/{id}/name-guardian/"): Row(
        "POST",
        EVERYONE_ON_A,
        url=lambda w: _api("consents/{}/name-guardian/", _once(w, _awaiting_consent).pk),
        data=lambda w: {"guardian_name": "Pat Guardian", "guardian_email": "pat.guardian@example.test"},
    ),
    # --- placements ----------------------------------------------------------------------------
    ("GET", "/api/v1/placements/"): Row(
        "GET", LIST, shown=_marker(_pending_placement, POSTING_TITLE), hidden_from=NOT_THE_RECORD
    ),
    ("GET", "/api/v1/placements/{id}/"): Row(
        "GET", RECORD, url=lambda w: _api("placements/{}/", _once(w, _pending_placement).pk)
    ),
    # The agency's coordinators (and admins) name the mentor; the school's coordinator may not.
    ("POST", "/api/v1/placements/{id}/assign-mentor/"): Row(
        "POST",
        _with(RECORD, student=403, coordinator=403),
        url=lambda w: _api("placements/{}/assign-mentor/", _once(w, _pending_placement).pk),
        data=lambda w: {"mentor": _once(w, _cleared_officer).pk},
    ),
    ("POST", "/api/v1/placements/{id}/activate/"): Row(
        "POST", REVIEWERS, url=lambda w: _api("placements/{}/activate/", _once(w, _ready_placement).pk)
    ),
    ("POST", "/api/v1/placements/{id}/suspend/"): Row(
        "POST",
        REVIEWERS,
        url=lambda w: _api("placements/{}/suspend/", _once(w, _active_placement).pk),
        data=lambda w: {"reason": "A safeguarding question is open."},
    ),
    ("POST", "/api/v1/placements/{id}/resume/"): Row(
        "POST", REVIEWERS, url=lambda w: _api("placements/{}/resume/", _once(w, _suspended_placement).pk)
    ),
    ("POST", "/api/v1/placements/{id}/end/"): Row(
        "POST",
        REVIEWERS,
        url=lambda w: _api("placements/{}/end/", _once(w, _active_placement).pk),
        data=lambda w: {"completed": False, "reason": "The family moved away."},
    ),
    # --- clearances ----------------------------------------------------------------------------
    ("GET", "/api/v1/clearance-kinds/"): Row("GET", LIST, shown=_marker(_kind, KIND_NAME), hidden_from=NOT_THE_AGENCY),
    ("POST", "/api/v1/clearance-kinds/"): Row(
        "POST",
        _with(AGENCY_BODY, admin=201),
        data=lambda w: {"agency": w.agency.pk, "name": "Firearms safety briefing"},
    ),
    ("GET", "/api/v1/clearances/"): Row(
        "GET", LIST, shown=_marker(_clearance, CLEARANCE_REFERENCE), hidden_from=NOT_THE_AGENCY
    ),
    ("POST", "/api/v1/clearances/"): Row(
        "POST",
        _with(AGENCY_BODY, admin=201),
        data=lambda w: {
            "kind": _once(w, _kind).pk,
            "officer": w.officer.pk,
            "issued_on": _day(-5),
            "expires_on": _day(360),
            "reference": "SP-2291",
        },
    ),
    ("GET", "/api/v1/clearances/{id}/"): Row(
        "GET", _with(ONLY_ADMIN, admin=200), url=lambda w: _api("clearances/{}/", _once(w, _clearance).pk)
    ),
    # --- hours ---------------------------------------------------------------------------------
    ("GET", "/api/v1/hours/"): Row("GET", LIST, shown=_marker(_hours, HOURS_ACTIVITY), hidden_from=NOT_THE_RECORD),
    # Only the student logs hours; a placement the caller cannot see is a field error.
    ("POST", "/api/v1/hours/"): Row(
        "POST",
        _with(STUDENTS_OWN, student=201, loner=400, outsider=400, staff=400),
        data=lambda w: {
            "placement": _once(w, _active_placement).pk,
            "day": _day(-2),
            "hours": "3.5",
            "activity": "Front desk",
        },
    ),
    ("GET", "/api/v1/hours/{id}/"): Row("GET", RECORD, url=lambda w: _api("hours/{}/", _once(w, _hours).pk)),
    ("PATCH", "/api/v1/hours/{id}/"): Row(
        "PATCH",
        STUDENTS_OWN,
        url=lambda w: _api("hours/{}/", _once(w, _hours).pk),
        data=lambda w: {"hours": "2.75"},
    ),
    ("POST", "/api/v1/hours/{id}/approve/"): Row(
        "POST", MENTORS_ONLY, url=lambda w: _api("hours/{}/approve/", _once(w, _hours).pk)
    ),
    ("POST", "/api/v1/hours/{id}/return/"): Row(
        "POST",
        MENTORS_ONLY,
        url=lambda w: _api("hours/{}/return/", _once(w, _hours).pk),
        data=lambda w: {"comment": "Split this across two days."},
    ),
    # --- check-ins -----------------------------------------------------------------------------
    ("GET", "/api/v1/check-ins/"): Row(
        "GET", LIST, shown=_marker(_held_check_in, CHECK_IN_NOTES), hidden_from=NOT_THE_RECORD
    ),
    ("GET", "/api/v1/check-ins/{id}/"): Row(
        "GET", RECORD, url=lambda w: _api("check-ins/{}/", _once(w, _scheduled_check_in).pk)
    ),
    ("POST", "/api/v1/check-ins/{id}/record/"): Row(
        "POST",
        MENTORS_ONLY,
        url=lambda w: _api("check-ins/{}/record/", _once(w, _scheduled_check_in).pk),
        data=lambda w: {"held": True, "notes": "Talked about report writing.", "observable_setting": True},
    ),
    # --- the record of reads -------------------------------------------------------------------
    ("GET", "/api/v1/record-accesses/"): Row(
        "GET", LIST, shown=_marker(_record_access, ACCESS_RECORD), hidden_from=NOT_THE_RECORD
    ),
}
