"""The bubblewrap command line and the language table, without running anything."""

import sys
from pathlib import Path

import pytest

import havenkit
from havenkit.sandbox import LanguageUnavailable, SandboxSpec, bubblewrap_command, command_for
from havenkit.sandbox.languages import PYTHON_JOB


def _spec(tmp_path: Path, extract: Path | None = None) -> SandboxSpec:
    return SandboxSpec(tmp_path / "code", tmp_path / "outputs", extract, command_for("analysis.py"))


def _bind_targets(argv: list[str]) -> dict[str, str]:
    """Where each bind mount of the outer sandbox (the one that sees the host) lands."""
    argv = argv[: argv.index("--")]
    targets = {}
    for index, flag in enumerate(argv):
        if flag in ("--bind", "--ro-bind"):
            targets[argv[index + 2]] = f"{flag} {argv[index + 1]}"
    return targets


def _layers(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The outer bwrap, what runs between the two (setpriv as root), and the inner bwrap."""
    outer_end = argv.index("--")
    inner_start = argv.index("/usr/bin/bwrap", 1)
    return argv[:outer_end], argv[outer_end + 1 : inner_start], argv[inner_start:]


@pytest.mark.parametrize("as_root", [True, False])
def test_every_isolation_flag_is_set(tmp_path, as_root):
    outer, _between, inner = _layers(bubblewrap_command(_spec(tmp_path), as_root=as_root))
    for namespace in ("net", "pid", "ipc", "uts", "cgroup"):
        assert f"--unshare-{namespace}" in outer
    for flag in ("--die-with-parent", "--new-session", "--clearenv"):
        assert flag in outer
    for flag in ("--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"):
        assert flag in inner
    assert inner[inner.index("--cap-drop") + 1] == "ALL"
    assert inner[inner.index("--uid") + 1] == inner[inner.index("--gid") + 1] == "65534"
    assert inner[inner.index("--ro-bind") + 1 : inner.index("--ro-bind") + 3] == ["/proc", "/proc"]
    assert "--share-net" not in outer + inner


def test_as_root_the_job_becomes_the_job_account_before_anything_runs(tmp_path):
    spec = SandboxSpec(
        tmp_path, tmp_path, None, command_for("analysis.py"), job_uid=999, job_gid=998
    )
    outer, between, _inner = _layers(bubblewrap_command(spec, as_root=True))
    # The outer sandbox keeps only the two capabilities setpriv needs, and no user namespace
    # (in one, bwrap would map the job to root).
    assert outer[outer.index("--cap-drop") + 1] == "ALL"
    added = {outer[index + 1] for index, flag in enumerate(outer) if flag == "--cap-add"}
    assert added == {"CAP_SETUID", "CAP_SETGID"}
    assert "--unshare-user" not in outer
    assert between[:3] == ["/usr/bin/setpriv", "--reuid=999", "--regid=998"]
    assert {"--clear-groups", "--inh-caps=-all", "--no-new-privs"} <= set(between)


def test_unprivileged_havenkit_needs_no_capabilities(tmp_path):
    outer, between, _inner = _layers(bubblewrap_command(_spec(tmp_path), as_root=False))
    assert "--cap-add" not in outer
    assert "--unshare-user" in outer
    assert between == []


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
    argv = argv[: argv.index("--")]
    names = {argv[index + 1] for index, flag in enumerate(argv) if flag == "--setenv"}
    assert names == {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONDONTWRITEBYTECODE",
        "HAVENKIT_EXTRACT",
        "HAVENKIT_REFERENCE",
        "HAVENKIT_OUTPUTS",
        "HAVENKIT_SDC_CONFIG",
        "MPLCONFIGDIR",
    }


def test_the_command_runs_last_from_code(tmp_path):
    argv = bubblewrap_command(_spec(tmp_path))
    _outer, _between, inner = _layers(argv)
    assert inner[inner.index("--chdir") + 1] == "/code"
    assert inner[inner.index("--") + 1 :] == [
        sys.executable,
        "-u",
        str(PYTHON_JOB),
        "/code/analysis.py",
    ]


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


@pytest.mark.parametrize("as_root", [True, False])
def test_the_seccomp_filter_is_loaded_by_the_inner_bwrap_only(tmp_path, as_root):
    argv = bubblewrap_command(_spec(tmp_path), as_root=as_root, seccomp_fd=7)
    outer, between, inner = _layers(argv)
    assert "--seccomp" not in outer + between
    flag = inner.index("--seccomp")
    assert inner[flag + 1] == "7"
    assert flag < inner.index("--")
