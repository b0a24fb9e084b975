from django.urls import path

from partnerships import views

app_name = "partnerships"

urlpatterns = [
    path("agreements/", views.agreement_list, name="agreement_list"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<int:pk>/versions/", views.agreement_versions, name="agreement_versions"),
    path("agreements/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("agreements/<int:pk>/meetings/", views.meeting_create, name="meeting_create"),
    path("agreements/<int:pk>/action-items/", views.action_item_create, name="action_item_create"),
    path(
        "agreements/<int:pk>/<slug:kind>/add/",
        views.item_add,
        name="item_add",
    ),
    path("agreements/<int:pk>/<slug:kind>/<int:item_pk>/remove/", views.item_remove, name="item_remove"),
    path(
        "agreements/<int:pk>/do/<slug:action>/",
        views.agreement_action,
        name="agreement_action",
    ),
    path("agreement-documents/<int:pk>/", views.document_download, name="document_download"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("action-items/<int:pk>/done/", views.action_item_complete, name="action_item_complete"),
]
