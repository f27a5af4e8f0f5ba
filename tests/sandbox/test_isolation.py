"""From inside a real sandboxed job: what it can and cannot see or touch."""

import json
import socket
import sys
from pathlib import Path

import pytest

import havenkit
from havenkit.sandbox import Limits

pytestmark = pytest.mark.sandbox


def _probe(run_script, source: str, **kwargs) -> dict:
    """Run ``source`` (which writes a dict to /outputs/probe.json) and return that dict."""
    run = run_script(source, **kwargs)
    assert run.result.exit_code == 0, run.log
    return json.loads((run.outputs / "probe.json").read_text())


def test_runs_as_nobody(run_script):
    probe = _probe(
        run_script,
        """
        import json, os
        json.dump({"uid": os.getuid(), "gid": os.getgid()}, open("/outputs/probe.json", "w"))
        """,
    )
    assert probe == {"uid": 65534, "gid": 65534}


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` on the host, read from the host's /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _host_uids(pid: int) -> tuple[int, ...]:
    """The real, effective, saved and filesystem uids the host kernel gives ``pid``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return tuple(int(uid) for uid in line.split()[1:])
    raise AssertionError(f"no Uid line for {pid}")


def test_on_the_host_the_jobs_processes_are_not_root(run_script):
    sandbox_pids: list[int] = []
    job_uids: dict[int, tuple[int, ...]] = {}

    def look_from_the_host() -> bool:
        for pid in _descendants(sandbox_pids[0]):
            try:
                program, *arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if program == sys.executable.encode() and b"/code/job.py" in arguments:
                    job_uids[pid] = _host_uids(pid)
            except OSError:
                continue
        return False

    run = run_script(
        """
        import time
        open("/outputs/made-by-the-job.txt", "w").write("x")
        time.sleep(1.5)
        """,
        on_start=sandbox_pids.append,
        should_cancel=look_from_the_host,
    )
    assert run.result.succeeded, run.log
    assert job_uids, "the job's process was never seen from the host"
    assert all(0 not in uids for uids in job_uids.values())
    assert (run.outputs / "made-by-the-job.txt").stat().st_uid != 0


def test_cannot_reach_a_port_open_on_the_host(run_script):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        probe = _probe(
            run_script,
            f"""
            import json, socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
                outcome = "connected"
            except OSError as error:
                outcome = type(error).__name__
            json.dump({{"outcome": outcome}}, open("/outputs/probe.json", "w"))
            """,
        )
    assert probe["outcome"] != "connected"


def test_cannot_resolve_names(run_script):
    probe = _probe(
        run_script,
        """
        import json, socket
        try:
            socket.getaddrinfo("pypi.org", 443)
            outcome = "resolved"
        except OSError as error:
            outcome = type(error).__name__
        json.dump({"outcome": outcome}, open("/outputs/probe.json", "w"))
        """,
    )
    assert probe["outcome"] == "gaierror"


def test_can_write_only_to_outputs_and_scratch(run_script, tmp_path):
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "people.csv").write_text("id\n1\n")
    probe = _probe(
        run_script,
        """
        import json
        results = {}
        for path in ["/data/people.csv", "/data/new.csv", "/code/job.py", "/new.txt",
                     "/usr/evil", "/outputs/ok.txt", "/tmp/scratch.txt"]:
            try:
                with open(path, "a") as handle:
                    handle.write("x")
                results[path] = "written"
            except OSError as error:
                results[path] = type(error).__name__
        json.dump(results, open("/outputs/probe.json", "w"))
        """,
        extract=extract,
    )
    written = {path for path, outcome in probe.items() if outcome == "written"}
    assert written == {"/outputs/ok.txt", "/tmp/scratch.txt"}
    assert (extract / "people.csv").read_text() == "id\n1\n"


def test_cannot_change_host_wide_kernel_settings(run_script):
    probe = _probe(
        run_script,
        """
        import json
        path = "/proc/sys/kernel/printk_ratelimit"
        current = open(path).read()
        try:
            # The same value back: harmless even if the sandbox were broken.
            with open(path, "w") as setting:
                setting.write(current)
            outcome = "written"
        except OSError as error:
            outcome = type(error).__name__
        json.dump({"outcome": outcome}, open("/outputs/probe.json", "w"))
        """,
    )
    assert probe["outcome"] != "written"


def test_sees_only_its_own_processes(run_script):
    probe = _probe(
        run_script,
        """
        import json, os
        json.dump({"pids": [name for name in os.listdir("/proc") if name.isdigit()]},
                  open("/outputs/probe.json", "w"))
        """,
    )
    assert 1 <= len(probe["pids"]) <= 3


def test_cannot_see_havenkit_home_or_the_repository(run_script, settings):
    (settings.HAVENKIT_HOME / "secret_key").write_text("do not leak")
    repository = Path(havenkit.__file__).resolve().parents[2]
    probe = _probe(
        run_script,
        f"""
        import json, os
        results = {{}}
        for path in [{str(settings.HAVENKIT_HOME / "secret_key")!r},
                     {str(repository / ".havenkit" / "secret_key")!r},
                     {str(repository / "pyproject.toml")!r}]:
            try:
                open(path).read()
                results[path] = "read"
            except OSError as error:
                results[path] = type(error).__name__
        results["repository"] = sorted(os.listdir({str(repository)!r}))
        json.dump(results, open("/outputs/probe.json", "w"))
        """,
    )
    # Only the folders bound for the interpreter appear; everything else of the repo is absent.
    bound = [Path(sys.prefix), repository / "src"]
    assert probe.pop("repository") == sorted(p.name for p in bound if p.parent == repository)
    assert set(probe.values()) == {"FileNotFoundError"}


def test_environment_holds_nothing_of_havenkit(run_script, monkeypatch):
    monkeypatch.setenv("HAVENKIT_SECRET_KEY", "do not leak")
    probe = _probe(
        run_script,
        """
        import json, os
        json.dump(dict(os.environ), open("/outputs/probe.json", "w"))
        """,
    )
    assert "HAVENKIT_SECRET_KEY" not in probe
    assert probe["HAVENKIT_OUTPUTS"] == "/outputs"
    assert probe["HOME"] == "/tmp"


def test_can_import_havenkit_and_the_analysis_libraries(run_script):
    probe = _probe(
        run_script,
        """
        import json
        import duckdb, pandas, pyarrow, statsmodels
        import havenkit
        json.dump({"pandas": pandas.__version__}, open("/outputs/probe.json", "w"))
        """,
        limits=Limits(wall_seconds=20, memory_bytes=1024**3),
    )
    assert probe["pandas"]
