"""The public data catalogue: open to everyone, showing descriptions and rounded counts only."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from havenkit.data import catalogue
from havenkit.data.forms import CatalogueSearchForm
from havenkit.data.models import Dataset


def catalogue_list(request: HttpRequest) -> HttpResponse:
    form = CatalogueSearchForm(request.GET or None, classifications=catalogue.classifications())
    query = classification = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        classification = form.cleaned_data["classification"]
    datasets = catalogue.search_datasets(query, classification)
    return render(
        request,
        "data/catalogue.html",
        {"form": form, "datasets": datasets, "query": query, "searched": bool(request.GET)},
    )


def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=dataset_id)
    version = catalogue.current_version(dataset)
    return render(
        request,
        "data/dataset.html",
        {"dataset": dataset, "version": version, "tables": catalogue.public_tables(version)},
    )


def catalogue_dcat(request: HttpRequest) -> JsonResponse:
    """The whole catalogue as DCAT JSON-LD, for other catalogues (HDR UK Gateway) to harvest."""
    document = catalogue.dcat_catalogue(
        Dataset.objects.all(),
        request.build_absolute_uri(reverse("catalogue:list")),
        lambda dataset: request.build_absolute_uri(reverse("catalogue:dataset", args=[dataset.pk])),
    )
    return JsonResponse(document, content_type="application/ld+json")
