from partnerships.api import views


def register(router):
    router.register("agreements", views.AgreementViewSet, basename="agreement")
    router.register("agreement-parties", views.PartyViewSet, basename="agreement-party")
    router.register("objectives", views.ObjectiveViewSet, basename="objective")
    router.register("responsibilities", views.ResponsibilityViewSet, basename="responsibility")
    router.register("funding-commitments", views.FundingViewSet, basename="funding-commitment")
    router.register("data-sharing-terms", views.DataTermViewSet, basename="data-sharing-term")
    router.register("signatures", views.SignatureViewSet, basename="signature")
    router.register("meetings", views.MeetingViewSet, basename="meeting")
    router.register("action-items", views.ActionItemViewSet, basename="action-item")
