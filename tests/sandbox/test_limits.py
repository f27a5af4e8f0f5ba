"""Each limit stops a real job that breaks it, and says which limit it was."""

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from tests.sandbox.conftest import TEST_LIMITS

pytestmark = pytest.mark.sandbox


def test_a_well_behaved_job_succeeds_and_its_log_is_kept(run_script):
    run = run_script(
        """
        print("hello from the sandbox")
        open("/outputs/result.txt", "w").write("42")
        """
    )
    assert run.result.succeeded
    assert run.result.limit_hit is None
    assert "hello from the sandbox" in run.log
    assert (run.outputs / "result.txt").read_text() == "42"
    assert run.result.peak_memory_bytes > 0


def test_an_endless_loop_is_stopped_by_the_wall_clock(run_script):
    limits = dataclasses.replace(TEST_LIMITS, wall_seconds=1.5)
    started = time.monotonic()
    run = run_script("while True:\n    pass\n", limits=limits)
    assert run.result.limit_hit == "wall_time"
    assert not run.result.succeeded
    assert time.monotonic() - started < 5


def test_a_sleeping_job_is_stopped_by_the_wall_clock_too(run_script):
    limits = dataclasses.replace(TEST_LIMITS, wall_seconds=1)
    run = run_script("import time\ntime.sleep(60)\n", limits=limits)
    assert run.result.limit_hit == "wall_time"


def test_cpu_time_is_limited(run_script):
    limits = dataclasses.replace(TEST_LIMITS, cpu_seconds=1)
    run = run_script("while True:\n    pass\n", limits=limits)
    assert run.result.limit_hit == "cpu_time"


def test_a_memory_hog_is_stopped_by_the_memory_limit(run_script):
    limits = dataclasses.replace(TEST_LIMITS, memory_bytes=100 * 1024**2)
    run = run_script(
        """
        hoard = []
        while True:
            hoard.append(b"x" * 10_000_000)
        """,
        limits=limits,
    )
    assert run.result.limit_hit == "memory"
    assert run.result.exit_code != 0


def test_a_fork_bomb_is_stopped_by_the_process_limit(run_script):
    run = run_script(
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """
    )
    assert run.result.limit_hit == "processes"


def test_a_disk_filler_is_stopped_by_the_output_size_limit(run_script):
    run = run_script(
        """
        for number in range(1000):
            with open(f"/outputs/part-{number}.bin", "wb") as part:
                part.write(b"x" * 1024 * 1024)
        """
    )
    assert run.result.limit_hit == "output_size"


def test_one_huge_file_is_stopped_by_the_output_size_limit(run_script):
    run = run_script(
        """
        with open("/outputs/huge.bin", "wb") as huge:
            while True:
                huge.write(b"x" * 1024 * 1024)
        """
    )
    assert run.result.limit_hit == "output_size"
    assert (run.outputs / "huge.bin").stat().st_size <= TEST_LIMITS.output_bytes


def test_cancelling_stops_the_job(run_script):
    asked = []

    def should_cancel() -> bool:
        asked.append(time.monotonic())
        return len(asked) > 1

    run = run_script("import time\ntime.sleep(60)\n", should_cancel=should_cancel)
    assert run.result.cancelled
    assert run.result.limit_hit is None
    assert not run.result.succeeded


def test_on_start_is_told_the_sandbox_pid(run_script):
    pids = []
    run = run_script("print('started')\n", on_start=pids.append)
    assert run.result.succeeded
    assert len(pids) == 1
    assert pids[0] > 1


def test_the_log_is_written_while_the_job_runs(tmp_path, run_script):
    seen_while_running = []

    def should_cancel() -> bool:
        log = Path(tmp_path / "log.txt")
        seen_while_running.append("first line" in log.read_text())
        return False

    run = run_script(
        "import time\nprint('first line')\ntime.sleep(1.5)\nprint('last line')\n",
        should_cancel=should_cancel,
    )
    assert run.result.succeeded
    assert any(seen_while_running)
    assert "last line" in run.log


def test_every_process_of_the_job_starts_with_its_rlimits(run_script):
    run = run_script(
        """
        import resource, subprocess
        print("cpu", resource.getrlimit(resource.RLIMIT_CPU))
        print("core", resource.getrlimit(resource.RLIMIT_CORE))
        subprocess.run(["python", "-c", "import resource; print('child fsize', "
                        "resource.getrlimit(resource.RLIMIT_FSIZE))"])
        """
    )
    assert run.result.succeeded, run.log
    assert f"cpu ({TEST_LIMITS.cpu_seconds}, {TEST_LIMITS.cpu_seconds + 5})" in run.log
    assert "core (0, 0)" in run.log
    size = TEST_LIMITS.output_bytes
    assert f"child fsize ({size}, {size})" in run.log


def test_the_thread_that_starts_a_job_goes_back_to_havenkits_own_cgroups(run_script):
    before = Path(f"/proc/self/task/{threading.get_native_id()}/cgroup").read_text()
    run = run_script("print('done')\n")
    assert run.result.succeeded, run.log
    assert Path(f"/proc/self/task/{threading.get_native_id()}/cgroup").read_text() == before
