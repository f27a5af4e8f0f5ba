"""The worker runs real jobs in the sandbox and records how each ended."""

import hashlib
import os
import shutil
import socket
import stat
from datetime import timedelta
from textwrap import dedent

import pytest
from django.core.management import call_command

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import services as data
from havenkit.data.models import IngressState
from havenkit.workspaces import services
from havenkit.workspaces.models import Job, JobState
from havenkit.workspaces.worker import ABANDONED_REASON, claim_next_job
from tests.data.test_sweep import left_behind

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]
# Tests of how a job runs and ends hold on this machine and through Slurm alike.
on_both_executors = pytest.mark.usefixtures("executor")

COUNT_BY_AREA = """
import pandas as pd
admissions = pd.read_parquet("/data/admissions.parquet")
counts = admissions.groupby("council_area").size().rename("admissions")
counts.to_csv("/outputs/counts.csv")
print("wrote", len(counts), "rows")
"""


def _queue(project, researcher, source: str, name: str = "analysis.py") -> Job:
    version = services.save_code_file(project, name, dedent(source), researcher)
    return services.submit_job(project, version, researcher)


def _run_worker() -> None:
    call_command("worker", "--once", "--poll-interval", "0.1")


@on_both_executors
def test_a_job_reads_the_extract_and_its_output_is_recorded(project, researcher, extract):
    job = _queue(project, researcher, COUNT_BY_AREA)
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, services.read_log(job)[0]
    assert job.exit_code == 0
    assert job.started_at <= job.finished_at
    assert job.peak_memory_bytes > 0
    output = job.outputs.get()
    path = services.outputs_directory(job) / "counts.csv"
    assert output.name == "counts.csv"
    assert output.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "Edinburgh,18" in path.read_text()
    assert "wrote 2 rows" in services.read_log(job)[0]


def test_a_finished_jobs_outputs_are_read_only(project, researcher, extract):
    job = _queue(project, researcher, COUNT_BY_AREA)
    _run_worker()
    outputs = services.outputs_directory(job)
    assert stat.S_IMODE((outputs / "counts.csv").stat().st_mode) == 0o444
    assert stat.S_IMODE(outputs.stat().st_mode) == 0o555


def test_links_a_job_leaves_in_its_outputs_are_removed(project, researcher, extract):
    job = _queue(project, researcher, "import os\nos.symlink('/etc/passwd', '/outputs/passwd')\n")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert not (services.outputs_directory(job) / "passwd").is_symlink()
    assert not job.outputs.exists()


def test_starting_and_finishing_are_audited(project, researcher, extract):
    job = _queue(project, researcher, "print('hi')\n")
    _run_worker()
    started = AuditEvent.objects.get(action="job.started", object_id=str(job.pk))
    finished = AuditEvent.objects.get(action="job.finished", object_id=str(job.pk))
    assert started.project_id == str(project.pk)
    assert finished.details == {"state": "succeeded", "exit_code": 0, "limit_hit": None}


@on_both_executors
def test_a_script_that_raises_fails_with_its_traceback_in_the_log(project, researcher):
    job = _queue(project, researcher, "raise ValueError('no such column: age')\n")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.exit_code == 1
    assert "exited with status 1" in job.failure_reason
    log, _truncated = services.read_log(job)
    assert "Traceback (most recent call last)" in log
    assert "ValueError: no such column: age" in log


@on_both_executors
def test_a_syntax_error_fails_with_pythons_message_in_the_log(project, researcher):
    job = _queue(project, researcher, "print('unclosed'\n")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.exit_code == 1
    log = services.read_log(job)[0]
    assert "SyntaxError" in log
    assert "/code/analysis.py" in log
    assert not job.outputs.exists()


def test_a_job_whose_extract_was_withdrawn_after_queuing_fails_clearly(
    project, researcher, extract
):
    job = _queue(project, researcher, COUNT_BY_AREA)
    shutil.rmtree(data.extract_directory(extract))
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "Extract 1 is no longer in this project's workspace" in job.failure_reason
    assert not services.outputs_directory(job).exists()
    assert not job.outputs.exists()


@on_both_executors
def test_an_endless_loop_times_out(project, researcher, settings):
    settings.JOB_WALL_SECONDS = 1.5
    job = _queue(project, researcher, "while True:\n    pass\n")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.TIMED_OUT
    assert job.limit_hit == "wall_time"
    assert "time limit (1.5 seconds)" in job.failure_reason
    assert "time limit" in services.read_log(job)[0]


