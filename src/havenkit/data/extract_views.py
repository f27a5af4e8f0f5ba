"""Pages where a data steward builds a project's extract and reads its disclosure-risk report."""

from dataclasses import dataclass

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
from havenkit.projects.models import Project, ProjectStatus


@dataclass(frozen=True)
class ProjectExtracts:
    """One project as the steward's list shows it: what it may have and what it has."""

    project: Project
    # Each dataset the approved application asked for, with how many of its variables.
    approved: list[tuple[Dataset, int]]
    current: Extract | None

    @property
    def state(self) -> tuple[str, str]:
        """What the steward can do for the project now, and the tag colour that says it."""
        if self.project.status == ProjectStatus.CLOSING:
            last = f" after extract {self.current.version}" if self.current else ""
            return f"Project closing: no new extract{last}", "grey"
        if not self.approved:
            return "No approved variables: no extract can be built", "red"
        if self.current is None:
            return "No extract yet", "yellow"
        return f"Extract {self.current.version} ready", "green"


def _project_extracts() -> list[ProjectExtracts]:
    """Every project whose application stands approved, or that is closing, with its approved
    datasets and newest extract, in a fixed number of queries however many projects there
    are."""
    listed = [
        project
        for project in projects.registered_projects()
        if project.status != ProjectStatus.CLOSED
    ]
    approved = projects.approved_variables_of(listed)
    datasets = Dataset.objects.in_bulk({pk for names in approved.values() for pk in names})
    current = services.current_extracts(listed)
    return [
        ProjectExtracts(
            project=project,
            approved=sorted(
                ((datasets[pk], len(names)) for pk, names in approved[project.pk].items()),
                key=lambda entry: entry[0].title,
            ),
            current=current.get(project.pk),
        )
        for project in listed
    ]


def extract_projects(request: HttpRequest) -> HttpResponse:
    permissions.check(request.user, "build_extract")
    return render(request, "data/extract_projects.html", {"rows": _project_extracts()})


def _dataset_versions(request: HttpRequest, approved: dict[int, set[str]]) -> list[DatasetVersion]:
    """The versions whose variables the form offers: those asked for, else the current version
    of every dataset the application was approved for. Several versions are linked on CHI."""
    chosen = request.GET.getlist("dataset_version") or request.POST.getlist("dataset_version")
    if chosen:
        return [
            get_object_or_404(DatasetVersion, pk=pk, withdrawn_at__isnull=True)
            for pk in dict.fromkeys(chosen)
        ]
    return _approved_versions(approved)


def _approved_versions(approved: dict[int, set[str]]) -> list[DatasetVersion]:
    """The current version of each dataset the project's application was approved for."""
    datasets = Dataset.objects.filter(pk__in=approved)
    return [
        version
        for dataset in datasets
        if (version := catalogue.current_version(dataset)) is not None
    ]


def _offered(
    dataset_versions: list[DatasetVersion], approved: dict[int, set[str]]
) -> tuple[list[Variable], list[Variable]]:
    """The chosen versions' variables split into those the project may have and the rest."""
    linking = len(dataset_versions) > 1
    offered, not_offered = [], []
    variables = Variable.objects.filter(dataset_version__in=dataset_versions).order_by(
        "dataset_version", "table", "position"
    )
    for variable in variables.select_related("dataset_version"):
        name = f"{variable.table}.{variable.name}"
        dataset_id = variable.dataset_version.dataset_id
        may = services.may_include(approved, dataset_id, name, linking)
        (offered if may else not_offered).append(variable)
    return offered, not_offered


def project_extract(request: HttpRequest, project_id: int) -> HttpResponse:
    permissions.check(request.user, "build_extract")
    project = get_object_or_404(Project, pk=project_id)
    current = services.current_extract(project)
    approved = projects.approved_variables(project)
    dataset_versions = _dataset_versions(request, approved) if approved else []
    form, not_offered = None, []
    try:
        if dataset_versions:
            services.check_approved_datasets(project, dataset_versions, request.user)
        services.table_sources(dataset_versions)
    except services.ExtractRequestError as error:
        messages.error(request, str(error))
        dataset_versions = []
    if dataset_versions:
        offered, not_offered = _offered(dataset_versions, approved)
        form = ExtractForm(request.POST or None, variables=offered)
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
    titles = Dataset.objects.in_bulk(list(approved))
    return render(
        request,
        "data/project_extract.html",
        {
            "project": project,
            "current": current,
            "current_sources": services.source_versions(current) if current else [],
            "approved": [(titles[pk], sorted(names)) for pk, names in sorted(approved.items())],
            "dataset_versions": dataset_versions,
            "versions": _approved_versions(approved),
            "form": form,
            "not_offered": not_offered,
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
