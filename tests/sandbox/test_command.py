"""The bubblewrap command line and the language table, without running anything."""

import sys
from pathlib import Path

import pytest

import havenkit
from havenkit.sandbox import LanguageUnavailable, SandboxSpec, bubblewrap_command, command_for


def _spec(tmp_path: Path, extract: Path | None = None) -> SandboxSpec:
    return SandboxSpec(tmp_path / "code", tmp_path / "outputs", extract, command_for("analysis.py"))


def _bind_targets(argv: list[str]) -> dict[str, str]:
    """Where each bind mount lands in the sandbox, mapped to its host source."""
    targets = {}
    for index, flag in enumerate(argv):
        if flag in ("--bind", "--ro-bind"):
            targets[argv[index + 2]] = f"{flag} {argv[index + 1]}"
    return targets


def test_every_isolation_flag_is_set(tmp_path):
    argv = bubblewrap_command(_spec(tmp_path))
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert argv[argv.index("--uid") + 1] == argv[argv.index("--gid") + 1] == "65534"
    assert "--clearenv" in argv
    assert "--share-net" not in argv


def test_only_outputs_are_writable(tmp_path):
    targets = _bind_targets(bubblewrap_command(_spec(tmp_path, extract=tmp_path / "extract")))
    writable = [target for target, how in targets.items() if how.startswith("--bind ")]
    assert writable == ["/outputs"]
    assert targets["/data"] == f"--ro-bind {tmp_path / 'extract'}"
    assert targets["/code"] == f"--ro-bind {tmp_path / 'code'}"


def test_without_an_extract_there_is_no_data_folder(tmp_path):
    assert "/data" not in _bind_targets(bubblewrap_command(_spec(tmp_path)))


def test_the_repository_and_havenkit_home_are_never_bound(tmp_path, settings):
    repository = Path(havenkit.__file__).resolve().parents[2]
    sources = {
        how.split(" ", 1)[1] for how in _bind_targets(bubblewrap_command(_spec(tmp_path))).values()
    }
    assert str(repository) not in sources
    assert not any(source.startswith(str(settings.HAVENKIT_HOME)) for source in sources)
    assert str(repository / "src") in sources


def test_the_environment_is_short_and_scrubbed(tmp_path):
    argv = bubblewrap_command(_spec(tmp_path))
    names = {argv[index + 1] for index, flag in enumerate(argv) if flag == "--setenv"}
    assert names == {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONDONTWRITEBYTECODE",
        "HAVENKIT_EXTRACT",
        "HAVENKIT_OUTPUTS",
        "MPLCONFIGDIR",
    }


def test_the_command_runs_last_from_code(tmp_path):
    argv = bubblewrap_command(_spec(tmp_path))
    assert argv[argv.index("--chdir") + 1] == "/code"
    assert argv[argv.index("--") + 1 :] == [sys.executable, "-u", "/code/analysis.py"]


def test_r_says_clearly_when_it_is_not_installed():
    with pytest.raises(LanguageUnavailable, match="R is not installed on this haven"):
        command_for("model.R", search_path="/nonexistent")


def test_r_runs_with_rscript_when_installed(tmp_path):
    (tmp_path / "Rscript").write_text("#!/bin/sh\n")
    (tmp_path / "Rscript").chmod(0o755)
    assert command_for("model.R", search_path=str(tmp_path)) == (
        str(tmp_path / "Rscript"),
        "--vanilla",
        "/code/model.R",
    )


def test_unknown_languages_are_refused():
    with pytest.raises(LanguageUnavailable, match=r"must end in one of \.R, \.py"):
        command_for("notes.txt")
