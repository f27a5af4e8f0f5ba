"""Benchmark: what the sandbox and the worker add to a job.

Run ``python -m bench.sandbox`` (as the user the worker runs as; root on a single-machine
haven). In one run, on a throw-away instance made by ``havenkit demo setup``:

1. ``python -c pass`` started bare, then inside the sandbox (both bwrap layers, cgroups and
   limits, exactly as a job): the difference is the sandbox's overhead per job;
2. 100 trivial jobs (``print``) queued and run by the worker, timed from the first job queued
   to the last job's outputs recorded: jobs per second, and what the worker adds per job on
   top of the sandbox (queuing, by the portal, is timed apart);
3. the same 100 jobs through Slurm, on a single-node cluster started on loopback for the
   benchmark (skip with ``--no-slurm``).
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SANDBOX_MS = 50
GOAL_WORKER_MS = 100


def _median_ms(run, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def python_startup(repeats: int, folder: Path) -> tuple[float, float]:
    """Median ms of ``python -c pass`` bare and in the sandbox."""
    from havenkit.sandbox import SandboxSpec, run_sandboxed

    bare = _median_ms(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeats)
    code, outputs = folder / "code", folder / "outputs"
    code.mkdir()
    outputs.mkdir()
    spec = SandboxSpec(code, outputs, None, (sys.executable, "-c", "pass"))

    def sandboxed() -> None:
        result = run_sandboxed(spec, folder / "log.txt")
        assert result.succeeded, (folder / "log.txt").read_text()

    return bare, _median_ms(sandboxed, repeats)


def _demo_instance(home: Path) -> None:
    """A fresh instance, made the way ``make demo`` makes one, in ``home``."""
    os.environ["HAVENKIT_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "havenkit.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    call_command("demo", "setup", "--people", "200", stdout=open(os.devnull, "w"))  # noqa: SIM115


def jobs_through_the_worker(count: int, executor: str) -> tuple[float, float, int]:
    """Seconds to queue ``count`` trivial jobs, then for the worker to record them all, and
    how many jobs the worker had at once (run here, or submitted to Slurm)."""
    from django.conf import settings

    from havenkit.projects.models import Project
    from havenkit.workspaces import services
    from havenkit.workspaces.models import Job, JobState
    from havenkit.workspaces.worker import Worker

    settings.EXECUTOR = executor
    project = Project.objects.order_by("pk").first()
    author = project.pi
    version = services.save_code_file(project, f"trivial_{executor}.py", "print('hi')\n", author)
    started = time.perf_counter()
    jobs = [services.submit_job(project, version, author) for _ in range(count)]
    queued = time.perf_counter()
    worker = Worker(poll_interval=0.05)
    worker.run(once=True)
    finished = time.perf_counter()
    states = set(
        Job.objects.filter(pk__in=[job.pk for job in jobs]).values_list("state", flat=True)
    )
    assert states == {JobState.SUCCEEDED}, states
    return queued - started, finished - queued, worker.concurrency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--no-slurm", action="store_true", help="skip the Slurm run")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="havenkit-bench-") as scratch:
        folder = Path(scratch)
        bare, sandboxed = python_startup(arguments.repeats, folder)
        _demo_instance(folder / "home")
        runs = {"local": jobs_through_the_worker(arguments.jobs, "local")}
        if not arguments.no_slurm:
            from havenkit.sandbox.slurm_cluster import loopback_cluster

            with loopback_cluster(folder / "slurm"):
                runs["slurm"] = jobs_through_the_worker(arguments.jobs, "slurm")

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"python -c pass, median of {arguments.repeats}:")
    print(f"  bare                {bare:8.1f} ms")
    print(f"  in the sandbox      {sandboxed:8.1f} ms")
    overhead = sandboxed - bare
    verdict = "meets" if overhead < GOAL_SANDBOX_MS else "misses"
    print(f"  sandbox overhead    {overhead:8.1f} ms per job ({verdict} {GOAL_SANDBOX_MS} ms goal)")
    print(f"{arguments.jobs} trivial jobs through the worker:")
    for executor, (queuing, working, concurrency) in runs.items():
        print(
            f"  {executor:<6} {concurrency:3d} at a time, queued in {queuing:5.1f} s, run and "
            f"recorded in {working:6.1f} s: {arguments.jobs / (queuing + working):5.1f} jobs/s "
            "end to end"
        )
        if executor == "local":
            # Each of the worker's slots spends this long per job; the sandbox is part of it.
            # (On Slurm the cluster's scheduling, not the worker, sets the pace.)
            worker_ms = working * 1000 * concurrency / arguments.jobs - sandboxed
            verdict = "meets" if worker_ms < GOAL_WORKER_MS else "misses"
            print(
                f"         the worker adds {worker_ms:6.1f} ms per job ({verdict} the "
                f"{GOAL_WORKER_MS} ms goal)"
            )
    print(f"load average over the last 1, 5, 15 minutes: {os.getloadavg()}")


if __name__ == "__main__":
    main()
