"""Pages of a project's workspace: its data, its code files and the jobs that ran them.

Thin wrappers: forms validate, ``services`` and the worker do the work, and
``permissions.check`` decides who may do what.
"""

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from havenkit.core import permissions
from havenkit.data import imports
from havenkit.data import services as data
from havenkit.projects.models import Project
from havenkit.workspaces import highlighting, services
from havenkit.workspaces.forms import AddCodeFileForm, EditCodeForm, RunJobForm
from havenkit.workspaces.models import CodeFile, Job

RECENT_JOBS = 20


def _project(request: HttpRequest, project_id: int, action: str) -> Project:
    project = get_object_or_404(Project, pk=project_id)
    permissions.check(request.user, action, project)
    return project


def _jobs(project: Project) -> QuerySet[Job]:
    return Job.objects.filter(project=project).select_related(
        "code_version__code_file", "submitted_by", "extract"
    )


def _job(project: Project, job_id: int) -> Job:
    return get_object_or_404(
        _jobs(project).prefetch_related("other_code_versions__code_file"), pk=job_id
    )


def _code_file(project: Project, code_file_id: int) -> CodeFile:
    return get_object_or_404(CodeFile, pk=code_file_id, project=project)


@require_http_methods(["GET", "POST"])
def workspace(request: HttpRequest, project_id: int) -> HttpResponse:
    """The project's extract, code files and recent jobs; POST adds a code file."""
    project = _project(request, project_id, "view_workspace")
    form = AddCodeFileForm(project=project)
    if request.method == "POST":
        permissions.check(request.user, "edit_code", project)
        form = AddCodeFileForm(request.POST, request.FILES, project=project)
        if form.is_valid():
            version = services.save_code_file(
                project, form.cleaned_data["name"], form.cleaned_data["content"], request.user
            )
            messages.success(request, f"Saved {version.code_file.name}, version 1.")
            return HttpResponseRedirect(
                reverse("workspaces:code_file", args=[project.pk, version.code_file_id])
            )
    extract = data.current_extract(project)
    context = {
        "project": project,
        "extract": extract,
        "tables": sorted(extract.tables.items()) if extract else [],
        "code_files": CodeFile.objects.filter(project=project),
        "jobs": _jobs(project)[:RECENT_JOBS],
        "form": form,
    }
    return render(request, "workspaces/workspace.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def code_file(request: HttpRequest, project_id: int, code_file_id: int) -> HttpResponse:
    """A code file's latest content and history; POST saves an edit as a new version."""
    project = _project(request, project_id, "view_workspace")
    code = _code_file(project, code_file_id)
    latest = code.latest_version()
    form = EditCodeForm(initial={"code": latest.content if latest else ""})
    if request.method == "POST":
        permissions.check(request.user, "edit_code", project)
        form = EditCodeForm(request.POST)
        if form.is_valid():
            if latest and form.cleaned_data["code"] == latest.content:
                messages.info(request, "The code is unchanged, so no new version was saved.")
            else:
                version = services.save_code_file(
                    project, code.name, form.cleaned_data["code"], request.user
                )
                messages.success(request, f"Saved {code.name}, version {version.number}.")
            return HttpResponseRedirect(reverse("workspaces:code_file", args=[project.pk, code.pk]))
    context = {
        "project": project,
        "code_file": code,
        "latest": latest,
        "latest_import": imports.import_of(latest),
        "highlighted_code": highlighting.highlighted(code.name, latest.content) if latest else "",
        "versions": code.versions.select_related("author").order_by("-number"),
        "form": form,
        "run_form": RunJobForm(sources=services.data_sources(project, request.user)),
        "extract": data.current_extract(project),
    }
    return render(request, "workspaces/code_file.html", context, status=400 if form.errors else 200)


@require_GET
def code_version(
    request: HttpRequest, project_id: int, code_file_id: int, number: int
) -> HttpResponse:
    """One saved version of a code file: its code, who saved it, what it changed from the
    version before, and the jobs that ran it, so any job's code can be read as it ran."""
    project = _project(request, project_id, "view_workspace")
    code = _code_file(project, code_file_id)
    version = get_object_or_404(code.versions.select_related("author"), number=number)
    before = code.versions.filter(number__lt=number).order_by("-number").first()
    context = {
        "project": project,
        "code_file": code,
        "version": version,
        "before": before,
        "version_import": imports.import_of(version),
        "highlighted_code": highlighting.highlighted(code.name, version.content),
        "changes": highlighting.changes(code.name, before.content, version.content)
        if before
        else "",
        "jobs": _jobs(project).filter(code_version=version)[:RECENT_JOBS],
    }
    return render(request, "workspaces/code_version.html", context)


@require_POST
def run_job(request: HttpRequest, project_id: int, code_file_id: int) -> HttpResponse:
    """Queue the latest version of a code file on the current extract's real or dummy data."""
    project = _project(request, project_id, "run_job")
    code = _code_file(project, code_file_id)
    back = HttpResponseRedirect(reverse("workspaces:code_file", args=[project.pk, code.pk]))
    form = RunJobForm(request.POST, sources=services.data_sources(project, request.user))
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["data_source"]))
        return back
    try:
        job = services.submit_job(
            project, code.latest_version(), request.user, form.cleaned_data["data_source"]
        )
    except (services.ExtractUnavailable, services.RealDataRefused) as refusal:
        messages.error(request, str(refusal))
        return back
    on = "dummy data" if job.used_dummy_data else "the real extract" if job.extract else "no data"
    messages.success(
        request, f"Job {job.pk} is queued: it runs {code.name} on {on} as soon as it can."
    )
    return HttpResponseRedirect(reverse("workspaces:job", args=[project.pk, job.pk]))


