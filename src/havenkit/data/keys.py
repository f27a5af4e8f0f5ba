"""The haven's master key and the per-project pseudonym keys derived from it.

The master key is 32 random bytes in ``HAVENKIT_HOME/keys/master.key``, created once, readable
by havenkit's own user only, and never logged. Losing it means no extract can be rebuilt with
the same pseudonyms, so it belongs in the haven's backups (kept apart from the data).
"""

import contextlib
import os
import secrets
from pathlib import Path

from django.conf import settings

from havenkit.deid.pseudonymise import KEY_BYTES, derive_project_key

# Bumped when a project's key is rotated; extracts record the version they were made with.
CURRENT_KEY_VERSION = 1


class MasterKeyError(Exception):
    """The master key file exists but cannot be the key havenkit wrote."""


def master_key_path() -> Path:
    return Path(settings.HAVENKIT_HOME) / "keys" / "master.key"


def _create_master_key(path: Path) -> None:
    """Write a new key beside ``path`` and link it into place, so no reader sees half a key."""
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails when another process got there first; its key is then the key.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()


def master_key() -> bytes:
    """The master key, created on first use with mode 0600 in a 0700 folder."""
    path = master_key_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if not path.exists():
        _create_master_key(path)
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"{path} holds {len(key)} bytes, not {KEY_BYTES}: restore it from the haven's "
            "key backup rather than replacing it, or every pseudonym will change."
        )
    return key


def project_key(project_id: int | str, version: int = CURRENT_KEY_VERSION) -> bytes:
    """The key that pseudonymises identifiers in this project's extracts."""
    return derive_project_key(master_key(), project_id, version)
