"""A job has every code file of its workspace in ``/code``, at the versions of its submission.

Researchers split code over several files: the file a job runs can ``import`` (Python) or
``source`` (R) the others. Which versions it had is fixed when the job is queued, shown on its
page, kept by a re-run and listed in a release package's manifest.
"""

import shutil
from textwrap import dedent

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import imports
from havenkit.data import services as data
from havenkit.outputs import services as outputs
from havenkit.outputs.services import FileChoice
from havenkit.sandbox.command import SDC_CONFIG_NAME
from havenkit.workspaces import services
from havenkit.workspaces.forms import AddCodeFileForm
from havenkit.workspaces.models import Job, JobState

pytestmark = pytest.mark.django_db

HELPERS_PY = """
def greeting(name):
    return f"hello {name} from helpers v1"
"""

IMPORTS_HELPERS = """
import helpers
open("/outputs/greeting.txt", "w").write(helpers.greeting("rosa"))
"""


def _save(project, researcher, name: str, source: str):
    return services.save_code_file(project, name, dedent(source), researcher)


def _run_worker() -> None:
    call_command("worker", "--once", "--poll-interval", "0.1")


def _succeeded(job: Job) -> Job:
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, services.read_log(job)[0]
    return job


def _output(job: Job, name: str) -> str:
    return (services.outputs_directory(job) / name).read_text()


def _other_code(job: Job) -> list[tuple[str, int]]:
    return [(version.code_file.name, version.number) for version in job.other_code]


@pytest.mark.sandbox
@pytest.mark.usefixtures("executor")
def test_a_python_job_imports_another_code_file_of_its_workspace(project, researcher):
    helpers = _save(project, researcher, "helpers.py", HELPERS_PY)
    job = services.submit_job(
        project, _save(project, researcher, "main.py", IMPORTS_HELPERS), researcher
    )
    _run_worker()
    assert _output(_succeeded(job), "greeting.txt") == "hello rosa from helpers v1"
    assert job.other_code == [helpers]


@pytest.mark.sandbox
def test_an_r_job_sources_other_code_files_by_relative_and_absolute_path(project, researcher):
    _save(project, researcher, "helpers.R", 'greeting <- function(name) paste("hello", name)\n')
    _save(project, researcher, "labels.R", 'label <- "from labels.R"\n')
    main = _save(
        project,
        researcher,
        "main.R",
        """
        source("helpers.R")
        source("/code/labels.R")
        writeLines(c(getwd(), greeting("rosa"), label), "/outputs/greeting.txt")
        """,
    )
    job = services.submit_job(project, main, researcher)
    _run_worker()
    assert _output(_succeeded(job), "greeting.txt") == "/code\nhello rosa\nfrom labels.R\n"
    assert _other_code(job) == [("helpers.R", 1), ("labels.R", 1)]


@pytest.mark.sandbox
def test_a_helper_saved_after_submission_is_not_what_the_job_runs(project, researcher):
    _save(project, researcher, "helpers.py", HELPERS_PY)
    job = services.submit_job(
        project, _save(project, researcher, "main.py", IMPORTS_HELPERS), researcher
    )
    _save(project, researcher, "helpers.py", HELPERS_PY.replace("v1", "v2"))
    _save(project, researcher, "later.py", "print('saved after the job was queued')\n")
    _run_worker()
    assert _output(_succeeded(job), "greeting.txt") == "hello rosa from helpers v1"
    assert _other_code(job) == [("helpers.py", 1)]
    assert sorted(path.name for path in services.code_directory(job).iterdir()) == [
        SDC_CONFIG_NAME,
        "helpers.py",
        "main.py",
    ]


def test_a_job_has_the_latest_version_of_each_other_file_and_not_its_own_twice(project, researcher):
    _save(project, researcher, "helpers.py", HELPERS_PY)
    _save(project, researcher, "helpers.py", HELPERS_PY.replace("v1", "v2"))
    _save(project, researcher, "cohort.sql", "select 1\n")
    first = _save(project, researcher, "main.py", IMPORTS_HELPERS)
    _save(project, researcher, "main.py", IMPORTS_HELPERS + "print('v2')\n")
    job = services.submit_job(project, first, researcher)
    assert job.code_version == first
    assert _other_code(job) == [("cohort.sql", 1), ("helpers.py", 2)]
    submitted = AuditEvent.objects.get(action="job.submitted", object_id=str(job.pk))
    assert submitted.details["other_code"] == {"cohort.sql": 1, "helpers.py": 2}


@pytest.mark.sandbox
def test_running_a_failed_job_again_runs_the_same_versions(project, researcher):
    _save(project, researcher, "helpers.py", "raise RuntimeError('broken helper v1')\n")
    original = services.submit_job(
        project, _save(project, researcher, "main.py", IMPORTS_HELPERS), researcher
    )
    _run_worker()
    original.refresh_from_db()
    assert original.state == JobState.FAILED
    _save(project, researcher, "helpers.py", HELPERS_PY)
    _save(project, researcher, "main.py", "print('a newer main')\n")

    again = services.run_again(original, researcher)
    assert again.pk != original.pk
    assert again.code_version == original.code_version
    assert _other_code(again) == _other_code(original) == [("helpers.py", 1)]
    assert (again.extract, again.data_source) == (original.extract, original.data_source)
    _run_worker()
    again.refresh_from_db()
    assert again.state == JobState.FAILED
    assert "broken helper v1" in services.read_log(again)[0]
    submitted = AuditEvent.objects.get(action="job.submitted", object_id=str(again.pk))
    assert submitted.details["run_again_of"] == original.pk


