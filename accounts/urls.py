from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/invite/", views.invitation_create, name="invitation_create"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/", views.invitation_open, name="invitation_open"),
    path(
        "memberships/<int:pk>/deactivate/",
        views.membership_set_active,
        {"active": False},
        name="membership_deactivate",
    ),
    path(
        "memberships/<int:pk>/reactivate/",
        views.membership_set_active,
        {"active": True},
        name="membership_reactivate",
    ),
]
