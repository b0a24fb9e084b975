from django.urls import path

from evaluations import respond, views

app_name = "evaluations"

urlpatterns = [
    path("evaluations/", views.index, name="index"),
    # One agreement: targets with progress, manual metrics, measurements, the report.
    path("agreements/<int:pk>/evaluation/", views.agreement_home, name="agreement_home"),
    path("agreements/<int:pk>/evaluation/targets/new/", views.target_create, name="target_create"),
    path("agreements/<int:pk>/evaluation/metrics/new/", views.metric_create, name="metric_create"),
    path("agreements/<int:pk>/evaluation/measurements/", views.measurement_list, name="measurement_list"),
    path("agreements/<int:pk>/evaluation/measurements/new/", views.measurement_create, name="measurement_create"),
    path("agreements/<int:pk>/report/", views.report_page, name="report"),
    path("agreements/<int:pk>/report.csv", views.report_csv, name="report_csv"),
    path("evaluations/targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("evaluations/targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("evaluations/measurements/<int:pk>/edit/", views.measurement_edit, name="measurement_edit"),
    path("evaluations/measurements/<int:pk>/approve/", views.measurement_approve, name="measurement_approve"),
    # Surveys: results, closing, the teacher's class links and consent, the school's text review.
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/results.csv", views.survey_csv, name="survey_csv"),
    path("surveys/<int:pk>/close/", views.survey_close, name="survey_close"),
    path("surveys/<int:pk>/classes/<int:booking_pk>/links/", views.distribution, name="distribution"),
    path("surveys/<int:pk>/classes/<int:booking_pk>/consent/", views.group_consent, name="group_consent"),
    path("surveys/reviews/", views.review_list, name="review_list"),
    path("surveys/reviews/<uuid:pk>/", views.review_answer, name="review_answer"),
    # The respondent's single-use link (no account): the token leaves the URL at once.
    path("surveys/r/<str:token>/", respond.survey_open, name="survey_open"),
    path("surveys/respond/", respond.survey_respond, name="survey_respond"),
]
