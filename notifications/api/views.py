from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets

from accounts import access
from config.filters import StrictFilterSet
from notifications.api.serializers import OutboundMessageSerializer
from notifications.enums import MessageStatus
from notifications.models import OutboundMessage
from notifications.selectors import recent_messages


class NotificationFilter(StrictFilterSet):
    status = filters.ChoiceFilter(choices=MessageStatus.choices)

    class Meta:
        model = OutboundMessage
        fields = ["status"]


ERRORS = {
    400: OpenApiResponse(description="Invalid filter or page."),
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
    filterset_class = NotificationFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        user = self.request.user
        return recent_messages(access.visible(user, OutboundMessage).filter(user_id=user.pk))
