import zoneinfo

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.utils import timezone

from accounts import access


class login_required_by_default(LoginRequiredMiddleware):
    """Every page needs a signed-in user unless its view says @login_not_required.

    The API answers 401/403 in JSON on its own, and the admin keeps its own login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(("/api/", "/admin/")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def organization_time_zone(get_response):
    """Show times in the time zone of the signed-in person's organization."""

    def middleware(request):
        zone = access.time_zone_for(request.user)
        if zone:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware
