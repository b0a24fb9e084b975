from django.urls import path

from internships import views

app_name = "internships"

urlpatterns = [
    # Postings and applying.
    path("postings/", views.posting_list, name="posting_list"),
    path("postings/new/", views.posting_create, name="posting_create"),
    path("postings/<int:pk>/", views.posting_detail, name="posting_detail"),
    path("postings/<int:pk>/edit/", views.posting_edit, name="posting_edit"),
    path("postings/<int:pk>/publish/", views.posting_publish, name="posting_publish"),
    path("postings/<int:pk>/close/", views.posting_close, name="posting_close"),
    path("postings/<int:pk>/apply/", views.application_create, name="application_create"),
    # Applications and the review pipeline.
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path("applications/<int:pk>/review/", views.application_review, name="application_review"),
    path("applications/<int:pk>/interview/", views.application_interview, name="application_interview"),
    path("applications/<int:pk>/offer/", views.application_offer, name="application_offer"),
    path("applications/<int:pk>/reject/", views.application_reject, name="application_reject"),
    path("applications/<int:pk>/accept/", views.application_accept, name="application_accept"),
    path("applications/<int:pk>/decline/", views.application_decline, name="application_decline"),
    path("applications/<int:pk>/resume/", views.application_resume, name="application_resume"),
    # Placements, consent, hours, check-ins, completion.
    path("placements/", views.placement_list, name="placement_list"),
    path("placements/<int:pk>/", views.placement_detail, name="placement_detail"),
    path("placements/<int:pk>/mentor/", views.placement_mentor, name="placement_mentor"),
    path("placements/<int:pk>/activate/", views.placement_activate, name="placement_activate"),
    path("placements/<int:pk>/suspend/", views.placement_suspend, name="placement_suspend"),
    path("placements/<int:pk>/resume/", views.placement_resume, name="placement_resume"),
    path("placements/<int:pk>/end/", views.placement_end, name="placement_end"),
    path("placements/<int:pk>/guardian/", views.consent_name_guardian, name="consent_name_guardian"),
    path("placements/<int:pk>/consent/paper/", views.consent_paper, name="consent_paper"),
    path("placements/<int:pk>/consent/new/", views.consent_request_again, name="consent_request_again"),
    path("placements/<int:pk>/hours/", views.hours_log, name="hours_log"),
    path("placements/<int:pk>/evaluation/", views.evaluation_submit, name="evaluation_submit"),
    path("consents/<int:pk>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("consents/<int:pk>/scan/", views.consent_scan, name="consent_scan"),
    path("hours/<int:pk>/edit/", views.hours_correct, name="hours_correct"),
    path("hours/<int:pk>/approve/", views.hours_approve, name="hours_approve"),
    path("hours/<int:pk>/return/", views.hours_return, name="hours_return"),
    path("check-ins/<int:pk>/", views.check_in_record, name="check_in_record"),
    # Mentors' clearances and the record of reads of student records.
    path("clearances/", views.clearance_list, name="clearance_list"),
    path("clearances/kinds/new/", views.clearance_kind_create, name="clearance_kind_create"),
    path("clearances/new/", views.clearance_create, name="clearance_create"),
    path("record-accesses/", views.record_access_list, name="record_access_list"),
    # The guardian's single-use link (no account): the token leaves the URL at once.
    path("consent/<str:token>/", views.consent_open, name="consent_open"),
    path("consent/", views.consent_respond, name="consent_respond"),
]
