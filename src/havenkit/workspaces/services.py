"""What other apps may ask of workspaces: code, jobs and the files jobs wrote.

A job's files live under ``HAVENKIT_HOME/jobs/<job id>/``: ``code/`` (the file the job runs and
the workspace's other code files, read-only in the sandbox), ``outputs/`` (the one writable
folder) and ``log.txt``. The worker that runs jobs is :mod:`havenkit.workspaces.worker`.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from havenkit.core import audit, permissions
from havenkit.data import services as data
from havenkit.workspaces.models import (
    CodeFile,
    CodeVersion,
    DataSource,
    Job,
    JobOutput,
    JobState,
)


class OutputNotFound(Exception):
    """The named file is not an output of a finished job of this project."""


class JobNotCancellable(Exception):
    """The job has already finished, so there is nothing to cancel."""


class ExtractUnavailable(Exception):
    """The extract a job would read is no longer in the project's workspace."""


def check_extract_available(extract: Any) -> None:
    """Refuse to run on an extract whose data is gone (withdrawn or removed by a data steward).

    Without this the sandbox would fail to bind a missing folder with a message nobody can act on.
    """
    if extract is not None and not data.extract_directory(extract).is_dir():
        raise ExtractUnavailable(
            f"Extract {extract.version} is no longer in this project's workspace: its data was "
            "withdrawn or removed, so no job can run on it. Ask the project's data steward for "
            "a new extract; your code is unchanged."
        )


class RealDataRefused(Exception):
    """The person asked to run on the real extract but may not, or the project has none."""


def data_sources(project: Any, person: Any) -> list[DataSource]:
    """The data a person may run this project's code on, dummy first.

    Dummy data needs an extract (it is made from the extract's schema); the real extract also
    needs the person to be allowed to run jobs on it. With no extract, jobs run without data.
    """
    if data.current_extract(project) is None:
        return []
    sources = [DataSource.DUMMY]
    if permissions.can(person, "use_real_extract", project):
        sources.append(DataSource.REAL)
    return sources


def data_directory(job: Job) -> Path | None:
    """The folder the job sees at ``/data``: the extract's real or dummy tables, or none.

    Both have the same file names and columns, so the same code runs on either unchanged.
    """
    if job.extract is None:
        return None
    if job.used_dummy_data:
        return data.dummy_extract_directory(job.extract)
    return data.extract_directory(job.extract)


def reference_directory(job: Job) -> Path | None:
    """The folder the job sees at ``/reference``: the project's approved reference tables.

    The same for runs on real and on dummy data: a reference table holds no person's record.
    """
    folder = data.reference_directory(job.project)
    return folder if folder.is_dir() else None


@dataclass(frozen=True)
class OutputFile:
    """A finished job's output file, with what a release request needs to show provenance."""

    job_id: int
    name: str
    path: Path
    size_bytes: int
    sha256: str
    code_file_name: str
    code_version_number: int
    extract_id: int | None


def job_directory(job: Job) -> Path:
    return Path(settings.HAVENKIT_HOME) / "jobs" / str(job.pk)


def outputs_directory(job: Job) -> Path:
    return job_directory(job) / "outputs"


def code_directory(job: Job) -> Path:
    return job_directory(job) / "code"


def log_path(job: Job) -> Path:
    return job_directory(job) / "log.txt"


def read_log(job: Job, max_bytes: int = 256 * 1024) -> tuple[str, bool]:
    """The end of the job's log as text, and whether earlier lines were left out to fit."""
    path = log_path(job)
    if not path.is_file():
        return "", False
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - max_bytes))
        tail = handle.read()
    return tail.decode("utf-8", errors="replace"), size > max_bytes


