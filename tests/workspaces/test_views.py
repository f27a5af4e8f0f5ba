"""The workspace pages: who may see and do what, and how bad input is refused."""

import shutil
from datetime import date

import pyarrow as pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import services as data
from havenkit.projects import services as projects
from havenkit.projects.variables import variable_id
from havenkit.workspaces import services
from havenkit.workspaces.models import CodeFile, Job, JobState

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(signed_in_client, researcher):
    return signed_in_client(person=researcher)


@pytest.fixture
def code_file(project, researcher):
    return services.save_code_file(project, "analysis.py", "print('hi')\n", researcher).code_file


def _workspace(project):
    return reverse("workspaces:workspace", args=[project.pk])


def _add(client, project, **data):
    return client.post(_workspace(project), data)


def test_a_member_sees_the_workspace(client, project, extract, code_file):
    response = client.get(_workspace(project))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Asthma admissions in Lothian" in page
    assert "admissions" in page
    assert ">30<" in page
    assert "Extract 1 of SMR01 v1, prepared" in page  # a recipe from before sources were kept
    assert "analysis.py" in page
    assert 'for="id_code">Code</label>' in page
    assert 'for="id_upload">Upload a file</label>' in page


def test_the_workspace_names_every_dataset_version_a_linked_extract_came_from(
    client, project, make_person
):
    approver = make_person(Role.APPROVER)
    people = pa.table({"chi": ["0211165794", "0402070763"], "sex": ["M", "F"]})
    admissions = pa.table({"chi": ["0211165794"], "icd10": ["J45"]})
    cohort = data.create_dataset_version("Cohort", "People.", "PHS", {"people": people}, approver)
    smr01 = data.create_dataset_version(
        "SMR01", "Admissions.", "PHS", {"admissions": admissions}, approver
    )
    project.datasets.set([cohort.dataset, smr01.dataset])
    project.variables = [
        variable_id(cohort.dataset_id, "people.sex"),
        variable_id(smr01.dataset_id, "admissions.icd10"),
    ]
    project.save()
    data.build_linked_extract(
        project,
        [cohort, smr01],
        {"people": ["chi", "sex"], "admissions": ["chi", "icd10"]},
        make_person(Role.DATA_STEWARD),
    )

    page = client.get(_workspace(project)).content.decode()

    assert "Extract 1 of Cohort v1 and SMR01 v1, prepared" in page


@pytest.mark.parametrize("roles", [(Role.RESEARCHER,), (Role.OUTPUT_CHECKER,)])
def test_people_outside_the_project_are_refused(signed_in_client, project, roles):
    response = signed_in_client(*roles).get(_workspace(project))
    assert response.status_code == 403


def test_unknown_projects_and_jobs_are_not_found(client, project):
    assert client.get(reverse("workspaces:workspace", args=[9999])).status_code == 404
    assert client.get(reverse("workspaces:job", args=[project.pk, 9999])).status_code == 404


def test_a_job_of_another_project_is_not_found(client, project, code_file, researcher):
    other = projects.create_active_project(
        reference="HK-0002",
        title="Other",
        organisation="Elsewhere",
        lay_summary="x",
        public_benefit="x",
        pi=researcher,
        researchers=[],
        datasets_used="",
        start_date=date(2025, 1, 1),
        end_date=date(2099, 1, 1),
        approved_by=researcher,
    )
    job = services.submit_job(project, code_file.latest_version(), researcher)
    assert client.get(reverse("workspaces:job", args=[other.pk, job.pk])).status_code == 404


def test_adding_typed_code_saves_version_one(client, project):
    response = _add(client, project, name="counts.py", code="print(1)\r\nprint(2)\r\n")
    code_file = CodeFile.objects.get(project=project, name="counts.py")
    assert response.status_code == 302
    assert response["Location"] == reverse("workspaces:code_file", args=[project.pk, code_file.pk])
    assert code_file.latest_version().content == "print(1)\nprint(2)\n"
    assert AuditEvent.objects.filter(action="code.saved", object_id=str(code_file.pk)).exists()


def test_uploading_a_code_file_saves_it(client, project):
    upload = SimpleUploadedFile("model.R", b"summary(cars)\n")
    response = _add(client, project, name="model.R", upload=upload)
    assert response.status_code == 302
    assert CodeFile.objects.get(name="model.R").latest_version().content == "summary(cars)\n"


@pytest.mark.parametrize(
    "name",
    ["../evil.py", "a/b.py", "/etc/passwd.py", "run.sh", ".hidden.py", "a..py", "x" * 101 + ".py"],
)
def test_bad_file_names_are_refused(client, project, name):
    response = _add(client, project, name=name, code="print(1)\n")
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not CodeFile.objects.exists()


def test_the_file_name_rule_is_explained(client, project):
    response = _add(client, project, name="../evil.py", code="print(1)\n")
    assert "ending in .py (Python) or .R (R), with no folders" in response.content.decode()


