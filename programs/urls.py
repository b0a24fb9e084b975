from django.urls import path

from programs import views

app_name = "programs"

urlpatterns = [
    path("workshops/", views.catalog, name="catalog"),
    path("workshops/new/", views.program_create, name="program_create"),
    path("workshops/<int:pk>/", views.program_detail, name="program_detail"),
    path("workshops/<int:pk>/schedule/", views.session_create, name="session_create"),
    path("workshops/<int:pk>/request/", views.request_create, name="request_create"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/book/", views.session_book, name="session_book"),
    path("sessions/<int:pk>/reschedule/", views.session_reschedule, name="session_reschedule"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/capacity/", views.session_capacity, name="session_capacity"),
    path("sessions/<int:pk>/attendance/", views.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/invite.ics", views.session_ics, name="session_ics"),
    path("bookings/", views.booking_list, name="booking_list"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("session-requests/", views.request_list, name="request_list"),
    path("session-requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("session-requests/<int:pk>/schedule/", views.request_schedule, name="request_schedule"),
    path("session-requests/<int:pk>/decline/", views.request_decline, name="request_decline"),
    path("calendar/", views.calendar_month, name="calendar"),
    path("calendar/feed/", views.feed_settings, name="feed_settings"),
    path("calendar/feed/<str:token>.ics", views.feed, name="feed"),
    path("organizations/<int:pk>/calendar/", views.calendar_manage, name="calendar_manage"),
    path("organizations/<int:pk>/calendar/<slug:kind>/add/", views.calendar_entry_add, name="calendar_entry_add"),
    path(
        "organizations/<int:pk>/calendar/<slug:kind>/<int:entry_pk>/remove/",
        views.calendar_entry_remove,
        name="calendar_entry_remove",
    ),
    path("organizations/<int:pk>/calendar/import/", views.calendar_import, name="calendar_import"),
]
