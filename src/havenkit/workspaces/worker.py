"""The worker: claims queued jobs, runs each in the sandbox and records how it ended.

Jobs are rows with explicit states, so the database is the queue and a restarted worker
resumes from it. All database work happens in the worker's main thread; each job's sandbox
runs in a thread of its own that touches only files.
"""

import json
import logging
import os
import pwd
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from havenkit.core import audit
from havenkit.data import airlock
from havenkit.outputs.checks import haven_config
from havenkit.sandbox import (
    LanguageUnavailable,
    Limits,
    SandboxResult,
    SandboxSpec,
    SlurmJobs,
    command_for,
    run_sandboxed,
)
from havenkit.sandbox.command import SDC_CONFIG_NAME
from havenkit.sandbox.slurm import cancel_abandoned
from havenkit.sdc.config import ConfigError
from havenkit.workspaces import services
from havenkit.workspaces.models import Job, JobState

logger = logging.getLogger(__name__)

ABANDONED_REASON = "The worker stopped while this job was running; run it again."


# How many jobs a worker keeps submitted to Slurm at once (``HAVENKIT_SLURM_MAX_SUBMITTED``):
# the cluster, not the worker, decides how many of them run.
def job_limits() -> Limits:
    """The sandbox limits for every job, from settings (``HAVENKIT_JOB_*`` in the environment)."""
    return Limits(
        wall_seconds=settings.JOB_WALL_SECONDS,
        cpu_seconds=settings.JOB_CPU_SECONDS,
        memory_bytes=settings.JOB_MEMORY_BYTES,
        max_processes=settings.JOB_MAX_PROCESSES,
        output_bytes=settings.JOB_OUTPUT_BYTES,
    )


def sandbox_executor() -> Callable[..., SandboxResult]:
    """How jobs run (``HAVENKIT_EXECUTOR``): here, or on the haven's Slurm cluster.

    Both take a spec, a log path and a cancel check, and end with the same result, so the
    worker records jobs the same way whichever runs them. One :class:`SlurmJobs` follows all
    of a worker's jobs on Slurm together.
    """
    executor = settings.EXECUTOR
    if executor == "local":
        return run_sandboxed
    if executor == "slurm":
        return SlurmJobs(partition=settings.SLURM_PARTITION).run
    raise ImproperlyConfigured(
        f"HAVENKIT_EXECUTOR is {executor!r}; it must be 'local' (this machine) or 'slurm'."
    )


def default_concurrency() -> int:
    """How many jobs a worker has at once: run here (``HAVENKIT_WORKER_CONCURRENCY``), or
    submitted to Slurm (``HAVENKIT_SLURM_MAX_SUBMITTED``), where each waits on the cluster."""
    if settings.EXECUTOR == "slurm":
        return settings.SLURM_MAX_SUBMITTED
    return settings.WORKER_CONCURRENCY


def job_account() -> tuple[int, int]:
    """The host uid and gid jobs run as when havenkit runs as root (``HAVENKIT_JOB_USER``).

    A dedicated account (``havenkit-job``, made by ``make install``) owns nothing else on the
    machine; ``nobody`` is the fallback every Debian machine has.
    """
    account = pwd.getpwnam(settings.JOB_USER)
    return account.pw_uid, account.pw_gid


def limit_explanation(limit_hit: str, limits: Limits) -> str:
    """Why a job that hit ``limit_hit`` was stopped, in words a researcher can act on."""
    explanations = {
        "wall_time": f"The job ran for longer than its time limit ({limits.wall_seconds:g} "
        "seconds) and was stopped.",
        "cpu_time": f"The job used more than its CPU time limit ({limits.cpu_seconds} seconds) "
        "and was stopped.",
        "memory": f"The job used more than its memory limit "
        f"({filesizeformat(limits.memory_bytes)}) and was stopped.",
        "processes": f"The job tried to run more than {limits.max_processes} processes at once "
        "and was stopped.",
        "output_size": f"The job wrote more than its output size limit "
        f"({filesizeformat(limits.output_bytes)}) and was stopped.",
    }
    return explanations[limit_hit]


