"""Partnerships through the pages and the API: the same rules, field errors, bounded queries."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partnerships import services
from partnerships.enums import AgreementStatus
from partnerships.models import Agreement, FundingCommitment, Objective
from tests.partnerships.factories import active, coordinator_of, draft

pytestmark = pytest.mark.django_db


def _detail(agreement):
    return reverse("partnerships:agreement_detail", args=[agreement.pk])


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


# --- the checklist and activation ---------------------------------------------------------------


def test_detail_page_names_each_missing_item_with_a_link_to_fix_it(client, world):
    agreement = draft(world, complete=False)
    client.force_login(world.coordinator_a)
    response = client.get(_detail(agreement))
    body = response.content.decode()
    missing = services.missing_items(agreement)
    assert len(missing) >= 5
    for item in missing:
        assert f'<a href="#{item.anchor}">{item.message}</a>' in body
        assert f'id="{item.anchor}"' in body, f"the checklist links to #{item.anchor}, which is not on the page"


def test_api_activation_refused_with_the_missing_list(client, world):
    agreement = draft(world, complete=False)
    services.agreement_submit(agreement=agreement, by=world.agency_coordinator)
    client.force_login(world.coordinator_a)
    response = client.post(f"/api/v1/agreements/{agreement.pk}/activate/")
    assert response.status_code == 400
    message = response.json()["detail"]
    assert "Missing" in message and "objective" in message.lower() and "sign" in message.lower()
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.IN_REVIEW


def test_api_lists_what_is_missing_on_each_agreement(client, world):
    agreement = draft(world, complete=False)
    client.force_login(world.coordinator_a)
    data = client.get(f"/api/v1/agreements/{agreement.pk}/").json()
    codes = {item["code"] for item in data["missing"]}
    parties = agreement.parties.all()
    assert {"purpose", "objectives", "data_terms", "supervision"} <= codes
    assert {f"signature:{party.pk}" for party in parties} <= codes
    assert {f"responsibility:{party.pk}" for party in parties} <= codes


# --- a signed version is never edited in place ------------------------------------------------


@pytest.mark.parametrize("state", ["in_review", "active"])
def test_api_does_not_edit_a_signed_version(client, world, state):
    agreement = draft(world)
    services.agreement_submit(agreement=agreement, by=world.agency_coordinator)
    if state == "active":
        agreement = _sign_all(world, agreement)
    client.force_login(world.coordinator_a)
    response = client.patch(
        f"/api/v1/agreements/{agreement.pk}/", {"title": "Quietly changed"}, content_type="application/json"
    )
    assert response.status_code in {400, 409}
    assert "amend" in response.content.decode().lower()
    response = client.post(
        "/api/v1/objectives/",
        {"agreement": agreement.pk, "description": "x", "measure": "y", "target_on": str(agreement.ends_on)},
        content_type="application/json",
    )
    assert response.status_code in {400, 409}
    objective = agreement.objectives.first()
    assert client.delete(f"/api/v1/objectives/{objective.pk}/").status_code in {400, 409}
    agreement.refresh_from_db()
    assert agreement.title == "School Resource Officer MOU"
    assert agreement.objectives.count() == 1


def _sign_all(world, agreement):
    for party in agreement.parties.all():
        services.agreement_sign(
            agreement=agreement, party=party, by=coordinator_of(world, party), signer_title="Coordinator"
        )
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE
    return agreement


def test_page_does_not_edit_an_active_version(client, world):
    agreement = active(world)
    client.force_login(world.coordinator_a)
    response = client.post(
        reverse("partnerships:agreement_edit", args=[agreement.pk]),
        {
            "title": "Quietly changed",
            "purpose": "p",
            "starts_on": "2026-01-01",
            "ends_on": "2027-12-31",
            "review_interval_months": 24,
        },
    )
    assert response.status_code == 400
    assert "amend" in response.content.decode().lower()
    response = client.post(
        reverse("partnerships:item_add", args=[agreement.pk, "objectives"]),
        {"description": "x", "measure": "y", "target_on": str(agreement.ends_on)},
    )
    assert response.status_code == 400
    agreement.refresh_from_db()
    assert agreement.title == "School Resource Officer MOU"
    assert agreement.objectives.count() == 1


def test_amend_through_the_api_links_a_new_draft_and_activation_supersedes(client, world):
    agreement = active(world)
    client.force_login(world.coordinator_a)
    response = client.post(f"/api/v1/agreements/{agreement.pk}/amend/")
    assert response.status_code == 201
    new = Agreement.objects.get(pk=response.json()["id"])
    assert new.previous_version == agreement and new.status == AgreementStatus.DRAFT
    assert new.objectives.count() == agreement.objectives.count()
    client.patch(f"/api/v1/agreements/{new.pk}/", {"title": "SRO MOU, 2nd edition"}, content_type="application/json")
    client.post(f"/api/v1/agreements/{new.pk}/submit/")
    _sign_all(world, new)
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SUPERSEDED
    versions = client.get(reverse("partnerships:agreement_versions", args=[new.pk]))
    body = versions.content.decode()
    assert "SRO MOU, 2nd edition" in body and "School Resource Officer MOU" in body


# --- bad input: field errors, nothing changes ----------------------------------------------------


def test_api_end_before_start_is_a_field_error(client, world):
    client.force_login(world.coordinator_a)
    before = Agreement.objects.count()
    response = client.post(
        "/api/v1/agreements/",
        {
            "title": "Backwards MOU",
            "lead_agency": world.agency.pk,
            "institutions": [world.school_a.pk],
            "starts_on": "2027-06-01",
            "ends_on": "2027-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "ends_on" in response.json()
    assert Agreement.objects.count() == before


def test_page_end_before_start_is_a_field_error(client, world):
    agreement = draft(world)
    client.force_login(world.coordinator_a)
    response = client.post(
        reverse("partnerships:agreement_edit", args=[agreement.pk]),
        {
            "title": "Renamed",
            "purpose": "p",
            "starts_on": "2027-06-01",
            "ends_on": "2027-01-01",
            "review_interval_months": 24,
        },
    )
    assert response.status_code == 400
    assert response.context["edit_form"].errors["ends_on"]
    agreement.refresh_from_db()
    assert agreement.title == "School Resource Officer MOU"


def _funding_body(agreement, world, **overrides):
    return {
        "agreement": agreement.pk,
        "party": agreement.parties.get(organization=world.school_a).pk,
        "amount": "-5.00",
        "currency": "USD",
        "period_start": str(agreement.starts_on),
        "period_end": str(agreement.ends_on),
        "purpose": "Materials",
        **overrides,
    }


def test_api_negative_funding_and_unknown_party_are_field_errors(client, world):
    agreement = draft(world)
    other = draft(world, title="Another MOU")
    client.force_login(world.coordinator_a)
    response = client.post(
        "/api/v1/funding-commitments/", _funding_body(agreement, world), content_type="application/json"
    )
    assert response.status_code == 400 and "amount" in response.json()
    foreign_party = other.parties.get(organization=world.school_a).pk
    response = client.post(
        "/api/v1/funding-commitments/",
        _funding_body(agreement, world, amount="10.00", party=foreign_party),
        content_type="application/json",
    )
    assert response.status_code == 400 and "party" in response.json()
    response = client.post(
        f"/api/v1/agreements/{agreement.pk}/sign/",
        {"party": 999999, "signer_title": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "party" in response.json()
    assert FundingCommitment.objects.count() == 0


def test_page_negative_funding_is_a_field_error(client, world):
    agreement = draft(world)
    client.force_login(world.coordinator_a)
    body = _funding_body(agreement, world)
    body.pop("agreement")
    response = client.post(reverse("partnerships:item_add", args=[agreement.pk, "funding"]), body)
    assert response.status_code == 400
    assert response.context["funding_form"].errors["amount"]
    assert FundingCommitment.objects.count() == 0


def test_api_bad_filter_is_a_field_error(client, world):
    client.force_login(world.coordinator_a)
    response = client.get("/api/v1/agreements/?status=nonsense")
    assert response.status_code == 400 and "status" in response.json()


# --- scope -----------------------------------------------------------------------------------------


def test_coordinator_of_a_non_party_gets_404_everywhere(client, world):
    agreement = active(world)
    objective = agreement.objectives.first()
    client.force_login(world.coordinator_b)
    assert client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 404
    assert client.post(f"/api/v1/agreements/{agreement.pk}/terminate/", {}).status_code == 404
    assert client.get(f"/api/v1/objectives/{objective.pk}/").status_code == 404
    assert client.get(_detail(agreement)).status_code == 404
    assert client.get("/api/v1/agreements/").json()["count"] == 0
    assert client.get(reverse("partnerships:agreement_list")).context["page"].paginator.count == 0


# --- list: filters, health, bounded queries ------------------------------------------------------------


def test_list_filters_expiring_and_incomplete(client, world):
    today = timezone.localdate()
    soon = active(world, title="Ends Soon MOU", ends_on=today + timedelta(days=20))
    active(world, title="Ends Later MOU")
    unfinished = draft(world, title="Unfinished MOU", complete=False)
    client.force_login(world.coordinator_a)
    url = reverse("partnerships:agreement_list")
    expiring = client.get(url, {"expiring_within": 30}).context["rows"]
    assert [row["agreement"] for row in expiring] == [soon]
    incomplete = client.get(url, {"incomplete": "on"}).context["rows"]
    assert unfinished in [row["agreement"] for row in incomplete]
    assert soon not in [row["agreement"] for row in incomplete]
    assert client.get(url, {"expiring_within": "-3"}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [reverse("partnerships:agreement_list"), "/api/v1/agreements/", "/api/v1/objectives/", "/api/v1/meetings/"],
)
def test_lists_do_a_bounded_number_of_queries(client, world, url):
    def grow(n):
        agreement = active(world, title=f"Growth MOU {n}")
        services.meeting_schedule(
            agreement=agreement, starts_at=timezone.now() + timedelta(days=n + 1), by=world.agency_coordinator
        )

    grow(0)  # one of each kind of row first, so every prefetch level has something to fetch
    client.force_login(world.coordinator_a)
    few = _queries(client, url)
    for n in range(1, 5):
        grow(n)
    assert _queries(client, url) == few


def test_detail_page_does_a_bounded_number_of_queries(client, world):
    agreement = active(world)
    client.force_login(world.coordinator_a)
    few = _queries(client, _detail(agreement))
    for n in range(3):
        services.meeting_schedule(
            agreement=agreement, starts_at=timezone.now() + timedelta(days=n + 1), by=world.agency_coordinator
        )
        services.action_item_add(
            agreement=agreement,
            description=f"Item {n}",
            owner=world.staff_a,
            due_on=timezone.localdate() + timedelta(days=n),
            by=world.agency_coordinator,
        )
    assert _queries(client, _detail(agreement)) <= few + 2


# --- documents ---------------------------------------------------------------------------------------------


def test_document_download_is_an_attachment_never_cached(client, world):
    agreement = active(world)
    document = services.document_upload(
        agreement=agreement,
        uploaded_file=SimpleUploadedFile("signed <mou>.pdf", b"%PDF-1.7 signed"),
        by=world.agency_coordinator,
    )
    client.force_login(world.staff_a)
    response = client.get(reverse("partnerships:document_download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == b"%PDF-1.7 signed"


def test_page_upload_refuses_a_non_pdf(client, world):
    agreement = active(world)
    client.force_login(world.coordinator_a)
    fake = SimpleUploadedFile("mou.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf")
    response = client.post(reverse("partnerships:document_upload", args=[agreement.pk]), {"file": fake})
    assert response.status_code == 400
    assert agreement.documents.count() == 0


# --- beat --------------------------------------------------------------------------------------------------


def test_every_beat_entry_names_a_registered_task():
    from config.celery import _beat_schedule, app

    app.loader.import_default_modules()
    schedule = _beat_schedule()
    assert "partnerships-end-due-agreements" in schedule
    unknown = sorted(entry["task"] for entry in schedule.values() if entry["task"] not in app.tasks)
    assert unknown == []


def test_objectives_api_lists_only_visible_items(client, world):
    mine = draft(world)
    client.force_login(world.coordinator_a)
    ids = {row["id"] for row in client.get("/api/v1/objectives/").json()["results"]}
    assert ids == set(Objective.objects.filter(agreement=mine).values_list("pk", flat=True))
    client.force_login(world.coordinator_b)
    assert client.get("/api/v1/objectives/").json()["results"] == []


@pytest.mark.parametrize(("role", "shown"), [("staff", True), ("coordinator", True), ("student", False)])
def test_menu_links_agreements_for_the_people_of_the_parties(client, world, role, shown):
    client.force_login(world.user(role))
    labels = [label for label, _url in client.get(reverse("home")).context["nav_items"]]
    assert ("Agreements" in labels) is shown
