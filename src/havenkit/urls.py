"""The portal's URL map: one include per app, and the typed API under /api/."""

from django.urls import include, path

from havenkit.api import api

urlpatterns = [
    path("", include("havenkit.core.urls")),
    path("", include("havenkit.people.urls")),
    path("register/", include("havenkit.projects.urls")),
    path("applications/", include("havenkit.projects.application_urls")),
    path("projects/", include("havenkit.workspaces.urls")),
    path("outputs/", include("havenkit.outputs.urls")),
    path("data/", include("havenkit.data.urls")),
    path("catalogue/", include("havenkit.data.catalogue_urls")),
    path("api/", api.urls),
]

handler403 = "havenkit.core.views.permission_denied"
