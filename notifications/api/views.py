from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts import access
from notifications.api.serializers import OutboundMessageSerializer
from notifications.models import OutboundMessage
from notifications.selectors import recent_messages

ERRORS = {
    401: OpenApiResponse(description="Not signed in."),
    404: OpenApiResponse(description="Not found, or not yours."),
}


@extend_schema_view(
    list=extend_schema(responses={200: OutboundMessageSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: OutboundMessageSerializer, **ERRORS}),
)
class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The emails the system sent you, newest first."""

    serializer_class = OutboundMessageSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        user = self.request.user
        return recent_messages(access.visible(user, OutboundMessage).filter(user=user))
