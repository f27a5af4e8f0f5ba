"""Deleting a closed project's job folders once the haven's retention period is over.

The projects app decides *when* (closure plus the retention period) and writes the deletion
record; this module knows *where* a project's workspace files are and how to remove them.
It is split in two so the caller can list and hash every file, write that list to the audit
log, and only then delete: a failure before the deletion leaves every file in place.
"""

import os
import shutil
import stat
from pathlib import Path
from typing import Any

from django.conf import settings

from havenkit.data.services import sha256_of_file
from havenkit.workspaces.models import Job
from havenkit.workspaces.services import job_directory


def _job_folders(project: Any) -> list[Path]:
    jobs = Job.objects.filter(project=project).order_by("pk")
    return [folder for folder in map(job_directory, jobs) if folder.is_dir()]


def job_files(project: Any) -> list[dict[str, Any]]:
    """Every file in the project's job folders, with its size and SHA-256, for the record.

    Paths are relative to HAVENKIT_HOME. A symbolic link is listed but never followed: a job
    could have pointed one anywhere on the host, and hashing its target would read that file.
    """
    home = Path(settings.HAVENKIT_HOME)
    files = []
    for folder in _job_folders(project):
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(home).as_posix()
            if path.is_symlink():
                files.append({"file": name, "symlink_to": os.readlink(path)})
            elif path.is_file():
                files.append(
                    {
                        "file": name,
                        "size_bytes": path.stat().st_size,
                        "sha256": sha256_of_file(path),
                    }
                )
    return files


def _make_removable(folder: Path) -> None:
    """Give havenkit write permission on every folder the worker sealed read-only (0o555),
    without which the files inside cannot be unlinked."""
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(stat.S_IRWXU)
    folder.chmod(stat.S_IRWXU)


def delete_job_folders(project: Any) -> list[str]:
    """Remove every job folder of the project; return the folders removed (relative paths)."""
    home = Path(settings.HAVENKIT_HOME)
    removed = []
    for folder in _job_folders(project):
        _make_removable(folder)
        # rmtree removes a symbolic link itself, never what it points to.
        shutil.rmtree(folder)
        removed.append(folder.relative_to(home).as_posix())
    return removed