@dataclass(frozen=True)
class Ending:
    """How a job ended, ready to be written to its row."""

    state: JobState
    exit_code: int | None = None
    failure_reason: str = ""
    limit_hit: str = ""
    peak_memory_bytes: int | None = None

    @classmethod
    def from_result(cls, result: SandboxResult, limits: Limits) -> "Ending":
        common = {"exit_code": result.exit_code, "peak_memory_bytes": result.peak_memory_bytes}
        if result.cancelled:
            return cls(JobState.CANCELLED, failure_reason="Cancelled while running.", **common)
        if result.limit_hit is not None:
            state = JobState.TIMED_OUT if result.limit_hit == "wall_time" else JobState.FAILED
            reason = limit_explanation(result.limit_hit, limits)
            return cls(state, failure_reason=reason, limit_hit=result.limit_hit, **common)
        if result.exit_code != 0:
            reason = f"The code exited with status {result.exit_code}; the log shows why."
            return cls(JobState.FAILED, failure_reason=reason, **common)
        return cls(JobState.SUCCEEDED, **common)


def this_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_abandoned(job: Job) -> bool:
    """True when no live worker can be running ``job``: none recorded, or its process is gone.

    Jobs claimed by a worker on another host are left alone; that worker recovers its own.
    """
    host, _, pid = job.worker_name.rpartition(":")
    if not job.worker_name or not pid.isdigit():
        return True
    if host != socket.gethostname():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_abandoned_jobs() -> list[Job]:
    """Mark jobs whose worker died as failed; their half-written outputs are not recorded.

    A local job died with its worker (``--die-with-parent``); a job on Slurm did not, so it is
    cancelled there first rather than followed again: its outputs would be written with nobody
    watching its limits or its cancel requests in the meantime.
    """
    recovered = []
    for job in Job.objects.filter(state=JobState.RUNNING):
        if not _is_abandoned(job):
            continue
        if settings.EXECUTOR == "slurm":
            cancel_abandoned(services.log_path(job), job.slurm_job_id or "")
        with transaction.atomic():
            updated = Job.objects.filter(
                pk=job.pk, state=JobState.RUNNING, worker_name=job.worker_name
            ).update(
                state=JobState.FAILED, failure_reason=ABANDONED_REASON, finished_at=timezone.now()
            )
            if not updated:
                continue
            audit.record(
                "job.finished",
                obj=job,
                project=job.project_id,
                details={
                    "state": JobState.FAILED,
                    "reason": "worker stopped",
                    "exit_code": None,
                    **_slurm_details(job),
                },
            )
        recovered.append(job)
    return recovered


def _slurm_details(job: Job) -> dict[str, str]:
    """The job's Slurm id for its audit events, when it ran on Slurm."""
    return {"slurm_job_id": job.slurm_job_id} if job.slurm_job_id else {}


def claim_next_job(worker_name: str) -> Job | None:
    """Take the oldest queued job; the conditional update means two workers never share one."""
    for job_id in (
        Job.objects.filter(state=JobState.QUEUED).order_by("id").values_list("id", flat=True)
    ):
        with transaction.atomic():
            claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
                state=JobState.RUNNING, started_at=timezone.now(), worker_name=worker_name
            )
            if not claimed:
                continue
            job = Job.objects.select_related("code_version__code_file", "extract").get(pk=job_id)
            audit.record(
                "job.started",
                obj=job,
                project=job.project_id,
                details={"worker": worker_name},
            )
        return job
    return None