def test_an_unfinished_job_cannot_be_run_again(project, researcher):
    job = services.submit_job(
        project, _save(project, researcher, "main.py", "print(1)\n"), researcher
    )
    with pytest.raises(services.JobNotFinished, match="has not finished yet"):
        services.run_again(job, researcher)
    assert Job.objects.count() == 1


def test_a_job_on_a_withdrawn_extract_cannot_be_run_again(project, researcher, extract):
    job = services.submit_job(
        project, _save(project, researcher, "main.py", "print(1)\n"), researcher
    )
    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED)
    job.refresh_from_db()
    shutil.rmtree(data.extract_directory(extract))
    with pytest.raises(services.ExtractUnavailable, match="no longer in this project"):
        services.run_again(job, researcher)
    assert Job.objects.count() == 1


def test_the_sdc_rules_file_can_never_be_a_code_files_name(project):
    form = AddCodeFileForm({"name": SDC_CONFIG_NAME, "code": "{}"}, project=project)
    assert not form.is_valid()
    assert "is not a valid file name" in form.errors["name"][0]
    with pytest.raises(imports.ImportRefused, match="not a file the airlock brings"):
        imports.check_file_name(SDC_CONFIG_NAME)


@pytest.fixture
def client(signed_in_client, researcher):
    return signed_in_client(person=researcher)


def _job_page(client, job: Job) -> str:
    return client.get(reverse("workspaces:job", args=[job.project_id, job.pk])).content.decode()


def test_the_job_page_links_every_code_version_in_code(client, project, researcher):
    helpers = _save(project, researcher, "helpers.py", HELPERS_PY)
    main = _save(project, researcher, "main.py", IMPORTS_HELPERS)
    job = services.submit_job(project, main, researcher)
    page = _job_page(client, job)
    helpers_url = reverse("workspaces:code_version", args=[project.pk, helpers.code_file_id, 1])
    assert f'href="{helpers_url}">helpers.py, version 1</a>' in page
    main_url = reverse("workspaces:code_version", args=[project.pk, main.code_file_id, 1])
    assert f'href="{main_url}">main.py, version 1</a>' in page
    assert "helpers.py, version 1</h1>" in client.get(helpers_url).content.decode()


def test_the_job_page_takes_as_many_queries_for_many_other_files_as_for_one(
    client, project, researcher, django_assert_num_queries
):
    _save(project, researcher, "helpers.py", HELPERS_PY)
    main = _save(project, researcher, "main.py", IMPORTS_HELPERS)
    one = services.submit_job(project, main, researcher)
    with CaptureQueriesContext(connection) as queries:
        _job_page(client, one)
    for name in ("cohort.sql", "labels.py", "plots.py"):
        _save(project, researcher, name, "print(1)\n")
    four = services.submit_job(project, main, researcher)
    with django_assert_num_queries(len(queries)):
        assert "plots.py, version 1" in _job_page(client, four)


def test_the_job_page_says_when_there_was_no_other_code(client, project, researcher):
    job = services.submit_job(
        project, _save(project, researcher, "main.py", "print(1)\n"), researcher
    )
    assert "None: the workspace had no other code file" in _job_page(client, job)


def test_a_finished_job_page_offers_to_run_it_again_and_it_queues_the_same_code(
    client, project, researcher
):
    _save(project, researcher, "helpers.py", HELPERS_PY)
    job = services.submit_job(
        project, _save(project, researcher, "main.py", IMPORTS_HELPERS), researcher
    )
    assert "Run this job again" not in _job_page(client, job)
    services.cancel_job(job, researcher)
    _save(project, researcher, "helpers.py", HELPERS_PY.replace("v1", "v2"))
    assert "Run this job again" in _job_page(client, job)

    response = client.post(reverse("workspaces:run_again", args=[project.pk, job.pk]))
    again = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("workspaces:job", args=[project.pk, again.pk])
    assert _other_code(again) == [("helpers.py", 1)]
    assert again.state == JobState.QUEUED


def test_running_an_unfinished_job_again_is_refused_with_a_message(client, project, researcher):
    job = services.submit_job(
        project, _save(project, researcher, "main.py", "print(1)\n"), researcher
    )
    response = client.post(reverse("workspaces:run_again", args=[project.pk, job.pk]), follow=True)
    assert "has not finished yet, so it cannot be run again" in response.content.decode()
    assert Job.objects.count() == 1


def test_the_job_list_takes_as_many_queries_for_many_jobs_as_for_one(
    client, project, researcher, django_assert_num_queries
):
    _save(project, researcher, "helpers.py", HELPERS_PY)
    main = _save(project, researcher, "main.py", IMPORTS_HELPERS)
    services.submit_job(project, main, researcher)
    url = reverse("workspaces:workspace", args=[project.pk])
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(5):
        services.submit_job(project, main, researcher)
    with django_assert_num_queries(len(one)):
        assert client.get(url).content.decode().count("main.py v1") == 6


def test_the_manifest_lists_the_other_code_each_files_job_had(make_person, make_project, make_job):
    pi = make_person(Role.RESEARCHER, Role.PI)
    project = make_project(pi, [])
    _save(project, pi, "helpers.py", HELPERS_PY)
    _save(project, pi, "cohort.sql", "select 1\n")
    job = make_job(project, pi, {"table.csv": b"region,patients\nLothian,120\n"})
    release_request = outputs.create_release_request(
        project, pi, [FileChoice(job.pk, "table.csv", "Patients by region")]
    )
    entry = outputs.manifest(release_request)["files"][0]
    assert (entry["code_file"], entry["code_version"]) == ("analysis.py", 1)
    assert entry["other_code"] == [
        {"code_file": "cohort.sql", "code_version": 1},
        {"code_file": "helpers.py", "code_version": 1},
    ]
