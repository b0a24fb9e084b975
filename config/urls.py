from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from accounts.api.views import InvitationViewSet, MembershipViewSet, MeView, OrganizationViewSet
from config.api import router
from config.plugins import app_modules
from notifications.api.views import NotificationViewSet

router.register("organizations", OrganizationViewSet, basename="organization")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("notifications", NotificationViewSet, basename="notification")

# The domain apps plug in their pages (<app>/urls.py) and API (<app>/api/routes.py:
# register(router)).
for routes in app_modules("api.routes"):
    routes.register(router)

api_v1 = [
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]


urlpatterns = [
    path("", account_views.landing, name="landing"),
    path("home/", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    # The language switch of the public token pages: a guardian or a respondent has no account.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    *[path("", include(urls)) for urls in app_modules("urls")],
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
