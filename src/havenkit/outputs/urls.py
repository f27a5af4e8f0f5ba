from django.urls import path

from havenkit.outputs import views

app_name = "outputs"

urlpatterns = [
    path("projects/<int:project_id>/", views.project_requests, name="project_requests"),
    path("projects/<int:project_id>/new", views.new_request, name="new_request"),
    path("review/", views.review_queue, name="review_queue"),
    path("requests/<int:request_id>/", views.release_request_page, name="release_request"),
    path("requests/<int:request_id>/files/add", views.add_file, name="add_file"),
    path("requests/<int:request_id>/submit", views.submit, name="submit"),
    path("requests/<int:request_id>/withdraw", views.withdraw, name="withdraw"),
    path("requests/<int:request_id>/package.zip", views.download_package, name="download_package"),
    path(
        "requests/<int:request_id>/release-record.json",
        views.download_record,
        name="download_record",
    ),
    path("requests/<int:request_id>/files/<int:file_id>/", views.view_file, name="view_file"),
    path(
        "requests/<int:request_id>/files/<int:file_id>/review",
        views.review_file,
        name="review_file",
    ),
    path(
        "requests/<int:request_id>/files/<int:file_id>/justify",
        views.justify_file,
        name="justify_file",
    ),
    path(
        "requests/<int:request_id>/reviews/<int:review_id>/reply",
        views.reply_to_review,
        name="reply_to_review",
    ),
    path(
        "requests/<int:request_id>/files/<int:file_id>/image",
        views.view_image,
        name="view_image",
    ),
    path(
        "requests/<int:request_id>/files/<int:file_id>/remove",
        views.remove_file,
        name="remove_file",
    ),
    path(
        "requests/<int:request_id>/files/<int:file_id>/download",
        views.download_file,
        name="download_file",
    ),
]
