"""The ingress airlock: validate, then a second person approves; only then a dataset version."""

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import airlock, services
from havenkit.data.models import DatasetVersion, IngressState, IngressUpload
from havenkit.data.validation import ColumnSpec
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SCHEMA = [
    ColumnSpec("chi", "chi", required=True, key=True, description="CHI number"),
    ColumnSpec("sex", "string", allowed_values=("F", "M"), is_quasi_identifier=True),
]
SCHEMA_TEXT = (
    "name,type,required,key,identifier,quasi_identifier,allowed_values,description\n"
    "chi,chi,yes,yes,yes,no,,CHI number\nsex,string,no,no,no,yes,F|M,Sex\n"
)
GOOD = b"chi,sex\n0211165794,M\n0402070763,F\n0101011237,M\n"
BAD = b"chi,sex\n0211165794,M\n02111657A4,F\n"


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


def receive(steward, content: bytes = GOOD, chunks=None, title="Cohort"):
    return airlock.receive_upload(
        filename="people.csv",
        chunks=chunks if chunks is not None else [content[:10], content[10:]],
        dataset_title=title,
        dataset_description="People.",
        data_controller="PHS",
        table_name="people",
        schema=SCHEMA,
        uploaded_by=steward,
    )


def files_of(upload) -> list[str]:
    directory = airlock.upload_directory(upload)
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def test_valid_upload_waits_for_review_and_stores_nothing_yet(steward):
    upload = receive(steward)
    assert upload.state == IngressState.AWAITING_REVIEW
    assert upload.rows == 3
    assert upload.report["chi_schemes"]["chi"]["modulus 11"] == 3
    assert DatasetVersion.objects.count() == 0
    assert files_of(upload) == ["problems.csv", "staged.parquet"]
    assert AuditEvent.objects.filter(action="ingress.validated", object_id=str(upload.pk)).exists()


def test_invalid_upload_keeps_only_its_problem_report(steward):
    upload = receive(steward, BAD)
    assert upload.state == IngressState.INVALID
    assert upload.report["problems"] == [
        {
            "row": 2,
            "column": "chi",
            "problem": "is not a valid CHI number: contains characters other than the digits 0-9",
        }
    ]
    assert files_of(upload) == ["problems.csv"]
    assert "02111657A4" not in airlock.problems_path(upload).read_text()


def test_interrupted_upload_leaves_nothing_but_a_failed_record(steward):
    def dropped_connection():
        yield GOOD[:10]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        receive(steward, chunks=dropped_connection())
    upload = IngressUpload.objects.get()
    assert upload.state == IngressState.FAILED
    assert "stopped before it was complete" in upload.failure_reason
    assert files_of(upload) == []
    assert AuditEvent.objects.filter(action="ingress.failed").count() == 1


def test_approval_makes_an_immutable_version_with_catalogue_entries(steward, make_person):
    upload = receive(steward)
    approver = make_person(Role.APPROVER)
    upload = airlock.approve(upload, approver, "Checked against the DSA.")
    version = upload.dataset_version
    assert upload.state == IngressState.APPROVED
    assert version.approved_by == approver
    path = services.table_path(version, "people")
    assert services.sha256_of_file(path) == version.tables["people"]["sha256"]
    assert pq.read_table(path).column("chi").to_pylist()[0] == "0211165794"
    chi = version.variables.get(name="chi")
    assert (chi.is_identifier, chi.description) == (True, "CHI number")
    assert files_of(upload) == ["problems.csv"]
    event = AuditEvent.objects.get(action="ingress.approved")
    assert event.details["uploaded_by"] == steward.username


def test_a_second_upload_adds_a_table_and_keeps_the_others(steward, make_person):
    approver = make_person(Role.APPROVER)
    airlock.approve(receive(steward), approver)
    second = airlock.receive_upload(
        filename="more.csv",
        chunks=[b"chi,sex\n0402070763,F\n"],
        dataset_title="Cohort",
        table_name="movers",
        schema=SCHEMA,
        uploaded_by=steward,
    )
    version = airlock.approve(second, approver).dataset_version
    assert version.version == 2
    assert sorted(version.tables) == ["movers", "people"]
    assert version.variables.filter(table="people", name="chi").exists()


