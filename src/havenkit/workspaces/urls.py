"""The workspace pages, under ``projects/``."""

from django.urls import path

from havenkit.workspaces import views

app_name = "workspaces"

urlpatterns = [
    path("<int:project_id>/", views.workspace, name="workspace"),
    path("<int:project_id>/code/<int:code_file_id>/", views.code_file, name="code_file"),
    path("<int:project_id>/code/<int:code_file_id>/run", views.run_job, name="run_job"),
    path(
        "<int:project_id>/code/<int:code_file_id>/versions/<int:number>/",
        views.code_version,
        name="code_version",
    ),
    path("<int:project_id>/jobs/<int:job_id>/", views.job, name="job"),
    path("<int:project_id>/jobs/<int:job_id>/status", views.job_status, name="job_status"),
    path("<int:project_id>/jobs/<int:job_id>/cancel", views.cancel_job, name="cancel_job"),
    path("<int:project_id>/jobs/<int:job_id>/run-again", views.run_again, name="run_again"),
]
