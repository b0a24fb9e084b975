"""The internships API: postings, applications and their pipeline, interviews, offers, guardian
consent, placements, mentors' clearances, hours, check-ins and the record of reads.

Every write goes through internships.services. The order of answers is fixed: an object outside
the caller's scope is 404 (an id in the body outside it, a 400 on that field) before the body
is read; a visible object the caller may not change is 403 before the rest of the body is
validated; then field errors (400) and the services' refusals (400/409).

Agency staff see a student's personal data only in the categories the agreement shares
(``selectors.visible_fields``), and each answer that shows them a student's application or
placement (a list page, a detail, the result of an action) is logged as a read
(``selectors.record_student_access``)."""

from collections import defaultdict

from django.db.models import OuterRef, Prefetch, Subquery
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts import access
from accounts.enums import Role
from accounts.models import Membership
from config import compiled
from config.api import error_responses, kept_rows
from config.filters import IdFilter, StrictFilterSet, TrueFalseFilter
from config.parsers import JSONParser
from internships import rules, selectors, services
from internships.api import serializers as s
from internships.enums import (
    ApplicationStatus,
    CheckInStatus,
    ConsentStatus,
    HoursStatus,
    InterviewStatus,
    OfferStatus,
    PlacementStatus,
    PostingStatus,
)
from internships.models import (
    Application,
    ApplicationTransition,
    CheckIn,
    Clearance,
    ClearanceKind,
    GuardianConsent,
    HoursEntry,
    Interview,
    Offer,
    Placement,
    Posting,
    StudentRecordAccess,
)

READ = error_responses(400, 401, 404)
WRITE = error_responses(400, 401, 403, 404, 409)
NUMERIC = r"[0-9]+"
JSON_ONLY = [JSONParser]


