"""Permission rows for the partnerships pages and API (merged into tests/test_permission_matrix.py).

The agreement is between world.agency and school A; "coordinator" is school A's
coordinator (a party), "staff" school A's staff (a party member who may read, not change).
"""

from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from partnerships import services
from partnerships.enums import DataCategory, DataDirection, LawfulBasis, ResponsibilityKind
from tests.factories import SchoolFactory
from tests.matrix import HIDDEN, Row, signed_in
from tests.partnerships.factories import active, draft

READERS = {"staff": 200, "coordinator": 200, "admin": 200}
NO_STUDENTS = {**HIDDEN, "student": 404}
CHANGE = {"anonymous": 302, **NO_STUDENTS, "staff": 403, "coordinator": 302, "admin": 302}
API_CHANGE = {"anonymous": 401, **NO_STUDENTS, "staff": 403}


def _url(name, *args):
    return reverse(f"partnerships:{name}", args=args)


def _document(w):
    agreement = active(w)
    pdf = SimpleUploadedFile("signed.pdf", b"%PDF-1.7 test")
    return services.document_upload(agreement=agreement, uploaded_file=pdf, by=w.agency_coordinator)


def _meeting(w):
    return services.meeting_schedule(
        agreement=active(w), starts_at=timezone.now() + timedelta(days=3), by=w.agency_coordinator
    )


def _item(w):
    return services.action_item_add(
        agreement=active(w),
        description="Send the roster",
        owner=w.staff_a,
        due_on=timezone.localdate() + timedelta(days=7),
        by=w.agency_coordinator,
    )


def _funding(w):
    agreement = draft(w)
    return services.funding_add(
        agreement=agreement,
        party=agreement.parties.get(organization=w.school_a),
        amount=Decimal("2500.00"),
        currency="USD",
        period_start=agreement.starts_on,
        period_end=agreement.ends_on,
        purpose="Curriculum licences",
        by=w.agency_coordinator,
    )


def _tomorrow():
    # Not today: the server's date and the one in force after a request (the signed-in person's
    # organization's zone) differ for some hours of every night.
    return timezone.localdate() + timedelta(days=1)


def _future():
    return (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")


PAGES = {
    "partnerships:agreement_list": Row(
        "GET",
        signed_in(200),
        shown=lambda w: draft(w, title="Visible Only To Parties MOU").title,
        hidden_from={"loner", "outsider", "student"},
    ),
    "partnerships:agreement_create": Row(
        "GET",
        {
            "anonymous": 302,
            "loner": 403,
            "outsider": 403,
            "student": 403,
            "staff": 403,
            "coordinator": 200,
            "admin": 200,
        },
    ),
    "partnerships:agreement_detail": Row(
        "GET", {"anonymous": 302, **NO_STUDENTS, **READERS}, url=lambda w: _url("agreement_detail", draft(w).pk)
    ),
    "partnerships:agreement_versions": Row(
        "GET", {"anonymous": 302, **NO_STUDENTS, **READERS}, url=lambda w: _url("agreement_versions", active(w).pk)
    ),
    "partnerships:agreement_edit": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("agreement_edit", draft(w).pk),
        data=lambda w: {
            "title": "Renamed",
            "purpose": "p",
            "starts_on": "2026-01-01",
            "ends_on": "2027-12-31",
            "review_interval_months": 24,
        },
    ),
    "partnerships:item_add": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("item_add", draft(w).pk, "objectives"),
        data=lambda w: {
            "description": "Reach every 8th grader",
            "measure": "students reached",
            "target_on": str(timezone.localdate() + timedelta(days=100)),
        },
    ),
    "partnerships:item_remove": Row(
        "POST",
        CHANGE,
        url=lambda w: (lambda a: _url("item_remove", a.pk, "objectives", a.objectives.first().pk))(draft(w)),
    ),
    "partnerships:agreement_action": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("agreement_action", draft(w).pk, "submit"),
    ),
    "partnerships:document_upload": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("document_upload", active(w).pk),
        data=lambda w: {"file": SimpleUploadedFile("signed.pdf", b"%PDF-1.7 test")},
    ),
    "partnerships:document_download": Row(
        "GET", {"anonymous": 302, **NO_STUDENTS, **READERS}, url=lambda w: _url("document_download", _document(w).pk)
    ),
    "partnerships:meeting_create": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("meeting_create", active(w).pk),
        data=lambda w: {"starts_at": _future(), "location": "Lincoln High, room 12", "agenda": "Quarterly review"},
    ),
    "partnerships:meeting_detail": Row(
        "GET", {"anonymous": 302, **NO_STUDENTS, **READERS}, url=lambda w: _url("meeting_detail", _meeting(w).pk)
    ),
    "partnerships:meeting_minutes": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("meeting_minutes", _meeting(w).pk),
        data=lambda w: {"minutes": "Agreed on the spring workshop calendar."},
    ),
    "partnerships:meeting_cancel": Row("POST", CHANGE, url=lambda w: _url("meeting_cancel", _meeting(w).pk)),
    "partnerships:action_item_create": Row(
        "POST",
        CHANGE,
        url=lambda w: _url("action_item_create", active(w).pk),
        data=lambda w: {
            "description": "Share the calendar",
            "owner": w.staff_a.pk,
            "due_on": str(timezone.localdate() + timedelta(days=14)),
        },
    ),
    "partnerships:action_item_complete": Row(
        "POST",
        {"anonymous": 302, **NO_STUDENTS, "staff": 302, "coordinator": 302, "admin": 302},
        url=lambda w: _url("action_item_complete", _item(w).pk),
    ),
}

