"""Permission rows for the partnerships pages and API (merged into tests/test_permission_matrix.py).

The agreement is between world.agency and school A; "coordinator" is school A's
coordinator (a party), "staff" school A's staff (a party member who may read, not change).
"""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from partnerships import services
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

API = {}
