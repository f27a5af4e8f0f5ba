"""`havenkit audit verify` on a real instance: exit 0 when intact, non-zero after a hand edit."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def havenkit(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["HAVENKIT_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "havenkit.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    home = tmp_path / "instance"
    assert havenkit(home, "migrate", "-v", "0").returncode == 0
    script = (
        "from havenkit.core import audit\n"
        "for n in range(5): audit.record('test.event', details={'n': n})\n"
    )
    assert havenkit(home, "shell", "-c", script).returncode == 0
    return home


def test_verify_exits_zero_on_an_intact_log(instance: Path):
    result = havenkit(instance, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "5 events" in result.stdout


def test_verify_names_the_first_event_edited_by_hand(instance: Path):
    with sqlite3.connect(instance / "havenkit.sqlite3") as db:
        db.execute("UPDATE core_auditevent SET details = '{\"n\": 99}' WHERE id = 3")
    result = havenkit(instance, "audit", "verify")
    assert result.returncode != 0
    assert "event #3" in result.stderr


def test_verify_is_an_error_without_a_subcommand(instance: Path):
    result = havenkit(instance, "audit")
    assert result.returncode != 0
    assert "verify" in result.stderr
