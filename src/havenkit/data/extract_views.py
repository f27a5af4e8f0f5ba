"""Pages where a data steward builds a project's extract and reads its disclosure-risk report."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from havenkit.core import permissions
from havenkit.data import catalogue, services
from havenkit.data.forms import ExtractForm
from havenkit.data.models import Dataset, DatasetVersion, Extract, Variable
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


def _dataset_versions(request: HttpRequest, current: Extract | None) -> list[DatasetVersion]:
    """The versions whose variables the form offers: those asked for, else the current
    extract's sources that are not withdrawn. Several versions are linked on CHI."""
    chosen = request.GET.getlist("dataset_version") or request.POST.getlist("dataset_version")
    if chosen:
        return [
            get_object_or_404(DatasetVersion, pk=pk, withdrawn_at__isnull=True)
            for pk in dict.fromkeys(chosen)
        ]
    if current is None:
        return []
    sources = services.source_versions(current)
    return [] if any(version.withdrawn_at for version in sources) else sources


def project_extract(request: HttpRequest, project_id: int) -> HttpResponse:
    permissions.check(request.user, "build_extract")
    project = get_object_or_404(Project, pk=project_id)
    current = services.current_extract(project)
    dataset_versions = _dataset_versions(request, current)
    form = None
    try:
        services.table_sources(dataset_versions)
    except services.ExtractRequestError as error:
        messages.error(request, str(error))
        dataset_versions = []
    if dataset_versions:
        variables = list(
            Variable.objects.filter(dataset_version__in=dataset_versions).order_by(
                "dataset_version", "table", "position"
            )
        )
        form = ExtractForm(request.POST or None, variables=variables)
        if request.method == "POST" and form.is_valid():
            try:
                extract = services.build_linked_extract(
                    project,
                    dataset_versions,
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
            "current_sources": services.source_versions(current) if current else [],
            "dataset_versions": dataset_versions,
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
