"""The end of a project: its approval expires or an approver closes it, access stops, and
after the retention period its workspace files are deleted with a deletion record."""

import hashlib
from datetime import timedelta

import pyarrow as pa
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from havenkit.core import permissions
from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.data import imports
from havenkit.data import services as data
from havenkit.data.models import ImportState, ProjectImport
from havenkit.projects import applications, closure, services
from havenkit.projects.models import Project, ProjectStatus
from havenkit.workspaces import services as workspaces

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(make_person, clear):
    person = make_person(Role.RESEARCHER, username="rosa")
    clear(person, days=900)
    return person


@pytest.fixture
def approver(make_person):
    return make_person(Role.APPROVER, username="ada")


@pytest.fixture
def project(make_person, clear, researcher, approver, clock):
    pi = make_person(Role.RESEARCHER, Role.PI, username="pat")
    clear(pi, days=900)
    return services.create_active_project(
        reference="HK-0001",
        title="Asthma admissions",
        organisation="University of Edinburgh",
        lay_summary="-",
        public_benefit="-",
        pi=pi,
        researchers=[researcher],
        datasets_used="SMR01",
        start_date=clock.today(),
        end_date=clock.today() + timedelta(days=10),
        approved_by=approver,
    )


@pytest.fixture
def job(project, researcher):
    version = workspaces.save_code_file(project, "analysis.py", "print(1)\n", researcher)
    job = workspaces.submit_job(project, version, researcher)
    outputs = workspaces.outputs_directory(job)
    outputs.mkdir(parents=True)
    (outputs / "rates.csv").write_text("rate\n0.5\n")
    return job


def reload(project: Project) -> Project:
    return Project.objects.get(pk=project.pk)


def closed(project: Project, approver) -> Project:
    applications.begin_closing(project, by=approver)
    return applications.close(project, by=approver)


def test_access_stops_the_day_after_the_approval_expires(project, researcher, clock):
    clock.advance(10)
    assert permissions.can(researcher, "edit_code", reload(project))
    clock.advance(1)
    assert not permissions.can(researcher, "edit_code", reload(project))
    assert not permissions.can(researcher, "view_workspace", reload(project)), (
        "memberships end with the project"
    )


def test_the_sweep_records_an_expiry_once(project, clock):
    clock.advance(10)
    assert closure.sweep().expired == []
    clock.advance(1)
    assert closure.sweep().expired == ["HK-0001"]
    assert closure.sweep().expired == []
    project = reload(project)
    assert project.status == ProjectStatus.CLOSING
    event = AuditEvent.objects.get(action="project.expired")
    assert event.details["end_date"] == project.end_date.isoformat()
    assert project.timeline.last().note.startswith("The approval expired after")


def test_closing_makes_the_workspace_read_only(project, researcher, approver):
    applications.begin_closing(project, by=approver)
    assert not permissions.can(researcher, "run_job", reload(project))
    assert permissions.can(researcher, "view_workspace", reload(project))
    assert AuditEvent.objects.filter(action="application.closing").exists()


def test_only_a_closing_project_can_be_closed(project, approver):
    with pytest.raises(applications.ApplicationError, match="active, so it cannot be closed"):
        applications.close(project, by=approver)
    assert reload(project).status == ProjectStatus.ACTIVE
    refusal = AuditEvent.objects.get(action="application.closed")
    assert refusal.outcome == Outcome.FAILURE


def test_an_approver_closes_from_the_application_page(project, approver, signed_in_client):
    client = signed_in_client(person=approver)
    page = client.get(f"/applications/{project.pk}/")
    assert b"Start closing the project" in page.content
    client.post(f"/applications/{project.pk}/begin-closing")
    assert reload(project).status == ProjectStatus.CLOSING
    client.post(f"/applications/{project.pk}/close")
    assert reload(project).status == ProjectStatus.CLOSED
    page = client.get(f"/applications/{project.pk}/")
    assert b"kept read-only until its files are deleted" in page.content


def test_the_pi_cannot_close_their_own_project(project, signed_in_client):
    client = signed_in_client(person=project.pi)
    response = client.post(f"/applications/{project.pk}/begin-closing")
    assert response.status_code == 403
    assert reload(project).status == ProjectStatus.ACTIVE


def test_files_are_kept_until_the_retention_ends(project, job, approver, clock, settings):
    settings.HAVENKIT_RETENTION_DAYS = 30
    closed(project, approver)
    clock.advance(29)
    assert closure.sweep().deleted == []
    assert workspaces.job_directory(job).is_dir()
    clock.advance(1)
    assert closure.sweep().deleted == ["HK-0001"]
    assert not workspaces.job_directory(job).exists()
    assert closure.sweep().deleted == [], "deleted once"


def test_the_deletion_record_says_what_when_and_who_approved(project, job, approver, clock):
    closed(project, approver)
    clock.advance(365)
    call_command("projects", "sweep")
    event = AuditEvent.objects.get(action="project.workspace_deleted")
    project = reload(project)
    assert event.details["closure_approved_by"] == "ada"
    assert event.details["retention_days"] == 365
    assert event.details["deleted_at"] == project.workspace_deleted_at.isoformat()
    rates = next(f for f in event.details["files"] if f["file"].endswith("rates.csv"))
    assert rates["sha256"] == hashlib.sha256(b"rate\n0.5\n").hexdigest()
    assert project.workspace_deleted_at == timezone.now()


