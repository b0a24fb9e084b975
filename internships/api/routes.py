from internships.api import views


def register(router):
    router.register("postings", views.PostingViewSet, basename="posting")
    router.register("applications", views.ApplicationViewSet, basename="application")
    router.register("interviews", views.InterviewViewSet, basename="interview")
    router.register("offers", views.OfferViewSet, basename="offer")
    router.register("consents", views.ConsentViewSet, basename="consent")
    router.register("placements", views.PlacementViewSet, basename="placement")
    router.register("clearance-kinds", views.ClearanceKindViewSet, basename="clearance-kind")
    router.register("clearances", views.ClearanceViewSet, basename="clearance")
    router.register("hours", views.HoursViewSet, basename="hours")
    router.register("check-ins", views.CheckInViewSet, basename="check-in")
    router.register("record-accesses", views.RecordAccessViewSet, basename="record-access")
