"""The master key: made once, private to havenkit, and the root of every project key."""

import stat

import pytest

from havenkit.data import keys


def test_master_key_is_created_once_with_private_permissions():
    key = keys.master_key()
    path = keys.master_key_path()
    assert len(key) == 32
    assert keys.master_key() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]


def test_project_keys_differ_by_project_and_version():
    assert keys.project_key(1) == keys.project_key(1)
    assert keys.project_key(1) != keys.project_key(2)
    assert keys.project_key(1, version=2) != keys.project_key(1)


def test_damaged_master_key_is_not_silently_replaced():
    keys.master_key()
    keys.master_key_path().write_bytes(b"truncated")
    with pytest.raises(keys.MasterKeyError, match="restore it from the haven's key backup"):
        keys.project_key(1)
    assert keys.master_key_path().read_bytes() == b"truncated"
