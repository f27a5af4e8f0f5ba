"""The haven's master key and the per-project pseudonym keys derived from it.

The master key is 32 random bytes in ``HAVENKIT_HOME/keys/master.key``, created once, readable
by havenkit's own user only, and never logged. Losing it means no extract can be rebuilt with
the same pseudonyms, so it belongs in the haven's backups (kept apart from the data).
"""

from pathlib import Path

from django.conf import settings

from havenkit.core.keyfiles import read_or_create_key
from havenkit.deid.pseudonymise import KEY_BYTES, derive_project_key

# Bumped when a project's key is rotated; extracts record the version they were made with.
CURRENT_KEY_VERSION = 1


class MasterKeyError(Exception):
    """The master key file exists but cannot be the key havenkit wrote."""


def master_key_path() -> Path:
    return Path(settings.HAVENKIT_HOME) / "keys" / "master.key"


def master_key() -> bytes:
    """The master key, created on first use with mode 0600 in a 0700 folder."""
    path = master_key_path()
    key = read_or_create_key(path, KEY_BYTES)
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"{path} holds {len(key)} bytes, not {KEY_BYTES}: restore it from the haven's "
            "key backup rather than replacing it, or every pseudonym will change."
        )
    return key


def project_key(project_id: int | str, version: int = CURRENT_KEY_VERSION) -> bytes:
    """The key that pseudonymises identifiers in this project's extracts."""
    return derive_project_key(master_key(), project_id, version)