def prepare_job(job: Job, limits: Limits) -> SandboxSpec:
    """Write the job's code to its folder and describe its sandbox.

    The folder holds the file the job runs and, beside it, every other code file of the
    workspace at the version recorded when the job was submitted, so the job can ``import`` or
    ``source`` them.

    Raises :class:`LanguageUnavailable` when the code's language cannot run here,
    :class:`services.ExtractUnavailable` when the job's extract was withdrawn after it was queued,
    and :class:`ConfigError` when the haven's output-checking configuration cannot be used.
    """
    services.check_extract_available(job.extract)
    code_file = job.code_version.code_file
    code_dir = services.code_directory(job)
    code_dir.mkdir(parents=True, exist_ok=True)
    command = command_for(code_file.name)
    for version in [job.code_version, *job.other_code_versions.select_related("code_file")]:
        (code_dir / version.code_file.name).write_text(version.content, encoding="utf-8")
    # The haven's output-checking rules, read-only beside the code: havenkit.sdc in the job
    # checks with them, so what the job records is what the portal would decide. Written last,
    # though no code file can take its name (code files end in .py, .R, .txt or .sql).
    rules = json.dumps(haven_config().as_dict(), indent=2)
    (code_dir / SDC_CONFIG_NAME).write_text(rules, encoding="utf-8")
    outputs_dir = services.outputs_directory(job)
    outputs_dir.mkdir(exist_ok=True)
    uid, gid = job_account()
    return SandboxSpec(
        code_dir=code_dir,
        outputs_dir=outputs_dir,
        extract_dir=services.data_directory(job),
        reference_dir=services.reference_directory(job),
        command=command,
        limits=limits,
        job_uid=uid,
        job_gid=gid,
    )


def seal_outputs(folder: Path) -> None:
    """Make a finished job's outputs read-only and havenkit's, removing links and devices.

    A symlink written in the sandbox points at sandbox paths, but on the host it would point
    at the host's files; only regular files and folders are kept. The job account wrote the
    files; handing them to havenkit's own account means no later job can change them.
    """
    owner = (os.geteuid(), os.getegid())
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in [*files, *dirs]:
            path = Path(root) / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                os.chown(path, *owner)
                path.chmod(0o555)
            elif stat.S_ISREG(mode):
                os.chown(path, *owner)
                path.chmod(0o444)
            else:
                path.unlink()
    os.chown(folder, *owner)
    folder.chmod(0o555)


def _append_to_log(job: Job, line: str) -> None:
    """Say at the end of the log why the job stopped, where the researcher will look."""
    path = services.log_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(f"\n[havenkit] {line}\n")


def finish_job(job: Job, ending: Ending, worker_name: str) -> bool:
    """Record how the job ended and its outputs, unless it was taken from this worker."""
    if ending.failure_reason:
        _append_to_log(job, ending.failure_reason)
    outputs = services.outputs_directory(job)
    if outputs.is_dir():
        seal_outputs(outputs)
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, state=JobState.RUNNING, worker_name=worker_name
        ).update(
            state=ending.state,
            exit_code=ending.exit_code,
            failure_reason=ending.failure_reason,
            limit_hit=ending.limit_hit,
            peak_memory_bytes=ending.peak_memory_bytes,
            finished_at=timezone.now(),
        )
        if not updated:
            logger.warning("Job %s was no longer this worker's; its ending is not recorded.", job)
            return False
        job.refresh_from_db()
        if outputs.is_dir():
            services.record_job_outputs(job)
        audit.record(
            "job.finished",
            obj=job,
            project=job.project_id,
            details={
                "state": ending.state,
                "exit_code": ending.exit_code,
                "limit_hit": ending.limit_hit or None,
                **_slurm_details(job),
            },
        )
    return True


@dataclass
class _RunningJob:
    job: Job
    cancel: threading.Event
    # Set by the job's thread once Slurm accepted it; the main thread records it on the row.
    slurm_job_id: str | None = None

    def submitted(self, slurm_job_id: str) -> None:
        self.slurm_job_id = slurm_job_id


