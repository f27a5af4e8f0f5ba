"""What only the Slurm executor has to get right: the spec travelling to the node, and a job
that Slurm ends behind havenkit's back. Everything else runs under both executors elsewhere."""

import subprocess
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from havenkit.sandbox import Limits, SandboxSpec, SlurmJobLost, command_for, run_on_slurm
from havenkit.sandbox.slurm import job_name, job_state, spec_from_json, spec_to_json, submit
from havenkit.workspaces import services
from havenkit.workspaces.models import Job, JobState
from havenkit.workspaces.worker import (
    job_limits,
    prepare_job,
    recover_abandoned_jobs,
    sandbox_executor,
)


def _spec(folder: Path, source: str) -> SandboxSpec:
    code, outputs = folder / "code", folder / "outputs"
    code.mkdir()
    outputs.mkdir()
    (code / "job.py").write_text(source)
    return SandboxSpec(code, outputs, None, command_for("job.py"), Limits(wall_seconds=20))


def test_the_spec_reaches_the_node_unchanged(tmp_path):
    spec = SandboxSpec(
        tmp_path / "code",
        tmp_path / "outputs",
        tmp_path / "extract",
        ("/usr/bin/Rscript", "--vanilla", "/code/model.R"),
        Limits(wall_seconds=1.5, memory_bytes=123),
        job_uid=999,
        job_gid=998,
    )
    assert spec_from_json(spec_to_json(spec)) == spec


def test_an_unknown_executor_is_a_configuration_error(settings):
    settings.EXECUTOR = "kubernetes"
    with pytest.raises(ImproperlyConfigured, match="must be 'local'"):
        sandbox_executor()


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("scancel", "message"),
    [
        # An administrator's plain scancel: the node's runner stops the sandbox cleanly.
        ([], r"Slurm stopped job \d+ before it finished"),
        # The runner itself killed (as when a node dies): nothing reports back.
        (["--batch", "--signal", "KILL"], r"Slurm ended job \d+ \((cancelled|failed)"),
    ],
    ids=["scancel", "runner killed"],
)
def test_a_job_slurm_ends_behind_havenkits_back_is_not_a_researchers_cancel(
    tmp_path, slurm_cluster, scancel, message
):
    job_folder = tmp_path / "jobs" / "7"
    job_folder.mkdir(parents=True)
    spec = _spec(job_folder, "import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    log = job_folder / "log.txt"

    def administrator_steps_in() -> bool:
        if "started" in (log.read_text() if log.exists() else ""):
            subprocess.run(["scancel", *scancel, "--name", job_name(log)], check=True)
        return False

    with pytest.raises(SlurmJobLost, match=message):
        run_on_slurm(spec, log, should_cancel=administrator_steps_in)


@pytest.mark.sandbox
def test_a_job_still_waiting_in_slurms_queue_can_be_cancelled(tmp_path, slurm_cluster):
    job_folder = tmp_path / "jobs" / "8"
    job_folder.mkdir(parents=True)
    log = job_folder / "log.txt"

    def hold_then_cancel() -> bool:
        # Held, the job stays pending however quickly the cluster would have started it.
        subprocess.run(["scontrol", "hold", f"jobname={job_name(log)}"], check=True)
        return True

    result = run_on_slurm(_spec(job_folder, "print('never runs')\n"), log, hold_then_cancel)
    assert result.cancelled
    assert not result.succeeded
    assert not log.exists()


@pytest.mark.sandbox
@pytest.mark.django_db
def test_a_job_left_on_slurm_by_a_dead_worker_is_cancelled_there(
    project, researcher, settings, slurm_cluster
):
    settings.EXECUTOR = "slurm"
    version = services.save_code_file(
        project, "slow.py", "import time\ntime.sleep(60)\n", researcher
    )
    job = services.submit_job(project, version, researcher)
    # A worker claimed it, sent it to Slurm, and died.
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker_name="")
    slurm_id = submit(prepare_job(job, job_limits()), services.log_path(job))
    assert job_state(slurm_id)[0] in {"PENDING", "RUNNING"}
    recover_abandoned_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    deadline = time.monotonic() + 20
    while job_state(slurm_id)[0] not in {"CANCELLED", "GONE"}:
        assert time.monotonic() < deadline, job_state(slurm_id)
        time.sleep(0.2)
