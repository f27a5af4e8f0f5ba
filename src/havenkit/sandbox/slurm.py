"""Run the same sandbox on a Slurm cluster instead of this machine.

The worker submits a batch job with ``sbatch`` whose only step is :mod:`havenkit.sandbox.node`:
on the compute node it runs :func:`run_sandboxed`, the very runner (bubblewrap command, cgroup
limits, log streaming) the local executor uses, and writes how the run ended next to the log.
The worker follows all its jobs with one ``squeue --states=all`` per round (:class:`SlurmJobs`;
``sacct`` needs slurmdbd, which a small haven may not run) and reads that result when Slurm
says a job has ended. HAVENKIT_HOME must therefore be on storage the compute nodes mount at
the same path, and havenkit installed at the same path on them.
"""

import contextlib
import hashlib
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from havenkit.sandbox.command import Limits, SandboxSpec
from havenkit.sandbox.runner import SandboxResult

# Slurm states after which a job will never run again (``squeue``'s %T).
_ENDED = {
    "BOOT_FAIL",
    "CANCELLED",
    "COMPLETED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "TIMEOUT",
}
# Slurm's own time limit is a backstop: the runner on the node stops the job at its wall-clock
# limit first and records it, so Slurm gets this much longer.
_SLURM_GRACE_SECONDS = 60
_HOST_PATH = "/usr/bin:/bin"


class SlurmUnavailable(Exception):
    """Slurm's commands are missing, or the cluster refused the job; the message says which."""


class SlurmJobLost(Exception):
    """Slurm ended the job before the sandbox on the node could say how it ended."""


def spec_to_json(spec: SandboxSpec) -> str:
    fields = asdict(spec)
    for name in ("code_dir", "outputs_dir", "extract_dir", "reference_dir"):
        fields[name] = str(fields[name]) if fields[name] is not None else None
    fields["system_paths"] = [str(path) for path in spec.system_paths]
    return json.dumps(fields)


def spec_from_json(text: str) -> SandboxSpec:
    fields = json.loads(text)
    return SandboxSpec(
        code_dir=Path(fields["code_dir"]),
        outputs_dir=Path(fields["outputs_dir"]),
        extract_dir=Path(fields["extract_dir"]) if fields["extract_dir"] else None,
        command=tuple(fields["command"]),
        limits=Limits(**fields["limits"]),
        system_paths=tuple(Path(path) for path in fields["system_paths"]),
        job_uid=fields["job_uid"],
        job_gid=fields["job_gid"],
        reference_dir=Path(fields["reference_dir"]) if fields.get("reference_dir") else None,
    )


def result_path(log_path: Path) -> Path:
    """Where the node writes how the run ended: beside the job's log."""
    return log_path.with_name("sandbox-result.json")


def _slurm_environment() -> dict[str, str]:
    """What Slurm's commands, and through ``sbatch`` the job, get of the worker's environment.

    Only the search path and Slurm's own settings (``SLURM_CONF``, ``SBATCH_*`` defaults a haven
    may set); none of havenkit's settings or secrets.
    """
    kept = {
        name: value
        for name, value in os.environ.items()
        if name == "SLURM_CONF" or name.startswith("SBATCH_")
    }
    return {"PATH": _HOST_PATH, **kept}


def _slurm(*argv: str) -> str:
    program = shutil.which(argv[0], path=_HOST_PATH)
    if program is None:
        raise SlurmUnavailable(
            f"{argv[0]} is not installed on this machine, so jobs cannot be sent to Slurm. "
            "Install the Slurm client commands or set HAVENKIT_EXECUTOR=local."
        )
    completed = subprocess.run(
        [program, *argv[1:]],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=_slurm_environment(),
    )
    if completed.returncode != 0:
        raise SlurmUnavailable(f"{argv[0]} failed: {completed.stderr.strip()}")
    return completed.stdout