class Worker:
    """Runs up to ``concurrency`` jobs at once, polling the queue every ``poll_interval``.

    ``concurrency`` defaults to :func:`default_concurrency`, which depends on the executor.
    """

    def __init__(self, poll_interval: float, concurrency: int | None = None) -> None:
        self.concurrency = max(1, concurrency or default_concurrency())
        self.on_slurm = settings.EXECUTOR == "slurm"
        self.poll_interval = poll_interval
        self.name = this_worker_name()
        self.limits = job_limits()
        self.execute = sandbox_executor()
        self.running: dict[Future[SandboxResult], _RunningJob] = {}

    def run(self, once: bool = False) -> int:
        """Work until interrupted, or with ``once`` until the queue is empty; return jobs run."""
        for job in recover_abandoned_jobs():
            logger.warning("Job %s was left running by a stopped worker; marked failed.", job.pk)
        # A worker (re)starts when the haven's machine does, which is also when an upload
        # interrupted by the restart is left half-received: the data app fails and audits it.
        for upload in airlock.sweep_stale_uploads():
            logger.warning("Upload %s was left unfinished by a stopped process; swept.", upload.pk)
        finished = 0
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="havenkit-job") as pool:
            try:
                while True:
                    self._start_queued(pool)
                    if not self.running:
                        if once:
                            break
                        time.sleep(self.poll_interval)
                        continue
                    done, _ = wait(
                        self.running, timeout=self.poll_interval, return_when=FIRST_COMPLETED
                    )
                    self._record_slurm_job_ids()
                    finished += self._finish(done)
                    self._pass_on_cancellations()
            except KeyboardInterrupt:
                self._stop_all()
        return finished

    def _start_queued(self, pool: ThreadPoolExecutor) -> None:
        while len(self.running) < self.concurrency and (job := claim_next_job(self.name)):
            try:
                spec = prepare_job(job, self.limits)
            except (
                LanguageUnavailable,
                services.ExtractUnavailable,
                ConfigError,
                OSError,
            ) as error:
                finish_job(job, Ending(JobState.FAILED, failure_reason=str(error)), self.name)
                continue
            running = _RunningJob(job, threading.Event())
            hooks = {"on_submit": running.submitted} if self.on_slurm else {}
            future = pool.submit(
                self.execute,
                spec,
                services.log_path(job),
                should_cancel=running.cancel.is_set,
                **hooks,
            )
            self.running[future] = running

    def _record_slurm_job_ids(self) -> None:
        """Write each newly submitted job's Slurm id to its row, for cancelling and recovery."""
        for running in self.running.values():
            slurm_job_id = running.slurm_job_id
            if slurm_job_id is not None and running.job.slurm_job_id != slurm_job_id:
                running.job.slurm_job_id = slurm_job_id
                Job.objects.filter(pk=running.job.pk).update(slurm_job_id=slurm_job_id)

    def _finish(self, done: set[Future[SandboxResult]]) -> int:
        for future in done:
            running = self.running.pop(future)
            try:
                ending = Ending.from_result(future.result(), self.limits)
            except Exception as error:
                logger.exception("Job %s could not run in the sandbox.", running.job.pk)
                ending = Ending(JobState.FAILED, failure_reason=f"The sandbox failed: {error}")
            finish_job(running.job, ending, self.name)
        return len(done)

    def _pass_on_cancellations(self) -> None:
        by_id = {running.job.pk: running for running in self.running.values()}
        requested = Job.objects.filter(pk__in=by_id, cancel_requested=True)
        for job_id in requested.values_list("pk", flat=True):
            by_id[job_id].cancel.set()

    def _stop_all(self) -> None:
        """On shutdown, stop every job and record it as failed because the worker stopped."""
        for running in self.running.values():
            running.cancel.set()
        wait(self.running)
        self._record_slurm_job_ids()
        for running in self.running.values():
            finish_job(
                running.job, Ending(JobState.FAILED, failure_reason=ABANDONED_REASON), self.name
            )
        self.running.clear()


def stop_on_sigterm() -> None:
    """Let ``kill`` (SIGTERM) stop the worker as cleanly as Ctrl-C does."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
