"""Writes to agreements: drafting, review, signatures, activation, versions, termination,
documents, meetings and action items. Other apps call ``ensure_allows_new_activity``
before they create sessions or postings under an agreement."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.enums import OrganizationKind, Role
from accounts.errors import ConflictError, DomainError
from accounts.models import Membership, Organization, User
from accounts.services import record_audit
from notifications.services import notify
from partnerships import rules
from partnerships.enums import AGREEMENT_TRANSITIONS, AgreementStatus, MeetingStatus, PartyRole, ResponsibilityKind
from partnerships.models import (
    ActionItem,
    Agreement,
    AgreementDocument,
    AgreementParty,
    DataSharingTerm,
    FundingCommitment,
    Meeting,
    Objective,
    Responsibility,
    Signature,
)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
EXPIRY_REMINDER_DAYS = (90, 60, 30)
REVIEW_REMINDER_DAYS = (30, 0)
MEETING_REMINDER_DAYS = 2


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


# Completeness: the minimum contents of a school–police MOU (US DOJ COPS Office).


@dataclass(frozen=True)
class MissingItem:
    code: str
    message: str
    anchor: str  # the section of the agreement page where it is fixed


def missing_items(agreement: Agreement, *, include_signatures: bool = True) -> list[MissingItem]:
    """What the agreement still lacks before it may be activated, in checklist order."""
    parties = list(agreement.parties.all())
    responsibilities = list(agreement.responsibilities.all())
    missing = []
    if not agreement.purpose.strip():
        missing.append(MissingItem("purpose", _("State the purpose of the agreement."), "details"))
    if not agreement.objectives.exists():
        missing.append(MissingItem("objectives", _("Add at least one measurable objective."), "objectives"))
    if not any(p.role == PartyRole.INSTITUTION for p in parties):
        missing.append(MissingItem("institution", _("Add at least one institution as a party."), "parties"))
    covered = {r.party_id for r in responsibilities}
    for party in parties:
        if party.pk not in covered:
            missing.append(
                MissingItem(
                    f"responsibility:{party.pk}",
                    _("Describe the responsibilities of %(org)s.") % {"org": party.organization.name},
                    "responsibilities",
                )
            )
    if not any(r.kind == ResponsibilityKind.SUPERVISION for r in responsibilities):
        missing.append(
            MissingItem(
                "supervision",
                _("Describe supervision and the chain of command for officers working in schools."),
                "responsibilities",
            )
        )
    if not agreement.data_terms.exists():
        missing.append(MissingItem("data_terms", _("Add the information-sharing terms."), "data-terms"))
    if include_signatures:
        signed = {s.party_id for s in agreement.signatures.all()}
        for party in parties:
            if party.pk not in signed:
                missing.append(
                    MissingItem(
                        f"signature:{party.pk}",
                        _("A coordinator of %(org)s must sign.") % {"org": party.organization.name},
                        "signatures",
                    )
                )
    return missing


# Transitions: one function, one table (partnerships.enums.AGREEMENT_TRANSITIONS).


def _transition(agreement: Agreement, to: str, *, by, **detail) -> Agreement:
    if (agreement.status, to) not in AGREEMENT_TRANSITIONS:
        raise PartnershipError(
            _("An agreement that is %(status)s cannot become %(to)s.")
            % {"status": agreement.get_status_display().lower(), "to": AgreementStatus(to).label.lower()}
        )
    previous = agreement.status
    agreement.status = to
    fields = ["status", "updated_at"]
    now = timezone.now()
    if to == AgreementStatus.ACTIVE:
        agreement.activated_at = now
        agreement.review_on = _add_months(timezone.localdate(), agreement.review_interval_months)
        fields += ["activated_at", "review_on"]
    if to in AgreementStatus.ended:
        agreement.ended_at = now
        fields.append("ended_at")
    agreement.save(update_fields=fields)
    record_audit(
        actor=by,
        action=f"agreement.{to}",
        target=agreement,
        organization=agreement.lead_agency,
        previous=previous,
        **detail,
    )
    return agreement


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def _locked(agreement: Agreement) -> Agreement:
    """Take the agreement's row lock; every decision about its state follows this."""
    return Agreement.objects.select_for_update().get(pk=agreement.pk)


