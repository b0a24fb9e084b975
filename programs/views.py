"""Pages of programs. Thin: a form checks shape, a service decides, the page shows the outcome."""

import calendar as calendar_module
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.errors import DomainError
from accounts.models import Organization
from programs import forms, ics, rules, selectors, services
from programs.enums import BookingStatus, RequestStatus, SessionStatus
from programs.models import BlackoutPeriod, Booking, Program, Session, SessionRequest, Term

PAGE_SIZE = 25


def _apply_error(form, error: DomainError):
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _get(user, model, pk, *related, prefetch=()):
    """One object in the user's scope, with what its page shows; 404 outside the scope."""
    found = access.visible(user, model).select_related(*related).prefetch_related(*prefetch).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _in_zone(moment: datetime, zone) -> datetime:
    """A wall-clock time typed into a form, read in the session's location time zone."""
    return timezone.make_aware(timezone.make_naive(moment), zone)


# The catalog.


@require_GET
def catalog(request):
    user = request.user
    form = forms.CatalogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.catalog_for(
        user,
        topic=filters.get("topic") or None,
        grade_band=filters.get("grade_band") or None,
        format=filters.get("format") or None,
    )
    return render(
        request,
        "programs/catalog.html#results" if request.htmx else "programs/catalog.html",
        {
            "page": _page(request, qs),
            "form": form,
            "query": _query_without_page(request),
            "can_publish": bool(selectors.publishable_agreements(user).exists()),
        },
        status=200 if form.is_valid() or not request.GET else 400,
    )