def job_name(log_path: Path) -> str:
    """The Slurm job name of the run logging to ``log_path``: its folder's name and a digest of
    the whole path, so two havenkit instances sharing a cluster never cancel each other's jobs."""
    digest = hashlib.sha256(str(log_path.parent.resolve()).encode()).hexdigest()[:12]
    return f"havenkit-{log_path.parent.name}-{digest}"


def cancel_abandoned(log_path: Path, job_id: str = "") -> None:
    """Cancel on Slurm the run of a job whose worker died, so it writes nothing more.

    By its Slurm job id when the worker recorded it; by name when the worker died between
    ``sbatch`` and recording the id.
    """
    _slurm("scancel", job_id or f"--name={job_name(log_path)}")


def submit(spec: SandboxSpec, log_path: Path, partition: str = "") -> str:
    """Queue the run on Slurm and return its job id."""
    spec_file = log_path.with_name("sandbox-spec.json")
    spec_file.write_text(spec_to_json(spec))
    result = result_path(log_path)
    result.unlink(missing_ok=True)
    limits = spec.limits
    argv = [
        "sbatch",
        "--parsable",
        "--job-name",
        job_name(log_path),
        # Slurm's own output is empty: the node's runner streams the job's log itself.
        "--output",
        "/dev/null",
        "--ntasks",
        "1",
        "--time",
        str(math.ceil((limits.wall_seconds + _SLURM_GRACE_SECONDS) / 60)),
        "--mem",
        f"{math.ceil(limits.memory_bytes / 1024**2)}M",
        # The job gets sbatch's environment, which :func:`_slurm_environment` keeps to PATH and
        # Slurm's settings. (NONE would make slurmd run a login shell as the job's user to make
        # one, about a second per job, and the runner on the node clears it anyway.)
        "--export",
        "ALL",
        "--chdir",
        str(log_path.parent),
    ]
    if partition:
        argv += ["--partition", partition]
    node = [sys.executable, "-m", "havenkit.sandbox.node"]
    argv += ["--wrap", "exec " + shlex.join([*node, str(spec_file), str(log_path), str(result)])]
    return _slurm(*argv).strip().split(";")[0]


