"""Refuse malformed requests before any view sees them: a clear 400 or 413, never a 500.

Django decodes bad UTF-8 into U+FFFD and lets NUL characters through to the views, where
PostgreSQL refuses them ("A string literal cannot contain NUL"), and it only enforces the body
limits when something reads the body: a view that never reads it would act on a 3 MB or a
1,001-field request. So the address, the query and any form body are checked here, once.
"""

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _

from config.parsers import json_problem

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refusal(request, message: str, status: int):
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "400.html", {"message": message, "status": status}, status=status)


def _is_clean_text(raw: bytes) -> bool:
    """Valid UTF-8 (no lone surrogates, which UTF-8 cannot carry) and no NUL."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def _query_is_clean(query_string: str) -> bool:
    return _is_clean_text(unquote_to_bytes(query_string.replace("+", " ")))


def _body_problem(request) -> tuple[str, int] | None:
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _("The request has a malformed Content-Length."), 400
    limit = (
        settings.REQUEST_MAX_BODY_BYTES
        if content_type.startswith("multipart/")
        else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    if length > limit:
        return _("The request is too large (at most %(mb)s MB).") % {"mb": round(limit / 1024 / 1024, 1)}, 413
    if content_type.startswith("application/json"):
        # The API's parser checks the same (config.parsers.JSONParser); this also covers the
        # operations that take no body and never parse one.
        problem = json_problem(request.body) if request.body.strip() else None
        return (problem, 400) if problem else None
    if not content_type.startswith(FORM_TYPES):
        return None
    urlencoded = content_type.startswith("application/x-www-form-urlencoded")
    try:
        if urlencoded and not _is_clean_text(unquote_to_bytes(request.body.replace(b"+", b" "))):
            return _("The form contains characters that are not allowed."), 400
        # Django parses a form body only for POST; PUT, PATCH and DELETE are parsed the same way.
        form = request.POST if request.method == "POST" or not urlencoded else QueryDict(request.body)
        values = [value for key in form for value in [key, *form.getlist(key)]]
    except RequestDataTooBig:
        return _("The request is too large."), 413
    except (TooManyFieldsSent, TooManyFilesSent):
        return _("The request has too many fields."), 400
    names = [upload.name for key in request.FILES for upload in request.FILES.getlist(key)]
    if any("\x00" in value for value in values + names):
        return _("The form contains characters that are not allowed."), 400
    return None


def reject_malformed_input(get_response):
    def middleware(request):
        if "\x00" in request.path_info or not _query_is_clean(request.META.get("QUERY_STRING", "")):
            return _refusal(request, _("The address contains characters that are not allowed."), 400)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and (problem := _body_problem(request)):
            return _refusal(request, *problem)
        return get_response(request)

    return middleware