def test_rejection_deletes_the_staged_data(steward, make_person):
    upload = airlock.reject(receive(steward), make_person(Role.APPROVER), "Wrong extract date.")
    assert upload.state == IngressState.REJECTED
    assert files_of(upload) == ["problems.csv"]
    with pytest.raises(airlock.AirlockError, match="rejected, so it cannot be reviewed"):
        airlock.approve(upload, make_person(Role.APPROVER))
    assert DatasetVersion.objects.count() == 0


def test_unknown_file_type_is_refused_before_anything_is_recorded(steward):
    with pytest.raises(airlock.AirlockError, match="not a file type the airlock reads"):
        airlock.receive_upload(
            filename="people.xlsx",
            chunks=[b""],
            dataset_title="Cohort",
            table_name="people",
            schema=SCHEMA,
            uploaded_by=steward,
        )
    assert not IngressUpload.objects.exists()


def test_the_portal_journey_with_two_people(client, steward, make_person):
    sign_in(client, steward)
    response = client.post(
        reverse("data:ingress_new"),
        {
            "dataset_title": "Cohort",
            "dataset_description": "People.",
            "data_controller": "PHS",
            "table_name": "people",
            "schema": SCHEMA_TEXT,
            "file": SimpleUploadedFile("people.csv", GOOD, content_type="text/csv"),
        },
    )
    upload = IngressUpload.objects.get()
    assert response.url == reverse("data:ingress_upload", args=[upload.pk])
    page = client.get(response.url).content.decode()
    assert "you cannot approve your own upload" in page
    own = client.post(reverse("data:ingress_review", args=[upload.pk]), {"decision": "approve"})
    assert own.status_code == 403
    upload.refresh_from_db()
    assert upload.state == IngressState.AWAITING_REVIEW

    second = sign_in(client.__class__(), make_person(Role.DATA_STEWARD))
    assert "Record decision" in second.get(response.url).content.decode()
    second.post(reverse("data:ingress_review", args=[upload.pk]), {"decision": "approve"})
    upload.refresh_from_db()
    assert upload.state == IngressState.APPROVED
    assert upload.dataset_version is not None


def test_problems_are_listed_in_the_portal_and_as_csv(client, steward):
    upload = receive(steward, BAD)
    sign_in(client, steward)
    page = client.get(reverse("data:ingress_upload", args=[upload.pk])).content.decode()
    assert "1 problem found" in page
    response = client.get(reverse("data:ingress_problems", args=[upload.pk]))
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == [
        "row,column,problem",
        "2,chi,is not a valid CHI number: contains characters other than the digits 0-9",
    ]


def test_people_without_a_data_role_cannot_reach_the_airlock(signed_in_client, steward):
    upload = receive(steward)
    researcher = signed_in_client(Role.RESEARCHER)
    assert researcher.get(reverse("data:ingress")).status_code == 403
    assert researcher.get(reverse("data:ingress_upload", args=[upload.pk])).status_code == 403
    approver = signed_in_client(Role.APPROVER)
    assert approver.get(reverse("data:ingress_new")).status_code == 403
    assert approver.get(reverse("data:ingress")).status_code == 200


def test_upload_form_refuses_a_bad_schema_and_stores_nothing(client, steward):
    sign_in(client, steward)
    response = client.post(
        reverse("data:ingress_new"),
        {
            "dataset_title": "Cohort",
            "table_name": "people",
            "schema": "name,type\nchi,chi\n",
            "file": SimpleUploadedFile("people.csv", GOOD),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The schema&#x27;s first line must be" in html
    assert "A new dataset needs this." in html
    assert not IngressUpload.objects.exists()
    assert not (settings.HAVENKIT_HOME / "ingress").exists()
