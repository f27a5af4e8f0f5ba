"""The public catalogue, mounted at /catalogue/ and open without signing in."""

from django.urls import path

from havenkit.data import catalogue_views

app_name = "catalogue"

urlpatterns = [
    path("", catalogue_views.catalogue_list, name="list"),
    path("<int:dataset_id>/", catalogue_views.dataset_detail, name="dataset"),
    path("dcat.jsonld", catalogue_views.catalogue_dcat, name="dcat"),
]
