"""The programs API: the catalog, sessions, bookings, session requests and calendars.

Every write goes through programs.services. The order of answers is fixed: an object outside
the caller's scope is 404 (an id in the body outside it, a 400 on that field) before the body
is read; a visible object the caller may not change is 403 before the rest of the body is
validated; then field errors (400) and the services' refusals (400/409)."""

from datetime import UTC

from django import forms
from django.db.models import F, Q
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts import access
from config import compiled
from config.api import KeptPages, error_responses, kept_rows
from config.filters import IdFilter, StrictFilterSet, TrueFalseFilter
from config.parsers import JSONParser
from programs import rules, selectors, services
from programs.api import serializers as s
from programs.enums import BlackoutKind, BookingStatus, Format, GradeBand, RequestStatus, SessionStatus, Topic
from programs.models import BlackoutPeriod, Booking, Program, Session, SessionRequest, Term

READ = error_responses(400, 401, 404)
WRITE = error_responses(400, 401, 403, 404, 409)
NUMERIC = r"[0-9]+"


def _allowed_or_403(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# Filters.


class _MomentFormField(filter_fields.IsoDateTimeField):
    """An ISO date-time within the years the API accepts anywhere."""

    def to_python(self, value):
        try:
            moment = super().to_python(value)
        except OverflowError:
            raise forms.ValidationError(s.MomentField.default_error_messages["range"]) from None
        if moment is not None and not s.EARLIEST_YEAR <= moment.year <= s.LATEST_YEAR:
            raise forms.ValidationError(s.MomentField.default_error_messages["range"])
        # In UTC: Python takes any offset under 24 h, PostgreSQL none beyond 15:59 ("+19:05" was a 500).
        return moment.astimezone(UTC) if moment is not None else None


class MomentFilter(filters.IsoDateTimeFilter):
    field_class = _MomentFormField


class HasSeatsFilter(TrueFalseFilter):
    """``true``: sessions with a free seat; ``false``: full ones."""

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        free = Q(confirmed_seats__lt=F("capacity_seats"))
        return qs.filter(free) if value == "true" else qs.exclude(free)


class ProgramFilter(StrictFilterSet):
    topic = filters.ChoiceFilter(choices=Topic.choices)
    grade_band = filters.ChoiceFilter(choices=GradeBand.choices)
    format = filters.ChoiceFilter(choices=Format.choices)
    agreement = IdFilter(field_name="agreement_id")

    class Meta:
        model = Program
        fields = ["topic", "grade_band", "format", "agreement"]


class SessionFilter(StrictFilterSet):
    program = IdFilter(field_name="program_id")
    topic = filters.ChoiceFilter(field_name="program__topic", choices=Topic.choices)
    format = filters.ChoiceFilter(field_name="program__format", choices=Format.choices)
    has_seats = HasSeatsFilter()
    starts_after = MomentFilter(field_name="starts_at", lookup_expr="gte")
    status = filters.ChoiceFilter(choices=SessionStatus.choices)

    class Meta:
        model = Session
        fields = ["program", "topic", "format", "has_seats", "starts_after", "status"]


class BookingFilter(StrictFilterSet):
    session = IdFilter(field_name="session_id")
    status = filters.ChoiceFilter(choices=BookingStatus.choices)

    class Meta:
        model = Booking
        fields = ["session", "status"]


class SessionRequestFilter(StrictFilterSet):
    program = IdFilter(field_name="program_id")
    status = filters.ChoiceFilter(choices=RequestStatus.choices)

    class Meta:
        model = SessionRequest
        fields = ["program", "status"]


class TermFilter(StrictFilterSet):
    organization = IdFilter(field_name="institution_id")

    class Meta:
        model = Term
        fields = ["organization"]


class BlackoutFilter(StrictFilterSet):
    organization = IdFilter(field_name="organization_id")
    kind = filters.ChoiceFilter(choices=BlackoutKind.choices)

    class Meta:
        model = BlackoutPeriod
        fields = ["organization", "kind"]


# Querysets: everything a row shows, in a fixed number of queries.


# A row names its workshop, school or booker: those names come as columns of the page query, not
# as whole related rows (a page of 25 bookings read 100 rows of up to 21 columns for four values,
# a third of the list's time; bench/hotspots.py).


def session_queryset(user):
    """Visible sessions with their facilitators' ids where the database reads them in the same
    query (whether the caller may see a join link is asked of the page's sessions that have one:
    ``SessionListSerializer``)."""
    return selectors.with_facilitator_ids(
        access.visible(user, Session)
        .annotate(program_title=F("program__title"), school_name=F("school__name"))
        .order_by("starts_at", "pk")
    )


def booking_queryset(user):
    """Visible bookings with their waitlist position counted in the same query."""
    return (
        selectors.with_waitlist_position(access.visible(user, Booking))
        .annotate(
            program_title=F("session__program__title"),
            session_starts_at=F("session__starts_at"),
            institution_name=F("institution__name"),
            booked_by_name=F("booked_by__full_name"),
        )
        .order_by("session__starts_at", "pk")
    )


class _FormatIsAFilter:
    """DRF's settings, except that ``?format=`` is not a renderer override: here it is the
    workshops' delivery format (``?format=virtual``). JSON is chosen by the Accept header."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class FormatFilterNegotiation(DefaultContentNegotiation):
    settings = _FormatIsAFilter()


class _ProgramsViewSet(viewsets.GenericViewSet):
    lookup_value_regex = NUMERIC
    content_negotiation_class = FormatFilterNegotiation
    # JSON bodies only: a malformed form body parses as an empty form, which the actions whose
    # fields are all optional (cancel a booking) would take as a valid request.
    parser_classes = [JSONParser]
    model = None

    # A list read with SQL kept per shape of reader when it is asked for without filters.
    kept_list: compiled.Scoped | None = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        if (rows := kept_rows(self)) is not None:
            return rows
        return self.scoped(self.request.user)

    def filter_queryset(self, queryset):
        return queryset if isinstance(queryset, compiled.KeptRows) else super().filter_queryset(queryset)

    def scoped(self, user):
        raise NotImplementedError

    def _input(self, serializer_class, data=None):
        serializer = serializer_class(
            data=self.request.data if data is None else data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _out(self, obj, code=status.HTTP_200_OK, serializer_class=None, queryset=None):
        """The object as the lists show it, read again through the caller's scope."""
        obj = (queryset if queryset is not None else self.get_queryset()).get(pk=obj.pk)
        serializer = (serializer_class or self.get_serializer_class())(obj, context=self.get_serializer_context())
        return Response(serializer.data, status=code)


# The catalog.


@extend_schema_view(
    list=extend_schema(responses={200: s.ProgramSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.ProgramSerializer, **READ}),
    create=extend_schema(request=s.ProgramCreateSerializer, responses={201: s.ProgramSerializer, **WRITE}),
)
class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ProgramsViewSet):
    """The workshop catalog of the agreements you belong to. Coordinators of a party publish
    workshops under an active agreement."""

    model = Program
    serializer_class = s.ProgramSerializer
    filterset_class = ProgramFilter

    def scoped(self, user):
        return access.visible(user, Program).select_related("required_qualification").order_by("title", "pk")

    def create(self, request, *args, **kwargs):
        agreement = self._input(s.AgreementRefSerializer)["agreement"]
        _allowed_or_403(rules.agreement_rules.can_manage(request.user, agreement))
        fields = self._input(s.ProgramCreateSerializer)
        fields.pop("agreement")
        program = services.create_program(agreement=agreement, by=request.user, **fields)
        return self._out(program, status.HTTP_201_CREATED)


