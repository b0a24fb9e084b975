"""Pages of internships. Thin: a form checks shape, a service decides, the page shows the outcome.

Agency staff see a student's record only in the data categories the agreement shares
(``selectors.visible_fields``) and every page that shows them one is logged
(``selectors.record_student_access``). The guardian's consent link works without an account: its
token moves from the URL into the session at once, so it never lingers in a Referer or a log.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.enums import GradeLevel, Role
from accounts.errors import DomainError
from internships import forms, rules, selectors, services
from internships.enums import (
    AccessPurpose,
    ApplicationStatus,
    CheckInStatus,
    ConsentStatus,
    EvaluationAuthor,
    HoursStatus,
    InterviewStatus,
    OfferStatus,
    PlacementStatus,
)
from internships.models import CheckIn, GuardianConsent, HoursEntry, Placement, Posting
from partnerships.enums import DataCategory

PAGE_SIZE = 25
MAX_FILTER_DAYS = 3650  # a list filter counted in days looks at most ten years ahead
CONSENT_SESSION_KEY = "consent_token"


# Small helpers.


def _apply_error(form, error: DomainError):
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _in_zone(moment: datetime, zone) -> datetime:
    """A wall-clock time typed into a form, read in ``zone`` (the student's school's time zone)."""
    return timezone.make_aware(timezone.make_naive(moment), zone)


def _is_student(user) -> bool:
    return Role.STUDENT in access.roles(user)


def _filters(request, form) -> tuple[dict, bool]:
    """The valid filters of a GET form; a value that is not understood is dropped with a message."""
    if not request.GET:
        return {}, False
    if form.is_valid():
        return form.cleaned_data, False
    labels = ", ".join(str(form.fields[name].label or name) for name in form.errors if name in form.fields)
    messages.error(request, _("Some filters were not understood and are ignored: %(names)s.") % {"names": labels})
    return form.cleaned_data, True


def _student_label(record, fields) -> str:
    """The student's name, or a neutral label where the agreement does not share directory data."""
    if "name" in fields:
        return record.student_name if hasattr(record, "student_name") else record.student.full_name
    number = record.application_id if isinstance(record, Placement) else record.pk
    return _("Applicant #%(n)s") % {"n": number}


def _shown(user, rows) -> list:
    """Mark each row of a list with the fields ``user`` may read and the student's label."""
    rows = list(rows)
    for row in rows:
        if isinstance(row, Placement):
            row.application.posting = row.posting  # the same row: no read per row for the predicates
    selectors.share_data_terms(rows)
    for row in rows:
        row.fields = selectors.visible_fields(user, row)
        row.student_label = _student_label(row, row.fields)
    return rows


# Postings.


