"""Run a job's bubblewrap command under its limits, streaming its log to a file.

Limits, in the order they are enforced:

- wall clock: the runner watches the time and kills the whole sandbox;
- memory and processes: a cgroup per job when the machine allows (the kernel enforces them
  for every process of the job); otherwise RLIMIT_AS bounds each process's memory;
- CPU time: RLIMIT_CPU on every process (SIGXCPU, then SIGKILL);
- output size: RLIMIT_FSIZE stops any one file (outputs or log) growing past the limit, and
  the runner watches the outputs folder as a whole.
"""

import contextlib
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from havenkit.sandbox.cgroups import JobCgroup
from havenkit.sandbox.command import SandboxSpec, bubblewrap_command
from havenkit.sandbox.seccomp import filter_fd

LimitHit = Literal["wall_time", "cpu_time", "memory", "processes", "output_size"]

# How often the runner looks at the clock, the outputs folder and the cancel flag.
_TICK_SECONDS = 0.1
_CANCEL_CHECK_SECONDS = 0.5
# bwrap reports a job killed by signal N as exit status 128 + N.
_SIGNAL_EXIT = 128
# Where bwrap is looked for; the worker's own environment is not passed on.
_HOST_PATH = "/usr/bin:/bin"
# util-linux's prlimit, on every Debian machine: it sets the job's rlimits, then execs bwrap.
PRLIMIT = "/usr/bin/prlimit"


class SandboxUnavailable(Exception):
    """bubblewrap is not installed, so no job can run on this machine."""


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed run ended."""

    exit_code: int
    limit_hit: LimitHit | None
    peak_memory_bytes: int | None
    duration_seconds: float
    cancelled: bool = False

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.limit_hit is None and not self.cancelled


def folder_size(folder: Path) -> int:
    """Bytes in the regular files under ``folder``, without following links."""
    total = 0
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def _with_rlimits(spec: SandboxSpec, cgroup: JobCgroup | None, seccomp_fd: int) -> list[str]:
    """bwrap's argv behind ``prlimit``, which sets the per-process limits and execs bwrap.

    The limits are set in the very process that becomes bwrap, before it starts anything, and
    every process of the job inherits them; exec adds no process and needs no pre-exec hook.
    """
    limits = spec.limits
    argv = [
        PRLIMIT,
        # SIGXCPU at the limit, SIGKILL a few seconds later if the process ignores it.
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
        f"--fsize={limits.output_bytes}",
        # No core dumps: they would copy record-level data out of the job's memory.
        "--core=0",
    ]
    if cgroup is None or not cgroup.limits_memory:
        argv.append(f"--as={limits.memory_bytes}")
    return [*argv, "--", *bubblewrap_command(spec, seccomp_fd=seccomp_fd)]


def _kill(process: subprocess.Popen, cgroup: JobCgroup | None) -> None:
    """Kill the whole sandbox: bwrap's process group, and every process in the job's cgroups.

    Killing bwrap also ends its pid namespace, whose processes the kernel then kills.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()


def _limit_from_exit(exit_code: int) -> LimitHit | None:
    if exit_code == _SIGNAL_EXIT + signal.SIGXCPU:
        return "cpu_time"
    if exit_code == _SIGNAL_EXIT + signal.SIGXFSZ:
        return "output_size"
    return None


def run_sandboxed(
    spec: SandboxSpec,
    log_path: Path,
    on_start: Callable[[int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> SandboxResult:
    """Run ``spec`` in bubblewrap until it ends, hits a limit or is cancelled.

    ``on_start`` gets bwrap's pid once it runs; ``should_cancel`` is asked about twice a
    second and a true answer kills the job.
    """
    if shutil.which("bwrap", path=_HOST_PATH) is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed on this haven, so jobs cannot run. "
            "Ask the haven's administrators to install the bubblewrap package."
        )
    if os.geteuid() == 0:
        # The job account, not root, writes the outputs (the worker seals them afterwards).
        os.chown(spec.outputs_dir, spec.job_uid, spec.job_gid)
    limits = spec.limits
    cgroup = JobCgroup.create(limits.memory_bytes, limits.max_processes)
    limit_hit: LimitHit | None = None
    cancelled = False
    started = time.monotonic()
    try:
        starting = cgroup.starting_job() if cgroup else contextlib.nullcontext()
        seccomp_fd = filter_fd()
        with log_path.open("ab") as log, starting, os.fdopen(seccomp_fd, "rb"):
            # No pre-exec hook, so Python starts bwrap with vfork rather than copying the worker.
            process = subprocess.Popen(
                _with_rlimits(spec, cgroup, seccomp_fd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={"PATH": _HOST_PATH},
                start_new_session=True,
                # The seccomp filter travels down to the inner bwrap, which reads it.
                pass_fds=(seccomp_fd,),
            )
        if on_start is not None:
            on_start(process.pid)
        # Readable the moment bwrap exits, so a short job is not kept waiting for a tick.
        exited = select.poll()
        exited.register(pidfd := os.pidfd_open(process.pid), select.POLLIN)
        next_cancel_check = started
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            now = time.monotonic()
            if limit_hit is None and not cancelled:
                if now - started > limits.wall_seconds:
                    limit_hit = "wall_time"
                elif folder_size(spec.outputs_dir) >= limits.output_bytes:
                    limit_hit = "output_size"
                elif cgroup is not None and cgroup.process_limit_hit():
                    limit_hit = "processes"
                elif should_cancel is not None and now >= next_cancel_check:
                    next_cancel_check = now + _CANCEL_CHECK_SECONDS
                    cancelled = should_cancel()
                if limit_hit is not None or cancelled:
                    _kill(process, cgroup)
            exited.poll(_TICK_SECONDS * 1000)
        os.close(pidfd)
        duration = time.monotonic() - started
        exit_code = os.waitstatus_to_exitcode(status)
        process.returncode = exit_code
        if cgroup is not None:
            # Whatever bwrap left behind (it should be nothing) goes with it.
            cgroup.kill_all()
            peak = cgroup.peak_memory_bytes()
        else:
            peak = usage.ru_maxrss * 1024
        if limit_hit is None and not cancelled:
            if cgroup is not None and cgroup.memory_limit_hit() and exit_code != 0:
                limit_hit = "memory"
            elif cgroup is not None and cgroup.process_limit_hit():
                limit_hit = "processes"
            elif folder_size(spec.outputs_dir) >= limits.output_bytes:
                limit_hit = "output_size"
            else:
                limit_hit = _limit_from_exit(exit_code)
    finally:
        if cgroup is not None:
            cgroup.remove()
    return SandboxResult(
        exit_code=exit_code,
        limit_hit=limit_hit,
        peak_memory_bytes=peak,
        duration_seconds=duration,
        cancelled=cancelled,
    )
