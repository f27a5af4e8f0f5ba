"""Secret key files under ``HAVENKIT_HOME/keys``: made once, readable by havenkit's user only.

The master key (``havenkit.data.keys``) and the release-signing key
(``havenkit.outputs.signing``) are both random bytes made on first use. Two processes may ask for
a key at the same moment (the web server and the worker), so a new key is written to a private
draft and linked into place: the first link wins, and no reader ever sees half a key.
"""

import contextlib
import os
import secrets
from pathlib import Path


def read_or_create_key(path: Path, size: int) -> bytes:
    """The bytes of the key file at ``path``, made first with ``size`` random bytes if missing.

    The key's folder is kept at mode 0700 and a new key file has mode 0600. The bytes are returned
    as found: the caller checks their length, because only it can say what a damaged key costs.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if not path.exists():
        _create_key(path, size)
    return path.read_bytes()


def _create_key(path: Path, size: int) -> None:
    """Write a new key beside ``path`` and link it into place, so no reader sees half a key."""
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails when another process got there first; its key is then the key.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()