def _posting(user, pk) -> Posting:
    found = (
        access.visible(user, Posting)
        .select_related("agency", "agreement")
        .prefetch_related("institutions", "agreement__parties__organization")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@require_GET
def posting_list(request):
    user = request.user
    student = _is_student(user)
    form = forms.PostingFilterForm(request.GET or None, agencies=selectors.posting_agencies_for(user), student=student)
    filters, bad = _filters(request, form)
    agency = filters.get("agency")
    qs = selectors.posting_list_for(
        user,
        agency=agency.pk if agency else None,
        starts_after=filters.get("starts_after"),
        remote=forms.yes_no(filters.get("remote", "")),
        paid=forms.yes_no(filters.get("paid", "")),
        status=filters.get("status") or None,
    )
    if student and not filters.get("all"):
        qs = selectors.eligible_postings(user, qs)
    return render(
        request,
        "internships/posting_list.html#results" if request.htmx else "internships/posting_list.html",
        {
            "page": _page(request, qs),
            "form": form,
            "query": _query_without_page(request),
            "student": student,
            "can_post": selectors.postable_agreements(user).exists(),
        },
        status=400 if bad else 200,
    )


@require_http_methods(["GET", "POST"])
def posting_create(request):
    user = request.user
    agreements = selectors.postable_agreements(user)
    choices = list(agreements)
    if not choices:
        raise PermissionDenied
    institutions = selectors.agreement_institutions(agreements)
    # With a single agreement every school is ticked; with several, none (the agreement's own).
    initial = {"institutions": list(institutions)} if len(choices) == 1 else {}
    if len(choices) == 1:
        initial["agreement"] = choices[0]
    form = forms.PostingForm(request.POST or None, agreements=agreements, institutions=institutions, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        agreement = data.pop("agreement")
        chosen = list(data.pop("institutions"))
        agency = selectors.posting_agency_for(user, agreement)
        try:
            if agency is None:
                raise DomainError(_("You do not coordinate an agency of this agreement."), field="agreement")
            posting = services.create_posting(
                agreement=agreement, agency=agency, by=user, institutions=chosen or None, **data
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Posting saved as a draft. Publish it when it is ready."))
            return redirect("internships:posting_detail", pk=posting.pk)
    return render(
        request,
        "internships/posting_form.html",
        {"form": form, "posting": None},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def posting_edit(request, pk):
    user = request.user
    posting = _posting(user, pk)
    if not rules.can_manage_posting(user, posting):
        raise PermissionDenied
    initial = {name: getattr(posting, name) for name in services.POSTING_FIELDS}
    initial["institutions"] = list(posting.institutions.all())
    form = forms.PostingForm(
        request.POST or None,
        institutions=selectors.agreement_institutions([posting.agreement_id]),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["institutions"]) if "institutions" in form.changed_data else None
        try:
            services.update_posting(posting=posting, by=user, institutions=chosen, **form.changes())
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Posting updated."))
            return redirect("internships:posting_detail", pk=posting.pk)
    return render(
        request,
        "internships/posting_form.html",
        {"form": form, "posting": posting},
        status=400 if request.method == "POST" else 200,
    )


def _posting_action(request, pk, call, success):
    posting = _posting(request.user, pk)
    if not rules.can_manage_posting(request.user, posting):
        raise PermissionDenied
    try:
        call(posting)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("internships:posting_detail", pk=posting.pk)


@require_POST
def posting_publish(request, pk):
    return _posting_action(
        request,
        pk,
        lambda posting: services.publish_posting(posting=posting, by=request.user),
        _("The posting is open for applications."),
    )


@require_POST
def posting_close(request, pk):
    reason = request.POST.get("reason", "").strip()[:200]
    return _posting_action(
        request,
        pk,
        lambda posting: services.close_posting(posting=posting, by=request.user, reason=reason),
        _("The posting is closed to new applications."),
    )


@require_GET
def posting_detail(request, pk):
    user = request.user
    posting = _posting(user, pk)
    can_manage = rules.can_manage_posting(user, posting)
    context = {
        "posting": posting,
        "can_manage": can_manage,
        "student": _is_student(user),
        "grade_labels": [GradeLevel(v).label for v in posting.grade_levels if v in GradeLevel.values],
    }
    if context["student"]:
        mine = selectors.own_application(user, posting)
        context["application"] = mine
        if mine is None:
            context["problems"] = rules.eligibility_problems(user, posting)
    coordinated = access.organization_ids(user, role=Role.COORDINATOR)
    if can_manage or coordinated & {o.pk for o in posting.institutions.all()}:
        counts = selectors.pipeline_counts(user, posting)
        context["pipeline"] = [(status, ApplicationStatus(status).label, n) for status, n in counts.items()]
    return render(request, "internships/posting_detail.html", context)


# Applying.


@require_http_methods(["GET", "POST"])
def application_create(request, pk):
    user = request.user
    posting = _posting(user, pk)
    if rules.student_membership(user) is None:
        raise PermissionDenied
    existing = selectors.own_application(user, posting)
    if existing is not None and request.method == "GET":
        messages.info(request, _("You have already applied to this posting; here is your application."))
        return redirect("internships:application_detail", pk=existing.pk)
    problems = rules.eligibility_problems(user, posting)
    form = forms.ApplicationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            submit = request.POST.get("action") != "draft"
            try:
                application = services.apply(
                    posting=posting,
                    student=user,
                    statement=data["statement"],
                    availability=data["availability"],
                    resume=data["resume"] or None,
                    submit=submit,
                )
            except DomainError as error:
                _apply_error(form, error)
                status = error.status_code
            else:
                if submit:
                    messages.success(request, _("Application sent. The agency and your school will review it."))
                else:
                    messages.success(request, _("Draft saved. Submit it before %(day)s.") % {"day": posting.apply_by})
                return redirect("internships:application_detail", pk=application.pk)
    return render(
        request,
        "internships/application_form.html",
        {"posting": posting, "form": form, "problems": problems, "existing": existing, "application": None},
        status=status,
    )


# Applications and the review pipeline.


@require_GET
def application_list(request):
    user = request.user
    form = forms.ApplicationFilterForm(request.GET or None, postings=selectors.application_posting_choices(user))
    filters, bad = _filters(request, form)
    qs = selectors.application_list_for(user, posting=filters.get("posting"), status=filters.get("status") or None)
    page = _page(request, qs)
    rows = _shown(user, page)
    selectors.record_student_access(user, rows, purpose=AccessPurpose.REVIEW)
    return render(
        request,
        "internships/application_list.html",
        {
            "page": page,
            "rows": rows,
            "form": form,
            "query": _query_without_page(request),
            "reviewer": bool(access.roles(user) - {Role.STUDENT}) or access.is_admin(user),
        },
        status=400 if bad else 200,
    )


def _application(user, pk):
    return selectors.application_detail_for(user, pk)


def _application_context(request, application, **bound):
    user = request.user
    fields = selectors.visible_fields(user, application)
    selectors.record_student_access(user, [application], purpose=selectors.access_purpose(user, application))
    is_student = rules.is_student_of(user, application)
    can_review = rules.can_review(user, application)
    posting = application.posting
    status = application.status
    transitions = list(application.transitions.all())
    for step in transitions:
        if step.by_id is None:
            step.who = _("Automatic")
        elif step.by_id == application.student_id:
            step.who = _student_label(application, fields) if not is_student else _("You")
        else:
            step.who = step.by.full_name
    offers = list(application.offers.all())
    live_offer = next((o for o in offers if o.status == OfferStatus.LIVE), None)
    context = {
        "application": application,
        "posting": posting,
        "fields": fields,
        "student_label": _student_label(application, fields),
        "transitions": transitions,
        "interviews": list(application.interviews.all()),
        "offers": offers,
        "live_offer": live_offer,
        "zone": application.institution.zone,
        "is_student": is_student,
        "can_review": can_review,
        "placement": getattr(application, "placement", None) if status == ApplicationStatus.ACCEPTED else None,
    }
    if is_student:
        context["can_submit"] = status == ApplicationStatus.DRAFT
        context["can_withdraw"] = rules.can_withdraw(user, application)
        if status == ApplicationStatus.OFFERED and live_offer is not None:
            context["minor"] = rules.is_minor_on(user, posting.start_date)
            context["accept_form"] = forms.AcceptForm()
            context["decline_form"] = forms.NoteForm()
    if can_review:
        context["can_start_review"] = status == ApplicationStatus.SUBMITTED
        context["can_interview"] = status in (ApplicationStatus.UNDER_REVIEW, ApplicationStatus.INTERVIEW)
        if context["can_interview"]:
            context["offer_form"] = forms.OfferForm()
        if status in ApplicationStatus.in_review:
            context["reject_form"] = forms.RejectForm()
    context.update(bound)
    return context


def _render_application(request, application, status=200, **bound):
    return render(
        request,
        "internships/application_detail.html",
        _application_context(request, application, **bound),
        status=status,
    )


@require_GET
def application_detail(request, pk):
    return _render_application(request, _application(request.user, pk))


@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    user = request.user
    application = _application(user, pk)
    if not rules.is_student_of(user, application):
        raise PermissionDenied
    if application.status != ApplicationStatus.DRAFT:
        messages.error(request, _("A submitted application cannot be edited."))
        return redirect("internships:application_detail", pk=application.pk)
    form = forms.ApplicationForm(
        request.POST or None,
        request.FILES or None,
        initial={"statement": application.statement, "availability": application.availability},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_draft(
                application=application,
                by=user,
                resume=data["resume"] or None,
                statement=data["statement"],
                availability=data["availability"],
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("internships:application_detail", pk=application.pk)
    return render(
        request,
        "internships/application_form.html",
        {"posting": application.posting, "form": form, "problems": [], "application": application},
        status=400 if request.method == "POST" else 200,
    )


def _application_action(request, pk, allowed, call, success):
    """Fetch (404 outside the scope), check the predicate (403), one service call, a message."""
    application = _application(request.user, pk)
    if not allowed(request.user, application):
        raise PermissionDenied
    try:
        call(application)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("internships:application_detail", pk=application.pk)


def _note(request) -> str:
    return request.POST.get("note", "").strip()[:2000]


@require_POST
def application_submit(request, pk):
    return _application_action(
        request,
        pk,
        rules.is_student_of,
        lambda a: services.submit_application(application=a, by=request.user),
        _("Application sent. The agency and your school will review it."),
    )


@require_POST
def application_withdraw(request, pk):
    return _application_action(
        request,
        pk,
        rules.is_student_of,
        lambda a: services.withdraw(application=a, by=request.user, note=_note(request)),
        _("Application withdrawn."),
    )


@require_POST
def application_review(request, pk):
    return _application_action(
        request,
        pk,
        rules.can_review,
        lambda a: services.start_review(application=a, by=request.user, note=_note(request)),
        _("Review started; the student is told."),
    )


@require_POST
def application_decline(request, pk):
    return _application_action(
        request,
        pk,
        rules.is_student_of,
        lambda a: services.decline_offer(application=a, by=request.user, note=_note(request)),
        _("Offer declined."),
    )


def _form_action(request, pk, allowed, form_class, form_name, call, success):
    """A POST with a form: field errors are shown on the application's page, next to the fields."""
    application = _application(request.user, pk)
    if not allowed(request.user, application):
        raise PermissionDenied
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(application, form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, success)
            return redirect("internships:application_detail", pk=application.pk)
    # Re-read: a refused change leaves the row as it was.
    application = _application(request.user, pk)
    return _render_application(request, application, status=400, **{form_name: form})


@require_POST
def application_offer(request, pk):
    return _form_action(
        request,
        pk,
        rules.can_review,
        forms.OfferForm,
        "offer_form",
        lambda a, data: services.make_offer(application=a, by=request.user, message=data["message"]),
        _("Offer made; the student is told."),
    )


@require_POST
def application_reject(request, pk):
    return _form_action(
        request,
        pk,
        rules.can_review,
        forms.RejectForm,
        "reject_form",
        lambda a, data: services.reject(application=a, by=request.user, reason=data["reason"], note=data["note"]),
        _("The student is told they were not selected."),
    )


@require_POST
def application_accept(request, pk):
    return _form_action(
        request,
        pk,
        rules.is_student_of,
        forms.AcceptForm,
        "accept_form",
        lambda a, data: services.accept_offer(
            application=a, by=request.user, guardian_name=data["guardian_name"], guardian_email=data["guardian_email"]
        ),
        _("Offer accepted. Congratulations!"),
    )


@require_http_methods(["GET", "POST"])
def application_interview(request, pk):
    user = request.user
    application = _application(user, pk)
    if not rules.can_review(user, application):
        raise PermissionDenied
    zone = application.institution.zone
    current = next((i for i in application.interviews.all() if i.status == InterviewStatus.SCHEDULED), None)
    initial = {}
    if current is not None:
        initial = {
            "starts_at": timezone.localtime(current.starts_at, zone).replace(tzinfo=None),
            "duration_minutes": current.duration_minutes,
            "location": current.location,
            "notes": current.notes,
        }
    form = forms.InterviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.schedule_interview(
                application=application,
                by=user,
                starts_at=_in_zone(data["starts_at"], zone),
                location=data["location"],
                duration_minutes=data["duration_minutes"],
                notes=data["notes"],
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Interview scheduled; the student gets an invitation."))
            return redirect("internships:application_detail", pk=application.pk)
    fields = selectors.visible_fields(user, application)
    selectors.record_student_access(user, [application], purpose=AccessPurpose.REVIEW)
    return render(
        request,
        "internships/interview_form.html",
        {
            "application": application,
            "form": form,
            "current": current,
            "zone": zone,
            "student_label": _student_label(application, fields),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@never_cache
def application_resume(request, pk):
    user = request.user
    application = _application(user, pk)
    if not application.resume or "resume" not in selectors.visible_fields(user, application):
        raise Http404
    try:
        handle = application.resume.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    selectors.record_student_access(user, [application], purpose=AccessPurpose.RESUME)
    response = FileResponse(
        handle, as_attachment=True, filename=application.resume_name or "resume.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# Placements.


def _placement(user, pk):
    placement = selectors.placement_detail_for(user, pk)
    placement.application.posting = placement.posting  # the same row: no second read for the predicates
    return placement


def _can_assign(user, placement) -> bool:
    return access.is_admin(user) or access.has_role(user, placement.posting.agency, Role.COORDINATOR)


@require_GET
def placement_list(request):
    user = request.user
    status = request.GET.get("status") or None
    bad = status is not None and status not in PlacementStatus.values
    if bad:
        messages.error(request, _("“%(value)s” is not a placement status; showing all.") % {"value": status})
        status = None
    missed = request.GET.get("missed_check_ins") or None
    if missed not in (None, "1"):
        messages.error(
            request, _("“%(value)s” is not a missed check-ins filter: use 1; showing all.") % {"value": missed}
        )
        bad, missed = True, None
    page = _page(request, selectors.placement_list_for(user, status=status, missed_check_ins=bool(missed)))
    rows = _shown(user, page)
    mentoring = [p for p in rows if p.mentor_id == user.pk]
    coordinating = [p for p in rows if p.mentor_id != user.pk]
    selectors.record_student_access(user, mentoring, purpose=AccessPurpose.MENTORING)
    selectors.record_student_access(user, coordinating, purpose=AccessPurpose.COORDINATION)
    return render(
        request,
        "internships/placement_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status or "",
            "statuses": PlacementStatus.choices,
            "missed_check_ins": bool(missed),
            "query": _query_without_page(request),
        },
        status=400 if bad else 200,
    )


def _placement_context(request, placement, **bound):
    user = request.user
    fields = selectors.visible_fields(user, placement)
    selectors.record_student_access(user, [placement], purpose=selectors.access_purpose(user, placement))
    status = placement.status
    running = status in PlacementStatus.running
    is_student = rules.is_student_of(user, placement)
    is_mentor = rules.can_mentor(user, placement)
    can_coordinate = rules.can_coordinate_placement(user, placement)
    can_name = rules.can_name_guardian(user, placement)
    consents = sorted(placement.consents.all(), key=lambda c: c.created_at, reverse=True)
    current = next((c for c in consents if c.status in (*ConsentStatus.open, ConsentStatus.GRANTED)), None)
    evaluated = {e.author_role for e in placement.evaluations.all()}
    side = EvaluationAuthor.STUDENT if is_student else EvaluationAuthor.MENTOR if is_mentor else None
    context = {
        "placement": placement,
        "posting": placement.posting,
        "fields": fields,
        "student_label": _student_label(placement, fields),
        "is_student": is_student,
        "is_mentor": is_mentor,
        "can_coordinate": can_coordinate,
        "consents": consents,
        "current_consent": current,
        "hours": _page(request, selectors.hours_for(user, placement)),
        "check_ins": list(placement.check_ins.all()),
        "evaluations": list(placement.evaluations.all()),
        "can_evaluate": side is not None and side not in evaluated,
        "can_request_again": can_name and placement.needs_consent and current is None and running,
        "can_activate": can_coordinate and status == PlacementStatus.PENDING,
        "can_resume": can_coordinate and status == PlacementStatus.SUSPENDED,
        "return_errors": {},
    }
    if is_student and status == PlacementStatus.ACTIVE:
        context["hours_form"] = forms.HoursForm(initial={"day": timezone.localdate()})
    if _can_assign(user, placement) and running:
        context["mentor_form"] = forms.MentorForm(
            officers=selectors.officers_of(placement.posting.agency), initial={"mentor": placement.mentor_id}
        )
    if can_name and current is not None and current.status in ConsentStatus.open and running:
        context["guardian_form"] = forms.GuardianForm(
            initial={"guardian_name": current.guardian_name, "guardian_email": current.guardian_email}
        )
    if can_coordinate and placement.needs_consent and running and (current is None or current.status != "granted"):
        context["paper_form"] = forms.PaperConsentForm()
    if can_coordinate and current is not None and current.status == ConsentStatus.GRANTED:
        context["revoke_form"] = forms.RevokeForm()
    if can_coordinate and status == PlacementStatus.ACTIVE:
        context["suspend_form"] = forms.ReasonForm()
    if (can_coordinate or is_mentor) and running:
        context["end_form"] = forms.EndForm()
    context.update(bound)
    return context


def _render_placement(request, placement, status=200, **bound):
    return render(
        request, "internships/placement_detail.html", _placement_context(request, placement, **bound), status=status
    )


@require_GET
def placement_detail(request, pk):
    return _render_placement(request, _placement(request.user, pk))


def _placement_form_action(request, placement, allowed, form, form_name, call, success):
    """A POST with a form on a placement: field errors are shown on its page, next to the fields."""
    if not allowed:
        raise PermissionDenied
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            for warning in result or ():
                messages.warning(request, warning)
            messages.success(request, success)
            return redirect("internships:placement_detail", pk=placement.pk)
    placement = _placement(request.user, placement.pk)
    return _render_placement(request, placement, status=400, **{form_name: form})


def _placement_action(request, placement, allowed, call, success):
    if not allowed:
        raise PermissionDenied
    try:
        call()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("internships:placement_detail", pk=placement.pk)


@require_POST
def placement_mentor(request, pk):
    user = request.user
    placement = _placement(user, pk)
    form = forms.MentorForm(request.POST, officers=selectors.officers_of(placement.posting.agency))

    def assign(data):
        return services.assign_mentor(placement=placement, mentor=data["mentor"], by=user)[1]

    return _placement_form_action(
        request, placement, _can_assign(user, placement), form, "mentor_form", assign, _("Mentor assigned.")
    )


@require_POST
def placement_activate(request, pk):
    placement = _placement(request.user, pk)
    return _placement_action(
        request,
        placement,
        rules.can_coordinate_placement(request.user, placement),
        lambda: services.activate_placement(placement=placement, by=request.user),
        _("The placement is active."),
    )


@require_POST
def placement_suspend(request, pk):
    user = request.user
    placement = _placement(user, pk)

    def suspend(data):
        services.suspend_placement(placement=placement, by=user, reason=data["reason"])
        return ()

    return _placement_form_action(
        request,
        placement,
        rules.can_coordinate_placement(user, placement),
        forms.ReasonForm(request.POST),
        "suspend_form",
        suspend,
        _("The placement is suspended."),
    )


@require_POST
def placement_resume(request, pk):
    placement = _placement(request.user, pk)
    return _placement_action(
        request,
        placement,
        rules.can_coordinate_placement(request.user, placement),
        lambda: services.resume_placement(placement=placement, by=request.user),
        _("The placement is active again."),
    )


@require_POST
def placement_end(request, pk):
    user = request.user
    placement = _placement(user, pk)
    allowed = rules.can_coordinate_placement(user, placement) or rules.can_mentor(user, placement)

    def end(data):
        completed = data["outcome"] == PlacementStatus.COMPLETED
        services.end_placement(placement=placement, by=user, completed=completed, reason=data["reason"])
        return ()

    return _placement_form_action(
        request, placement, allowed, forms.EndForm(request.POST), "end_form", end, _("The placement has ended.")
    )


# Guardian consent.


def _after_guardian_action(request, placement):
    """Back to the placement page for those who see it; school staff see only its consent."""
    if access.visible(request.user, Placement).filter(pk=placement.pk).exists():
        return redirect("internships:placement_detail", pk=placement.pk)
    return redirect("internships:posting_list")


@require_POST
def consent_name_guardian(request, pk):
    user = request.user
    placement = selectors.placement_for_guardian(user, pk)
    if not rules.can_name_guardian(user, placement):
        raise PermissionDenied
    form = forms.GuardianForm(request.POST)
    consent = GuardianConsent.objects.filter(placement=placement, status__in=ConsentStatus.open).first()
    if form.is_valid():
        try:
            if consent is None:
                raise DomainError(_("No consent request is waiting for a guardian; ask again first."))
            data = form.cleaned_data
            services.name_guardian(consent=consent, by=user, name=data["guardian_name"], email=data["guardian_email"])
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("The guardian has been emailed a link to grant or refuse consent."))
            return _after_guardian_action(request, placement)
    if not access.visible(user, Placement).filter(pk=placement.pk).exists():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("internships:posting_list")
    return _render_placement(request, _placement(user, pk), status=400, guardian_form=form)


@require_POST
def consent_request_again(request, pk):
    user = request.user
    placement = selectors.placement_for_guardian(user, pk)
    if not rules.can_name_guardian(user, placement):
        raise PermissionDenied
    try:
        services.request_new_consent(placement=placement, by=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A new consent request is open: name the guardian to send it."))
    return _after_guardian_action(request, placement)


@require_POST
def consent_paper(request, pk):
    user = request.user
    placement = _placement(user, pk)
    form = forms.PaperConsentForm(request.POST, request.FILES)

    def record(data):
        services.record_paper_consent(
            placement=placement,
            by=user,
            granted=data["decision"] == "granted",
            guardian_name=data["guardian_name"],
            scan=data["scan"],
            note=data["note"],
        )
        return ()

    return _placement_form_action(
        request,
        placement,
        rules.can_coordinate_placement(user, placement),
        form,
        "paper_form",
        record,
        _("The paper consent form is recorded."),
    )


def _consent(user, pk) -> GuardianConsent:
    found = (
        access.visible(user, GuardianConsent)
        .select_related("placement__posting__agency", "placement__application", "placement__student")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@require_POST
def consent_revoke(request, pk):
    user = request.user
    consent = _consent(user, pk)
    placement = consent.placement
    if not rules.can_coordinate_placement(user, placement):
        raise PermissionDenied
    form = forms.RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_consent(consent=consent, by=user, note=form.cleaned_data["note"])
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Consent revoked; the placement is suspended."))
            return redirect("internships:placement_detail", pk=placement.pk)
    return _render_placement(request, _placement(user, placement.pk), status=400, revoke_form=form)


@require_GET
@never_cache
def consent_scan(request, pk):
    user = request.user
    consent = _consent(user, pk)
    if not rules.can_coordinate_placement(user, consent.placement):
        raise PermissionDenied
    if not consent.scan:
        raise Http404
    try:
        handle = consent.scan.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle, as_attachment=True, filename=f"consent-{consent.pk}.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# Hours.


@require_POST
def hours_log(request, pk):
    user = request.user
    placement = _placement(user, pk)

    def log(data):
        return services.log_hours(
            placement=placement, by=user, day=data["day"], hours=data["hours"], activity=data["activity"]
        )[1]

    return _placement_form_action(
        request,
        placement,
        rules.is_student_of(user, placement),
        forms.HoursForm(request.POST),
        "hours_form",
        log,
        _("Hours logged; your mentor will review them."),
    )


def _hours_entry(user, pk) -> HoursEntry:
    found = (
        access.visible(user, HoursEntry)
        .select_related("placement__posting__agency", "placement__student", "placement__mentor")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET", "POST"])
def hours_correct(request, pk):
    user = request.user
    entry = _hours_entry(user, pk)
    if not rules.is_student_of(user, entry.placement):
        raise PermissionDenied
    if entry.status == HoursStatus.APPROVED:
        messages.error(request, _("Approved hours are locked."))
        return redirect("internships:placement_detail", pk=entry.placement_id)
    form = forms.HoursForm(
        request.POST or None, initial={"day": entry.day, "hours": entry.hours, "activity": entry.activity}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.correct_hours(
                entry=entry, by=user, day=data["day"], hours=data["hours"], activity=data["activity"]
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Hours corrected; your mentor will review them again."))
            return redirect("internships:placement_detail", pk=entry.placement_id)
    return render(
        request,
        "internships/hours_form.html",
        {"entry": entry, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _hours_section(request, placement_pk, **bound):
    """An htmx answer to approve or return: the hours table, the totals and the messages, not the page."""
    placement = _placement(request.user, placement_pk)
    return render(request, "internships/placement_detail.html#hours", _placement_context(request, placement, **bound))


@require_POST
def hours_approve(request, pk):
    user = request.user
    entry = _hours_entry(user, pk)
    if not rules.can_mentor(user, entry.placement):
        raise PermissionDenied
    try:
        services.approve_hours(entry=entry, by=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Hours approved."))
    if request.htmx:
        return _hours_section(request, entry.placement_id)
    return redirect("internships:placement_detail", pk=entry.placement_id)


@require_POST
def hours_return(request, pk):
    user = request.user
    entry = _hours_entry(user, pk)
    if not rules.can_mentor(user, entry.placement):
        raise PermissionDenied
    form = forms.ReturnHoursForm(request.POST)
    if form.is_valid():
        try:
            services.return_hours(entry=entry, by=user, comment=form.cleaned_data["comment"])
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Hours returned to the student with your comment."))
            if request.htmx:
                return _hours_section(request, entry.placement_id)
            return redirect("internships:placement_detail", pk=entry.placement_id)
    errors = " ".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:  # htmx swaps only 2xx answers; the error is shown in the row, as an alert
        return _hours_section(request, entry.placement_id, return_errors={entry.pk: errors})
    placement = _placement(user, entry.placement_id)
    return _render_placement(request, placement, status=400, return_errors={entry.pk: errors})


# Check-ins and completion.


@require_http_methods(["GET", "POST"])
def check_in_record(request, pk):
    user = request.user
    check_in = (
        access.visible(user, CheckIn)
        .select_related(
            "placement__posting__agency",
            "placement__posting__agreement",
            "placement__student",
            "placement__application",
        )
        .filter(pk=pk)
        .first()
    )
    if check_in is None:
        raise Http404
    placement = check_in.placement
    if not rules.can_mentor(user, placement):
        raise PermissionDenied
    if check_in.status not in (CheckInStatus.SCHEDULED, CheckInStatus.MISSED):
        messages.error(request, _("This check-in is already recorded."))
        return redirect("internships:placement_detail", pk=placement.pk)
    form = forms.CheckInForm(request.POST or None, initial={"held": "yes", "held_on": check_in.due_on})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_check_in(
                check_in=check_in,
                by=user,
                held=data["held"],
                notes=data["notes"],
                held_on=data["held_on"],
                observable_setting=data["observable_setting"],
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Check-in recorded."))
            return redirect("internships:placement_detail", pk=placement.pk)
    placement.application.posting = placement.posting
    fields = selectors.visible_fields(user, placement)
    selectors.record_student_access(user, [placement], purpose=AccessPurpose.MENTORING)
    return render(
        request,
        "internships/check_in_form.html",
        {
            "check_in": check_in,
            "placement": placement,
            "form": form,
            "student_label": _student_label(placement, fields),
            "minor": rules.is_minor_on(placement.student, timezone.localdate()),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def evaluation_submit(request, pk):
    user = request.user
    placement = _placement(user, pk)
    if not (rules.is_student_of(user, placement) or rules.can_mentor(user, placement)):
        raise PermissionDenied
    form = forms.EvaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_evaluation(placement=placement, by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Thank you: your evaluation is recorded."))
            return redirect("internships:placement_detail", pk=placement.pk)
    return render(
        request,
        "internships/evaluation_form.html",
        {"placement": placement, "form": form, "is_student": rules.is_student_of(user, placement)},
        status=400 if request.method == "POST" else 200,
    )


# Mentors' clearances.


def _expiring_filter(request) -> tuple[int | None, bool]:
    """The clearance list's ``?expiring=<days>``: (days, whether the value was refused)."""
    value = request.GET.get("expiring") or None
    if value is None:
        return None, False
    if value.isascii() and value.isdigit() and int(value) <= MAX_FILTER_DAYS:
        return int(value), False
    messages.error(
        request,
        _("“%(value)s” is not a number of days from 0 to %(max)s; showing all clearances.")
        % {"value": value, "max": MAX_FILTER_DAYS},
    )
    return None, True


def _clearance_context(request, agencies, *, expiring: int | None = None, **bound):
    user = request.user
    today = timezone.localdate()
    renew_by = today + services.CLEARANCE_RENEWAL_WINDOW
    page = _page(request, selectors.clearance_list_for(user, expiring_within=expiring, today=today))
    for clearance in page:
        if clearance.expires_on < today:
            clearance.state, clearance.state_label = "expired", _("Expired")
        elif clearance.expires_on <= renew_by:
            clearance.state, clearance.state_label = "renew", _("Renew soon")
        else:
            clearance.state, clearance.state_label = "valid", _("Valid")
    keeper = agencies.exists()
    context = {"page": page, "query": _query_without_page(request), "keeper": keeper, "expiring": expiring}
    if keeper:
        kinds = selectors.clearance_kinds_for(user).filter(agency__in=agencies).select_related("agency")
        context.update(
            kinds=kinds,
            kind_form=forms.ClearanceKindForm(agencies=agencies),
            clearance_form=forms.ClearanceForm(officers=selectors.officers_of_agencies(agencies), kinds=kinds),
        )
    context.update(bound)
    return context


@require_GET
def clearance_list(request):
    agencies = selectors.coordinated_agencies(request.user)
    expiring, bad = _expiring_filter(request)
    return render(
        request,
        "internships/clearance_list.html",
        _clearance_context(request, agencies, expiring=expiring),
        status=400 if bad else 200,
    )


def _keeper_agencies(user):
    agencies = selectors.coordinated_agencies(user)
    if not agencies.exists():
        raise PermissionDenied
    return agencies


@require_POST
def clearance_kind_create(request):
    user = request.user
    agencies = _keeper_agencies(user)
    form = forms.ClearanceKindForm(request.POST, agencies=agencies)
    if form.is_valid():
        try:
            services.add_clearance_kind(by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Clearance added: every mentor of the agency now needs it."))
            return redirect("internships:clearance_list")
    return render(
        request, "internships/clearance_list.html", _clearance_context(request, agencies, kind_form=form), status=400
    )


@require_POST
def clearance_create(request):
    user = request.user
    agencies = _keeper_agencies(user)
    kinds = selectors.clearance_kinds_for(user).filter(agency__in=agencies).select_related("agency")
    form = forms.ClearanceForm(request.POST, officers=selectors.officers_of_agencies(agencies), kinds=kinds)
    if form.is_valid():
        try:
            services.record_clearance(by=user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Clearance recorded."))
            return redirect("internships:clearance_list")
    return render(
        request,
        "internships/clearance_list.html",
        _clearance_context(request, agencies, clearance_form=form),
        status=400,
    )


# The record of agency staff's reads of student records.


@require_GET
def record_access_list(request):
    page = _page(request, selectors.record_accesses_list_for(request.user))
    labels = dict(DataCategory.choices)
    for row in page:
        row.category_labels = [labels.get(c, c) for c in row.categories]
    return render(request, "internships/record_access_list.html", {"page": page, "query": _query_without_page(request)})


# The guardian's single-use link (no account).


def _no_referrer(response):
    """For a response whose URL holds the token: the next page must not learn it from a Referer."""
    response["Referrer-Policy"] = "no-referrer"
    return response


def _same_origin_referrer(response):
    """For the pages after the token left the URL: no Referer leaves the site, and the browser's
    own form posts keep their Origin (under no-referrer Chromium sends "Origin: null", which
    Django's CSRF check refuses, and the guardian could not answer)."""
    response["Referrer-Policy"] = "same-origin"
    return response


def _consent_gone(request, message=None, *, at_token_url=False):
    page = render(request, "internships/consent_gone.html", {"message": message}, status=410)
    return _no_referrer(page) if at_token_url else _same_origin_referrer(page)


@login_not_required
@never_cache
@require_GET
def consent_open(request, token):
    """The emailed link: keep the token in the session and take it out of the URL at once."""
    if services.consent_for_token(token) is None:
        return _consent_gone(request, at_token_url=True)
    request.session[CONSENT_SESSION_KEY] = token
    return _no_referrer(redirect("internships:consent_respond"))


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def consent_respond(request):
    token = request.session.get(CONSENT_SESSION_KEY, "")
    consent = services.consent_for_token(token) if token else None
    if consent is None:
        request.session.pop(CONSENT_SESSION_KEY, None)
        return _consent_gone(request)
    form = forms.ConsentDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        decision = request.POST.get("decision")
        if decision not in ("grant", "refuse"):
            form.add_error(None, _("Choose to grant or to refuse consent."))
        if form.is_valid():
            try:
                decided = services.decide_consent(
                    token=token, grant=decision == "grant", signed_name=form.cleaned_data["signed_name"]
                )
            except DomainError as error:
                if error.field is None:
                    request.session.pop(CONSENT_SESSION_KEY, None)
                    return _consent_gone(request, error.message)
                _apply_error(form, error)
            else:
                request.session.pop(CONSENT_SESSION_KEY, None)
                return _same_origin_referrer(
                    render(request, "internships/consent_done.html", {"granted": decided.status == "granted"})
                )
    placement = consent.placement
    posting = placement.posting
    return _same_origin_referrer(
        render(
            request,
            "internships/consent_respond.html",
            {
                "consent": consent,
                "student_name": placement.student.get_short_name(),
                "placement": placement,
                "posting": posting,
                "form": form,
            },
            status=status,
        )
    )
