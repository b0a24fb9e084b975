from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import access
from notifications.models import OutboundMessage
from notifications.selectors import recent_messages


@require_GET
def message_list(request):
    scope = access.visible(request.user, OutboundMessage).filter(user=request.user)
    page = Paginator(recent_messages(scope), 25).get_page(request.GET.get("page"))
    return render(request, "notifications/message_list.html", {"page": page})
