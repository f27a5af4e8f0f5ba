"""The end of a project: its approval expires or it is closed, then its workspace is deleted.

Access needs no switch: a project is active only while its status is active and its end date
has not passed (:attr:`Project.is_active`), so on the day the approval expires the workspace
becomes read-only by itself. The daily ``havenkit projects sweep`` writes that expiry into the
timeline and the audit log, and deletes the workspace files of every project closed longer ago
than the haven's retention period, leaving a deletion record: which files (each with its SHA-256),
when, and who approved the closure. The files deleted are the job folders, the extracts and
reference tables, and the files of imports never approved.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from havenkit.core import audit
from havenkit.data import imports
from havenkit.data import services as data
from havenkit.projects import applications
from havenkit.projects.applications import S
from havenkit.projects.models import Project, TimelineEntry
from havenkit.workspaces import retention


def retention_days() -> int:
    """How long a closed project's workspace is kept, read-only, before it is deleted."""
    return settings.HAVENKIT_RETENTION_DAYS


def expire_lapsed() -> list[Project]:
    """Move every active project whose end date has passed to closing, on the record."""
    today = timezone.localdate()
    lapsed = Project.objects.filter(status=S.ACTIVE, end_date__lt=today)
    return [applications.expire(project) for project in lapsed]


def closure(project: Project) -> TimelineEntry | None:
    """When the project was closed and by whom, from its timeline."""
    return project.timeline.filter(status=S.CLOSED).select_related("actor").last()


def deletion_due_on(project: Project) -> date | None:
    """The first day the workspace of a closed project may be deleted; None if not closed."""
    closed = closure(project)
    if closed is None:
        return None
    return timezone.localdate(closed.at) + timedelta(days=retention_days())


def due_for_deletion() -> list[Project]:
    """Closed projects past their retention whose workspace has not been deleted yet."""
    today = timezone.localdate()
    closed = Project.objects.filter(status=S.CLOSED, workspace_deleted_at__isnull=True)
    return [project for project in closed if deletion_due_on(project) <= today]


def delete_workspace(project: Project) -> dict[str, Any]:
    """Delete the project's job folders, extracts and imports' files, after writing the
    deletion record.

    The record is written first, in the same transaction that marks the project: if listing
    or hashing a file fails, nothing is deleted and nothing is marked.
    """
    closed = closure(project)
    files = (
        retention.job_files(project)
        + data.project_extract_files(project)
        + imports.project_import_files(project)
    )
    with transaction.atomic():
        imports.close_pending(project)
        project.workspace_deleted_at = timezone.now()
        project.save(update_fields=["workspace_deleted_at"])
        details = {
            "closed_at": closed.at.isoformat(),
            "closure_approved_by": closed.actor.username if closed.actor else "",
            "retention_days": retention_days(),
            "deleted_at": project.workspace_deleted_at.isoformat(),
            "files": files,
        }
        audit.record("project.workspace_deleted", obj=project, project=project, details=details)
        retention.delete_job_folders(project)
        data.delete_project_extracts(project)
        imports.delete_project_imports(project)
    return details


@dataclass(frozen=True)
class Sweep:
    """What one run of the daily sweep did."""

    expired: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def sweep() -> Sweep:
    """The daily run: record lapsed approvals, then delete workspaces past their retention.

    Imports a project left awaiting review are closed when the project closes
    (:func:`applications.close`), so none waits here to be approved."""
    expired = [project.reference for project in expire_lapsed()]
    deleted = []
    for project in due_for_deletion():
        delete_workspace(project)
        deleted.append(project.reference)
    return Sweep(expired=expired, deleted=deleted)