def _job_context(project: Project, job: Job) -> dict:
    log, log_truncated = services.read_log(job)
    return {
        "project": project,
        "job": job,
        "log": log,
        "log_truncated": log_truncated,
        "outputs": job.outputs.all() if job.is_finished else [],
    }


@require_GET
def job(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """A job's state, timings, log and output files."""
    project = _project(request, project_id, "view_workspace")
    return render(request, "workspaces/job.html", _job_context(project, _job(project, job_id)))


@require_GET
def job_status(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """The changing part of the job page, which the page polls for while the job runs."""
    project = _project(request, project_id, "view_workspace")
    return render(
        request, "workspaces/_job_status.html", _job_context(project, _job(project, job_id))
    )


@require_POST
def run_again(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    """Queue a finished job's exact run again: the same code versions on the same data."""
    project = _project(request, project_id, "run_job")
    job = _job(project, job_id)
    try:
        again = services.run_again(job, request.user)
    except (
        services.JobNotFinished,
        services.ExtractUnavailable,
        services.RealDataRefused,
    ) as refusal:
        messages.error(request, str(refusal))
        return HttpResponseRedirect(reverse("workspaces:job", args=[project.pk, job.pk]))
    messages.success(
        request,
        f"Job {again.pk} is queued: it runs the same code on the same data as job {job.pk}.",
    )
    return HttpResponseRedirect(reverse("workspaces:job", args=[project.pk, again.pk]))


@require_POST
def cancel_job(request: HttpRequest, project_id: int, job_id: int) -> HttpResponse:
    project = _project(request, project_id, "cancel_job")
    job = _job(project, job_id)
    try:
        job = services.cancel_job(job, request.user)
    except services.JobNotCancellable as refusal:
        messages.error(request, str(refusal))
    else:
        if job.is_finished:
            messages.success(request, f"Job {job.pk} is cancelled.")
        else:
            messages.success(request, f"Job {job.pk} will be stopped within a few seconds.")
    return HttpResponseRedirect(reverse("workspaces:job", args=[project.pk, job.pk]))