@transaction.atomic
def save_code_file(project: Any, name: str, content: str, author: Any) -> CodeVersion:
    """Save ``content`` as the next version of the project's code file ``name``."""
    code_file, _created = CodeFile.objects.get_or_create(project=project, name=name)
    latest = code_file.latest_version()
    version = CodeVersion.objects.create(
        code_file=code_file,
        number=latest.number + 1 if latest else 1,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        author=author,
    )
    audit.record(
        "code.saved",
        actor=author,
        obj=code_file,
        project=project,
        details={"name": name, "version": version.number, "sha256": version.sha256},
    )
    return version


def latest_other_versions(code_version: CodeVersion) -> list[CodeVersion]:
    """The latest version of each of the project's code files other than ``code_version``'s."""
    newest = CodeVersion.objects.filter(code_file=OuterRef("code_file")).order_by("-number")
    return list(
        CodeVersion.objects.filter(
            code_file__project_id=code_version.code_file.project_id,
            pk=Subquery(newest.values("pk")[:1]),
        )
        .exclude(code_file_id=code_version.code_file_id)
        .select_related("code_file")
        .order_by("code_file__name")
    )


def submit_job(
    project: Any,
    code_version: CodeVersion,
    submitted_by: Any,
    data_source: DataSource = DataSource.REAL,
) -> Job:
    """Queue a run of ``code_version`` on the project's current extract, real or dummy.

    The job gets the latest version of every other code file of the workspace, as they are now:
    saving a file after this changes no queued job. Raises, queuing nothing,
    :class:`ExtractUnavailable` when that extract's data is gone and :class:`RealDataRefused`
    when the person may not run on the real extract.
    """
    extract = data.current_extract(project)
    check_extract_available(extract)
    if extract is not None and data_source not in data_sources(project, submitted_by):
        raise RealDataRefused(
            "You may not run code on this project's real extract. Run it on the dummy data, "
            "which has the same tables and columns."
        )
    if extract is None:
        data_source = DataSource.REAL
    return _queue(
        project,
        code_version,
        latest_other_versions(code_version),
        extract,
        data_source,
        submitted_by,
    )


class JobNotFinished(Exception):
    """The job is still queued or running, so it cannot be run again yet."""


def run_again(job: Job, submitted_by: Any) -> Job:
    """Queue a new job that runs exactly what ``job`` ran: every code version, the same data.

    For a job that failed (or whose worker stopped) this is a second attempt at the same run,
    not a run of whatever the code is now; for that, run the code file again. Raises, queuing
    nothing, :class:`JobNotFinished`, :class:`ExtractUnavailable` when the job's extract is
    gone and :class:`RealDataRefused` when the person may no longer use the real extract.
    """
    if not job.is_finished:
        raise JobNotFinished(
            f"Job {job.pk} has not finished yet, so it cannot be run again. Wait for it to end, "
            "or cancel it first."
        )
    check_extract_available(job.extract)
    if (
        job.extract is not None
        and job.data_source == DataSource.REAL
        and not permissions.can(submitted_by, "use_real_extract", job.project)
    ):
        raise RealDataRefused(
            f"Job {job.pk} ran on the real extract, which you may not use. Run the code on the "
            "dummy data from its code file's page instead."
        )
    return _queue(
        job.project,
        job.code_version,
        list(job.other_code_versions.select_related("code_file")),
        job.extract,
        DataSource(job.data_source),
        submitted_by,
        run_again_of=job.pk,
    )


def _queue(
    project: Any,
    code_version: CodeVersion,
    other_versions: list[CodeVersion],
    extract: Any,
    data_source: DataSource,
    submitted_by: Any,
    **details: Any,
) -> Job:
    """Record the job and exactly which code it runs, and audit it.

    The dummy data is made here, the first time it is asked for, so the job starts as quickly
    as any other.
    """
    if extract is not None and data_source == DataSource.DUMMY:
        data.dummy_extract_directory(extract)
    with transaction.atomic():
        job = Job.objects.create(
            project=project,
            code_version=code_version,
            extract=extract,
            data_source=data_source,
            submitted_by=submitted_by,
        )
        job.other_code_versions.set(other_versions)
        audit.record(
            "job.submitted",
            actor=submitted_by,
            obj=job,
            project=project,
            details={
                "code": code_version.code_file.name,
                "version": code_version.number,
                "other_code": {
                    version.code_file.name: version.number for version in other_versions
                },
                "extract": extract.pk if extract else None,
                "data": data_source,
                **details,
            },
        )
    return job


