"""Permission rows for the internships pages (merged into tests/test_permission_matrix.py); the API
rows live in tests/internships/matrix_api.py.

The posting is world.agency's, under an active agreement with school A and open to school A only.
"student" is school A's student (made eligible: a grade and a date of birth, 16 on the start date,
so a placement needs a guardian's consent); "coordinator" is school A's coordinator, a reviewer of
its students' applications once they are submitted and a coordinator of their placements; "staff"
is school A's staff, who sees postings but not applications or placements (404) and may name a
guardian. The agency's own people are not roles of the matrix; tests/internships/test_pages.py
covers them.
"""

from datetime import timedelta

from django.urls import reverse

from accounts.enums import GradeLevel
from accounts.models import Membership, User
from internships import selectors, services
from internships.enums import AccessPurpose, ApplicationStatus, ConsentStatus, PostingStatus
from internships.models import GuardianConsent
from tests.internships import factories as f
from tests.matrix import HIDDEN, Row, everyone, signed_in

MARKER = "Matrix Marker Internship"
CLEARANCE_MARKER = "MATRIX-CLEAR-7781"

# Whoever is a party of the agreement reads the posting; only its agency's coordinators (and an
# admin) change it.
POSTING_READERS = {"anonymous": 302, **HIDDEN, "student": 200, "staff": 200, "coordinator": 200, "admin": 200}
POSTING_CHANGE = {"anonymous": 302, **HIDDEN, "student": 403, "staff": 403, "coordinator": 403, "admin": 302}
# An application is the student's and its reviewers' (school A's coordinator, an admin).
APPLICATION_READERS = {"anonymous": 302, **HIDDEN, "student": 200, "staff": 404, "coordinator": 200, "admin": 200}
REVIEWERS = {"anonymous": 302, **HIDDEN, "student": 403, "staff": 404, "coordinator": 302, "admin": 302}
STUDENT_ONLY = {"anonymous": 302, **HIDDEN, "student": 302, "staff": 404, "coordinator": 403, "admin": 403}
# A placement: the student, the mentor, the coordinators of the agency and of the school.
PLACEMENT_READERS = APPLICATION_READERS
PLACEMENT_COORDINATORS = REVIEWERS
MENTOR_ONLY = {"anonymous": 302, **HIDDEN, "student": 403, "staff": 404, "coordinator": 403, "admin": 403}
GUARDIAN_NAMERS = {"anonymous": 302, **HIDDEN, "student": 302, "staff": 302, "coordinator": 302, "admin": 302}
# Clearances are kept by the agency's coordinators (an admin too); nobody of the matrix is one.
CLEARANCE_KEEPERS = {**dict.fromkeys(signed_in(403), 403), "anonymous": 302, "admin": 302}


def _url(name, *args):
    return reverse(f"internships:{name}", args=args)


def _once(w, build):
    cache = w.__dict__.setdefault("_internships_matrix", {})
    if build not in cache:
        cache[build] = build(w)
    return cache[build]


def _student(w) -> User:
    """school A's student, eligible: in grade 11 and 16 on the start date (a minor)."""
    w.student_a.birth_date = f.minor_birth_date()
    w.student_a.save(update_fields=["birth_date"])
    Membership.objects.filter(user=w.student_a, organization=w.school_a).update(grade_level=GradeLevel.GRADE_11)
    return User.objects.get(pk=w.student_a.pk)


def _posting(w):
    return f.world_posting(w, title=MARKER)


def _other_posting(w):
    return f.posting(w.agency, w.school_a, agreement=_once(w, _posting).agreement, title="Second Internship")


def _closed_posting(w):
    return f.posting(w.agency, w.school_a, agreement=_once(w, _posting).agreement, status=PostingStatus.CLOSED)


def _at(stage, **fields):
    def build(w):
        return f.application(_once(w, _posting), _once(w, _student), stage=stage, **fields)

    build.__name__ = f"application_{stage}"
    return build


_submitted = _at(ApplicationStatus.SUBMITTED)
_under_review = _at(ApplicationStatus.UNDER_REVIEW)
_offered = _at(ApplicationStatus.OFFERED)


def _draft(w):
    return f.application(_once(w, _other_posting), _once(w, _student), stage=ApplicationStatus.DRAFT)


def _with_resume(w):
    return f.application(_once(w, _posting), _once(w, _student), resume=f.pdf())


def _pending(w):
    """An accepted offer's placement: no mentor yet, consent waiting for a guardian to be named."""
    return f.placement(_once(w, _posting), _once(w, _student))


def _active(w):
    """Active (mentor cleared, paper consent granted), begun 20 days ago."""
    return f.started(f.active_placement(_once(w, _posting), _once(w, _student)))


def _granted(w):
    return GuardianConsent.objects.get(placement=_once(w, _active), status=ConsentStatus.GRANTED)


