"""Key files: made once, private, and the same key for every process that asks at once."""

import stat
from concurrent.futures import ThreadPoolExecutor

from havenkit.core.keyfiles import read_or_create_key


def test_a_new_key_is_private_in_a_private_folder(tmp_path):
    path = tmp_path / "keys" / "some.key"

    key = read_or_create_key(path, 32)

    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_existing_key_is_read_as_it_is_and_its_folder_made_private(tmp_path):
    path = tmp_path / "keys" / "some.key"
    path.parent.mkdir(mode=0o755)
    path.write_bytes(b"short")

    assert read_or_create_key(path, 32) == b"short"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_callers_racing_for_a_new_key_all_get_the_one_key(tmp_path):
    path = tmp_path / "keys" / "some.key"

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: read_or_create_key(path, 32), range(32)))

    assert keys == {path.read_bytes()}
    assert [p.name for p in path.parent.iterdir()] == ["some.key"]