def other_code_of(job_id: int) -> list[dict[str, Any]]:
    """The other code files a job had in ``/code`` and their versions, by name: provenance a
    release package lists beside the file the job ran."""
    versions = CodeVersion.objects.filter(jobs_using=job_id).select_related("code_file")
    return [
        {"code_file": version.code_file.name, "code_version": version.number}
        for version in versions.order_by("code_file__name")
    ]


@transaction.atomic
def cancel_job(job: Job, cancelled_by: Any) -> Job:
    """Cancel a queued job at once, or ask the worker to stop a running one."""
    queued = Job.objects.filter(pk=job.pk, state=JobState.QUEUED)
    if queued.update(
        state=JobState.CANCELLED,
        cancel_requested=True,
        finished_at=timezone.now(),
        failure_reason="Cancelled before it started.",
    ):
        was = JobState.QUEUED
    elif Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True):
        was = JobState.RUNNING
    else:
        raise JobNotCancellable(f"Job {job.pk} has already finished, so it cannot be cancelled.")
    audit.record(
        "job.cancelled",
        actor=cancelled_by,
        obj=job,
        project=job.project_id,
        details={"state_when_cancelled": was},
    )
    job.refresh_from_db()
    return job


def record_job_outputs(job: Job) -> list[JobOutput]:
    """Hash every file the job left in its outputs folder and record it, once."""
    recorded = []
    root = outputs_directory(job)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        recorded.append(
            JobOutput.objects.create(
                job=job,
                name=path.relative_to(root).as_posix(),
                size_bytes=path.stat().st_size,
                sha256=data.sha256_of_file(path),
            )
        )
    return recorded


def _releasable_outputs(project: Any) -> QuerySet[JobOutput]:
    """Outputs of the project's succeeded jobs on real data: dummy data is never released."""
    return JobOutput.objects.filter(
        job__project=project, job__state=JobState.SUCCEEDED, job__data_source=DataSource.REAL
    )


def finished_outputs(project: Any) -> list[JobOutput]:
    """Output files that may go in a release request, newest job first.

    Outputs of jobs on dummy data are left out: they describe no real person, and releasing
    them would only mislead.
    """
    return list(_releasable_outputs(project).select_related("job").order_by("-job_id", "name"))


def open_job_output(project: Any, job_id: int, name: str) -> OutputFile:
    """Find a releasable output of ``project`` (see :func:`finished_outputs`), unchanged."""
    try:
        output = (
            _releasable_outputs(project)
            .select_related("job__code_version__code_file")
            .get(job_id=job_id, name=name)
        )
    except JobOutput.DoesNotExist:
        if JobOutput.objects.filter(
            job_id=job_id, job__project=project, job__data_source=DataSource.DUMMY
        ).exists():
            raise OutputNotFound(
                f"Job {job_id} ran on dummy data, so its outputs cannot be released. "
                "Run the same code on the real extract and release that job's outputs."
            ) from None
        raise OutputNotFound(
            f"Job {job_id} of this project has no output file called {name!r}."
        ) from None
    path = outputs_directory(output.job) / output.name
    if not path.is_file() or data.sha256_of_file(path) != output.sha256:
        raise OutputNotFound(f"The output file {name!r} of job {job_id} is missing or changed.")
    code_version = output.job.code_version
    return OutputFile(
        job_id=output.job_id,
        name=output.name,
        path=path,
        size_bytes=output.size_bytes,
        sha256=output.sha256,
        code_file_name=code_version.code_file.name,
        code_version_number=code_version.number,
        extract_id=output.job.extract_id,
    )