def test_an_expired_project_is_deleted_only_once_an_approver_has_closed_it(
    project, job, approver, clock
):
    clock.advance(11 + 365)
    run = closure.sweep()
    assert (run.expired, run.deleted) == (["HK-0001"], [])
    applications.close(reload(project), by=approver)
    clock.advance(365)
    assert closure.sweep().deleted == ["HK-0001"]


def test_the_command_reports_what_it_did(project, clock, capsys):
    clock.advance(11)
    call_command("projects", "sweep")
    assert "Approvals expired: 1 HK-0001. Workspaces deleted: 0." in capsys.readouterr().out


def test_the_extract_is_deleted_with_the_workspace_and_recorded(project, job, approver, clock):
    people = pa.table({"chi": ["0211165794"], "sex": ["M"]})
    version = data.create_dataset_version("Cohort", "People.", "PHS", {"people": people}, approver)
    # An extract holds only what the approved application asked for.
    project.datasets.set([version.dataset])
    project.variables = ["people.chi"]
    project.save()
    extract = data.build_pseudonymised_extract(project, version, {"people": ["chi"]}, approver)
    extract_folder = data.extract_directory(extract)
    assert extract_folder.is_dir()
    closed(project, approver)
    clock.advance(365)
    call_command("projects", "sweep")
    assert not extract_folder.exists()
    event = AuditEvent.objects.get(action="project.workspace_deleted")
    recorded = {entry["file"]: entry for entry in event.details["files"]}
    parquet = f"{extract.storage_path}/people.parquet"
    assert recorded[parquet]["sha256"] == extract.tables["people"]["parquet_sha256"]


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD, username="sam")


def brought_in(project, researcher, name: str, content: bytes) -> ProjectImport:
    return imports.receive_import(
        project=project,
        file_name=name,
        chunks=[content],
        purpose="For the analysis.",
        uploaded_by=researcher,
    )


def test_imports_awaiting_review_are_closed_with_the_project(
    project, researcher, approver, steward
):
    pending = brought_in(project, researcher, "model.py", b"print(2)\n")
    rejected = imports.reject(
        brought_in(project, researcher, "other.py", b"print(3)\n"), steward, "Not needed."
    )
    closed(project, approver)  # no sweep: closing the project closes its pending imports
    pending.refresh_from_db()
    assert pending.state == ImportState.CLOSED
    assert ProjectImport.objects.get(pk=rejected.pk).state == ImportState.REJECTED
    event = AuditEvent.objects.get(action="import.closed")
    assert event.object_id == str(pending.pk)
    assert event.details == {"file": "model.py", "uploaded_by": "rosa"}
    assert imports.import_directory(pending).is_dir(), "kept until the retention ends"


def test_an_import_closed_with_its_project_cannot_be_approved(
    project, researcher, approver, steward, signed_in_client
):
    pending = brought_in(project, researcher, "model.py", b"print(2)\n")
    closed(project, approver)
    closure.sweep()
    with pytest.raises(imports.ImportRefused, match="HK-0001 closed before this import was"):
        imports.approve(pending, steward)
    with pytest.raises(imports.ImportRefused, match="can no longer be approved or rejected"):
        imports.reject(pending, steward, "Too late.")
    assert ProjectImport.objects.get(pk=pending.pk).state == ImportState.CLOSED

    client = signed_in_client(person=steward)
    page = client.get(reverse("data:project_import", args=[pending.pk]))
    assert b"Closed with the project" in page.content
    assert b"Record decision" not in page.content
    response = client.post(
        reverse("data:review_project_import", args=[pending.pk]),
        {"decision": "approve", "comment": ""},
        follow=True,
    )
    assert b"can no longer be approved or rejected" in response.content
    pending.refresh_from_db()
    assert (pending.state, pending.reviewed_by) == (ImportState.CLOSED, None)
    assert not AuditEvent.objects.filter(action="import.approved").exists()


def test_files_of_imports_never_approved_are_deleted_with_the_workspace_and_recorded(
    project, researcher, approver, clock
):
    code = brought_in(project, researcher, "model.py", b"print(2)\n")
    table = brought_in(project, researcher, "bands.csv", b"band,label\n1,low\n2,high\n")
    staged = imports.import_directory(table) / imports.STAGED_TABLE
    staged_sha256 = hashlib.sha256(staged.read_bytes()).hexdigest()
    closed(project, approver)
    clock.advance(365)
    assert closure.sweep().deleted == ["HK-0001"]
    for project_import in (code, table):
        assert not imports.import_directory(project_import).exists()
        assert ProjectImport.objects.get(pk=project_import.pk).state == ImportState.CLOSED
    event = AuditEvent.objects.get(action="project.workspace_deleted")
    recorded = {entry["file"]: entry for entry in event.details["files"]}
    assert recorded[f"ingress/imports/{code.pk}/pending"]["sha256"] == code.sha256
    assert recorded[f"ingress/imports/{table.pk}/staged.parquet"]["sha256"] == staged_sha256
