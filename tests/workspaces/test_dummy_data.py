"""The same code runs on the extract's dummy data or its real data, and only real results leave."""

from textwrap import dedent

import pytest
from django.core.management import call_command
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.workspaces import services
from havenkit.workspaces.models import DataSource, Job, JobState

pytestmark = pytest.mark.django_db

FIRST_PSEUDONYM = """
import pandas as pd
admissions = pd.read_parquet("/data/admissions.parquet")
with open("/outputs/first.txt", "w") as out:
    out.write(admissions["pseudonym"].iloc[0])
"""


@pytest.fixture
def client(signed_in_client, researcher):
    return signed_in_client(person=researcher)


@pytest.fixture
def code_version(project, researcher):
    return services.save_code_file(project, "first.py", dedent(FIRST_PSEUDONYM), researcher)


def _run(code_version, researcher, data_source: DataSource) -> Job:
    return services.submit_job(
        code_version.code_file.project, code_version, researcher, data_source
    )


@pytest.mark.sandbox
def test_the_same_code_runs_on_dummy_and_real_data_and_reads_each(
    project, researcher, extract, code_version
):
    dummy = _run(code_version, researcher, DataSource.DUMMY)
    real = _run(code_version, researcher, DataSource.REAL)
    call_command("worker", "--once", "--poll-interval", "0.1")
    for job in (dummy, real):
        job.refresh_from_db()
        assert job.state == JobState.SUCCEEDED, services.read_log(job)[0]
    read = {
        job.data_source: (services.outputs_directory(job) / "first.txt").read_text()
        for job in (dummy, real)
    }
    assert read[DataSource.REAL] == "p000"
    assert read[DataSource.DUMMY] != "p000"
    assert len(read[DataSource.DUMMY]) == 32


def _finished_job_with_output(project, researcher, code_version, data_source) -> Job:
    """A succeeded job with one recorded output, as the worker would leave it."""
    job = _run(code_version, researcher, data_source)
    outputs = services.outputs_directory(job)
    outputs.mkdir(parents=True)
    (outputs / "table.csv").write_text("area,count\nEdinburgh,18\n")
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED)
    services.record_job_outputs(job)
    return job


def test_outputs_of_dummy_data_jobs_are_not_offered_for_release(
    project, researcher, extract, code_version
):
    dummy = _finished_job_with_output(project, researcher, code_version, DataSource.DUMMY)
    real = _finished_job_with_output(project, researcher, code_version, DataSource.REAL)
    assert [output.job_id for output in services.finished_outputs(project)] == [real.pk]
    assert services.open_job_output(project, real.pk, "table.csv").job_id == real.pk
    with pytest.raises(services.OutputNotFound, match="ran on dummy data"):
        services.open_job_output(project, dummy.pk, "table.csv")


def test_the_run_form_offers_dummy_and_real_data_of_the_extract(
    client, project, extract, code_version
):
    page = client.get(
        reverse("workspaces:code_file", args=[project.pk, code_version.code_file_id])
    ).content.decode()
    assert 'value="dummy"' in page
    assert "Dummy data of extract 1" in page
    assert 'value="real"' in page
    assert "Real data of extract 1" in page


def test_without_an_extract_there_is_no_data_to_choose(client, project, code_version):
    url = reverse("workspaces:code_file", args=[project.pk, code_version.code_file_id])
    page = client.get(url).content.decode()
    assert 'name="data_source"' not in page
    assert "This project has no extract yet" in page
    client.post(reverse("workspaces:run_job", args=[project.pk, code_version.code_file_id]))
    job = Job.objects.get()
    assert job.extract is None
    assert job.data_description == "No data"


def test_running_on_dummy_data_is_audited_and_shown_on_the_job_and_the_list(
    client, project, extract, code_version
):
    url = reverse("workspaces:run_job", args=[project.pk, code_version.code_file_id])
    response = client.post(url, {"data_source": "dummy"}, follow=True)
    job = Job.objects.get()
    assert job.data_source == DataSource.DUMMY
    assert "on dummy data" in response.content.decode()
    event = AuditEvent.objects.get(action="job.submitted", object_id=str(job.pk))
    assert event.details["data"] == "dummy"
    assert event.details["extract"] == extract.pk
    assert AuditEvent.objects.filter(action="extract.dummy_created").exists()
    job_page = client.get(reverse("workspaces:job", args=[project.pk, job.pk])).content.decode()
    assert "Dummy data of extract 1" in job_page
    workspace = client.get(reverse("workspaces:workspace", args=[project.pk])).content.decode()
    assert "Dummy data</strong>" in workspace


def test_a_dummy_data_jobs_outputs_are_marked_and_not_offered(
    client, project, researcher, extract, code_version
):
    job = _finished_job_with_output(project, researcher, code_version, DataSource.DUMMY)
    page = client.get(reverse("workspaces:job", args=[project.pk, job.pk])).content.decode()
    assert "Made from dummy data" in page
    assert "cannot be put in a release request" in page
    assert reverse("outputs:project_requests", args=[project.pk]) not in page


def test_a_made_up_data_source_is_refused_and_queues_nothing(
    client, project, extract, code_version
):
    url = reverse("workspaces:run_job", args=[project.pk, code_version.code_file_id])
    response = client.post(url, {"data_source": "somebody-elses"}, follow=True)
    assert "You may not run this project" in response.content.decode()
    assert not Job.objects.exists()
