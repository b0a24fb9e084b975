"""The product's URLs plus two references the load test compares against: the ceiling, a bare
DRF endpoint, and the list floor, the least a paginated DRF list of 25 rows costs here."""

from django.urls import path
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from config.api import Pagination
from config.urls import urlpatterns as product_urlpatterns
from programs.models import Session


class Ceiling(APIView):
    """A small JSON after one indexed query, behind the project's own authentication and
    middleware: what the framework costs before any of our code runs."""

    def get(self, request):
        organization = Organization.objects.filter(pk=request.query_params.get("pk", 1)).values("id", "name").first()
        return Response({"organization": organization})


class PlainSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = [
            "id",
            "program",
            "starts_at",
            "ends_at",
            "location_kind",
            "school",
            "venue",
            "capacity_seats",
            "confirmed_seats",
            "booking_cutoff_hours",
            "waitlist_enabled",
            "status",
            "cancel_reason",
            "facilitator_notes",
            "ical_sequence",
        ]


class ListFloor(generics.ListAPIView):
    """The sessions of one program, 25 to a page with the project's pagination (a count and a
    page, both on an index), through a plain ModelSerializer of the session's own columns: no
    scope, no related rows, no annotations. What DRF and the ORM cost for a list before any
    access rule or related field of ours."""

    serializer_class = PlainSessionSerializer
    pagination_class = Pagination
    filter_backends = []

    def get_queryset(self):
        program = self.request.query_params.get("program", 1)
        return Session.objects.filter(program_id=program).order_by("starts_at", "pk")


urlpatterns = [
    path("bench/ceiling/", Ceiling.as_view(), name="bench-ceiling"),
    path("bench/list-floor/", ListFloor.as_view(), name="bench-list-floor"),
    *product_urlpatterns,
]