def test_a_binary_upload_is_refused(client, project):
    upload = SimpleUploadedFile("data.py", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    response = _add(client, project, name="data.py", upload=upload)
    assert response.status_code == 400
    assert "is not a text file" in response.content.decode()
    assert not CodeFile.objects.exists()


def test_an_oversized_upload_is_refused(client, project, settings):
    settings.MAX_CODE_FILE_BYTES = 100
    upload = SimpleUploadedFile("big.py", b"# " + b"x" * 200 + b"\n")
    response = _add(client, project, name="big.py", upload=upload)
    assert response.status_code == 400
    assert "a code file may be at most 100" in response.content.decode()
    assert not CodeFile.objects.exists()


def test_empty_code_is_refused(client, project):
    response = _add(client, project, name="empty.py", code="   \n")
    assert response.status_code == 400
    assert "The code is empty" in response.content.decode()
    assert not CodeFile.objects.exists()


def test_a_second_file_of_the_same_name_is_refused(client, project, code_file):
    response = _add(client, project, name="analysis.py", code="print(2)\n")
    assert response.status_code == 400
    assert "already has a code file called analysis.py" in response.content.decode()
    assert code_file.versions.count() == 1


def test_the_code_page_shows_content_and_history(client, project, code_file):
    response = client.get(reverse("workspaces:code_file", args=[project.pk, code_file.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<code><span class="nb">print</span><span class="p">(</span>' in page
    assert "Test Rosa" in page
    assert "Run this code" in page


def test_editing_saves_a_new_version_only_when_changed(client, project, code_file):
    url = reverse("workspaces:code_file", args=[project.pk, code_file.pk])
    client.post(url, {"code": "print('changed')\n"})
    client.post(url, {"code": "print('changed')\n"})
    assert list(code_file.versions.values_list("number", flat=True).order_by("number")) == [1, 2]


def test_running_code_queues_a_job(client, project, extract, code_file):
    url = reverse("workspaces:run_job", args=[project.pk, code_file.pk])
    response = client.post(url, {"data_source": "real"})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workspaces:job", args=[project.pk, job.pk])
    assert job.state == JobState.QUEUED
    assert job.extract == extract
    assert AuditEvent.objects.filter(action="job.submitted", object_id=str(job.pk)).exists()


def test_running_on_an_extract_whose_data_is_gone_is_refused(client, project, extract, code_file):
    shutil.rmtree(data.extract_directory(extract))
    url = reverse("workspaces:run_job", args=[project.pk, code_file.pk])
    response = client.post(url, {"data_source": "dummy"}, follow=True)
    assert "Extract 1 is no longer in this project&#x27;s workspace" in response.content.decode()
    assert not Job.objects.exists()
    assert not AuditEvent.objects.filter(action="job.submitted").exists()


def test_running_needs_a_post(client, project, code_file):
    response = client.get(reverse("workspaces:run_job", args=[project.pk, code_file.pk]))
    assert response.status_code == 405
    assert not Job.objects.exists()


def test_people_outside_the_project_cannot_run_its_code(signed_in_client, project, code_file):
    client = signed_in_client(Role.RESEARCHER)
    response = client.post(reverse("workspaces:run_job", args=[project.pk, code_file.pk]))
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_queued_job_page_polls_and_offers_cancel(client, project, code_file, researcher):
    job = services.submit_job(project, code_file.latest_version(), researcher)
    status_url = reverse("workspaces:job_status", args=[project.pk, job.pk])
    page = client.get(reverse("workspaces:job", args=[project.pk, job.pk])).content.decode()
    assert f'hx-get="{status_url}"' in page
    assert 'hx-trigger="every 2s"' in page
    assert "Refresh this page" in page
    assert "Cancel this job" in page
    fragment = client.get(status_url).content.decode()
    assert "<h1>" not in fragment
    assert "Queued" in fragment


def test_cancelling_a_queued_job(client, project, code_file, researcher):
    job = services.submit_job(project, code_file.latest_version(), researcher)
    response = client.post(reverse("workspaces:cancel_job", args=[project.pk, job.pk]))
    job.refresh_from_db()
    assert response.status_code == 302
    assert job.state == JobState.CANCELLED
    assert AuditEvent.objects.filter(action="job.cancelled", object_id=str(job.pk)).exists()
    again = client.post(reverse("workspaces:cancel_job", args=[project.pk, job.pk]), follow=True)
    assert "has already finished, so it cannot be cancelled" in again.content.decode()


@pytest.mark.sandbox
def test_the_job_page_shows_the_log_and_outputs_after_the_worker_ran(
    client, project, extract, researcher
):
    code = (
        "import pandas as pd\n"
        "df = pd.read_parquet('/data/admissions.parquet')\n"
        "df.groupby('council_area').size().to_csv('/outputs/counts.csv')\n"
        "print('counted', len(df), 'admissions')\n"
    )
    version = services.save_code_file(project, "counts.py", code, researcher)
    job = services.submit_job(project, version, researcher)
    call_command("worker", "--once")
    response = client.get(reverse("workspaces:job", args=[project.pk, job.pk]))
    page = response.content.decode()
    output = job.outputs.get()
    assert "Succeeded" in page
    assert "counted 30 admissions" in page
    assert "counts.csv" in page
    assert output.sha256 in page
    assert "hx-get" not in page
    assert "Cancel this job" not in page
