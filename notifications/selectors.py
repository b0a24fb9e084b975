from django.db.models import QuerySet

from notifications.models import OutboundMessage


def recent_messages(scope: QuerySet[OutboundMessage]) -> QuerySet[OutboundMessage]:
    """Newest first, without the bodies (they may hold one-time links)."""
    return scope.defer("body_text", "body_html", "ics_content").order_by("-created_at", "-pk")