def _ensure_can_manage(user, agreement: Agreement) -> None:
    if not rules.can_manage(user, agreement):
        raise PartnershipError(_("Only a coordinator of a party can change this agreement."))


def _ensure_draft(agreement: Agreement) -> None:
    if agreement.status != AgreementStatus.DRAFT:
        raise PartnershipError(
            _("This version is %(status)s and is never edited in place: amend or renew it to make a new draft.")
            % {"status": agreement.get_status_display().lower()}
        )


def _validate_term(starts_on, ends_on) -> None:
    if starts_on and ends_on and ends_on <= starts_on:
        raise PartnershipError(_("The end date must be after the start date."), field="ends_on")


# Drafting.


@transaction.atomic
def agreement_create(
    *,
    title: str,
    lead_agency: Organization,
    institutions: list[Organization],
    starts_on: date,
    ends_on: date,
    by: User,
    purpose: str = "",
    review_interval_months: int = 24,
) -> Agreement:
    """A coordinator of the lead agency or of one of the institutions drafts an agreement."""
    if lead_agency.kind != OrganizationKind.AGENCY:
        raise PartnershipError(_("The lead party must be a law enforcement agency."), field="lead_agency")
    if any(org.kind not in OrganizationKind.institutions for org in institutions):
        raise PartnershipError(
            _("The other parties must be schools, districts, colleges or universities."), field="institutions"
        )
    coordinated = access.organization_ids(by, role=Role.COORDINATOR)
    if not access.is_admin(by) and not ({lead_agency.pk, *(o.pk for o in institutions)} & coordinated):
        raise PartnershipError(_("Only a coordinator of one of the parties can draft this agreement."))
    _validate_term(starts_on, ends_on)
    if not 1 <= review_interval_months <= 120:
        raise PartnershipError(_("The review interval is between 1 and 120 months."), field="review_interval_months")
    agreement = Agreement.objects.create(
        title=title.strip(),
        purpose=purpose.strip(),
        lead_agency=lead_agency,
        starts_on=starts_on,
        ends_on=ends_on,
        review_interval_months=review_interval_months,
        created_by=by,
    )
    AgreementParty.objects.create(agreement=agreement, organization=lead_agency, role=PartyRole.LEAD_AGENCY)
    for org in dict.fromkeys(institutions):
        AgreementParty.objects.create(agreement=agreement, organization=org, role=PartyRole.INSTITUTION)
    record_audit(actor=by, action="agreement.created", target=agreement, organization=lead_agency)
    return agreement


EDITABLE_FIELDS = {"title", "purpose", "starts_on", "ends_on", "review_interval_months"}


