from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import access
from config.api import error_responses
from config.filters import IdFilter, StrictFilterSet
from partnerships import rules, selectors, services
from partnerships.api import serializers as s
from partnerships.enums import AgreementStatus
from partnerships.models import (
    ActionItem,
    Agreement,
    AgreementParty,
    DataSharingTerm,
    FundingCommitment,
    Meeting,
    Objective,
    Responsibility,
    Signature,
)

READ = error_responses(400, 401, 404)
WRITE = error_responses(400, 401, 403, 404, 409)
NUMERIC = r"[0-9]+"


def _manage_or_403(user, agreement):
    if not rules.can_manage(user, agreement):
        raise PermissionDenied


class AgreementFilter(StrictFilterSet):
    status = filters.ChoiceFilter(choices=AgreementStatus.choices)
    party = IdFilter(field_name="parties__organization_id", distinct=True)
    lineage = filters.UUIDFilter()

    class Meta:
        model = Agreement
        fields = ["status", "party", "lineage"]


@extend_schema_view(
    list=extend_schema(responses={200: s.AgreementSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.AgreementSerializer, **READ}),
    create=extend_schema(request=s.AgreementCreateSerializer, responses={201: s.AgreementSerializer, **WRITE}),
    partial_update=extend_schema(request=s.AgreementUpdateSerializer, responses={200: s.AgreementSerializer, **WRITE}),
)
class AgreementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Agreements (every version) between parties you belong to. Writes go through the same
    services as the pages: drafts are edited, signed versions are amended or renewed."""

    serializer_class = s.AgreementSerializer
    filterset_class = AgreementFilter
    lookup_value_regex = NUMERIC

    def get_queryset(self):
        return selectors._prefetched(
            access.visible(self.request.user, Agreement).select_related("lead_agency")
        ).order_by("-starts_on", "pk")

    def _out(self, agreement, code=status.HTTP_200_OK):
        agreement = self.get_queryset().get(pk=agreement.pk)
        return Response(s.AgreementSerializer(agreement, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        if not rules.can_draft(request.user):
            raise PermissionDenied
        data = s.AgreementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = services.agreement_create(by=request.user, **data.validated_data)
        return self._out(agreement, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        agreement = self.get_object()
        data = s.AgreementUpdateSerializer(data=request.data)
        _manage_or_403(request.user, agreement)
        data.is_valid(raise_exception=True)
        agreement = services.agreement_update(agreement=agreement, by=request.user, **data.validated_data)
        return self._out(agreement)

    def _transition(self, service, input_serializer=None):
        """Someone else's agreement is 404, a reader's attempt 403, and only then is the body read."""
        agreement = self.get_object()
        _manage_or_403(self.request.user, agreement)
        kwargs = {}
        if input_serializer is not None:
            data = input_serializer(data=self.request.data)
            data.is_valid(raise_exception=True)
            kwargs = data.validated_data
        return service(agreement=agreement, by=self.request.user, **kwargs)

    @extend_schema(request=None, responses={200: s.AgreementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._out(self._transition(services.agreement_submit))

    @extend_schema(request=None, responses={200: s.AgreementSerializer, **WRITE})
    @action(detail=True, methods=["post"], url_path="return-to-draft")
    def return_to_draft(self, request, pk=None):
        return self._out(self._transition(services.agreement_return_to_draft))

    @extend_schema(request=None, responses={200: s.AgreementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._out(self._transition(services.agreement_activate))

    @extend_schema(request=None, responses={201: s.AgreementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        return self._out(self._transition(services.agreement_amend), status.HTTP_201_CREATED)

    @extend_schema(request=s.RenewInputSerializer, responses={201: s.AgreementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        return self._out(self._transition(services.agreement_renew, s.RenewInputSerializer), status.HTTP_201_CREATED)

    @extend_schema(request=s.TerminateInputSerializer, responses={200: s.AgreementSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        return self._out(self._transition(services.agreement_terminate, s.TerminateInputSerializer))

    @extend_schema(request=s.SignInputSerializer, responses={201: s.SignatureSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        agreement = self.get_object()
        data = s.SignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        party = agreement.parties.filter(pk=data.validated_data["party"]).first()
        if party is None:
            raise services.PartnershipError("That is not a party of this agreement.", field="party")
        if not rules.can_sign(request.user, agreement, party):
            raise PermissionDenied
        signature = services.agreement_sign(
            agreement=agreement, party=party, by=request.user, signer_title=data.validated_data["signer_title"]
        )
        return Response(s.SignatureSerializer(signature).data, status=status.HTTP_201_CREATED)


class ByAgreementFilter(StrictFilterSet):
    agreement = IdFilter(field_name="agreement_id")


def _child_filter(model_class):
    return type(
        f"{model_class.__name__}Filter",
        (ByAgreementFilter,),
        {"Meta": type("Meta", (), {"model": model_class, "fields": ["agreement"]})},
    )


class _ChildViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Items of a draft agreement: added and removed through the services."""

    model = None
    add = None
    lookup_value_regex = NUMERIC

    def get_queryset(self):
        return access.visible(self.request.user, self.model).order_by("agreement_id", "pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        agreement = fields.pop("agreement")
        _manage_or_403(request.user, agreement)
        item = type(self).add(agreement=agreement, by=request.user, **fields)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        item = self.get_object()
        _manage_or_403(request.user, item.agreement)
        services.child_remove(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _child_schema(serializer):
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **READ}),
        retrieve=extend_schema(responses={200: serializer, **READ}),
        create=extend_schema(responses={201: serializer, **WRITE}),
        destroy=extend_schema(responses={204: None, **WRITE}),
    )