def job_states(job_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Slurm's state and reason for each of ``job_ids``, in one ``squeue`` call.

    A job Slurm has forgotten (``MinJobAge`` after it ended) is absent from the answer.
    """
    if not job_ids:
        return {}
    try:
        output = _slurm(
            "squeue",
            "--noheader",
            "--states=all",
            "--format=%i|%T|%r",
            "--jobs",
            ",".join(job_ids),
        )
    except SlurmUnavailable as error:
        # squeue refuses a list in which it knows no job at all.
        if "Invalid job id" in str(error):
            return {}
        raise
    states = {}
    for line in output.splitlines():
        job_id, state, reason = line.split("|", 2)
        states[job_id] = (state, reason)
    return states


def job_state(job_id: str) -> tuple[str, str]:
    """Slurm's state of one job and its reason; ``("GONE", "")`` once Slurm has forgotten it."""
    return job_states([job_id]).get(job_id, ("GONE", ""))


def _cancel(job_id: str, state: str) -> None:
    """Stop a job havenkit was asked to cancel, whether it has started or not."""
    try:
        if state == "RUNNING":
            # SIGTERM to the batch step only (the node's runner), which stops the sandbox and
            # records the cancellation as a local cancel does.
            _slurm("scancel", "--batch", "--signal", "TERM", job_id)
        else:
            # Not started yet: Slurm drops it from the queue.
            _slurm("scancel", job_id)
    except SlurmUnavailable:
        # It changed state meanwhile (a batch step not yet launched, or already ending):
        # a plain scancel covers every case but a job that has already ended.
        with contextlib.suppress(SlurmUnavailable):
            _slurm("scancel", job_id)


class SlurmJobs:
    """Runs jobs on Slurm from many threads, following them all with one ``squeue`` per round.

    A worker keeps dozens of jobs submitted at once and lets the cluster decide how many run;
    asking about each job separately would cost slurmctld one request per job per round.
    Whichever waiting thread finds the last answer stale asks again for every job, and wakes
    the others.
    """

    def __init__(self, partition: str = "", poll_seconds: float = 0.25) -> None:
        self.partition = partition
        self.poll_seconds = poll_seconds
        self._polled = threading.Condition()
        self._following: set[str] = set()
        self._states: dict[str, tuple[str, str]] = {}
        self._next_poll = 0.0
        # How many times squeue was asked, whatever the number of jobs followed.
        self.rounds = 0

    def _state_after(self, job_id: str, seen_round: int) -> tuple[int, str, str]:
        """The job's state from a round newer than ``seen_round``, and that round's number."""
        with self._polled:
            while self.rounds == seen_round:
                wait = self._next_poll - time.monotonic()
                if wait > 0:
                    self._polled.wait(wait)
                    continue
                self._next_poll = time.monotonic() + self.poll_seconds
                self._states = job_states(sorted(self._following))
                self.rounds += 1
                self._polled.notify_all()
            return self.rounds, *self._states.get(job_id, ("GONE", ""))

    def run(
        self,
        spec: SandboxSpec,
        log_path: Path,
        should_cancel: Callable[[], bool] | None = None,
        on_submit: Callable[[str], None] | None = None,
    ) -> SandboxResult:
        """Run ``spec`` on Slurm and wait for it, with the same result as :func:`run_sandboxed`.

        ``on_submit`` gets the Slurm job id as soon as the cluster has accepted the job.
        """
        started = time.monotonic()
        job_id = submit(spec, log_path, self.partition)
        if on_submit is not None:
            on_submit(job_id)
        with self._polled:
            self._following.add(job_id)
            seen_round = self.rounds
        cancelled = False
        try:
            while True:
                seen_round, state, reason = self._state_after(job_id, seen_round)
                if state in _ENDED or state == "GONE":
                    break
                if not cancelled and should_cancel is not None and should_cancel():
                    _cancel(job_id, state)
                    cancelled = True
        finally:
            with self._polled:
                self._following.discard(job_id)
        return _outcome(job_id, log_path, state, reason, cancelled, time.monotonic() - started)


def _outcome(
    job_id: str, log_path: Path, state: str, reason: str, cancelled: bool, duration: float
) -> SandboxResult:
    """How an ended Slurm job went: the node's own result, or why there is none."""
    result_file = result_path(log_path)
    if result_file.is_file():
        result = SandboxResult(**json.loads(result_file.read_text()))
        if not result.cancelled or cancelled:
            return result
        # The node's runner was told to stop, but not by havenkit: an administrator's
        # scancel, or preemption. That is not the researcher's cancel.
        raise SlurmJobLost(
            f"Slurm stopped job {job_id} before it finished (it was {_why(state, reason)})."
        )
    if cancelled:
        return SandboxResult(
            exit_code=-15,
            limit_hit=None,
            peak_memory_bytes=None,
            duration_seconds=duration,
            cancelled=True,
        )
    raise SlurmJobLost(
        f"Slurm ended job {job_id} ({_why(state, reason)}) before the sandbox on the node "
        "reported how the job ended."
    )


def run_on_slurm(
    spec: SandboxSpec,
    log_path: Path,
    should_cancel: Callable[[], bool] | None = None,
    partition: str = "",
    on_submit: Callable[[str], None] | None = None,
) -> SandboxResult:
    """Run one job on Slurm and wait for it (a worker shares one :class:`SlurmJobs` instead)."""
    return SlurmJobs(partition).run(spec, log_path, should_cancel, on_submit)


def _why(state: str, reason: str) -> str:
    """Slurm's state and reason, as words: ``cancelled``, ``node fail: ...``."""
    words = state.lower().replace("_", " ")
    return f"{words}: {reason}" if reason and reason != "None" else words