@require_http_methods(["GET", "POST"])
def program_create(request):
    agreements = selectors.publishable_agreements(request.user)
    if not agreements.exists():
        raise PermissionDenied
    form = forms.ProgramForm(request.POST or None, agreements=agreements)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        agreement = fields.pop("agreement")
        try:
            program = services.create_program(agreement=agreement, by=request.user, **fields)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Workshop published."))
            return redirect("programs:program_detail", pk=program.pk)
    return render(
        request, "programs/program_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


def _program_context(request, program, **bound):
    user = request.user
    can_manage = rules.can_manage_program(user, program)
    sessions = selectors.session_list_for(user, program=program)
    context = {
        "program": program,
        "sessions": _page(request, sessions),
        "can_manage": can_manage,
    }
    if can_manage:
        context["session_form"] = forms.SessionForm(program=program)
    institution_ids = rules.requestable_institution_ids(user, program)
    if institution_ids:
        context["request_form"] = forms.SessionRequestForm(institution_ids=institution_ids)
    context.update(bound)
    return context


def _program(user, pk) -> Program:
    return _get(user, Program, pk, "agreement__lead_agency", "required_qualification", prefetch=["agreement__parties"])


@require_GET
def program_detail(request, pk):
    program = _program(request.user, pk)
    return render(request, "programs/program_detail.html", _program_context(request, program))


@require_http_methods(["GET", "POST"])
def session_create(request, pk):
    program = _program(request.user, pk)
    if not rules.can_manage_program(request.user, program):
        raise PermissionDenied
    form = forms.SessionForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        zone = data["school"].zone if data.get("school") else program.agreement.lead_agency.zone
        try:
            session = services.schedule_session(
                program=program,
                by=request.user,
                starts_at=_in_zone(data["starts_at"], zone),
                ends_at=_in_zone(data["ends_at"], zone),
                location_kind=data["location_kind"],
                school=data.get("school"),
                venue=data.get("venue", ""),
                join_url=data.get("join_url", ""),
                capacity_seats=data["capacity_seats"],
                booking_cutoff_hours=data["booking_cutoff_hours"],
                waitlist_enabled=data["waitlist_enabled"],
                facilitators=list(data["facilitators"]),
                override_reason=data.get("override_reason", ""),
            )
        except services.SchedulingError as error:
            for problem in error.problems:
                form.add_error(problem.field if problem.field in form.fields else None, problem.message)
            if not error.problems:
                _apply_error(form, error)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Session scheduled."))
            return redirect("programs:session_detail", pk=session.pk)
    return render(
        request,
        "programs/session_form.html",
        {"program": program, "form": form},
        status=400 if request.method == "POST" else 200,
    )


# Sessions.


@require_GET
def session_list(request):
    form = forms.SessionFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.session_list_for(
        request.user,
        topic=filters.get("topic") or None,
        format=filters.get("format") or None,
        has_seats=bool(filters.get("has_seats")),
        starts_on=filters.get("starts_on"),
    )
    return render(
        request,
        "programs/session_list.html#results" if request.htmx else "programs/session_list.html",
        {"page": _page(request, qs), "form": form, "query": _query_without_page(request)},
        status=200 if form.is_valid() or not request.GET else 400,
    )


def _session(user, pk) -> Session:
    return _get(
        user,
        Session,
        pk,
        "program__agreement__lead_agency",
        "program__required_qualification",
        "school",
        prefetch=["facilitators", "program__agreement__parties"],
    )


def _session_context(request, session, **bound):
    user = request.user
    can_manage = rules.can_manage_program(user, session.program)
    bookings = list(selectors.bookings_of_session(user, session))
    mine = [b for b in bookings if b.booked_by_id == user.pk and b.status != BookingStatus.CANCELLED]
    for booking in mine:
        booking.position = selectors.waitlist_position(booking)
    institution_ids = rules.bookable_institution_ids(user, session)
    scheduled = session.status == SessionStatus.SCHEDULED
    context = {
        "session": session,
        "zone": ics.location_zone(session),
        "location": ics.location_text(session),
        "show_join_link": selectors.can_see_join_link(user, session),
        "can_manage": can_manage,
        "can_record": rules.can_record_attendance(user, session) and session.starts_at <= timezone.now(),
        "bookings": [b for b in bookings if b.status != BookingStatus.CANCELLED],
        "my_bookings": mine,
        "is_facilitator": any(f.pk == user.pk for f in session.facilitators.all()),
    }
    if institution_ids and scheduled and session.starts_at > timezone.now():
        context["booking_form"] = forms.BookingForm(
            institution_ids=institution_ids, initial={"institution": min(institution_ids)}
        )
    if can_manage and scheduled:
        zone = context["zone"]
        context.update(
            reschedule_form=forms.RescheduleForm(
                initial={
                    "starts_at": timezone.localtime(session.starts_at, zone).replace(tzinfo=None),
                    "ends_at": timezone.localtime(session.ends_at, zone).replace(tzinfo=None),
                }
            ),
            capacity_form=forms.CapacityForm(initial={"capacity_seats": session.capacity_seats}),
            cancel_form=forms.ReasonForm(),
        )
    context.update(bound)
    return context


def _rerender(request, session, **bound):
    return render(request, "programs/session_detail.html", _session_context(request, session, **bound), status=400)


def _booking_panel(request, session, **bound):
    """An htmx answer to book or cancel: the booking panel, the session's facts and the messages."""
    return render(request, "programs/session_detail.html#booking", _session_context(request, session, **bound))


@require_GET
def session_detail(request, pk):
    session = _session(request.user, pk)
    return render(request, "programs/session_detail.html", _session_context(request, session))


@require_POST
def session_book(request, pk):
    session = _session(request.user, pk)
    institution_ids = rules.bookable_institution_ids(request.user, session)
    if not institution_ids:
        raise PermissionDenied
    form = forms.BookingForm(request.POST, institution_ids=institution_ids)
    if form.is_valid():
        try:
            booking = services.book_session(session=session, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            if booking.status == BookingStatus.CONFIRMED:
                messages.success(request, _("Booked: %(seats)s seats are confirmed.") % {"seats": booking.seats})
            else:
                messages.warning(
                    request,
                    _("The session is full: your group is on the waitlist (position %(n)s).")
                    % {"n": selectors.waitlist_position(booking)},
                )
            if request.htmx:
                return _booking_panel(request, _session(request.user, session.pk))
            return redirect("programs:session_detail", pk=session.pk)
    if request.htmx:  # htmx swaps only 2xx answers; the errors are in the panel, next to their fields
        return _booking_panel(request, session, booking_form=form)
    return _rerender(request, session, booking_form=form)


def _manage_or_403(user, session):
    if not rules.can_manage_program(user, session.program):
        raise PermissionDenied


@require_POST
def session_reschedule(request, pk):
    session = _session(request.user, pk)
    _manage_or_403(request.user, session)
    form = forms.RescheduleForm(request.POST)
    if form.is_valid():
        zone = ics.location_zone(session)
        try:
            services.reschedule_session(
                session=session,
                by=request.user,
                starts_at=_in_zone(form.cleaned_data["starts_at"], zone),
                ends_at=_in_zone(form.cleaned_data["ends_at"], zone),
                override_reason=form.cleaned_data["override_reason"],
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Session moved; everyone concerned gets the new time."))
            return redirect("programs:session_detail", pk=session.pk)
    return _rerender(request, session, reschedule_form=form)


@require_POST
def session_cancel(request, pk):
    session = _session(request.user, pk)
    _manage_or_403(request.user, session)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_session(session=session, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Session cancelled; bookers and facilitators are told."))
            return redirect("programs:session_detail", pk=session.pk)
    return _rerender(request, session, cancel_form=form)


@require_POST
def session_capacity(request, pk):
    session = _session(request.user, pk)
    _manage_or_403(request.user, session)
    form = forms.CapacityForm(request.POST)
    if form.is_valid():
        try:
            services.change_capacity(session=session, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Seats changed."))
            return redirect("programs:session_detail", pk=session.pk)
    return _rerender(request, session, capacity_form=form)


@require_http_methods(["GET", "POST"])
def session_attendance(request, pk):
    session = _session(request.user, pk)
    if not rules.can_record_attendance(request.user, session):
        raise PermissionDenied
    bookings = session.bookings.filter(status=BookingStatus.CONFIRMED).order_by("pk")
    form = forms.AttendanceForm(request.POST or None, bookings=bookings, initial={"notes": session.facilitator_notes})
    if request.method == "POST" and form.is_valid():
        attended = {b.pk: form.cleaned_data[f"attended_{b.pk}"] for b in form.bookings}
        try:
            services.record_attendance(
                session=session, by=request.user, attended=attended, notes=form.cleaned_data["notes"]
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Attendance recorded; the session is delivered."))
            return redirect("programs:session_detail", pk=session.pk)
    return render(
        request,
        "programs/attendance_form.html",
        {"session": session, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@never_cache
def session_ics(request, pk):
    session = _session(request.user, pk)
    cancelled = session.status == SessionStatus.CANCELLED
    content = ics.session_calendar(
        session,
        method="CANCEL" if cancelled else "PUBLISH",
        include_join_link=selectors.can_see_join_link(request.user, session),
    )
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response


# Bookings.


@require_GET
def booking_list(request):
    status = request.GET.get("status") or None
    bad_status = status is not None and status not in BookingStatus.values
    if bad_status:
        messages.error(request, _("“%(value)s” is not a booking status; showing all bookings.") % {"value": status})
        status = None
    page = _page(request, selectors.booking_rows_for(request.user, status=status))
    for booking in page:
        booking.position = selectors.waitlist_position(booking)  # from the list's annotation: no query
    return render(
        request,
        "programs/booking_list.html",
        {
            "page": page,
            "status": status or "",
            "statuses": BookingStatus.choices,
            "query": _query_without_page(request),
        },
        status=400 if bad_status else 200,
    )


@require_POST
def booking_cancel(request, pk):
    booking = _get(request.user, Booking, pk, "session__program__agreement")
    if not rules.can_cancel_booking(request.user, booking):
        raise PermissionDenied
    try:
        services.cancel_booking(booking=booking, by=request.user, reason=request.POST.get("reason", "")[:2000])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Booking cancelled; the seats are freed."))
    if request.htmx:
        return _booking_panel(request, _session(request.user, booking.session_id))
    return redirect("programs:session_detail", pk=booking.session_id)


# Session requests.


@require_POST
def request_create(request, pk):
    program = _program(request.user, pk)
    institution_ids = rules.requestable_institution_ids(request.user, program)
    if not institution_ids:
        raise PermissionDenied
    form = forms.SessionRequestForm(request.POST, institution_ids=institution_ids)
    if form.is_valid():
        try:
            made = services.request_session(program=program, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Request sent to the coordinators."))
            return redirect("programs:request_detail", pk=made.pk)
    return render(
        request, "programs/program_detail.html", _program_context(request, program, request_form=form), status=400
    )


@require_GET
def request_list(request):
    status = request.GET.get("status") or None
    bad_status = status is not None and status not in RequestStatus.values
    if bad_status:
        messages.error(request, _("“%(value)s” is not a request status; showing all requests.") % {"value": status})
        status = None
    return render(
        request,
        "programs/request_list.html",
        {
            "page": _page(request, selectors.request_list_for(request.user, status=status)),
            "status": status or "",
            "statuses": RequestStatus.choices,
            "query": _query_without_page(request),
        },
        status=400 if bad_status else 200,
    )


def _request(user, pk) -> SessionRequest:
    return _get(user, SessionRequest, pk, "program__agreement__lead_agency", "institution", "session", "requested_by")


def _request_context(request, session_request, **bound):
    can_decide = rules.can_decide_request(request.user, session_request) and (session_request.status == "open")
    context = {"session_request": session_request, "can_decide": can_decide}
    if can_decide:
        zone = session_request.institution.zone
        slots = services.propose_slots(request=session_request)
        context.update(
            slots=[timezone.localtime(slot, zone) for slot in slots],
            schedule_form=forms.ScheduleRequestForm(program=session_request.program),
            decline_form=forms.ReasonForm(),
        )
    context.update(bound)
    return context


@require_GET
def request_detail(request, pk):
    session_request = _request(request.user, pk)
    return render(request, "programs/request_detail.html", _request_context(request, session_request))


@require_POST
def request_schedule(request, pk):
    session_request = _request(request.user, pk)
    if not rules.can_decide_request(request.user, session_request):
        raise PermissionDenied
    form = forms.ScheduleRequestForm(request.POST, program=session_request.program)
    if form.is_valid():
        data = form.cleaned_data
        try:
            session = services.schedule_from_request(
                request=session_request,
                by=request.user,
                starts_at=_in_zone(data["starts_at"], session_request.institution.zone),
                facilitators=list(data["facilitators"]),
                override_reason=data["override_reason"],
            )
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Session scheduled and the school's booking confirmed."))
            return redirect("programs:session_detail", pk=session.pk)
    return render(
        request,
        "programs/request_detail.html",
        _request_context(request, session_request, schedule_form=form),
        status=400,
    )


@require_POST
def request_decline(request, pk):
    session_request = _request(request.user, pk)
    if not rules.can_decide_request(request.user, session_request):
        raise PermissionDenied
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.decline_request(request=session_request, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Request declined; the school is told why."))
            return redirect("programs:request_detail", pk=session_request.pk)
    return render(
        request,
        "programs/request_detail.html",
        _request_context(request, session_request, decline_form=form),
        status=400,
    )


# Calendars.


def _month(request) -> date:
    raw = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        today = timezone.localdate()
        return today.replace(day=1)


@require_GET
def calendar_month(request):
    first = _month(request)
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    sessions = list(selectors.sessions_in_month(request.user, first).order_by("starts_at", "pk"))
    blackouts = list(selectors.blackouts_in_month(request.user, first))
    by_day = {}
    for session in sessions:
        local = timezone.localtime(session.starts_at, ics.location_zone(session))
        by_day.setdefault(local.date(), []).append((local, session))
    days = [
        [
            {
                "day": day,
                "in_month": day.month == first.month,
                "sessions": by_day.get(day, []),
                "blackouts": [b for b in blackouts if b.starts_on <= day <= b.ends_on],
            }
            for day in week
        ]
        for week in weeks
    ]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return render(
        request,
        "programs/calendar.html",
        {
            "first": first,
            "weeks": days,
            "blackouts": blackouts,
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m"),
            "managed": [
                o for o in access.visible(request.user, Organization) if rules.can_manage_calendar(request.user, o)
            ],
        },
    )


CALENDAR_KINDS = {"terms": (Term, forms.TermForm), "blackouts": (BlackoutPeriod, forms.BlackoutForm)}


def _calendar_organization(request, pk) -> Organization:
    organization = access.get_visible_or_404(request.user, Organization, pk=pk)
    if not rules.can_manage_calendar(request.user, organization):
        raise PermissionDenied
    return organization


def _calendar_context(request, organization, **bound):
    context = {
        "organization": organization,
        "terms": organization.terms.order_by("starts_on", "pk") if not organization.is_agency else [],
        "blackouts": organization.blackouts.order_by("starts_on", "pk"),
        "blackout_form": forms.BlackoutForm(),
        "import_form": forms.CalendarImportForm(),
    }
    if not organization.is_agency:
        context["term_form"] = forms.TermForm()
    context.update(bound)
    return context


@require_GET
def calendar_manage(request, pk):
    organization = _calendar_organization(request, pk)
    return render(request, "programs/calendar_manage.html", _calendar_context(request, organization))


@require_POST
def calendar_entry_add(request, pk, kind):
    if kind not in CALENDAR_KINDS:
        raise Http404
    organization = _calendar_organization(request, pk)
    form = CALENDAR_KINDS[kind][1](request.POST)
    if form.is_valid():
        try:
            if kind == "terms":
                services.add_term(institution=organization, by=request.user, **form.cleaned_data)
            else:
                services.add_blackout(organization=organization, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _apply_error(form, error)
        else:
            messages.success(request, _("Added to the calendar."))
            return redirect("programs:calendar_manage", pk=organization.pk)
    bound = {"term_form" if kind == "terms" else "blackout_form": form}
    return render(
        request, "programs/calendar_manage.html", _calendar_context(request, organization, **bound), status=400
    )


@require_POST
def calendar_entry_remove(request, pk, kind, entry_pk):
    if kind not in CALENDAR_KINDS:
        raise Http404
    organization = _calendar_organization(request, pk)
    model = CALENDAR_KINDS[kind][0]
    owner = "institution" if model is Term else "organization"
    entry = model.objects.filter(pk=entry_pk, **{owner: organization}).first()
    if entry is None:
        raise Http404
    try:
        services.remove_calendar_entry(entry=entry, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Removed from the calendar."))
    return redirect("programs:calendar_manage", pk=organization.pk)


@require_POST
def calendar_import(request, pk):
    organization = _calendar_organization(request, pk)
    form = forms.CalendarImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > ics.MAX_IMPORT_BYTES:
            form.add_error("file", _("The file is larger than %(kb)s KB.") % {"kb": ics.MAX_IMPORT_BYTES // 1024})
        else:
            try:
                created, updated = services.import_calendar(
                    organization=organization,
                    by=request.user,
                    content=upload.read(),
                    as_terms=form.cleaned_data["as_terms"],
                )
            except DomainError as error:
                _apply_error(form, error)
            else:
                messages.success(request, _("Imported: %(c)s new, %(u)s updated.") % {"c": created, "u": updated})
                return redirect("programs:calendar_manage", pk=organization.pk)
    return render(
        request, "programs/calendar_manage.html", _calendar_context(request, organization, import_form=form), status=400
    )


# Personal calendar feed.


@require_http_methods(["GET", "POST"])
@never_cache
def feed_settings(request):
    user = request.user
    url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.revoke_feed_token(user=user)
            messages.success(request, _("Your calendar feed is switched off; the old address no longer works."))
            return redirect("programs:feed_settings")
        # The address is shown once, right after it is made; only its hash is kept.
        url = ics.feed_url(services.issue_feed_token(user=user))
    has_feed = hasattr(user, "calendar_feed")
    return render(request, "programs/feed_settings.html", {"feed_url": url, "has_feed": has_feed})


@login_not_required
@require_GET
@never_cache
def feed(request, token):
    user = services.feed_user(token)
    if user is None:
        raise Http404
    sessions = list(selectors.feed_sessions_for(user))
    content = ics.feed_calendar(sessions, join_link_for=selectors.may_join)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    response["Referrer-Policy"] = "no-referrer"
    return response
