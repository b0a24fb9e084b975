from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts import access, services
from accounts.api.serializers import (
    InvitationSerializer,
    MembershipSerializer,
    MeSerializer,
    OrganizationSerializer,
)
from accounts.enums import InvitationStatus, OrganizationKind, Role
from accounts.models import Invitation, Membership, Organization
from config.filters import IdFilter, StrictFilterSet, TrueFalseFilter

ERRORS = {
    400: OpenApiResponse(description="Invalid input or a rule refused the change."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Signed in, but not allowed."),
    404: OpenApiResponse(description="Not found, or not visible to you."),
}


class OrganizationFilter(StrictFilterSet):
    kind = filters.ChoiceFilter(choices=OrganizationKind.choices)

    class Meta:
        model = Organization
        fields = ["kind"]


@extend_schema_view(
    list=extend_schema(responses={200: OrganizationSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: OrganizationSerializer, **ERRORS}),
)
class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter

    def get_queryset(self):
        return access.visible(self.request.user, Organization).order_by("name", "pk")


class MembershipFilter(StrictFilterSet):
    # By id, not a model choice: an id outside one's scope filters to nothing (no 400
    # that would tell whether it exists).
    organization = IdFilter(field_name="organization_id")
    role = filters.ChoiceFilter(choices=Role.choices)
    is_active = TrueFalseFilter()

    class Meta:
        model = Membership
        fields = ["organization", "role", "is_active"]


class InvitationFilter(StrictFilterSet):
    organization = IdFilter(field_name="organization_id")
    status = filters.ChoiceFilter(choices=InvitationStatus.choices)

    class Meta:
        model = Invitation
        fields = ["organization", "status"]


@extend_schema_view(
    list=extend_schema(responses={200: MembershipSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: MembershipSerializer, **ERRORS}),
)
class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter

    def get_queryset(self):
        return access.visible(self.request.user, Membership).order_by("organization__name", "role", "pk")

    def _set_active(self, active):
        membership = self.get_object()
        if not access.can_change_membership(self.request.user, membership):
            raise PermissionDenied
        membership = services.membership_set_active(membership=membership, active=active, by=self.request.user)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={200: MembershipSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._set_active(False)

    @extend_schema(request=None, responses={200: MembershipSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._set_active(True)


@extend_schema_view(
    list=extend_schema(responses={200: InvitationSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: InvitationSerializer, **ERRORS}),
    create=extend_schema(responses={201: InvitationSerializer, **ERRORS}),
)
class InvitationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = r"[0-9]+"
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter

    def get_queryset(self):
        return access.visible(self.request.user, Invitation).order_by("-created_at", "-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not access.can_manage_organization(request.user, serializer.validated_data["organization"]):
            raise PermissionDenied
        invitation, _token = services.invitation_create(
            organization=serializer.validated_data["organization"],
            email=serializer.validated_data["email"],
            role=serializer.validated_data["role"],
            by=request.user,
        )
        return Response(InvitationSerializer(invitation, context={"request": request}).data, status=201)

    @extend_schema(request=None, responses={200: InvitationSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        invitation = self.get_object()
        if not access.can_revoke_invitation(request.user, invitation):
            raise PermissionDenied
        invitation = services.invitation_revoke(invitation=invitation, by=request.user)
        return Response(InvitationSerializer(invitation, context={"request": request}).data)


class MeView(GenericAPIView):
    """The signed-in person and their memberships."""

    serializer_class = MeSerializer
    pagination_class = None

    @extend_schema(responses={200: MeSerializer, 401: ERRORS[401]})
    def get(self, request):
        return Response(MeSerializer(request.user).data, status=status.HTTP_200_OK)