# --- API -------------------------------------------------------------------------------------
API_READ = {"anonymous": 401, **NO_STUDENTS, **READERS}
# A body naming an agreement the caller cannot see fails validation like a missing id (400).
API_CREATE = {"anonymous": 401, **dict.fromkeys(NO_STUDENTS, 400), "staff": 403, "coordinator": 201, "admin": 201}
API_DELETE = {**API_CHANGE, "coordinator": 204, "admin": 204}


def api_change(status):
    return {**API_CHANGE, "coordinator": status, "admin": status}


def _in_review(w):
    agreement = draft(w)
    services.agreement_submit(agreement=agreement, by=w.agency_coordinator)
    return agreement


def _signature(w):
    agreement = _in_review(w)
    party = agreement.parties.get(role="lead_agency")
    return services.agreement_sign(agreement=agreement, party=party, by=w.agency_coordinator, signer_title="Chief")


def _school_a_party(agreement, w):
    return agreement.parties.get(organization=w.school_a)


def _third_party(w):
    """A draft with a third institution that nobody in the world belongs to."""
    agreement = draft(w, institutions=[w.school_a, SchoolFactory(name="Roosevelt Middle School")])
    return agreement.parties.get(organization__name="Roosevelt Middle School")


def _child(w, related):
    return getattr(draft(w), related).first()


def _api(path, *args):
    return "/api/v1/" + path.format(*args)


def _marked(w):
    return draft(w, title="Visible Only To Parties MOU").title


def _once(w, build):
    """Build an object once per test, for rows whose URL and body both refer to it."""
    cache = w.__dict__.setdefault("_matrix_cache", {})
    if build not in cache:
        cache[build] = build(w)
    return cache[build]


def _children(path, related, data):
    return {
        ("GET", f"/api/v1/{path}/"): Row(
            "GET", signed_in(200, anonymous=401), url=lambda w: (draft(w), _api(path + "/"))[1]
        ),
        ("POST", f"/api/v1/{path}/"): Row("POST", API_CREATE, data=data),
        ("GET", f"/api/v1/{path}/{{id}}/"): Row(
            "GET", API_READ, url=lambda w: _api(path + "/{}/", _child(w, related).pk)
        ),
        ("DELETE", f"/api/v1/{path}/{{id}}/"): Row(
            "DELETE", API_DELETE, url=lambda w: _api(path + "/{}/", _child(w, related).pk)
        ),
    }


