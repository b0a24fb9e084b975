"""The frame of /api/v1/: one router, page-number pagination, JSON errors."""

import functools
import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from accounts import access
from accounts.errors import DomainError
from config import compiled, tablecache

logger = logging.getLogger(__name__)


class CountingPaginator(DjangoPaginator):
    """Django's paginator, counting ``counted`` when it is given: the same rows without the joins
    that only name things on the page."""

    def __init__(self, object_list, per_page, *, counted=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.counted = counted

    @cached_property
    def count(self):
        return self.counted.count() if self.counted is not None else super().count


class Pagination(PageNumberPagination):
    """Page-number pagination on every list; a malformed page size is a 400, not ignored.

    A view may count its list apart (``counted(queryset)``, the same rows): a page that names the
    session, workshop, school and booker of each booking joins four tables, which change no count
    but which PostgreSQL joins all the same to count every booking of a school (bench/hotspots.py)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        counted = view.counted(queryset) if hasattr(view, "counted") and isinstance(queryset, QuerySet) else None
        self.django_paginator_class = functools.partial(CountingPaginator, counted=counted)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.getlist(self.page_size_query_param)
        if not raw:
            return self.page_size
        try:
            size = int(raw[-1])
        except ValueError:
            raise exceptions.ValidationError({"page_size": ["A whole number is required."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError({"page_size": [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def get_page_number(self, request, paginator):
        raw = request.query_params.getlist(self.page_query_param)
        if not raw:
            return 1
        if raw[-1] in self.last_page_strings:
            return raw[-1]
        try:
            number = int(raw[-1])
        except ValueError:
            raise exceptions.ValidationError({"page": ["A whole number is required."]}) from None
        if number < 1:
            raise exceptions.ValidationError({"page": ["Pages start at 1."]})
        return number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if parameter["name"] == self.page_query_param:
                parameter["schema"].update({"minimum": 1})
        return parameters


# The query parameters of a list that filter nothing.
PAGING = frozenset({"page", "page_size"})


def kept_rows(view) -> compiled.KeptRows | None:
    """For a list asked for without filters, its rows read with SQL kept per shape of reader
    (``view.kept_list``, ``config.compiled``); None otherwise, and the list is read the ordinary
    way."""
    kept = getattr(view, "kept_list", None)
    if kept is None or view.action != "list" or not PAGING.issuperset(view.request.query_params):
        return None
    if getattr(getattr(view.request, "accepted_renderer", None), "format", "json") != "json":
        return None  # the browsable API builds its filter form from the view's queryset
    return kept.for_reader(view.request.user)


class KeptPages:
    """A list whose pages are kept in the table cache (``config.tablecache``) for each reader: a
    page asked for again, by the same person with the same query, before any table it read has
    been written is answered from the cache (the whole page, its count and links).

    The key is the page's absolute URL (page and size; the host, which the links name) and
    ``access.viewer_key`` (the person, their memberships and roles, language, time zone and day);
    its tables are those the page's queries read, so a booking, a capacity changed or a membership
    ended anywhere renews the pages that read them. Only pages asked for without filters are kept
    (the page and its size may be chosen), so the entries one reader can make are bounded by their
    own rows, not by the values they can type into a filter. Only for lists whose rows do not
    depend on the time of day (a filter by "now" would need the moment it changes) and that log
    nothing per read: a list of students' records writes the record of reads on every answer and
    is never kept."""

    def list(self, request, *args, **kwargs):
        if not PAGING.issuperset(request.query_params):
            return super().list(request, *args, **kwargs)  # filtered: each value would be an entry
        key = ("api page", type(self).__qualname__, request.build_absolute_uri(), *access.viewer_key(request.user))
        return Response(tablecache.cached(key, lambda: super(KeptPages, self).list(request, *args, **kwargs).data))


def exception_handler(exc, context):
    """Every error of the API is JSON: field errors for bad input, never a 500 for it."""
    if isinstance(exc, DomainError):
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "The request body is too large."}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        return Response({"detail": "The request has too many fields."}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


router = DefaultRouter()
router.include_root_view = False


def error_responses(*codes: int) -> dict:
    """drf-spectacular responses for the error statuses an operation may answer."""
    from drf_spectacular.utils import OpenApiResponse  # noqa: PLC0415 -- schema-only dependency

    descriptions = {
        400: "Invalid input, or a rule refused the change (field errors or detail).",
        401: "Not signed in.",
        403: "Signed in, but not allowed.",
        404: "Not found, or not visible to you.",
        409: "Conflicts with the current state.",
    }
    return {code: OpenApiResponse(description=descriptions[code]) for code in codes}