@_child_schema(s.ObjectiveSerializer)
class ObjectiveViewSet(_ChildViewSet):
    model = Objective
    serializer_class = s.ObjectiveSerializer
    filterset_class = _child_filter(Objective)
    add = staticmethod(services.objective_add)


@_child_schema(s.ResponsibilitySerializer)
class ResponsibilityViewSet(_ChildViewSet):
    model = Responsibility
    serializer_class = s.ResponsibilitySerializer
    filterset_class = _child_filter(Responsibility)
    add = staticmethod(services.responsibility_add)


@_child_schema(s.FundingSerializer)
class FundingViewSet(_ChildViewSet):
    model = FundingCommitment
    serializer_class = s.FundingSerializer
    filterset_class = _child_filter(FundingCommitment)
    add = staticmethod(services.funding_add)


@_child_schema(s.DataTermSerializer)
class DataTermViewSet(_ChildViewSet):
    model = DataSharingTerm
    serializer_class = s.DataTermSerializer
    filterset_class = _child_filter(DataSharingTerm)
    add = staticmethod(services.data_term_add)


@extend_schema_view(
    list=extend_schema(responses={200: s.PartySerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.PartySerializer, **READ}),
    create=extend_schema(request=s.PartyCreateSerializer, responses={201: s.PartySerializer, **WRITE}),
    destroy=extend_schema(responses={204: None, **WRITE}),
)
class PartyViewSet(_ChildViewSet):
    model = AgreementParty
    serializer_class = s.PartySerializer
    filterset_class = _child_filter(AgreementParty)

    def get_queryset(self):
        # Each row names its organization: joined, or one query per row.
        return super().get_queryset().select_related("organization")

    def create(self, request, *args, **kwargs):
        data = s.PartyCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        agreement = data.validated_data["agreement"]
        _manage_or_403(request.user, agreement)
        party = services.party_add(
            agreement=agreement, organization=data.validated_data["organization"], by=request.user
        )
        return Response(s.PartySerializer(party).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        party = self.get_object()
        _manage_or_403(request.user, party.agreement)
        services.party_remove(party=party, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(responses={200: s.SignatureSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.SignatureSerializer, **READ}),
)
class SignatureViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.SignatureSerializer
    filterset_class = _child_filter(Signature)
    lookup_value_regex = NUMERIC

    def get_queryset(self):
        return access.visible(self.request.user, Signature).order_by("agreement_id", "pk")


@extend_schema_view(
    list=extend_schema(responses={200: s.MeetingSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.MeetingSerializer, **READ}),
    create=extend_schema(responses={201: s.MeetingSerializer, **WRITE}),
)
class MeetingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.MeetingSerializer
    filterset_class = _child_filter(Meeting)
    lookup_value_regex = NUMERIC

    def get_queryset(self):
        return access.visible(self.request.user, Meeting).prefetch_related("attendees").order_by("-starts_at", "pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        agreement = fields.pop("agreement")
        _manage_or_403(request.user, agreement)
        meeting = services.meeting_schedule(agreement=agreement, by=request.user, **fields)
        return Response(self.get_serializer(meeting).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MinutesInputSerializer, responses={200: s.MeetingSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def minutes(self, request, pk=None):
        meeting = self.get_object()
        _manage_or_403(request.user, meeting.agreement)
        data = s.MinutesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.meeting_record_minutes(meeting=meeting, by=request.user, **data.validated_data)
        return Response(self.get_serializer(meeting).data)

    @extend_schema(request=None, responses={200: s.MeetingSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = self.get_object()
        _manage_or_403(request.user, meeting.agreement)
        meeting = services.meeting_cancel(meeting=meeting, by=request.user)
        return Response(self.get_serializer(meeting).data)


@extend_schema_view(
    list=extend_schema(responses={200: s.ActionItemSerializer(many=True), **READ}),
    retrieve=extend_schema(responses={200: s.ActionItemSerializer, **READ}),
    create=extend_schema(responses={201: s.ActionItemSerializer, **WRITE}),
)
class ActionItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ActionItemSerializer
    filterset_class = _child_filter(ActionItem)
    lookup_value_regex = NUMERIC

    def get_queryset(self):
        return access.visible(self.request.user, ActionItem).order_by("due_on", "pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        agreement = fields.pop("agreement")
        _manage_or_403(request.user, agreement)
        item = services.action_item_add(agreement=agreement, by=request.user, **fields)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.ActionItemSerializer, **WRITE})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        item = self.get_object()
        if item.owner_id != request.user.pk and not rules.can_manage(request.user, item.agreement):
            raise PermissionDenied
        item = services.action_item_complete(item=item, by=request.user)
        return Response(self.get_serializer(item).data)
