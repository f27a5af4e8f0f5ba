"""Pages for researchers' imports: a project member brings a code file or reference table in,
a data steward or approver reviews it. Thin wrappers over ``imports`` and ``core.permissions``."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from havenkit.core import permissions
from havenkit.data import imports
from havenkit.data.forms import ProjectImportForm, ProjectImportReviewForm
from havenkit.data.models import ImportState, ProjectImport
from havenkit.projects.models import Project
from havenkit.workspaces.highlighting import highlighted


def project_imports(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's imports and their state; POST brings a new file in."""
    project = get_object_or_404(Project, pk=project_id)
    permissions.check(request.user, "view_project_imports", project)
    form = ProjectImportForm()
    if request.method == "POST":
        permissions.check(request.user, "import_to_project", project)
        form = ProjectImportForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                project_import = imports.receive_import(
                    project=project,
                    file_name=uploaded.name,
                    chunks=uploaded.chunks(),
                    purpose=form.cleaned_data["purpose"],
                    uploaded_by=request.user,
                    request=request,
                )
            except imports.ImportRefused as refusal:
                form.add_error("file", str(refusal))
            else:
                messages.success(
                    request,
                    f"{project_import.file_name} is in the airlock: a data steward will review "
                    "it before it reaches the project.",
                )
                return HttpResponseRedirect(reverse("data:project_imports", args=[project.pk]))
    return render(
        request,
        "data/project_imports.html",
        {
            "project": project,
            "form": form,
            "imports": ProjectImport.objects.filter(project=project).select_related(
                "uploaded_by", "reviewed_by"
            ),
        },
    )


def _project_import(import_id: int) -> ProjectImport:
    return get_object_or_404(
        ProjectImport.objects.select_related("project", "uploaded_by", "reviewed_by"),
        pk=import_id,
    )


def _render_import(
    request: HttpRequest,
    project_import: ProjectImport,
    review_form: ProjectImportReviewForm | None = None,
) -> HttpResponse:
    awaiting = project_import.state == ImportState.AWAITING_REVIEW
    context = {
        "project_import": project_import,
        "review_form": review_form or (ProjectImportReviewForm() if awaiting else None),
    }
    if awaiting and project_import.is_code:
        context["code"] = highlighted(
            project_import.file_name, imports.code_content(project_import)
        )
    elif awaiting:
        context["preview"] = imports.preview(project_import)
    return render(request, "data/project_import.html", context)


def project_import(request: HttpRequest, import_id: int) -> HttpResponse:
    """One import: its content while it awaits review, its outcome after."""
    project_import = _project_import(import_id)
    permissions.check(request.user, "view_project_import", project_import)
    return _render_import(request, project_import)


@require_POST
def review_project_import(request: HttpRequest, import_id: int) -> HttpResponse:
    project_import = _project_import(import_id)
    permissions.check(request.user, "review_project_import", project_import)
    form = ProjectImportReviewForm(request.POST)
    if not form.is_valid():
        return _render_import(request, project_import, form)
    decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
    try:
        if decision == "approve":
            project_import = imports.approve(project_import, request.user, comment, request)
            messages.success(
                request, f"Approved: now in the project as {project_import.delivered_as}."
            )
        else:
            imports.reject(project_import, request.user, comment, request)
            messages.success(request, "Rejected: the file has been deleted.")
    except imports.ImportRefused as refusal:
        messages.error(request, str(refusal))
    return HttpResponseRedirect(reverse("data:project_import", args=[project_import.pk]))