def _allowed_or_403(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


# Filters.


class PostingFilter(StrictFilterSet):
    agency = IdFilter(field_name="agency__id")
    remote = TrueFalseFilter(field_name="is_remote")
    paid = TrueFalseFilter(field_name="is_paid")
    status = filters.ChoiceFilter(choices=PostingStatus.choices)
    starts_after = filters.DateFilter(field_name="start_date", lookup_expr="gte")

    class Meta:
        model = Posting
        fields = ["agency", "remote", "paid", "status", "starts_after"]


class ApplicationFilter(StrictFilterSet):
    posting = IdFilter(field_name="posting_id")
    status = filters.ChoiceFilter(choices=ApplicationStatus.choices)

    class Meta:
        model = Application
        fields = ["posting", "status"]


class InterviewFilter(StrictFilterSet):
    application = IdFilter(field_name="application_id")
    status = filters.ChoiceFilter(choices=InterviewStatus.choices)

    class Meta:
        model = Interview
        fields = ["application", "status"]


class OfferFilter(StrictFilterSet):
    application = IdFilter(field_name="application_id")
    status = filters.ChoiceFilter(choices=OfferStatus.choices)

    class Meta:
        model = Offer
        fields = ["application", "status"]


class ConsentFilter(StrictFilterSet):
    placement = IdFilter(field_name="placement_id")
    status = filters.ChoiceFilter(choices=ConsentStatus.choices)

    class Meta:
        model = GuardianConsent
        fields = ["placement", "status"]


class PlacementFilter(StrictFilterSet):
    status = filters.ChoiceFilter(choices=PlacementStatus.choices)
    mentor = IdFilter(field_name="mentor_id")

    class Meta:
        model = Placement
        fields = ["status", "mentor"]


class ClearanceKindFilter(StrictFilterSet):
    agency = IdFilter(field_name="agency__id")

    class Meta:
        model = ClearanceKind
        fields = ["agency"]


class ClearanceFilter(StrictFilterSet):
    officer = IdFilter(field_name="officer_id")
    agency = IdFilter(field_name="kind__agency__id")

    class Meta:
        model = Clearance
        fields = ["officer", "agency"]


class HoursFilter(StrictFilterSet):
    placement = IdFilter(field_name="placement_id")
    status = filters.ChoiceFilter(choices=HoursStatus.choices)

    class Meta:
        model = HoursEntry
        fields = ["placement", "status"]


class CheckInFilter(StrictFilterSet):
    placement = IdFilter(field_name="placement_id")
    status = filters.ChoiceFilter(choices=CheckInStatus.choices)

    class Meta:
        model = CheckIn
        fields = ["placement", "status"]


class RecordAccessFilter(StrictFilterSet):
    student = IdFilter(field_name="student_id")

    class Meta:
        model = StudentRecordAccess
        fields = ["student"]


# Querysets: everything a row shows, in a fixed number of queries.


def posting_queryset(user):
    return selectors.posting_list_for(user).prefetch_related("institutions")


# The student's grade at the application's institution, read in the page query (for
# ``serializers.student_level``): prefetching every student's memberships with their
# organizations cost a list a query and two model rows per membership.
STUDENT_GRADE_LEVEL = Subquery(
    Membership.objects.filter(user=OuterRef("student_id"), organization=OuterRef("institution_id"), role=Role.STUDENT)
    .order_by()
    .values("grade_level")[:1]
)


# The rest of what a row shows of its student and institution, read by the page query too
# (``selectors.application_list_for`` reads their names the same way).
APPLICATION_COLUMNS = {
    "student_grade_level": STUDENT_GRADE_LEVEL,
    "student_email": Subquery(selectors.STUDENT_OF_APPLICATION.values("email")[:1]),
    "institution_kind": Subquery(selectors.INSTITUTION_OF_APPLICATION.values("kind")[:1]),
}


def application_queryset(user):
    return selectors.application_list_for(user).annotate(**APPLICATION_COLUMNS)


def application_detail_queryset(user):
    return application_queryset(user).prefetch_related(
        Prefetch("transitions", queryset=ApplicationTransition.objects.select_related("by").order_by("at", "pk"))
    )


def interview_queryset(user):
    return access.visible(user, Interview).select_related("application__posting").order_by("starts_at", "pk")


def offer_queryset(user):
    return access.visible(user, Offer).select_related("application__posting").order_by("-created_at", "-pk")


def consent_queryset(user):
    return access.visible(user, GuardianConsent).select_related("placement__application").order_by("-created_at", "-pk")


def placement_queryset(user):
    """Visible placements with their hours totals and the newest consent request's status."""
    newest = GuardianConsent.objects.filter(placement=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        selectors.placement_list_for(user)
        .select_related("application__posting__agreement")
        .prefetch_related("application__posting__agreement__parties")
        .annotate(current_consent_status=Subquery(newest.values("status")[:1]))
    )


def clearance_kind_queryset(user):
    return access.visible(user, ClearanceKind).select_related("agency").order_by("agency__name", "name", "pk")


def check_in_queryset(user):
    return access.visible(user, CheckIn).select_related("placement").order_by("due_on", "pk")


# The record of reads.


def read_records(user, records) -> None:
    """Before answering with students' applications or placements: log agency staff's read
    (nothing for the student, their school or an admin; the selector decides)."""
    records = [r for r in records if isinstance(r, (Application, Placement))]
    if not records:
        return
    # visible_fields reads a placement's terms through its application: cache them there too.
    selectors.share_data_terms([*records, *(r.application for r in records if isinstance(r, Placement))], reader=user)
    by_purpose = defaultdict(list)
    for record in records:
        by_purpose[selectors.access_purpose(user, record)].append(record)
    for purpose, rows in by_purpose.items():
        selectors.record_student_access(user, rows, purpose=purpose)


# The frame.


class _InternshipsViewSet(viewsets.GenericViewSet):
    lookup_value_regex = NUMERIC
    # JSON bodies only: a malformed form body parses as an empty form, which the actions whose
    # fields are all optional would take as a valid request.
    parser_classes = JSON_ONLY
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

    def _input(self, serializer_class, data=None, partial=False):
        serializer = serializer_class(
            data=self.request.data if data is None else data, context=self.get_serializer_context(), partial=partial
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _out(self, obj, code=status.HTTP_200_OK, serializer_class=None, queryset=None, extra=None):
        """The object as the lists show it, read again through the caller's scope."""
        obj = (queryset if queryset is not None else self.get_queryset()).get(pk=obj.pk)
        read_records(self.request.user, [obj])
        serializer = (serializer_class or self.get_serializer_class())(obj, context=self.get_serializer_context())
        return Response({**serializer.data, **(extra or {})}, status=code)


class _StudentRecordsMixin:
    """Lists and details of students' records: each answer is logged as a read."""

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        read_records(request.user, page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        read_records(request.user, [record])
        return Response(self.get_serializer(record).data)


# Postings.


@extend_schema_view(
    list=extend_schema(responses={200: s.PostingSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.PostingSerializer, **READ}),
    create=extend_schema(request=s.PostingCreateSerializer, responses={201: s.PostingSerializer, **WRITE}),
    partial_update=extend_schema(request=s.PostingUpdateSerializer, responses={200: s.PostingSerializer, **WRITE}),
)
class PostingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _InternshipsViewSet):
    """Internships of the agreements you belong to; students see the open ones their school may
    apply to (and those they applied to). Agency coordinators post under an active agreement."""

    model = Posting
    serializer_class = s.PostingSerializer
    filterset_class = PostingFilter

    def scoped(self, user):
        return posting_queryset(user)

    def create(self, request, *args, **kwargs):
        ref = self._input(s.PostingRefSerializer)
        _allowed_or_403(rules.can_post_for(request.user, ref["agreement"], ref["agency"]))
        fields = self._input(s.PostingCreateSerializer)
        agreement, agency = fields.pop("agreement"), fields.pop("agency")
        posting = services.create_posting(agreement=agreement, agency=agency, by=request.user, **fields)
        return self._out(posting, status.HTTP_201_CREATED)

    def _managed(self):
        posting = self.get_object()
        _allowed_or_403(rules.can_manage_posting(self.request.user, posting))
        return posting

    def partial_update(self, request, *args, **kwargs):
        posting = self._managed()
        fields = self._input(s.PostingUpdateSerializer, partial=True)
        institutions = fields.pop("institutions", None)
        posting = services.update_posting(posting=posting, by=request.user, institutions=institutions, **fields)
        return self._out(posting)

    @extend_schema(request=None, responses={200: s.PostingSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        posting = self._managed()
        return self._out(services.publish_posting(posting=posting, by=request.user))

    @extend_schema(request=s.CloseSerializer, responses={200: s.PostingSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        posting = self._managed()
        fields = self._input(s.CloseSerializer)
        return self._out(services.close_posting(posting=posting, by=request.user, **fields))


# Applications.


@extend_schema_view(
    list=extend_schema(responses={200: s.ApplicationSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.ApplicationDetailSerializer, **READ}),
    create=extend_schema(
        request={"multipart/form-data": s.ApplySerializer, "application/json": s.ApplySerializer},
        responses={201: s.ApplicationDetailSerializer, **WRITE},
    ),
)
class ApplicationViewSet(
    _StudentRecordsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    _InternshipsViewSet,
):
    """A student's own applications; the posting agency's and the student's school's coordinators
    see them once submitted and run the pipeline. Applying is one request (a résumé PDF goes as
    multipart); the student may keep a draft (``submit: false``) and submit it later."""

    model = Application
    filterset_class = ApplicationFilter
    kept_list = compiled.Scoped(application_queryset)
    parser_classes = [JSONParser, MultiPartParser]

    def scoped(self, user):
        if self.action == "list":
            return application_queryset(user)
        return application_detail_queryset(user)

    def get_serializer_class(self):
        return s.ApplicationSerializer if self.action == "list" else s.ApplicationDetailSerializer

    def create(self, request, *args, **kwargs):
        posting = self._input(s.ApplyRefSerializer)["posting"]
        _allowed_or_403(rules.student_membership(request.user) is not None)
        fields = self._input(s.ApplySerializer)
        fields.pop("posting")
        application = services.apply(posting=posting, student=request.user, **fields)
        return self._out(application, status.HTTP_201_CREATED)

    def _own(self):
        application = self.get_object()
        _allowed_or_403(rules.is_student_of(self.request.user, application))
        return application

    def _reviewed(self):
        application = self.get_object()
        _allowed_or_403(rules.can_review(self.request.user, application))
        return application

    @extend_schema(request=None, responses={200: s.ApplicationDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def submit(self, request, pk=None):
        application = self._own()
        return self._out(services.submit_application(application=application, by=request.user))

    @extend_schema(request=s.NoteSerializer, responses={200: s.ApplicationDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def withdraw(self, request, pk=None):
        application = self._own()
        fields = self._input(s.NoteSerializer)
        return self._out(services.withdraw(application=application, by=request.user, **fields))

    @extend_schema(request=s.NoteSerializer, responses={200: s.ApplicationDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def review(self, request, pk=None):
        application = self._reviewed()
        fields = self._input(s.NoteSerializer)
        return self._out(services.start_review(application=application, by=request.user, **fields))

    @extend_schema(request=s.InterviewInputSerializer, responses={200: s.InterviewSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def interview(self, request, pk=None):
        """Invite the student (a new time replaces the scheduled interview)."""
        application = self._reviewed()
        fields = self._input(s.InterviewInputSerializer)
        interview = services.schedule_interview(application=application, by=request.user, **fields)
        return self._out(interview, serializer_class=s.InterviewSerializer, queryset=interview_queryset(request.user))

    @extend_schema(request=s.OfferInputSerializer, responses={201: s.OfferSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def offer(self, request, pk=None):
        application = self._reviewed()
        fields = self._input(s.OfferInputSerializer)
        offer = services.make_offer(application=application, by=request.user, **fields)
        return self._out(
            offer, status.HTTP_201_CREATED, serializer_class=s.OfferSerializer, queryset=offer_queryset(request.user)
        )

    @extend_schema(request=s.RejectSerializer, responses={200: s.ApplicationDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def reject(self, request, pk=None):
        application = self._reviewed()
        fields = self._input(s.RejectSerializer)
        return self._out(services.reject(application=application, by=request.user, **fields))

    @extend_schema(request=s.AcceptSerializer, responses={201: s.PlacementSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def accept(self, request, pk=None):
        """Accept the offer: the placement starts pending a mentor (and, for a student under 18,
        a guardian's consent: name the guardian here or later)."""
        application = self._own()
        fields = self._input(s.AcceptSerializer)
        placement = services.accept_offer(application=application, by=request.user, **fields)
        return self._out(
            placement,
            status.HTTP_201_CREATED,
            serializer_class=s.PlacementSerializer,
            queryset=placement_queryset(request.user),
        )

    @extend_schema(request=s.NoteSerializer, responses={200: s.ApplicationDetailSerializer, **WRITE})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def decline(self, request, pk=None):
        application = self._own()
        fields = self._input(s.NoteSerializer)
        return self._out(services.decline_offer(application=application, by=request.user, **fields))


# Interviews and offers (made through the applications' actions).


@extend_schema_view(
    list=extend_schema(responses={200: s.InterviewSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.InterviewSerializer, **READ}),
)
class InterviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _InternshipsViewSet):
    """Interviews of the applications you can see."""

    model = Interview
    serializer_class = s.InterviewSerializer
    filterset_class = InterviewFilter

    def scoped(self, user):
        return interview_queryset(user)


@extend_schema_view(
    list=extend_schema(responses={200: s.OfferSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.OfferSerializer, **READ}),
)
class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _InternshipsViewSet):
    """Offers on the applications you can see; the student answers through the application."""

    model = Offer
    serializer_class = s.OfferSerializer
    filterset_class = OfferFilter

    def scoped(self, user):
        return offer_queryset(user)


# Guardian consent.


@extend_schema_view(
    list=extend_schema(responses={200: s.ConsentSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.ConsentSerializer, **READ}),
)
class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _InternshipsViewSet):
    """The status of guardian consent for minors' placements. The guardian decides through the
    emailed link only; here the student or their school names the guardian."""

    model = GuardianConsent
    serializer_class = s.ConsentSerializer
    filterset_class = ConsentFilter

    def scoped(self, user):
        return consent_queryset(user)

    @extend_schema(request=s.GuardianSerializer, responses={200: s.ConsentSerializer, **WRITE})
    @action(detail=True, methods=["post"], url_path="name-guardian")
    def name_guardian(self, request, pk=None):
        """Send the guardian a single-use link; a new one replaces any unused link."""
        consent = self.get_object()
        _allowed_or_403(rules.can_name_guardian(request.user, consent.placement))
        fields = self._input(s.GuardianSerializer)
        consent = services.name_guardian(
            consent=consent, by=request.user, name=fields["guardian_name"], email=fields["guardian_email"]
        )
        return self._out(consent)


# Placements.


@extend_schema_view(
    list=extend_schema(responses={200: s.PlacementSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.PlacementSerializer, **READ}),
)
class PlacementViewSet(_StudentRecordsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, _InternshipsViewSet):
    """Placements of the student, their mentor, and the coordinators of the agency and of the
    student's school. A placement becomes active once it has a cleared mentor and, for a
    student under 18, a guardian's consent."""

    model = Placement
    serializer_class = s.PlacementSerializer
    filterset_class = PlacementFilter

    def scoped(self, user):
        return placement_queryset(user)

    def _coordinated(self):
        placement = self.get_object()
        _allowed_or_403(rules.can_coordinate_placement(self.request.user, placement))
        return placement

    @extend_schema(request=s.MentorSerializer, responses={200: s.PlacementWithWarningsSerializer, **WRITE})
    @action(detail=True, methods=["post"], url_path="assign-mentor")
    def assign_mentor(self, request, pk=None):
        """The agency's coordinators name the mentor; ``warnings`` lists clearances to renew soon."""
        placement = self.get_object()
        user = request.user
        _allowed_or_403(access.is_admin(user) or access.has_role(user, placement.posting.agency, Role.COORDINATOR))
        fields = self._input(s.MentorSerializer)
        placement, warnings = services.assign_mentor(placement=placement, by=user, **fields)
        return self._out(placement, serializer_class=s.PlacementWithWarningsSerializer, extra={"warnings": warnings})

    @extend_schema(request=None, responses={200: s.PlacementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        placement = self._coordinated()
        return self._out(services.activate_placement(placement=placement, by=request.user))

    @extend_schema(request=s.SuspendSerializer, responses={200: s.PlacementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        placement = self._coordinated()
        fields = self._input(s.SuspendSerializer)
        return self._out(services.suspend_placement(placement=placement, by=request.user, **fields))

    @extend_schema(request=None, responses={200: s.PlacementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        placement = self._coordinated()
        return self._out(services.resume_placement(placement=placement, by=request.user))

    @extend_schema(request=s.EndSerializer, responses={200: s.PlacementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        placement = self.get_object()
        user = request.user
        _allowed_or_403(rules.can_coordinate_placement(user, placement) or rules.can_mentor(user, placement))
        fields = self._input(s.EndSerializer)
        return self._out(services.end_placement(placement=placement, by=user, **fields))


# Clearances.


@extend_schema_view(
    list=extend_schema(responses={200: s.ClearanceKindSerializer(many=True), **READ}),
    create=extend_schema(request=s.ClearanceKindCreateSerializer, responses={201: s.ClearanceKindSerializer, **WRITE}),
)
class ClearanceKindViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, _InternshipsViewSet):
    """The checks an agency requires of every mentor; its coordinators define them."""

    model = ClearanceKind
    serializer_class = s.ClearanceKindSerializer
    filterset_class = ClearanceKindFilter

    def scoped(self, user):
        return clearance_kind_queryset(user)

    def create(self, request, *args, **kwargs):
        agency = self._input(s.ClearanceKindRefSerializer)["agency"]
        _allowed_or_403(access.can_manage_organization(request.user, agency))
        fields = self._input(s.ClearanceKindCreateSerializer)
        fields.pop("agency")
        kind = services.add_clearance_kind(agency=agency, by=request.user, **fields)
        return self._out(kind, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(responses={200: s.ClearanceSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.ClearanceSerializer, **READ}),
    create=extend_schema(request=s.ClearanceCreateSerializer, responses={201: s.ClearanceSerializer, **WRITE}),
)
class ClearanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _InternshipsViewSet):
    """An officer's own clearances; every clearance of an agency to its coordinators, who
    record (and so verify) them."""

    model = Clearance
    serializer_class = s.ClearanceSerializer
    filterset_class = ClearanceFilter

    def scoped(self, user):
        return selectors.clearance_list_for(user)

    def create(self, request, *args, **kwargs):
        kind = self._input(s.ClearanceRefSerializer)["kind"]
        _allowed_or_403(access.can_manage_organization(request.user, kind.agency))
        fields = self._input(s.ClearanceCreateSerializer)
        fields.pop("kind")
        clearance = services.record_clearance(kind=kind, by=request.user, **fields)
        return self._out(clearance, status.HTTP_201_CREATED)


# Hours.


@extend_schema_view(
    list=extend_schema(responses={200: s.HoursEntrySerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.HoursEntrySerializer, **READ}),
    create=extend_schema(request=s.HoursLogSerializer, responses={201: s.HoursLoggedSerializer, **WRITE}),
    partial_update=extend_schema(request=s.HoursCorrectSerializer, responses={200: s.HoursEntrySerializer, **WRITE}),
)
class HoursViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _InternshipsViewSet):
    """Hours the student logs on an active placement; the mentor approves (then the entry is
    locked) or returns them for correction. ``warnings`` on a new entry: federal limits for
    14- and 15-year-olds in paid work."""

    model = HoursEntry
    serializer_class = s.HoursEntrySerializer
    filterset_class = HoursFilter

    def scoped(self, user):
        return selectors.hours_list_for(user)

    def create(self, request, *args, **kwargs):
        placement = self._input(s.HoursRefSerializer)["placement"]
        _allowed_or_403(rules.is_student_of(request.user, placement))
        fields = self._input(s.HoursLogSerializer)
        fields.pop("placement")
        entry, warnings = services.log_hours(placement=placement, by=request.user, **fields)
        return self._out(
            entry, status.HTTP_201_CREATED, serializer_class=s.HoursLoggedSerializer, extra={"warnings": warnings}
        )

    def partial_update(self, request, *args, **kwargs):
        entry = self.get_object()
        _allowed_or_403(rules.is_student_of(request.user, entry.placement))
        fields = self._input(s.HoursCorrectSerializer, partial=True)
        corrected = services.correct_hours(
            entry=entry,
            by=request.user,
            day=fields.get("day", entry.day),
            hours=fields.get("hours", entry.hours),
            activity=fields.get("activity", entry.activity),
        )
        return self._out(corrected)

    def _mentored(self):
        entry = self.get_object()
        _allowed_or_403(rules.can_mentor(self.request.user, entry.placement))
        return entry

    @extend_schema(request=None, responses={200: s.HoursEntrySerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        entry = self._mentored()
        return self._out(services.approve_hours(entry=entry, by=request.user))

    @extend_schema(request=s.CommentSerializer, responses={200: s.HoursEntrySerializer, **WRITE})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_for_correction(self, request, pk=None):
        entry = self._mentored()
        fields = self._input(s.CommentSerializer)
        return self._out(services.return_hours(entry=entry, by=request.user, **fields))


# Check-ins.


@extend_schema_view(
    list=extend_schema(responses={200: s.CheckInSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.CheckInSerializer, **READ}),
)
class CheckInViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _InternshipsViewSet):
    """The mentor's scheduled meetings with the student, and what came of them."""

    model = CheckIn
    serializer_class = s.CheckInSerializer
    filterset_class = CheckInFilter

    def scoped(self, user):
        return check_in_queryset(user)

    @extend_schema(request=s.CheckInRecordSerializer, responses={200: s.CheckInSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        check_in = self.get_object()
        _allowed_or_403(rules.can_mentor(request.user, check_in.placement))
        fields = self._input(s.CheckInRecordSerializer)
        return self._out(services.record_check_in(check_in=check_in, by=request.user, **fields))


# The record of reads.


@extend_schema_view(list=extend_schema(responses={200: s.RecordAccessSerializer(many=True), **READ}))
class RecordAccessViewSet(mixins.ListModelMixin, _InternshipsViewSet):
    """Each read of a student's record by agency staff: for the student and their school's
    coordinators (the record of disclosures)."""

    model = StudentRecordAccess
    serializer_class = s.RecordAccessSerializer
    filterset_class = RecordAccessFilter

    def scoped(self, user):
        return selectors.record_accesses_list_for(user)