@transaction.atomic
def agreement_update(*, agreement: Agreement, by: User, **changes) -> Agreement:
    """Change a draft's own fields; a signed version is never edited in place."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise PartnershipError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    _ensure_draft(agreement)
    _validate_term(changes.get("starts_on", agreement.starts_on), changes.get("ends_on", agreement.ends_on))
    for name, value in changes.items():
        setattr(agreement, name, value.strip() if isinstance(value, str) else value)
    agreement.save(update_fields=[*changes, "updated_at"])
    record_audit(
        actor=by,
        action="agreement.updated",
        target=agreement,
        organization=agreement.lead_agency,
        fields=sorted(changes),
    )
    return agreement


def _party_of_agreement(agreement: Agreement, party: AgreementParty) -> AgreementParty:
    if party.agreement_id != agreement.pk:
        raise PartnershipError(_("That organization is not a party of this agreement."), field="party")
    return party


@transaction.atomic
def party_add(*, agreement: Agreement, organization: Organization, by: User) -> AgreementParty:
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    _ensure_draft(agreement)
    if organization.kind not in OrganizationKind.institutions:
        raise PartnershipError(
            _("Only schools, districts, colleges and universities join as institutions."), field="organization"
        )
    try:
        with transaction.atomic():
            party = AgreementParty.objects.create(
                agreement=agreement, organization=organization, role=PartyRole.INSTITUTION
            )
    except IntegrityError as error:
        raise ConflictError(
            _("%(org)s is already a party.") % {"org": organization.name}, field="organization"
        ) from error
    record_audit(
        actor=by,
        action="agreement.party_added",
        target=agreement,
        organization=agreement.lead_agency,
        party=organization.pk,
    )
    return party


@transaction.atomic
def party_remove(*, party: AgreementParty, by: User) -> None:
    agreement = _locked(party.agreement)
    _ensure_can_manage(by, agreement)
    _ensure_draft(agreement)
    if party.role == PartyRole.LEAD_AGENCY:
        raise PartnershipError(_("The lead agency cannot be removed; start a new agreement instead."))
    party.delete()


@transaction.atomic
def party_set_contact(*, party: AgreementParty, contact: User | None, by: User) -> AgreementParty:
    agreement = _locked(party.agreement)
    _ensure_can_manage(by, agreement)
    _ensure_draft(agreement)
    if (
        contact is not None
        and not Membership.objects.filter(user=contact, organization=party.organization, is_active=True)
        .exclude(role=Role.STUDENT)
        .exists()
    ):
        raise PartnershipError(_("The contact must be a staff member of that party."), field="contact")
    party.contact = contact
    party.save(update_fields=["contact"])
    return party


def _add_child(model, *, agreement: Agreement, by: User, **fields):
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    _ensure_draft(agreement)
    if "party" in fields:
        _party_of_agreement(agreement, fields["party"])
    item = model.objects.create(agreement=agreement, **fields)
    record_audit(
        actor=by,
        action=f"agreement.{model._meta.model_name}_added",
        target=agreement,
        organization=agreement.lead_agency,
        item=item.pk,
    )
    return item


@transaction.atomic
def objective_add(*, agreement: Agreement, description: str, measure: str, target_on: date, by: User) -> Objective:
    if not agreement.starts_on <= target_on <= agreement.ends_on:
        raise PartnershipError(_("The target date must fall within the agreement's term."), field="target_on")
    return _add_child(
        Objective,
        agreement=agreement,
        by=by,
        description=description.strip(),
        measure=measure.strip(),
        target_on=target_on,
    )


@transaction.atomic
def responsibility_add(
    *, agreement: Agreement, party: AgreementParty, kind: str, description: str, by: User
) -> Responsibility:
    if kind == ResponsibilityKind.DISCIPLINE and party.role == PartyRole.LEAD_AGENCY:
        raise PartnershipError(
            _("Student discipline stays with the school: officers do not handle school discipline."), field="kind"
        )
    return _add_child(
        Responsibility, agreement=agreement, by=by, party=party, kind=kind, description=description.strip()
    )


@transaction.atomic
def funding_add(
    *,
    agreement: Agreement,
    party: AgreementParty,
    amount,
    currency: str,
    period_start: date,
    period_end: date,
    purpose: str,
    by: User,
) -> FundingCommitment:
    if amount is None or amount < 0:
        raise PartnershipError(_("The amount cannot be negative."), field="amount")
    if period_end < period_start:
        raise PartnershipError(_("The period must end after it starts."), field="period_end")
    return _add_child(
        FundingCommitment,
        agreement=agreement,
        by=by,
        party=party,
        amount=amount,
        currency=currency.upper(),
        period_start=period_start,
        period_end=period_end,
        purpose=purpose.strip(),
    )


@transaction.atomic
def data_term_add(
    *,
    agreement: Agreement,
    category: str,
    direction: str,
    purpose: str,
    lawful_basis: str,
    retention_days: int,
    by: User,
) -> DataSharingTerm:
    if retention_days is None or retention_days < 1:
        raise PartnershipError(_("Keep the data for at least one day, or do not share it."), field="retention_days")
    try:
        with transaction.atomic():
            return _add_child(
                DataSharingTerm,
                agreement=agreement,
                by=by,
                category=category,
                direction=direction,
                purpose=purpose.strip(),
                lawful_basis=lawful_basis,
                retention_days=retention_days,
            )
    except IntegrityError as error:
        raise ConflictError(_("That category is already covered in that direction."), field="category") from error


@transaction.atomic
def child_remove(*, item, by: User) -> None:
    """Remove an objective, responsibility, funding commitment or data term from a draft."""
    agreement = _locked(item.agreement)
    _ensure_can_manage(by, agreement)
    _ensure_draft(agreement)
    record_audit(
        actor=by,
        action=f"agreement.{item._meta.model_name}_removed",
        target=agreement,
        organization=agreement.lead_agency,
        item=item.pk,
    )
    item.delete()


# Review, signatures, activation.


@transaction.atomic
def agreement_submit(*, agreement: Agreement, by: User) -> Agreement:
    """Send a draft to the parties for signature; the checklist shows what is still missing."""
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    agreement = _transition(agreement, AgreementStatus.IN_REVIEW, by=by)
    for party in agreement.parties.select_related("organization"):
        _notify_coordinators(
            party.organization,
            template="partnerships/email/review_requested",
            context={"agreement": agreement, "link": _link(agreement)},
            key=f"agreement-review-requested:{agreement.pk}:{party.pk}:{agreement.updated_at.isoformat()}",
        )
    return agreement


@transaction.atomic
def agreement_return_to_draft(*, agreement: Agreement, by: User) -> Agreement:
    """Back to draft for changes: signatures given so far no longer hold."""
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    agreement = _transition(agreement, AgreementStatus.DRAFT, by=by)
    agreement.signatures.all().delete()
    return agreement


@transaction.atomic
def agreement_sign(*, agreement: Agreement, party: AgreementParty, by: User, signer_title: str) -> Signature:
    """A coordinator of a party signs for that party, once, while the agreement is in review.
    The last signature activates a complete agreement."""
    agreement = _locked(agreement)
    _party_of_agreement(agreement, party)
    if agreement.status != AgreementStatus.IN_REVIEW:
        raise PartnershipError(_("Only an agreement in review can be signed."))
    if not rules.can_sign(by, agreement, party):
        raise PartnershipError(
            _("Only a coordinator of %(org)s can sign for it.") % {"org": party.organization.name}, field="party"
        )
    if not signer_title.strip():
        raise PartnershipError(_("Give the signer's title."), field="signer_title")
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                agreement=agreement,
                party=party,
                signed_by=by,
                signer_name=by.full_name or by.email,
                signer_title=signer_title.strip(),
            )
    except IntegrityError as error:
        raise ConflictError(_("%(org)s has already signed.") % {"org": party.organization.name}) from error
    record_audit(actor=by, action="agreement.signed", target=agreement, organization=party.organization, party=party.pk)
    if not missing_items(agreement):
        _activate(agreement, by=by)
    return signature


@transaction.atomic
def agreement_activate(*, agreement: Agreement, by: User) -> Agreement:
    """Activation is refused while any checklist item is missing; the message lists them."""
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    return _activate(agreement, by=by)


def _activate(agreement: Agreement, *, by) -> Agreement:
    missing = missing_items(agreement)
    if missing:
        raise PartnershipError(
            _("The agreement cannot be activated yet. Missing: %(items)s")
            % {"items": " ".join(item.message for item in missing)}
        )
    previous = agreement.previous_version
    if previous is not None and previous.status == AgreementStatus.ACTIVE:
        _transition(_locked(previous), AgreementStatus.SUPERSEDED, by=by, superseded_by=agreement.pk)
    agreement = _transition(agreement, AgreementStatus.ACTIVE, by=by)
    for party in agreement.parties.select_related("organization"):
        _notify_coordinators(
            party.organization,
            template="partnerships/email/activated",
            context={"agreement": agreement, "link": _link(agreement)},
            key=f"agreement-activated:{agreement.pk}:{party.pk}",
        )
    return agreement


# Versions: amend and renew copy a signed version into a new draft.


def _copy_as_new_version(agreement: Agreement, *, by: User, starts_on=None, ends_on=None) -> Agreement:
    if Agreement.objects.filter(previous_version=agreement).exists():
        raise ConflictError(_("A newer version of this agreement already exists."))
    new = Agreement.objects.create(
        lineage=agreement.lineage,
        version=agreement.version + 1,
        previous_version=agreement,
        title=agreement.title,
        purpose=agreement.purpose,
        lead_agency=agreement.lead_agency,
        starts_on=starts_on or agreement.starts_on,
        ends_on=ends_on or agreement.ends_on,
        review_interval_months=agreement.review_interval_months,
        created_by=by,
    )
    parties = {}
    for party in agreement.parties.all():
        parties[party.pk] = AgreementParty.objects.create(
            agreement=new, organization_id=party.organization_id, role=party.role, contact_id=party.contact_id
        )
    Objective.objects.bulk_create(
        Objective(agreement=new, description=o.description, measure=o.measure, target_on=o.target_on)
        for o in agreement.objectives.all()
    )
    Responsibility.objects.bulk_create(
        Responsibility(agreement=new, party=parties[r.party_id], kind=r.kind, description=r.description)
        for r in agreement.responsibilities.all()
    )
    FundingCommitment.objects.bulk_create(
        FundingCommitment(
            agreement=new,
            party=parties[f.party_id],
            amount=f.amount,
            currency=f.currency,
            period_start=f.period_start,
            period_end=f.period_end,
            purpose=f.purpose,
        )
        for f in agreement.funding.all()
    )
    DataSharingTerm.objects.bulk_create(
        DataSharingTerm(
            agreement=new,
            category=t.category,
            direction=t.direction,
            purpose=t.purpose,
            lawful_basis=t.lawful_basis,
            retention_days=t.retention_days,
        )
        for t in agreement.data_terms.all()
    )
    return new


@transaction.atomic
def agreement_amend(*, agreement: Agreement, by: User) -> Agreement:
    """Change an active agreement: a new draft version; the active one holds until the new one is signed."""
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    if agreement.status != AgreementStatus.ACTIVE:
        raise PartnershipError(_("Only an active agreement is amended; a draft is edited directly."))
    new = _copy_as_new_version(agreement, by=by)
    record_audit(
        actor=by, action="agreement.amended", target=new, organization=agreement.lead_agency, previous=agreement.pk
    )
    return new


@transaction.atomic
def agreement_renew(
    *, agreement: Agreement, by: User, starts_on: date | None = None, ends_on: date | None = None
) -> Agreement:
    """A new term: a new draft version starting where this one ends, for as long, unless told otherwise."""
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    if agreement.status not in (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED):
        raise PartnershipError(_("Only an active or expired agreement is renewed."))
    starts_on = starts_on or agreement.ends_on
    ends_on = ends_on or starts_on + (agreement.ends_on - agreement.starts_on)
    _validate_term(starts_on, ends_on)
    new = _copy_as_new_version(agreement, by=by, starts_on=starts_on, ends_on=ends_on)
    Objective.objects.filter(agreement=new).update(target_on=ends_on)
    record_audit(
        actor=by, action="agreement.renewed", target=new, organization=agreement.lead_agency, previous=agreement.pk
    )
    return new


@transaction.atomic
def agreement_terminate(*, agreement: Agreement, by: User, reason: str, effective_on: date) -> Agreement:
    """A party's coordinator ends the agreement from a date; history stays readable."""
    agreement = _locked(agreement)
    _ensure_can_manage(by, agreement)
    if not reason.strip():
        raise PartnershipError(_("Give the reason for terminating."), field="reason")
    today = timezone.localdate()
    if effective_on < today:
        raise PartnershipError(_("The effective date cannot be in the past."), field="effective_on")
    if agreement.status in AgreementStatus.ended:
        raise PartnershipError(_("This agreement has already ended."))
    agreement.termination_reason = reason.strip()
    agreement.termination_effective_on = effective_on
    agreement.save(update_fields=["termination_reason", "termination_effective_on", "updated_at"])
    if effective_on <= today or agreement.status != AgreementStatus.ACTIVE:
        agreement = _transition(agreement, AgreementStatus.TERMINATED, by=by, reason=reason.strip())
    for party in agreement.parties.select_related("organization"):
        _notify_coordinators(
            party.organization,
            template="partnerships/email/terminated",
            context={"agreement": agreement, "link": _link(agreement)},
            key=f"agreement-terminated:{agreement.pk}:{party.pk}",
        )
    return agreement


