from programs.api import views


def register(router):
    router.register("programs", views.ProgramViewSet, basename="program")
    router.register("sessions", views.SessionViewSet, basename="session")
    router.register("bookings", views.BookingViewSet, basename="booking")
    router.register("session-requests", views.SessionRequestViewSet, basename="session-request")
    router.register("terms", views.TermViewSet, basename="term")
    router.register("blackouts", views.BlackoutViewSet, basename="blackout")