# Sessions.


@extend_schema_view(
    list=extend_schema(responses={200: s.SessionSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.SessionSerializer, **READ}),
    create=extend_schema(request=s.SessionCreateSerializer, responses={201: s.SessionSerializer, **WRITE}),
)
class SessionViewSet(
    KeptPages, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ProgramsViewSet
):
    """Scheduled sessions of the workshops you can see. ``join_url`` is shown only to the
    session's facilitators and to people whose booking of it is confirmed."""

    model = Session
    serializer_class = s.SessionSerializer
    filterset_class = SessionFilter
    kept_list = compiled.Scoped(session_queryset, counted=lambda user: access.visible(user, Session))

    def scoped(self, user):
        return session_queryset(user)

    def counted(self, queryset):
        """The visible sessions, filtered, without the workshop and school names a row shows."""
        return self.filter_queryset(access.visible(self.request.user, Session))

    def create(self, request, *args, **kwargs):
        program = self._input(s.ProgramRefSerializer)["program"]
        _allowed_or_403(rules.can_manage_program(request.user, program))
        fields = self._input(s.SessionCreateSerializer)
        fields.pop("program")
        session = services.schedule_session(program=program, by=request.user, **fields)
        return self._out(session, status.HTTP_201_CREATED)

    def _managed(self):
        session = self.get_object()
        _allowed_or_403(rules.can_manage_program(self.request.user, session.program))
        return session

    @extend_schema(request=s.RescheduleSerializer, responses={200: s.SessionSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        session = self._managed()
        fields = self._input(s.RescheduleSerializer)
        return self._out(services.reschedule_session(session=session, by=request.user, **fields))

    @extend_schema(request=s.ReasonSerializer, responses={200: s.SessionSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        session = self._managed()
        fields = self._input(s.ReasonSerializer)
        return self._out(services.cancel_session(session=session, by=request.user, **fields))

    @extend_schema(request=s.CapacitySerializer, responses={200: s.SessionSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def capacity(self, request, pk=None):
        session = self._managed()
        fields = self._input(s.CapacitySerializer)
        return self._out(services.change_capacity(session=session, by=request.user, **fields))

    @extend_schema(request=s.AttendanceSerializer, responses={200: s.SessionSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        session = self.get_object()
        _allowed_or_403(rules.can_record_attendance(request.user, session))
        fields = self._input(s.AttendanceSerializer)
        return self._out(services.record_attendance(session=session, by=request.user, **fields))


# Bookings.


@extend_schema_view(
    list=extend_schema(responses={200: s.BookingSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.BookingSerializer, **READ}),
    create=extend_schema(request=s.BookingCreateSerializer, responses={201: s.BookingSerializer, **WRITE}),
)
class BookingViewSet(
    KeptPages, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ProgramsViewSet
):
    """Bookings of your institution, of the sessions you facilitate, and (for coordinators)
    of your agreements' sessions. A booking is confirmed while seats last, then waitlisted."""

    model = Booking
    serializer_class = s.BookingSerializer
    filterset_class = BookingFilter
    kept_list = compiled.Scoped(booking_queryset, counted=lambda user: access.visible(user, Booking))

    def scoped(self, user):
        return booking_queryset(user)

    def counted(self, queryset):
        """The visible bookings, filtered, without the names a row shows (config.api.Pagination)."""
        return self.filter_queryset(access.visible(self.request.user, Booking))

    def create(self, request, *args, **kwargs):
        session = self._input(s.SessionRefSerializer)["session"]
        _allowed_or_403(rules.can_book(request.user, session))
        fields = self._input(s.BookingCreateSerializer)
        fields.pop("session")
        booking = services.book_session(session=session, by=request.user, **fields)
        return self._out(booking, status.HTTP_201_CREATED)

    @extend_schema(request=s.BookingCancelSerializer, responses={200: s.BookingSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        booking = self.get_object()
        _allowed_or_403(rules.can_cancel_booking(request.user, booking))
        fields = self._input(s.BookingCancelSerializer)
        return self._out(services.cancel_booking(booking=booking, by=request.user, **fields))


# Session requests.


@extend_schema_view(
    list=extend_schema(responses={200: s.SessionRequestSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.SessionRequestSerializer, **READ}),
    create=extend_schema(
        request=s.SessionRequestCreateSerializer, responses={201: s.SessionRequestSerializer, **WRITE}
    ),
)
class SessionRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _ProgramsViewSet
):
    """Staff ask for a catalog workshop at their school; the agreement's coordinators schedule
    it (the group is booked at once) or decline it."""

    model = SessionRequest
    serializer_class = s.SessionRequestSerializer
    filterset_class = SessionRequestFilter

    def scoped(self, user):
        return (
            access.visible(user, SessionRequest).select_related("program", "institution").order_by("-created_at", "-pk")
        )

    def create(self, request, *args, **kwargs):
        program = self._input(s.ProgramRefSerializer)["program"]
        _allowed_or_403(rules.can_request_session(request.user, program))
        fields = self._input(s.SessionRequestCreateSerializer)
        fields.pop("program")
        session_request = services.request_session(program=program, by=request.user, **fields)
        return self._out(session_request, status.HTTP_201_CREATED)

    def _decided(self):
        session_request = self.get_object()
        _allowed_or_403(rules.can_decide_request(self.request.user, session_request))
        return session_request

    @extend_schema(request=s.ScheduleRequestSerializer, responses={201: s.SessionSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        session_request = self._decided()
        fields = self._input(s.ScheduleRequestSerializer)
        session = services.schedule_from_request(request=session_request, by=request.user, **fields)
        return self._out(
            session,
            status.HTTP_201_CREATED,
            serializer_class=s.SessionSerializer,
            queryset=session_queryset(request.user),
        )

    @extend_schema(request=s.ReasonSerializer, responses={200: s.SessionRequestSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        session_request = self._decided()
        fields = self._input(s.ReasonSerializer)
        return self._out(services.decline_request(request=session_request, by=request.user, **fields))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "facilitators",
                OpenApiTypes.INT,
                many=True,
                explode=True,
                description="Officers who would facilitate: their other sessions and blackouts count.",
            )
        ],
        responses={200: s.ProposedSlotsSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="proposed-slots", filterset_class=None, pagination_class=None)
    def proposed_slots(self, request, pk=None):
        session_request = self._decided()
        fields = self._input(s.ProposedSlotsQuerySerializer, data=request.query_params)
        slots = services.propose_slots(request=session_request, facilitators=fields.get("facilitators", []))
        return Response(s.ProposedSlotsSerializer(s.ProposedSlotsSerializer.wrap(slots)).data)


# Academic calendars.


class _CalendarViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    _ProgramsViewSet,
):
    """Entries are kept by the organization's staff and coordinators (an agency's: its
    coordinators), through the services."""

    owner_field = None
    ref_serializer = None
    create_serializer = None

    def scoped(self, user):
        return access.visible(user, self.model).select_related(self.owner_field).order_by("starts_on", "pk")

    def add(self, organization, by, **fields):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        organization = self._input(self.ref_serializer)[self.owner_field]
        _allowed_or_403(rules.can_manage_calendar(request.user, organization))
        fields = self._input(self.create_serializer)
        fields.pop(self.owner_field)
        entry = self.add(organization, request.user, **fields)
        return self._out(entry, status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        entry = self.get_object()
        _allowed_or_403(rules.can_manage_calendar(request.user, getattr(entry, self.owner_field)))
        services.remove_calendar_entry(entry=entry, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(responses={200: s.TermSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.TermSerializer, **READ}),
    create=extend_schema(request=s.TermCreateSerializer, responses={201: s.TermSerializer, **WRITE}),
    destroy=extend_schema(responses={204: None, **WRITE}),
)
class TermViewSet(_CalendarViewSet):
    """Terms of the institutions you belong to or work with; sessions at a school fall inside one."""

    model = Term
    serializer_class = s.TermSerializer
    filterset_class = TermFilter
    owner_field = "institution"
    ref_serializer = s.TermRefSerializer
    create_serializer = s.TermCreateSerializer

    def add(self, organization, by, **fields):
        return services.add_term(institution=organization, by=by, **fields)


@extend_schema_view(
    list=extend_schema(responses={200: s.BlackoutSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.BlackoutSerializer, **READ}),
    create=extend_schema(request=s.BlackoutCreateSerializer, responses={201: s.BlackoutSerializer, **WRITE}),
    destroy=extend_schema(responses={204: None, **WRITE}),
)
class BlackoutViewSet(_CalendarViewSet):
    """Days an institution or agency takes no sessions."""

    model = BlackoutPeriod
    serializer_class = s.BlackoutSerializer
    filterset_class = BlackoutFilter
    owner_field = "organization"
    ref_serializer = s.BlackoutRefSerializer
    create_serializer = s.BlackoutCreateSerializer

    def add(self, organization, by, **fields):
        return services.add_blackout(organization=organization, by=by, **fields)