def end_due_agreements(*, today: date | None = None) -> int:
    """Nightly: active agreements past their end expire; scheduled terminations take effect."""
    today = today or timezone.localdate()
    changed = 0
    due = Agreement.objects.filter(status=AgreementStatus.ACTIVE).filter(ends_on__lte=today) | Agreement.objects.filter(
        status=AgreementStatus.ACTIVE, termination_effective_on__lte=today
    )
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            agreement = Agreement.objects.select_for_update().get(pk=pk)
            if agreement.status != AgreementStatus.ACTIVE:
                continue
            terminated = agreement.termination_effective_on and agreement.termination_effective_on <= today
            _transition(agreement, AgreementStatus.TERMINATED if terminated else AgreementStatus.EXPIRED, by=None)
            changed += 1
    return changed


# Documents.


@transaction.atomic
def document_upload(*, agreement: Agreement, uploaded_file, by: User) -> AgreementDocument:
    """A signed PDF, checked by its content and size; stored under a name we choose."""
    if not rules.is_party_member(by, agreement, role=Role.COORDINATOR):
        raise PartnershipError(_("Only a coordinator of a party can attach documents."))
    if uploaded_file.size > MAX_DOCUMENT_BYTES:
        raise PartnershipError(_("The file is larger than 10 MB."), field="file")
    head = uploaded_file.read(5)
    uploaded_file.seek(0)
    if head != b"%PDF-":
        raise PartnershipError(_("Only PDF files are accepted."), field="file")
    document = AgreementDocument(
        agreement=agreement,
        original_name=_safe_name(uploaded_file.name),
        size_bytes=uploaded_file.size,
        uploaded_by=by,
    )
    document.file.save(f"{uuid.uuid4().hex}.pdf", uploaded_file, save=False)
    document.save()
    record_audit(
        actor=by,
        action="agreement.document_uploaded",
        target=agreement,
        organization=agreement.lead_agency,
        document=document.pk,
    )
    return document


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isalnum() or c in " ._-()").strip(" .")
    return (cleaned or "document")[:150] + ("" if cleaned.lower().endswith(".pdf") else ".pdf")


