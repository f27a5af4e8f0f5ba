"""Pages of the data app for signed-in stewards and approvers, mounted at /data/."""

from django.urls import path

from havenkit.data import extract_views, import_views, views

app_name = "data"

urlpatterns = [
    path("ingress/", views.ingress_list, name="ingress"),
    path("ingress/new/", views.ingress_new, name="ingress_new"),
    path("ingress/<int:upload_id>/", views.ingress_upload, name="ingress_upload"),
    path("ingress/<int:upload_id>/problems.csv", views.ingress_problems, name="ingress_problems"),
    path("ingress/<int:upload_id>/review/", views.ingress_review, name="ingress_review"),
    path(
        "projects/<int:project_id>/imports/",
        import_views.project_imports,
        name="project_imports",
    ),
    path("imports/<int:import_id>/", import_views.project_import, name="project_import"),
    path(
        "imports/<int:import_id>/review/",
        import_views.review_project_import,
        name="review_project_import",
    ),
    path(
        "versions/<int:version_id>/withdraw/",
        views.withdraw_dataset_version,
        name="withdraw_dataset_version",
    ),
    path("extracts/", extract_views.extract_projects, name="extracts"),
    path("extracts/<int:project_id>/", extract_views.project_extract, name="project_extract"),
    path(
        "extracts/<int:project_id>/rebuild/",
        extract_views.rebuild_extract,
        name="rebuild_extract",
    ),
]
