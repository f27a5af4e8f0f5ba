"""Deleting a closed project's job folders once the haven's retention period is over.

The projects app decides *when* (closure plus the retention period) and writes the deletion
record; this module knows *where* a project's workspace files are and how to remove them.
It is split in two so the caller can list and hash every file, write that list to the audit
log, and only then delete: a failure before the deletion leaves every file in place.
"""

from pathlib import Path
from typing import Any

from django.conf import settings

from havenkit.core.files import files_with_hashes, remove_tree
from havenkit.workspaces.models import Job
from havenkit.workspaces.services import job_directory


def _job_folders(project: Any) -> list[Path]:
    jobs = Job.objects.filter(project=project).order_by("pk")
    return [folder for folder in map(job_directory, jobs) if folder.is_dir()]


def job_files(project: Any) -> list[dict[str, Any]]:
    """Every file in the project's job folders, with its size and SHA-256, for the record."""
    home = Path(settings.HAVENKIT_HOME)
    return [entry for folder in _job_folders(project) for entry in files_with_hashes(folder, home)]


def delete_job_folders(project: Any) -> list[str]:
    """Remove every job folder of the project; return the folders removed (relative paths)."""
    home = Path(settings.HAVENKIT_HOME)
    removed = []
    for folder in _job_folders(project):
        remove_tree(folder)
        removed.append(folder.relative_to(home).as_posix())
    return removed