# Meetings and action items.


def _party_members(agreement: Agreement):
    return (
        User.objects.filter(
            memberships__organization__agreement_parties__agreement=agreement,
            memberships__is_active=True,
        )
        .exclude(memberships__role=Role.STUDENT)
        .distinct()
    )


@transaction.atomic
def meeting_schedule(
    *, agreement: Agreement, starts_at, by: User, location: str = "", agenda: str = "", attendees=()
) -> Meeting:
    _ensure_can_manage(by, agreement)
    if agreement.status in AgreementStatus.ended:
        raise PartnershipError(_("This agreement has ended; no new meetings."))
    if starts_at <= timezone.now():
        raise PartnershipError(_("A meeting is scheduled in the future."), field="starts_at")
    allowed = set(_party_members(agreement).values_list("pk", flat=True))
    strangers = [u for u in attendees if u.pk not in allowed]
    if strangers:
        raise PartnershipError(_("Attendees must be members of the parties."), field="attendees")
    meeting = Meeting.objects.create(
        agreement=agreement, starts_at=starts_at, location=location.strip(), agenda=agenda.strip(), created_by=by
    )
    meeting.attendees.set(attendees)
    return meeting


@transaction.atomic
def meeting_record_minutes(*, meeting: Meeting, minutes: str, by: User) -> Meeting:
    _ensure_can_manage(by, meeting.agreement)
    if meeting.status == MeetingStatus.CANCELLED:
        raise PartnershipError(_("The meeting was cancelled."))
    if not minutes.strip():
        raise PartnershipError(_("Write the minutes."), field="minutes")
    meeting.minutes = minutes.strip()
    meeting.status = MeetingStatus.HELD
    meeting.save(update_fields=["minutes", "status", "updated_at"])
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by: User) -> Meeting:
    _ensure_can_manage(by, meeting.agreement)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise PartnershipError(_("Only a scheduled meeting can be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status", "updated_at"])
    return meeting


