"""Signed-in pages for safe projects, included at ``applications/`` by the root urls."""

from django.urls import path

from havenkit.projects import application_views as views
from havenkit.projects import membership_views, report_views

app_name = "applications"

urlpatterns = [
    path("", views.index, name="index"),
    path("new", views.start, name="start"),
    path("<int:project_id>/", views.detail, name="detail"),
    path("<int:project_id>/step/<int:number>/", views.step, name="step"),
    path("<int:project_id>/check/", views.check, name="check"),
    path("<int:project_id>/submit", views.submit, name="submit"),
    path("<int:project_id>/questions/<int:question_id>/answer", views.answer, name="answer"),
    path("<int:project_id>/decide", views.decide, name="decide"),
    path("<int:project_id>/return", views.return_application, name="return"),
    path("<int:project_id>/panel", views.assign_panel, name="assign_panel"),
    path("<int:project_id>/vote", views.vote, name="vote"),
    path("<int:project_id>/outcome", views.outcome, name="outcome"),
    path("<int:project_id>/activate", views.activate, name="activate"),
    path("<int:project_id>/begin-closing", views.begin_closing, name="begin_closing"),
    path("<int:project_id>/close", views.close, name="close"),
    path("reports/access/", report_views.access_report, name="access_report"),
    path("reports/haven/", report_views.haven_report, name="haven_report"),
    path("projects/<int:project_id>/members/", membership_views.members, name="members"),
    path(
        "membership-requests/",
        membership_views.membership_requests,
        name="membership_requests",
    ),
    path(
        "membership-requests/<int:request_id>/decide",
        membership_views.decide,
        name="decide_membership",
    ),
]