@on_both_executors
def test_a_memory_hog_fails_and_says_memory(project, researcher, settings):
    settings.JOB_MEMORY_BYTES = 100 * 1024**2
    job = _queue(project, researcher, "hoard = []\nwhile True:\n    hoard.append(b'x' * 10**7)\n")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.limit_hit == "memory"
    assert "memory limit" in job.failure_reason
    details = AuditEvent.objects.get(action="job.finished", object_id=str(job.pk)).details
    assert details["limit_hit"] == "memory"


def test_a_job_cannot_read_havenkit_home(project, researcher, extract, settings):
    secret = settings.HAVENKIT_HOME / "secret_key"
    secret.write_text("do not leak")
    job = _queue(
        project,
        researcher,
        f"""
        import os
        for path in [{str(secret)!r}, {str(settings.HAVENKIT_HOME)!r}]:
            print(path, os.path.exists(path))
        """,
    )
    _run_worker()
    log = services.read_log(job)[0]
    assert f"{secret} False" in log
    assert f"{settings.HAVENKIT_HOME} False" in log


@on_both_executors
def test_once_drains_every_queued_job(project, researcher):
    jobs = [_queue(project, researcher, f"print({n})\n", name=f"job{n}.py") for n in range(3)]
    _run_worker()
    states = {job.pk: job.state for job in Job.objects.filter(pk__in=[j.pk for j in jobs])}
    assert set(states.values()) == {JobState.SUCCEEDED}


@on_both_executors
def test_a_cancel_request_stops_a_running_job(project, researcher):
    job = _queue(project, researcher, "import time\ntime.sleep(60)\n")
    # The researcher pressed "cancel" just after the worker claimed the job.
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.duration_seconds < 10


def test_a_cancelled_queued_job_never_runs(project, researcher):
    job = _queue(project, researcher, "print('should not run')\n")
    services.cancel_job(job, researcher)
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert job.started_at is None
    assert not services.log_path(job).exists()


@on_both_executors
def test_an_r_job_reads_the_csv_extract_with_data_table_and_fits_a_survival_model(
    project, researcher, extract
):
    job = _queue(
        project,
        researcher,
        """
        library(data.table)
        library(survival)
        admissions <- fread("/data/admissions.csv")
        counts <- admissions[, .(admissions = .N), by = council_area]
        fwrite(counts, "/outputs/counts.csv")
        fit <- survfit(Surv(c(1, 2, 3), c(1, 0, 1)) ~ 1)
        cat("median survival", summary(fit)$table[["median"]], "\\n")
        """,
        name="counts.R",
    )
    _run_worker()
    job.refresh_from_db()
    log = services.read_log(job)[0]
    assert job.state == JobState.SUCCEEDED, log
    assert "median survival 3" in log
    counts = (services.outputs_directory(job) / "counts.csv").read_text()
    assert "Edinburgh,18" in counts
    assert "West Lothian,12" in counts
    assert [output.name for output in job.outputs.all()] == ["counts.csv"]


def test_r_code_fails_clearly_when_r_is_missing(project, researcher, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    job = _queue(project, researcher, "print('hello')\n", name="model.R")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "R is not installed on this haven" in job.failure_reason


def test_two_workers_never_claim_the_same_job(project, researcher):
    job = _queue(project, researcher, "print('once')\n")
    first = claim_next_job("host-a:1")
    second = claim_next_job("host-b:2")
    assert first.pk == job.pk
    assert second is None
    job.refresh_from_db()
    assert job.worker_name == "host-a:1"


def test_a_job_left_running_by_a_dead_worker_is_marked_failed(project, researcher):
    job = _queue(project, researcher, "print('hi')\n")
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker_name="")
    services.outputs_directory(job).mkdir(parents=True)
    (services.outputs_directory(job) / "half-written.csv").write_text("a,b\n")
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.failure_reason == ABANDONED_REASON
    assert job.finished_at is not None
    assert not job.outputs.exists()
    event = AuditEvent.objects.get(action="job.finished", object_id=str(job.pk))
    assert event.details["state"] == "failed"


def test_a_job_of_a_live_worker_is_left_alone(project, researcher):
    job = _queue(project, researcher, "print('hi')\n")
    live_worker = f"{socket.gethostname()}:{os.getppid()}"
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker_name=live_worker)
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_a_starting_worker_sweeps_uploads_a_stopped_process_left_half_done(make_person):
    steward = make_person(Role.DATA_STEWARD)
    stale = left_behind(steward, IngressState.RECEIVING, timedelta(hours=7), {"upload.csv": b"a"})
    recent = left_behind(steward, IngressState.RECEIVING, timedelta(minutes=5), {})
    _run_worker()
    stale.refresh_from_db()
    recent.refresh_from_db()
    assert stale.state == IngressState.FAILED
    assert recent.state == IngressState.RECEIVING
    event = AuditEvent.objects.get(action="ingress.swept")
    assert event.object_id == str(stale.pk)
