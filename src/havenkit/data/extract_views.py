"""Pages where a data steward builds a project's extract and reads its disclosure-risk report."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from havenkit.core import permissions
from havenkit.data import catalogue, services
from havenkit.data.forms import ExtractForm
from havenkit.data.models import Dataset, DatasetVersion, Extract
from havenkit.projects import services as projects
from havenkit.projects.models import Project


def extract_projects(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "build_extract")
    rows = [
        (project, services.current_extract(project))
        for project in projects.registered_projects()
        if project.is_active
    ]
    return render(request, "data/extract_projects.html", {"rows": rows})


def _dataset_version(request: HttpRequest, current: Extract | None) -> DatasetVersion | None:
    """The version whose variables the form offers: asked for, else the current extract's."""
    chosen = request.GET.get("dataset_version") or request.POST.get("dataset_version")
    if chosen:
        return get_object_or_404(DatasetVersion, pk=chosen, withdrawn_at__isnull=True)
    if current is not None and current.dataset_version.withdrawn_at is None:
        return current.dataset_version
    return None


def project_extract(request: HttpRequest, project_id: int) -> HttpResponse:
    permissions.check(request.user, "build_extract")
    project = get_object_or_404(Project, pk=project_id)
    current = services.current_extract(project)
    dataset_version = _dataset_version(request, current)
    form = None
    if dataset_version is not None:
        variables = list(dataset_version.variables.all())
        form = ExtractForm(request.POST or None, variables=variables)
        if request.method == "POST" and form.is_valid():
            try:
                extract = services.build_pseudonymised_extract(
                    project,
                    dataset_version,
                    form.cleaned_data["variables"],
                    request.user,
                    generalisations=form.cleaned_data["generalisations"],
                    k_threshold=form.cleaned_data["k_threshold"],
                )
            except services.ExtractRequestError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Extract {extract.version} built.")
                return HttpResponseRedirect(reverse("data:project_extract", args=[project.pk]))
    versions = [
        version
        for dataset in Dataset.objects.all()
        if (version := catalogue.current_version(dataset)) is not None
    ]
    return render(
        request,
        "data/project_extract.html",
        {
            "project": project,
            "current": current,
            "dataset_version": dataset_version,
            "versions": versions,
            "form": form,
        },
    )


@require_POST
def rebuild_extract(request: HttpRequest, project_id: int) -> HttpResponse:
    permissions.check(request.user, "build_extract")
    project = get_object_or_404(Project, pk=project_id)
    current = services.current_extract(project)
    if current is None:
        messages.error(request, "This project has no extract to rebuild yet.")
    else:
        try:
            extract = services.rebuild_extract(current, request.user)
        except services.ExtractRequestError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Extract {extract.version} rebuilt from its recipe.")
    return HttpResponseRedirect(reverse("data:project_extract", args=[project.pk]))
