from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.enums import Role
from accounts.errors import DomainError
from accounts.models import Organization
from partnerships import forms, rules, selectors, services
from partnerships.enums import AgreementStatus, MeetingStatus
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
)

PAGE_SIZE = 25


def _apply_error(form, error: DomainError):
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _manage_or_403(user, agreement):
    if not rules.can_manage(user, agreement):
        raise PermissionDenied


@require_GET
def agreement_list(request):
    user = request.user
    organizations = access.visible(user, Organization).order_by("name")
    form = forms.AgreementFilterForm(request.GET or None, organizations=organizations)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.agreement_list_for(
        user,
        status=filters.get("status") or None,
        party=filters["party"].pk if filters.get("party") else None,
        expiring_within=filters.get("expiring_within"),
        review_due=bool(filters.get("review_due")),
        incomplete=bool(filters.get("incomplete")),
        overdue_items=bool(filters.get("overdue_items")),
        activated_within=filters.get("activated_within"),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [
        {
            "agreement": a,
            "missing": selectors.missing_count(a),
            "days_to_end": (a.ends_on - today).days,
            "days_to_review": (a.review_on - today).days if a.review_on else None,
            "signatures_missing": max(0, a.party_count - a.signature_count),
        }
        for a in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    can_create = rules.can_draft(user)
    return render(
        request,
        "partnerships/agreement_list.html",
        {"page": page, "rows": rows, "form": form, "query": query.urlencode(), "can_create": can_create},
        status=200 if form.is_valid() or not request.GET else 400,
    )


@require_http_methods(["GET", "POST"])
def agreement_create(request):
    if not rules.can_draft(request.user):
        raise PermissionDenied
    form = forms.AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Draft created. Complete the checklist, then send it for review."))
            return redirect("partnerships:agreement_detail", pk=agreement.pk)
    return render(
        request, "partnerships/agreement_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


def _detail_context(request, agreement, **bound):
    user = request.user
    can_manage = rules.can_manage(user, agreement)
    editable = can_manage and agreement.status == AgreementStatus.DRAFT
    signable = AgreementParty.objects.none()
    if agreement.status == AgreementStatus.IN_REVIEW:
        signed = {s.party_id for s in agreement.signatures.all()}
        coordinated = access.organization_ids(user, role=Role.COORDINATOR)
        signable = agreement.parties.filter(organization_id__in=coordinated).exclude(pk__in=signed)
    today = timezone.localdate()
    meetings = list(agreement.meetings.order_by("starts_at"))
    past = [m for m in meetings if m.status == MeetingStatus.HELD or m.starts_at < timezone.now()]
    upcoming = [m for m in meetings if m.status == MeetingStatus.SCHEDULED and m.starts_at >= timezone.now()]
    context = {
        "agreement": agreement,
        "missing": services.missing_items(agreement),
        "can_manage": can_manage,
        "editable": editable,
        "today": today,
        "signable": signable,
        "last_meeting": past[-1] if past else None,
        "next_meeting": upcoming[0] if upcoming else None,
        "meetings": meetings,
        "open_items": [i for i in agreement.action_items.select_related("owner") if i.done_at is None],
        "documents": agreement.documents.all(),
        "has_newer": Agreement.objects.filter(previous_version=agreement).first(),
    }
    if editable:
        context.update(
            edit_form=forms.AgreementEditForm(initial={f: getattr(agreement, f) for f in services.EDITABLE_FIELDS}),
            party_form=forms.PartyForm(agreement=agreement),
            objectives_form=forms.ObjectiveForm(agreement=agreement),
            responsibilities_form=forms.ResponsibilityForm(agreement=agreement),
            funding_form=forms.FundingForm(agreement=agreement),
            data_terms_form=forms.DataTermForm(agreement=agreement),
        )
    if signable.exists():
        context["sign_form"] = forms.SignForm(parties=signable)
    if can_manage:
        context.update(
            terminate_form=forms.TerminateForm(initial={"effective_on": today}),
            renew_form=forms.RenewForm(),
            document_form=forms.DocumentForm(),
            meeting_form=forms.MeetingForm(agreement=agreement),
            action_form=forms.ActionItemForm(agreement=agreement),
        )
    context.update(bound)
    return context


@require_GET
def agreement_detail(request, pk):
    agreement = selectors.agreement_detail_for(request.user, pk)
    return render(request, "partnerships/agreement_detail.html", _detail_context(request, agreement))


def _rerender(request, agreement, status=400, **bound):
    return render(
        request, "partnerships/agreement_detail.html", _detail_context(request, agreement, **bound), status=status
    )


@require_POST
def agreement_edit(request, pk):
    agreement = selectors.agreement_detail_for(request.user, pk)
    _manage_or_403(request.user, agreement)
    form = forms.AgreementEditForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_update(agreement=agreement, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("partnerships:agreement_detail", pk=agreement.pk)
    return _rerender(request, agreement, edit_form=form)


# Items of a draft: one view adds any kind, one removes any kind.

ITEM_KINDS = {
    "parties": (forms.PartyForm, AgreementParty, "party_form"),
    "objectives": (forms.ObjectiveForm, Objective, "objectives_form"),
    "responsibilities": (forms.ResponsibilityForm, Responsibility, "responsibilities_form"),
    "funding": (forms.FundingForm, FundingCommitment, "funding_form"),
    "data-terms": (forms.DataTermForm, DataSharingTerm, "data_terms_form"),
}

ADD_SERVICES = {
    "parties": services.party_add,
    "objectives": services.objective_add,
    "responsibilities": services.responsibility_add,
    "funding": services.funding_add,
    "data-terms": services.data_term_add,
}


@require_POST
def item_add(request, pk, kind):
    if kind not in ITEM_KINDS:
        raise Http404
    agreement = selectors.agreement_detail_for(request.user, pk)
    _manage_or_403(request.user, agreement)
    form_class, _model, context_name = ITEM_KINDS[kind]
    form = form_class(request.POST, agreement=agreement)
    if form.is_valid():
        try:
            ADD_SERVICES[kind](agreement=agreement, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Added."))
            return redirect(f"{agreement.get_absolute_url()}#{kind}")
    return _rerender(request, agreement, **{context_name: form})


@require_POST
def item_remove(request, pk, kind, item_pk):
    if kind not in ITEM_KINDS:
        raise Http404
    agreement = selectors.agreement_detail_for(request.user, pk)
    _manage_or_403(request.user, agreement)
    model = ITEM_KINDS[kind][1]
    item = model.objects.filter(agreement=agreement, pk=item_pk).first()
    if item is None:
        raise Http404
    try:
        if kind == "parties":
            services.party_remove(party=item, by=request.user)
        else:
            services.child_remove(item=item, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Removed."))
    return redirect(f"{agreement.get_absolute_url()}#{kind}")


# Transitions.


@require_POST
def agreement_action(request, pk, action):
    agreement = selectors.agreement_detail_for(request.user, pk)
    user = request.user
    if action == "sign":
        form = forms.SignForm(request.POST, parties=agreement.parties.all())
        if not rules.is_party_member(user, agreement, role=Role.COORDINATOR):
            raise PermissionDenied
        if not form.is_valid():
            return _rerender(request, agreement, sign_form=form)
        try:
            services.agreement_sign(agreement=agreement, by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
            return _rerender(request, agreement, sign_form=form)
        agreement.refresh_from_db()
        messages.success(
            request,
            _("Signed. Every party has signed: the agreement is active.")
            if agreement.status == AgreementStatus.ACTIVE
            else _("Signed."),
        )
        return redirect("partnerships:agreement_detail", pk=agreement.pk)
    _manage_or_403(user, agreement)
    try:
        if action == "submit":
            services.agreement_submit(agreement=agreement, by=user)
            messages.success(request, _("Sent to the parties for review and signature."))
        elif action == "return-to-draft":
            services.agreement_return_to_draft(agreement=agreement, by=user)
            messages.success(request, _("Back to draft. Signatures given so far were withdrawn."))
        elif action == "activate":
            services.agreement_activate(agreement=agreement, by=user)
            messages.success(request, _("The agreement is active."))
        elif action == "amend":
            new = services.agreement_amend(agreement=agreement, by=user)
            messages.success(
                request,
                _("Version %(v)s drafted. The current version stays active until it is signed.") % {"v": new.version},
            )
            return redirect("partnerships:agreement_detail", pk=new.pk)
        elif action == "renew":
            form = forms.RenewForm(request.POST)
            if not form.is_valid():
                return _rerender(request, agreement, renew_form=form)
            new = services.agreement_renew(agreement=agreement, by=user, **form.cleaned_data)
            messages.success(request, _("Renewal drafted as version %(v)s.") % {"v": new.version})
            return redirect("partnerships:agreement_detail", pk=new.pk)
        elif action == "terminate":
            form = forms.TerminateForm(request.POST)
            if not form.is_valid():
                return _rerender(request, agreement, terminate_form=form)
            try:
                services.agreement_terminate(agreement=agreement, by=user, **form.cleaned_data)
            except DomainError as error:
                if error.field:
                    _apply_error(form, error)
                    return _rerender(request, agreement, terminate_form=form)
                raise
            messages.success(request, _("Termination recorded."))
        else:
            raise Http404
    except DomainError as error:
        messages.error(request, error.message)
        return _rerender(request, agreement)
    return redirect("partnerships:agreement_detail", pk=agreement.pk)


@require_GET
def agreement_versions(request, pk):
    agreement = selectors.agreement_detail_for(request.user, pk)
    versions = list(selectors.versions_of(request.user, agreement))
    by_pk = {v.pk: v for v in versions}
    changes = None
    old = by_pk.get(_int(request.GET.get("from")))
    new = by_pk.get(_int(request.GET.get("to")))
    if old and new:
        changes = selectors.compare(old, new)
    elif agreement.previous_version_id in by_pk:
        old, new = by_pk[agreement.previous_version_id], agreement
        changes = selectors.compare(old, new)
    return render(
        request,
        "partnerships/agreement_versions.html",
        {"agreement": agreement, "versions": versions, "old": old, "new": new, "changes": changes},
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Documents: uploaded by coordinators, served only to the parties as attachments.


@require_POST
def document_upload(request, pk):
    agreement = selectors.agreement_detail_for(request.user, pk)
    _manage_or_403(request.user, agreement)
    form = forms.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.document_upload(agreement=agreement, uploaded_file=form.cleaned_data["file"], by=request.user)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Document attached."))
            return redirect(f"{agreement.get_absolute_url()}#documents")
    return _rerender(request, agreement, document_form=form)


@never_cache
@require_GET
def document_download(request, pk):
    document = access.get_visible_or_404(request.user, AgreementDocument, pk=pk)
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.original_name, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# Meetings and action items.


@require_POST
def meeting_create(request, pk):
    agreement = selectors.agreement_detail_for(request.user, pk)
    _manage_or_403(request.user, agreement)
    form = forms.MeetingForm(request.POST, agreement=agreement)
    if form.is_valid():
        try:
            services.meeting_schedule(agreement=agreement, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Meeting scheduled."))
            return redirect(f"{agreement.get_absolute_url()}#meetings")
    return _rerender(request, agreement, meeting_form=form)


@require_GET
def meeting_detail(request, pk):
    meeting = access.get_visible_or_404(request.user, Meeting, pk=pk)
    can_manage = rules.can_manage(request.user, meeting.agreement)
    return render(
        request,
        "partnerships/meeting_detail.html",
        {
            "meeting": meeting,
            "agreement": meeting.agreement,
            "can_manage": can_manage,
            "minutes_form": forms.MinutesForm(initial={"minutes": meeting.minutes}) if can_manage else None,
            "action_form": forms.ActionItemForm(agreement=meeting.agreement) if can_manage else None,
            "attendees": meeting.attendees.all(),
            "items": meeting.action_items.select_related("owner"),
        },
    )


@require_POST
def meeting_minutes(request, pk):
    meeting = access.get_visible_or_404(request.user, Meeting, pk=pk)
    _manage_or_403(request.user, meeting.agreement)
    form = forms.MinutesForm(request.POST)
    if form.is_valid():
        try:
            services.meeting_record_minutes(meeting=meeting, by=request.user, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Minutes saved."))
    else:
        messages.error(request, _("Write the minutes."))
    return redirect("partnerships:meeting_detail", pk=meeting.pk)


@require_POST
def meeting_cancel(request, pk):
    meeting = access.get_visible_or_404(request.user, Meeting, pk=pk)
    _manage_or_403(request.user, meeting.agreement)
    try:
        services.meeting_cancel(meeting=meeting, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("partnerships:meeting_detail", pk=meeting.pk)


@require_POST
def action_item_create(request, pk):
    agreement = selectors.agreement_detail_for(request.user, pk)
    _manage_or_403(request.user, agreement)
    form = forms.ActionItemForm(request.POST, agreement=agreement)
    meeting = agreement.meetings.filter(pk=_int(request.POST.get("meeting"))).first()
    if form.is_valid():
        try:
            services.action_item_add(agreement=agreement, by=request.user, meeting=meeting, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Action item added."))
            if meeting:
                return redirect("partnerships:meeting_detail", pk=meeting.pk)
            return redirect(f"{agreement.get_absolute_url()}#action-items")
    return _rerender(request, agreement, action_form=form)


@require_POST
def action_item_complete(request, pk):
    item = access.get_visible_or_404(request.user, ActionItem, pk=pk)
    try:
        services.action_item_complete(item=item, by=request.user)
    except DomainError as error:
        raise PermissionDenied(error.message) from error
    messages.success(request, _("Marked done."))
    return redirect(f"{item.agreement.get_absolute_url()}#action-items")