@transaction.atomic
def action_item_add(
    *, agreement: Agreement, description: str, owner: User, due_on: date, by: User, meeting: Meeting | None = None
) -> ActionItem:
    _ensure_can_manage(by, agreement)
    if meeting is not None and meeting.agreement_id != agreement.pk:
        raise PartnershipError(_("That meeting belongs to another agreement."), field="meeting")
    if not _party_members(agreement).filter(pk=owner.pk).exists():
        raise PartnershipError(_("The owner must be a member of one of the parties."), field="owner")
    return ActionItem.objects.create(
        agreement=agreement, meeting=meeting, description=description.strip(), owner=owner, due_on=due_on
    )


@transaction.atomic
def action_item_complete(*, item: ActionItem, by: User) -> ActionItem:
    if item.owner_id != by.pk and not rules.can_manage(by, item.agreement):
        raise PartnershipError(_("Only the owner or a coordinator can close this item."))
    if item.done_at is None:
        item.done_at = timezone.now()
        item.save(update_fields=["done_at", "updated_at"])
    return item


# Reminders: scans that write outbox rows with dedupe keys; safe to run twice or to skip.


def _link(agreement: Agreement) -> str:
    return settings.SITE_URL + reverse("partnerships:agreement_detail", args=[agreement.pk])


