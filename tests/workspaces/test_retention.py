"""Listing and deleting a project's job folders: every file hashed, sealed folders removed,
links listed but never followed."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from havenkit.workspaces import retention, services
from havenkit.workspaces.worker import seal_outputs

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(project, researcher):
    version = services.save_code_file(project, "analysis.py", "print(1)\n", researcher)
    job = services.submit_job(project, version, researcher)
    outputs = services.outputs_directory(job)
    outputs.mkdir(parents=True)
    (outputs / "table.csv").write_text("a,b\n1,2\n")
    services.log_path(job).write_text("ran\n")
    return job


def test_every_file_is_listed_with_its_sha256(project, job):
    files = {entry["file"]: entry for entry in retention.job_files(project)}
    table = f"jobs/{job.pk}/outputs/table.csv"
    assert set(files) == {f"jobs/{job.pk}/log.txt", table}
    assert files[table]["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert files[table]["size_bytes"] == 8


def test_a_link_is_listed_but_its_target_never_read(project, job, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("not the job's")
    (services.outputs_directory(job) / "link").symlink_to(secret)
    files = {entry["file"]: entry for entry in retention.job_files(project)}
    link = files[f"jobs/{job.pk}/outputs/link"]
    assert link == {"file": f"jobs/{job.pk}/outputs/link", "symlink_to": str(secret)}
    retention.delete_job_folders(project)
    assert secret.read_text() == "not the job's", "deleting the link leaves its target alone"


def test_sealed_folders_are_deleted(project, job):
    seal_outputs(services.outputs_directory(job))
    removed = retention.delete_job_folders(project)
    assert removed == [f"jobs/{job.pk}"]
    assert not services.job_directory(job).exists()
    assert (Path(settings.HAVENKIT_HOME) / "jobs").is_dir()


def test_a_project_without_job_folders_has_nothing_to_delete(project):
    assert retention.job_files(project) == []
    assert retention.delete_job_folders(project) == []