def _hours(w):
    placement = _once(w, _active)
    entry, _ = services.log_hours(
        placement=placement, by=placement.student, day=f.today() - timedelta(days=2), hours=3, activity="Filing"
    )
    return entry


def _check_in(w):
    return _once(w, _active).check_ins.order_by("due_on").first()


def _clearance(w):
    officer = f.cleared_officer(w.agency)
    kind = f.clearance_kinds(w.agency)[0]
    return services.record_clearance(
        officer=officer,
        kind=kind,
        by=w.agency_coordinator,
        issued_on=f.today() - timedelta(days=5),
        expires_on=f.today() + timedelta(days=30),
        reference=CLEARANCE_MARKER,
    )


def _record_access(w):
    selectors.record_student_access(w.agency_coordinator, [_once(w, _submitted)], purpose=AccessPurpose.REVIEW)
    return w.agency_coordinator.full_name


def _consent_token(w):
    f.placement(_once(w, _posting), _once(w, _student), consent=ConsentStatus.PENDING, guardian_email="gu@example.test")
    return f.consent_token_from_outbox("gu@example.test")


PAGES = {
    # Postings.
    "internships:posting_list": Row(
        "GET", signed_in(200), shown=lambda w: _once(w, _posting).title, hidden_from={"loner", "outsider"}
    ),
    "internships:posting_create": Row(
        "GET",
        {**CLEARANCE_KEEPERS, "admin": 200},
        url=lambda w: (_once(w, _posting), _url("posting_create"))[1],
    ),
    "internships:posting_detail": Row(
        "GET", POSTING_READERS, url=lambda w: _url("posting_detail", _once(w, _posting).pk)
    ),
    "internships:posting_edit": Row(
        "GET", {**POSTING_CHANGE, "admin": 200}, url=lambda w: _url("posting_edit", _once(w, _posting).pk)
    ),
    "internships:posting_publish": Row(
        "POST", POSTING_CHANGE, url=lambda w: _url("posting_publish", _once(w, _closed_posting).pk)
    ),
    "internships:posting_close": Row(
        "POST", POSTING_CHANGE, url=lambda w: _url("posting_close", _once(w, _posting).pk)
    ),
    "internships:application_create": Row(
        "GET",
        {"anonymous": 302, **HIDDEN, "student": 200, "staff": 403, "coordinator": 403, "admin": 403},
        url=lambda w: (_once(w, _student), _url("application_create", _once(w, _posting).pk))[1],
    ),
    # Applications.
    "internships:application_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _submitted).posting.title,
        hidden_from={"loner", "outsider", "staff"},
    ),
    "internships:application_detail": Row(
        "GET", APPLICATION_READERS, url=lambda w: _url("application_detail", _once(w, _submitted).pk)
    ),
    "internships:application_edit": Row(
        "GET",
        {"anonymous": 302, **HIDDEN, "student": 200, "staff": 404, "coordinator": 404, "admin": 403},
        url=lambda w: _url("application_edit", _once(w, _draft).pk),
    ),
    "internships:application_submit": Row(
        "POST",
        {"anonymous": 302, **HIDDEN, "student": 302, "staff": 404, "coordinator": 404, "admin": 403},
        url=lambda w: _url("application_submit", _once(w, _draft).pk),
    ),
    "internships:application_withdraw": Row(
        "POST", STUDENT_ONLY, url=lambda w: _url("application_withdraw", _once(w, _submitted).pk)
    ),
    "internships:application_review": Row(
        "POST", REVIEWERS, url=lambda w: _url("application_review", _once(w, _submitted).pk)
    ),
    "internships:application_interview": Row(
        "GET",
        {**REVIEWERS, "coordinator": 200, "admin": 200},
        url=lambda w: _url("application_interview", _once(w, _under_review).pk),
    ),
    "internships:application_offer": Row(
        "POST", REVIEWERS, url=lambda w: _url("application_offer", _once(w, _under_review).pk)
    ),
    "internships:application_reject": Row(
        "POST",
        REVIEWERS,
        url=lambda w: _url("application_reject", _once(w, _submitted).pk),
        data=lambda w: {"reason": "other_candidates"},
    ),
    "internships:application_accept": Row(
        "POST", STUDENT_ONLY, url=lambda w: _url("application_accept", _once(w, _offered).pk)
    ),
    "internships:application_decline": Row(
        "POST", STUDENT_ONLY, url=lambda w: _url("application_decline", _once(w, _offered).pk)
    ),
    "internships:application_resume": Row(
        "GET", APPLICATION_READERS, url=lambda w: _url("application_resume", _once(w, _with_resume).pk)
    ),
    # Placements.
    "internships:placement_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _pending).posting.title,
        hidden_from={"loner", "outsider", "staff"},
    ),
    "internships:placement_detail": Row(
        "GET", PLACEMENT_READERS, url=lambda w: _url("placement_detail", _once(w, _pending).pk)
    ),
    "internships:placement_mentor": Row(
        "POST",
        {**PLACEMENT_COORDINATORS, "coordinator": 403},  # the agency's coordinators name mentors
        url=lambda w: _url("placement_mentor", _once(w, _pending).pk),
        data=lambda w: {"mentor": f.cleared_officer(w.agency).pk},
    ),
    "internships:placement_activate": Row(
        "POST", PLACEMENT_COORDINATORS, url=lambda w: _url("placement_activate", _once(w, _pending).pk)
    ),
    "internships:placement_suspend": Row(
        "POST",
        PLACEMENT_COORDINATORS,
        url=lambda w: _url("placement_suspend", _once(w, _active).pk),
        data=lambda w: {"reason": "The unit is moving offices."},
    ),
    "internships:placement_resume": Row(
        "POST", PLACEMENT_COORDINATORS, url=lambda w: _url("placement_resume", _once(w, _active).pk)
    ),
    "internships:placement_end": Row(
        "POST",
        PLACEMENT_COORDINATORS,
        url=lambda w: _url("placement_end", _once(w, _pending).pk),
        data=lambda w: {"outcome": "ended_early", "reason": "The student moved away."},
    ),
    "internships:consent_name_guardian": Row(
        "POST",
        GUARDIAN_NAMERS,
        url=lambda w: _url("consent_name_guardian", _once(w, _pending).pk),
        data=lambda w: {"guardian_name": "Pat Guardian", "guardian_email": "pat@example.test"},
    ),
    "internships:consent_paper": Row(
        "POST",
        PLACEMENT_COORDINATORS,
        url=lambda w: _url("consent_paper", _once(w, _pending).pk),
        data=lambda w: {"decision": "granted", "guardian_name": "Pat Guardian", "scan": f.pdf("form.pdf")},
    ),
    "internships:consent_request_again": Row(
        "POST", GUARDIAN_NAMERS, url=lambda w: _url("consent_request_again", _once(w, _pending).pk)
    ),
    "internships:hours_log": Row(
        "POST",
        STUDENT_ONLY,
        url=lambda w: _url("hours_log", _once(w, _active).pk),
        data=lambda w: {"day": str(f.today() - timedelta(days=1)), "hours": "2", "activity": "Ride-along briefing"},
    ),
    "internships:evaluation_submit": Row(
        "GET", {**STUDENT_ONLY, "student": 200}, url=lambda w: _url("evaluation_submit", _once(w, _active).pk)
    ),
    "internships:consent_revoke": Row(
        "POST",
        {**PLACEMENT_COORDINATORS, "staff": 403},  # school staff see the consent, may not revoke it
        url=lambda w: _url("consent_revoke", _once(w, _granted).pk),
        data=lambda w: {"note": "The guardian phoned the school."},
    ),
    "internships:consent_scan": Row(
        "GET",
        {"anonymous": 302, **HIDDEN, "student": 403, "staff": 403, "coordinator": 200, "admin": 200},
        url=lambda w: _url("consent_scan", _once(w, _granted).pk),
    ),
    "internships:hours_correct": Row(
        "GET", {**STUDENT_ONLY, "student": 200}, url=lambda w: _url("hours_correct", _once(w, _hours).pk)
    ),
    "internships:hours_approve": Row("POST", MENTOR_ONLY, url=lambda w: _url("hours_approve", _once(w, _hours).pk)),
    "internships:hours_return": Row(
        "POST",
        MENTOR_ONLY,
        url=lambda w: _url("hours_return", _once(w, _hours).pk),
        data=lambda w: {"comment": "Split this across two days."},
    ),
    "internships:check_in_record": Row(
        "GET", MENTOR_ONLY, url=lambda w: _url("check_in_record", _once(w, _check_in).pk)
    ),
    # Clearances and the record of reads.
    "internships:clearance_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _clearance).reference,
        hidden_from={"loner", "outsider", "student", "staff", "coordinator"},
    ),
    "internships:clearance_kind_create": Row(
        "POST",
        CLEARANCE_KEEPERS,
        data=lambda w: {"agency": w.agency.pk, "name": "Firearms safety check"},
    ),
    "internships:clearance_create": Row(
        "POST",
        CLEARANCE_KEEPERS,
        data=lambda w: {
            "officer": w.officer.pk,
            "kind": f.clearance_kinds(w.agency)[0].pk,
            "issued_on": str(f.today() - timedelta(days=10)),
            "expires_on": str(f.today() + timedelta(days=300)),
        },
    ),
    "internships:record_access_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: _once(w, _record_access),
        hidden_from={"loner", "outsider", "staff"},
    ),
    # The guardian's link: the token is the credential, and it leaves the URL at once.
    "internships:consent_open": Row("GET", everyone(302), url=lambda w: _url("consent_open", _once(w, _consent_token))),
    "internships:consent_respond": Row("GET", everyone(410)),
}

try:
    from tests.internships.matrix_api import API
except ImportError:  # pragma: no cover -- while the API rows are being written
    API = {}
