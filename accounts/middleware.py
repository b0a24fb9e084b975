import logging
import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext as _

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
        user = request.user
        zone = access.time_zone_for(user)
        # The person is loaded now: the view and the rules get the object itself instead of
        # its lazy proxy, through which every attribute read is a call (hundreds on a list).
        request.user = _loaded(user)
        if zone:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        return get_response(request)

    return middleware


def _loaded(user):
    if isinstance(user, SimpleLazyObject) and user._wrapped is not empty:
        return user._wrapped
    return user


# Session stamps, in seconds since the epoch (JSON-serializable, and moved by time_machine).
LOGIN_AT_KEY = "_session_login_at"
LAST_SEEN_KEY = "_session_last_seen"
# Activity is written back at most once a minute, so an ordinary request does not save the session.
ACTIVITY_RESOLUTION_SECONDS = 60

logger = logging.getLogger("accounts.sessions")


def session_timeouts(get_response):
    """Sign a session out after SESSION_IDLE_TIMEOUT without a request, and in any case
    SESSION_ABSOLUTE_TIMEOUT after sign-in (ASVS 7.3.1, 7.3.2).

    Pages then redirect to the sign-in page; the API, reached with the session cookie, answers
    401. A session signed in before these stamps existed (or by a test's force_login) counts
    from the user's last sign-in.
    """

    def middleware(request):
        user_before = request.session.get(SESSION_KEY)
        key_before = request.session.session_key
        if user_before is not None and request.user.is_authenticated:
            _enforce(request)
        response = get_response(request)
        user_after = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if user_after is not None and (user_after != user_before or request.session.session_key != key_before):
            # A sign-in happened in this request (Django cycles the session key on login).
            now = int(time.time())
            request.session[LOGIN_AT_KEY] = now
            request.session[LAST_SEEN_KEY] = now
        return response

    return middleware


def _enforce(request):
    now = time.time()
    session = request.session
    last_login = request.user.last_login.timestamp() if request.user.last_login else now
    login_at = session.get(LOGIN_AT_KEY, last_login)
    last_seen = session.get(LAST_SEEN_KEY, login_at)
    reason = None
    if now - login_at >= settings.SESSION_ABSOLUTE_TIMEOUT:
        reason = "absolute"
    elif now - last_seen >= settings.SESSION_IDLE_TIMEOUT:
        reason = "idle"
    if reason:
        logger.info("session ended (%s timeout) for user %s", reason, request.user.pk)
        logout(request)
        if not request.path_info.startswith("/api/"):
            text = (
                _("You were signed out after a period without activity. Please sign in again.")
                if reason == "idle"
                else _("Your session has reached its time limit. Please sign in again.")
            )
            messages.info(request, text, fail_silently=True)
        return
    if now - last_seen >= ACTIVITY_RESOLUTION_SECONDS:
        session[LAST_SEEN_KEY] = int(now)
