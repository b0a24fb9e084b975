"""The product's URLs plus the ceiling: a bare DRF endpoint the load test compares against."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from config.urls import urlpatterns as product_urlpatterns


class Ceiling(APIView):
    """A small JSON after one indexed query, behind the project's own authentication and
    middleware: what the framework costs before any of our code runs."""

    def get(self, request):
        organization = Organization.objects.filter(pk=request.query_params.get("pk", 1)).values("id", "name").first()
        return Response({"organization": organization})


urlpatterns = [path("bench/ceiling/", Ceiling.as_view(), name="bench-ceiling"), *product_urlpatterns]
