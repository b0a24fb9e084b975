from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts import access, services
from accounts.api.serializers import (
    InvitationSerializer,
    MembershipSerializer,
    MeSerializer,
    OrganizationSerializer,
)
from accounts.enums import OrganizationKind, Role
from accounts.models import Invitation, Membership, Organization

ERRORS = {
    400: OpenApiResponse(description="Invalid input or a rule refused the change."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Signed in, but not allowed."),
    404: OpenApiResponse(description="Not found, or not visible to you."),
}


class OrganizationFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=OrganizationKind.choices)

    class Meta:
        model = Organization
        fields = ["kind"]


@extend_schema_view(
    list=extend_schema(responses={200: OrganizationSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: OrganizationSerializer, **ERRORS}),
)
class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter

    def get_queryset(self):
        return access.visible(self.request.user, Organization).order_by("name", "pk")


class MembershipFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["organization", "role", "is_active"]


@extend_schema_view(
    list=extend_schema(responses={200: MembershipSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: MembershipSerializer, **ERRORS}),
)
class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter

    def get_queryset(self):
        return access.visible(self.request.user, Membership).order_by("organization__name", "role", "pk")

    def _set_active(self, active):
        membership = services.membership_set_active(
            membership=self.get_object(), active=active, by=self.request.user
        )
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
    serializer_class = InvitationSerializer
    filterset_fields = ["organization", "status"]

    def get_queryset(self):
        return access.visible(self.request.user, Invitation).order_by("-created_at", "-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
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
        invitation = services.invitation_revoke(invitation=self.get_object(), by=request.user)
        return Response(InvitationSerializer(invitation, context={"request": request}).data)


class MeView(GenericAPIView):
    """The signed-in person and their memberships."""

    serializer_class = MeSerializer
    pagination_class = None

    @extend_schema(responses={200: MeSerializer, 401: ERRORS[401]})
    def get(self, request):
        return Response(MeSerializer(request.user).data, status=status.HTTP_200_OK)
