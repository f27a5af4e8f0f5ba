"""The root urls plus the application pages, until the root urlconf includes them."""

from django.urls import include, path

from havenkit.urls import handler403
from havenkit.urls import urlpatterns as root_urlpatterns

urlpatterns = [
    *root_urlpatterns,
    path("applications/", include("havenkit.projects.application_urls")),
]

__all__ = ["handler403", "urlpatterns"]
