"""What only the Slurm executor has to get right: the spec travelling to the node, and a job
that Slurm ends behind havenkit's back. Everything else runs under both executors elsewhere."""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from havenkit.core.models import AuditEvent
from havenkit.sandbox import (
    Limits,
    SandboxSpec,
    SlurmJobLost,
    SlurmJobs,
    command_for,
    run_on_slurm,
)
from havenkit.sandbox.slurm import (
    _slurm_environment,
    job_name,
    job_state,
    job_states,
    spec_from_json,
    spec_to_json,
    submit,
)
from havenkit.workspaces import services
from havenkit.workspaces.models import Job, JobState
from havenkit.workspaces.worker import (
    Worker,
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


def test_on_slurm_the_worker_keeps_many_more_jobs_submitted_than_it_would_run_here(settings):
    settings.WORKER_CONCURRENCY = 2
    settings.EXECUTOR = "local"
    assert Worker(poll_interval=1).concurrency == 2
    settings.EXECUTOR = "slurm"
    assert Worker(poll_interval=1).concurrency == 64
    settings.SLURM_MAX_SUBMITTED = 16
    assert Worker(poll_interval=1).concurrency == 16
    assert Worker(poll_interval=1, concurrency=3).concurrency == 3


def test_slurm_commands_get_nothing_of_the_workers_environment_but_slurms_own(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://havenkit:secret@db/havenkit")
    monkeypatch.setenv("HAVENKIT_SECRET_KEY", "not-for-jobs")
    monkeypatch.setenv("SLURM_CONF", "/etc/slurm/haven.conf")
    monkeypatch.setenv("SBATCH_ACCOUNT", "tre")
    assert _slurm_environment() == {
        "PATH": "/usr/bin:/bin",
        "SLURM_CONF": "/etc/slurm/haven.conf",
        "SBATCH_ACCOUNT": "tre",
    }


@pytest.mark.sandbox
def test_one_squeue_a_round_follows_every_job_however_many(tmp_path, slurm_cluster):
    jobs = SlurmJobs(poll_seconds=0.25)
    specs = []
    for n in range(6):
        folder = tmp_path / "jobs" / str(n)
        folder.mkdir(parents=True)
        specs.append((_spec(folder, "import time\ntime.sleep(1)\nprint('done')\n"), folder))
    started = time.monotonic()
    with ThreadPoolExecutor(len(specs)) as pool:
        results = list(pool.map(lambda job: jobs.run(job[0], job[1] / "log.txt"), specs))
    elapsed = time.monotonic() - started
    assert all(result.succeeded for result in results)
    # Six jobs each asking on their own would have made six times as many calls.
    assert jobs.rounds <= elapsed / jobs.poll_seconds + 2


@pytest.mark.sandbox
def test_squeue_answers_for_every_job_it_still_knows(tmp_path, slurm_cluster):
    folder = tmp_path / "jobs" / "1"
    folder.mkdir(parents=True)
    slurm_id = submit(_spec(folder, "print('hi')\n"), folder / "log.txt")
    states = job_states([slurm_id, "999999"])
    assert set(states) == {slurm_id}
    assert job_states(["999999"]) == {}
    assert job_state("999999") == ("GONE", "")


@pytest.mark.sandbox
@pytest.mark.django_db
def test_a_jobs_slurm_id_is_recorded_on_its_row_and_in_its_audit_event(
    project, researcher, settings, slurm_cluster
):
    settings.EXECUTOR = "slurm"
    version = services.save_code_file(project, "hello.py", "print('hello')\n", researcher)
    job = services.submit_job(project, version, researcher)
    Worker(poll_interval=0.1).run(once=True)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, services.read_log(job)[0]
    assert job.slurm_job_id.isdigit()
    event = AuditEvent.objects.get(action="job.finished", object_id=str(job.pk))
    assert event.details["slurm_job_id"] == job.slurm_job_id


@pytest.mark.sandbox
@pytest.mark.django_db
def test_a_job_run_here_has_no_slurm_id(project, researcher, settings):
    settings.EXECUTOR = "local"
    version = services.save_code_file(project, "hello.py", "print('hello')\n", researcher)
    job = services.submit_job(project, version, researcher)
    Worker(poll_interval=0.1).run(once=True)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.slurm_job_id is None
    event = AuditEvent.objects.get(action="job.finished", object_id=str(job.pk))
    assert "slurm_job_id" not in event.details


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
@pytest.mark.parametrize(
    "id_recorded", [True, False], ids=["by its recorded id", "by name, died before recording"]
)
def test_a_job_left_on_slurm_by_a_dead_worker_is_cancelled_there(
    project, researcher, settings, slurm_cluster, id_recorded
):
    settings.EXECUTOR = "slurm"
    version = services.save_code_file(
        project, "slow.py", "import time\ntime.sleep(60)\n", researcher
    )
    job = services.submit_job(project, version, researcher)
    # A worker claimed it, sent it to Slurm, and died.
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker_name="")
    slurm_id = submit(prepare_job(job, job_limits()), services.log_path(job))
    if id_recorded:
        Job.objects.filter(pk=job.pk).update(slurm_job_id=slurm_id)
    assert job_state(slurm_id)[0] in {"PENDING", "RUNNING"}
    recover_abandoned_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    event = AuditEvent.objects.get(action="job.finished", object_id=str(job.pk))
    assert event.details.get("slurm_job_id") == (slurm_id if id_recorded else None)
    deadline = time.monotonic() + 20
    while job_state(slurm_id)[0] not in {"CANCELLED", "GONE"}:
        assert time.monotonic() < deadline, job_state(slurm_id)
        time.sleep(0.2)
