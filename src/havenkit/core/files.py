"""Listing and removing a folder of haven files, for deletion records.

Deletion is done in two steps so the caller can list and hash every file, write that list to
the audit log, and only then delete: a failure before the deletion leaves every file in place.
"""

import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import Any


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def files_with_hashes(folder: Path, relative_to: Path) -> list[dict[str, Any]]:
    """Every file under ``folder`` with its size and SHA-256, paths relative to ``relative_to``.

    A symbolic link is listed but never followed: a job could have pointed one anywhere on the
    host, and hashing its target would read that file.
    """
    files = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(relative_to).as_posix()
        if path.is_symlink():
            files.append({"file": name, "symlink_to": os.readlink(path)})
        elif path.is_file():
            files.append(
                {"file": name, "size_bytes": path.stat().st_size, "sha256": sha256_of_file(path)}
            )
    return files


def remove_tree(folder: Path) -> None:
    """Remove ``folder`` even where havenkit sealed files or folders read-only."""
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(stat.S_IRWXU)
    folder.chmod(stat.S_IRWXU)
    # rmtree removes a symbolic link itself, never what it points to.
    shutil.rmtree(folder)