def _notify_coordinators(organization: Organization, *, template: str, context: dict, key: str) -> int:
    coordinators = Membership.objects.filter(
        organization=organization, role=Role.COORDINATOR, is_active=True, user__is_active=True
    ).select_related("user")
    for membership in coordinators:
        notify(
            to=membership.user.email,
            user=membership.user,
            template=template,
            context=context,
            dedupe_key=f"{key}:{membership.user_id}",
        )
    return len(coordinators)


def send_expiry_reminders(*, today: date | None = None) -> int:
    """90, 60 and 30 days before the end: one reminder per window to each party's coordinators."""
    today = today or timezone.localdate()
    sent = 0
    horizon = today + timedelta(days=max(EXPIRY_REMINDER_DAYS))
    agreements = Agreement.objects.filter(
        status=AgreementStatus.ACTIVE, ends_on__gt=today, ends_on__lte=horizon
    ).prefetch_related("parties__organization")
    for agreement in agreements:
        days_left = (agreement.ends_on - today).days
        window = min(w for w in EXPIRY_REMINDER_DAYS if days_left <= w)
        with transaction.atomic():
            for party in agreement.parties.all():
                sent += _notify_coordinators(
                    party.organization,
                    template="partnerships/email/expiring",
                    context={"agreement": agreement, "days_left": days_left, "link": _link(agreement)},
                    key=f"agreement-expiry:{agreement.pk}:{window}:{party.pk}",
                )
    return sent


def send_review_reminders(*, today: date | None = None) -> int:
    """30 days before the review date and on it."""
    today = today or timezone.localdate()
    sent = 0
    agreements = Agreement.objects.filter(
        status=AgreementStatus.ACTIVE,
        review_on__isnull=False,
        review_on__lte=today + timedelta(days=max(REVIEW_REMINDER_DAYS)),
    ).prefetch_related("parties__organization")
    for agreement in agreements:
        days_left = (agreement.review_on - today).days
        window = min((w for w in REVIEW_REMINDER_DAYS if days_left <= w), default=0)
        with transaction.atomic():
            for party in agreement.parties.all():
                sent += _notify_coordinators(
                    party.organization,
                    template="partnerships/email/review_due",
                    context={"agreement": agreement, "days_left": days_left, "link": _link(agreement)},
                    key=f"agreement-review:{agreement.pk}:{agreement.review_on}:{window}:{party.pk}",
                )
    return sent


def send_meeting_reminders(*, now=None) -> int:
    """Two days before a meeting, to its attendees; a moved meeting is reminded again."""
    now = now or timezone.now()
    meetings = (
        Meeting.objects.filter(
            status=MeetingStatus.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(days=MEETING_REMINDER_DAYS),
        )
        .select_related("agreement")
        .prefetch_related("attendees")
    )
    sent = 0
    for meeting in meetings:
        with transaction.atomic():
            for person in meeting.attendees.all():
                notify(
                    to=person.email,
                    user=person,
                    template="partnerships/email/meeting_reminder",
                    context={"meeting": meeting, "agreement": meeting.agreement, "link": _link(meeting.agreement)},
                    dedupe_key=f"meeting-reminder:{meeting.pk}:{meeting.starts_at.isoformat()}:{person.pk}",
                )
                sent += 1
    return sent


def send_overdue_action_nudges(*, today: date | None = None) -> int:
    """Once per item and due date, to its owner."""
    today = today or timezone.localdate()
    items = ActionItem.objects.filter(done_at__isnull=True, due_on__lt=today).select_related("owner", "agreement")
    sent = 0
    for item in items:
        with transaction.atomic():
            notify(
                to=item.owner.email,
                user=item.owner,
                template="partnerships/email/action_overdue",
                context={"item": item, "agreement": item.agreement, "link": _link(item.agreement)},
                dedupe_key=f"action-overdue:{item.pk}:{item.due_on}",
            )
        sent += 1
    return sent
