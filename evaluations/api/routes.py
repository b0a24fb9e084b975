from evaluations.api import views


def register(router):
    router.register("metrics", views.MetricViewSet, basename="metric")
    router.register("targets", views.TargetViewSet, basename="target")
    router.register("measurements", views.MeasurementViewSet, basename="measurement")
    router.register("surveys", views.SurveyViewSet, basename="survey")
    router.register("survey-templates", views.SurveyTemplateViewSet, basename="survey-template")