API = {
    ("GET", "/api/v1/agreements/"): Row(
        "GET", signed_in(200, anonymous=401), shown=_marked, hidden_from={"loner", "outsider", "student"}
    ),
    ("POST", "/api/v1/agreements/"): Row(
        "POST",
        {"anonymous": 401, **dict.fromkeys(NO_STUDENTS, 403), "staff": 403, "coordinator": 201, "admin": 201},
        data=lambda w: {
            "title": "Online Safety MOU",
            "lead_agency": w.agency.pk,
            "institutions": [w.school_a.pk],
            "starts_on": "2027-01-01",
            "ends_on": "2028-12-31",
        },
    ),
    ("GET", "/api/v1/agreements/{id}/"): Row("GET", API_READ, url=lambda w: _api("agreements/{}/", draft(w).pk)),
    ("PATCH", "/api/v1/agreements/{id}/"): Row(
        "PATCH", api_change(200), url=lambda w: _api("agreements/{}/", draft(w).pk), data=lambda w: {"title": "Renamed"}
    ),
    ("POST", "/api/v1/agreements/{id}/submit/"): Row(
        "POST", api_change(200), url=lambda w: _api("agreements/{}/submit/", draft(w).pk)
    ),
    ("POST", "/api/v1/agreements/{id}/return-to-draft/"): Row(
        "POST", api_change(200), url=lambda w: _api("agreements/{}/return-to-draft/", _in_review(w).pk)
    ),
    # Authorized, and refused by the rule: signatures are missing (the message lists them).
    ("POST", "/api/v1/agreements/{id}/activate/"): Row(
        "POST", api_change(400), url=lambda w: _api("agreements/{}/activate/", _in_review(w).pk)
    ),
    ("POST", "/api/v1/agreements/{id}/amend/"): Row(
        "POST", api_change(201), url=lambda w: _api("agreements/{}/amend/", active(w).pk)
    ),
    ("POST", "/api/v1/agreements/{id}/renew/"): Row(
        "POST", api_change(201), url=lambda w: _api("agreements/{}/renew/", active(w).pk)
    ),
    ("POST", "/api/v1/agreements/{id}/terminate/"): Row(
        "POST",
        api_change(200),
        url=lambda w: _api("agreements/{}/terminate/", active(w).pk),
        data=lambda w: {"reason": "The district ends the program.", "effective_on": str(_tomorrow())},
    ),
    # Only a coordinator of that very party signs for it; an admin does not sign for others.
    ("POST", "/api/v1/agreements/{id}/sign/"): Row(
        "POST",
        {**API_CHANGE, "coordinator": 201, "admin": 403},
        url=lambda w: _api("agreements/{}/sign/", _once(w, _in_review).pk),
        data=lambda w: {"party": _school_a_party(_once(w, _in_review), w).pk, "signer_title": "Principal"},
    ),
    **_children(
        "objectives",
        "objectives",
        lambda w: {
            "agreement": draft(w).pk,
            "description": "Reach every 8th grader",
            "measure": "students reached",
            "target_on": str(timezone.localdate() + timedelta(days=100)),
        },
    ),
    **_children(
        "responsibilities",
        "responsibilities",
        lambda w: {
            "agreement": (a := draft(w)).pk,
            "party": _school_a_party(a, w).pk,
            "kind": ResponsibilityKind.ROLE,
            "description": "Hosts the workshops",
        },
    ),
    **_children(
        "data-sharing-terms",
        "data_terms",
        lambda w: {
            "agreement": draft(w).pk,
            "category": DataCategory.PROGRAM,
            "direction": DataDirection.SCHOOL_TO_AGENCY,
            "purpose": "Workshop attendance counts",
            "lawful_basis": LawfulBasis.SCHOOL_OFFICIAL,
            "retention_days": 180,
        },
    ),
    ("GET", "/api/v1/funding-commitments/"): Row("GET", signed_in(200, anonymous=401)),
    ("POST", "/api/v1/funding-commitments/"): Row(
        "POST",
        API_CREATE,
        data=lambda w: {
            "agreement": (a := draft(w)).pk,
            "party": _school_a_party(a, w).pk,
            "amount": "1500.00",
            "currency": "USD",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "purpose": "Workshop materials",
        },
    ),
    ("GET", "/api/v1/funding-commitments/{id}/"): Row(
        "GET", API_READ, url=lambda w: _api("funding-commitments/{}/", _funding(w).pk)
    ),
    ("DELETE", "/api/v1/funding-commitments/{id}/"): Row(
        "DELETE", API_DELETE, url=lambda w: _api("funding-commitments/{}/", _funding(w).pk)
    ),
    ("GET", "/api/v1/agreement-parties/"): Row("GET", signed_in(200, anonymous=401)),
    ("POST", "/api/v1/agreement-parties/"): Row(
        "POST",
        API_CREATE,
        data=lambda w: {"agreement": draft(w).pk, "organization": SchoolFactory(name="Roosevelt Middle School").pk},
    ),
    ("GET", "/api/v1/agreement-parties/{id}/"): Row(
        "GET", API_READ, url=lambda w: _api("agreement-parties/{}/", _school_a_party(draft(w), w).pk)
    ),
    ("DELETE", "/api/v1/agreement-parties/{id}/"): Row(
        "DELETE", API_DELETE, url=lambda w: _api("agreement-parties/{}/", _third_party(w).pk)
    ),
    ("GET", "/api/v1/signatures/"): Row("GET", signed_in(200, anonymous=401)),
    ("GET", "/api/v1/signatures/{id}/"): Row("GET", API_READ, url=lambda w: _api("signatures/{}/", _signature(w).pk)),
    ("GET", "/api/v1/meetings/"): Row("GET", signed_in(200, anonymous=401)),
    ("POST", "/api/v1/meetings/"): Row(
        "POST",
        API_CREATE,
        data=lambda w: {
            "agreement": active(w).pk,
            "starts_at": (timezone.now() + timedelta(days=5)).isoformat(),
            "location": "Lincoln High, room 12",
            "agenda": "Quarterly review",
        },
    ),
    ("GET", "/api/v1/meetings/{id}/"): Row("GET", API_READ, url=lambda w: _api("meetings/{}/", _meeting(w).pk)),
    ("POST", "/api/v1/meetings/{id}/minutes/"): Row(
        "POST",
        api_change(200),
        url=lambda w: _api("meetings/{}/minutes/", _meeting(w).pk),
        data=lambda w: {"minutes": "Agreed on the spring calendar."},
    ),
    ("POST", "/api/v1/meetings/{id}/cancel/"): Row(
        "POST", api_change(200), url=lambda w: _api("meetings/{}/cancel/", _meeting(w).pk)
    ),
    ("GET", "/api/v1/action-items/"): Row("GET", signed_in(200, anonymous=401)),
    ("POST", "/api/v1/action-items/"): Row(
        "POST",
        API_CREATE,
        data=lambda w: {
            "agreement": active(w).pk,
            "description": "Share the calendar",
            "owner": w.staff_a.pk,
            "due_on": str(timezone.localdate() + timedelta(days=14)),
        },
    ),
    ("GET", "/api/v1/action-items/{id}/"): Row("GET", API_READ, url=lambda w: _api("action-items/{}/", _item(w).pk)),
    # The owner (school A's staff) completes their own item.
    ("POST", "/api/v1/action-items/{id}/complete/"): Row(
        "POST",
        {"anonymous": 401, **NO_STUDENTS, "staff": 200, "coordinator": 200, "admin": 200},
        url=lambda w: _api("action-items/{}/complete/", _item(w).pk),
    ),
}
