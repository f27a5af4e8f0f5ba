"""Researchers bring code files and reference tables into their project through the airlock:
nothing reaches the project before a second person approves it."""

import io
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.permissions import Denied
from havenkit.core.roles import Role
from havenkit.data import imports, services
from havenkit.data.models import ImportKind, ImportState, ProjectImport
from havenkit.workspaces.models import CodeFile
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CODE = "import pandas as pd\nprint(pd.read_parquet('/reference/icd10.parquet').shape)\n"
LOOKUP_CSV = b"code,chapter\nI21,Circulatory\nJ18,Respiratory\nC50,Neoplasms\n"
# Valid CHI numbers (Modulus 11), which must be flagged if a table brings them in.
CHIS = ["0101011237", "1501851230"]


def _bring_in(haven, name: str, content: bytes, person=None, purpose="A lookup we need."):
    return imports.receive_import(
        project=haven.project,
        file_name=name,
        chunks=[content],
        purpose=purpose,
        uploaded_by=person or haven.researcher,
    )


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD, username="steward")


def _nothing_kept() -> None:
    assert ProjectImport.objects.count() == 0
    root = settings.HAVENKIT_HOME / "ingress" / "imports"
    assert not root.exists() or list(root.iterdir()) == []


def test_approved_code_becomes_a_new_version_in_the_uploaders_name(haven, steward):
    project_import = _bring_in(haven, "model.py", CODE.encode())
    assert project_import.kind == ImportKind.CODE
    assert not CodeFile.objects.filter(project=haven.project, name="model.py").exists()

    approved = imports.approve(project_import, steward, "Reads the lookup only.")

    version = CodeFile.objects.get(project=haven.project, name="model.py").latest_version()
    assert version.content == CODE
    assert version.author == haven.researcher
    assert approved.code_version == version
    assert approved.delivered_as == "model.py version 1"
    assert imports.import_of(version) == approved
    assert imports.import_of(None) is None
    assert not imports.import_directory(approved).exists()
    event = AuditEvent.objects.get(action="import.approved")
    assert event.actor == steward
    assert event.details["uploaded_by"] == "researcher"


def test_approving_code_of_an_existing_name_adds_a_version(haven, steward):
    # The haven fixture's job already saved analysis.py as version 1.
    approved = imports.approve(_bring_in(haven, "analysis.py", CODE.encode()), steward)
    assert approved.code_version.number == 2
    first = CodeFile.objects.get(project=haven.project, name="analysis.py").versions.get(number=1)
    assert imports.import_of(first) is None


def test_approved_reference_table_is_read_only_at_a_fixed_path(haven, steward):
    project_import = _bring_in(haven, "icd10.csv", LOOKUP_CSV)
    reference = services.reference_directory(haven.project)
    assert not reference.exists()
    assert project_import.report["rows"] == 3
    assert project_import.report["columns"] == [
        {"name": "code", "type": "string"},
        {"name": "chapter", "type": "string"},
    ]
    assert project_import.report["chi_like"] == []

    imports.approve(project_import, steward)

    parquet = reference / "icd10.parquet"
    assert pq.read_table(parquet).column("chapter").to_pylist()[0] == "Circulatory"
    assert (reference / "icd10.csv").read_text().splitlines()[0] == '"code","chapter"'
    assert parquet.stat().st_mode & 0o222 == 0
    # Inside the extracts folder, so the project's deletion record lists it.
    names = [entry["file"] for entry in services.project_extract_files(haven.project)]
    assert any(name.endswith("reference/icd10.parquet") for name in names)


def test_a_newer_reference_table_of_the_same_name_replaces_the_old(haven, steward):
    imports.approve(_bring_in(haven, "icd10.csv", LOOKUP_CSV), steward)
    imports.approve(_bring_in(haven, "icd10.csv", b"code,chapter\nA00,Infections\n"), steward)
    table = pq.read_table(services.reference_directory(haven.project) / "icd10.parquet")
    assert table.column("code").to_pylist() == ["A00"]


def test_chi_like_columns_are_flagged_by_name_and_by_value(haven):
    buffer = io.BytesIO()
    table = pa.table({"patient_ref": CHIS, "chi_no": ["x", "y"], "score": [1, 2]})
    pq.write_table(table, buffer)
    project_import = _bring_in(haven, "scores.parquet", buffer.getvalue())
    flags = {flag["column"]: flag["reason"] for flag in project_import.report["chi_like"]}
    assert set(flags) == {"patient_ref", "chi_no"}
    assert "100% of its values are valid CHI numbers" in flags["patient_ref"]
    assert "name suggests" in flags["chi_no"]
    preview = imports.preview(project_import)
    assert preview["rows"][0] == ["(hidden)", "(hidden)", 1]


def test_chi_numbers_stored_as_whole_numbers_are_flagged(haven):
    csv = ("ref,group\n" + "\n".join(f"{int(chi)},a" for chi in CHIS) + "\n").encode()
    project_import = _bring_in(haven, "groups.csv", csv)
    assert [flag["column"] for flag in project_import.report["chi_like"]] == ["ref"]


def test_rejection_deletes_the_file_and_keeps_the_reason(haven, steward):
    project_import = _bring_in(haven, "model.py", CODE.encode())
    with pytest.raises(imports.ImportRefused, match="Say why"):
        imports.reject(project_import, steward, "  ")
    rejected = imports.reject(project_import, steward, "Calls an external API.")
    assert rejected.state == ImportState.REJECTED
    assert not imports.import_directory(rejected).exists()
    assert not CodeFile.objects.filter(project=haven.project, name="model.py").exists()
    with pytest.raises(imports.ImportRefused, match="is rejected"):
        imports.approve(rejected, steward)


def test_the_uploader_cannot_approve_their_own_import(haven):
    # The researcher is also a data steward: still not their own reviewer.
    haven.researcher.role_grants.create(role=Role.DATA_STEWARD)
    project_import = _bring_in(haven, "model.py", CODE.encode())
    with pytest.raises(Denied, match="brought in yourself"):
        imports.approve(project_import, haven.researcher)
    project_import.refresh_from_db()
    assert project_import.state == ImportState.AWAITING_REVIEW
    assert not CodeFile.objects.filter(project=haven.project, name="model.py").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.py", b"print(1)\x00\x01\x02", "binary file"),
        ("model.R", "x <- 'café'".encode("latin-1"), "not UTF-8 text (line 1)"),
        ("../model.py", b"print(1)", "contains a folder or '..'"),
        ("code/model.py", b"print(1)", "contains a folder or '..'"),
        ("..\\model.py", b"print(1)", "contains a folder or '..'"),
        ("model.exe", b"MZ", "not a file the airlock brings into projects"),
        ("model.py", b"", "is empty"),
        ("lookup.csv", b"a,b\n1,2\n3,4,5\n", "row 2, has 3 fields where the header has 2"),
        ("lookup.csv", "a,b\nï,2\n".encode("latin-1"), "row 1 (byte 4), is not UTF-8"),
        ("lookup.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("lookup.csv", b"a,b\n", "no rows"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_kept(haven, name, content, message):
    with pytest.raises(imports.ImportRefused, match=re.escape(message)):
        _bring_in(haven, name, content)
    _nothing_kept()
    assert AuditEvent.objects.filter(action="import.refused").count() == 1


def test_a_truncated_parquet_table_is_refused(haven):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"code": ["I21"] * 100}), buffer)
    with pytest.raises(imports.ImportRefused, match="truncated"):
        _bring_in(haven, "lookup.parquet", buffer.getvalue()[:-40])
    _nothing_kept()


def test_oversized_files_are_refused_while_arriving(haven, settings):
    settings.MAX_CODE_FILE_BYTES = 1000
    chunks_read = []

    def chunks():
        for _ in range(100):
            chunks_read.append(1)
            yield b"#" * 400

    with pytest.raises(imports.ImportRefused, match="larger than 1000"):
        imports.receive_import(
            project=haven.project,
            file_name="big.py",
            chunks=chunks(),
            purpose="Too big.",
            uploaded_by=haven.researcher,
        )
    assert len(chunks_read) == 3
    _nothing_kept()


def test_a_purpose_is_required(haven):
    with pytest.raises(imports.ImportRefused, match="Say what the project needs"):
        _bring_in(haven, "model.py", b"print(1)", purpose=" ")
    _nothing_kept()


def test_a_non_member_cannot_bring_files_in(haven, make_person):
    outsider = make_person(Role.RESEARCHER, username="outsider")
    with pytest.raises(Denied):
        _bring_in(haven, "model.py", b"print(1)", person=outsider)
    _nothing_kept()


# ---- Through the pages --------------------------------------------------------------------


def _upload(client: Client, haven, name: str, content: bytes):
    return client.post(
        reverse("data:project_imports", args=[haven.project.pk]),
        {"file": SimpleUploadedFile(name, content), "purpose": "ICD-10 chapters."},
    )


def test_researcher_brings_code_in_and_a_steward_sees_it_highlighted(haven, steward):
    researcher = sign_in(Client(), haven.researcher)
    response = _upload(researcher, haven, "model.py", CODE.encode())
    assert response.status_code == 302
    project_import = ProjectImport.objects.get()

    reviewer = sign_in(Client(), steward)
    airlock = reviewer.get(reverse("data:ingress")).content.decode()
    assert "Project files awaiting review" in airlock
    assert "model.py (import" in airlock
    page = reviewer.get(reverse("data:project_import", args=[project_import.pk])).content.decode()
    assert '<span class="kn">import</span>' in page
    assert "Your decision on import" in page

    reviewer.post(
        reverse("data:review_project_import", args=[project_import.pk]),
        {"decision": "approve", "comment": ""},
    )
    status = researcher.get(reverse("data:project_imports", args=[haven.project.pk]))
    assert "Approved: model.py version 1" in status.content.decode()


def test_a_refused_file_is_shown_as_an_error_on_the_form(haven):
    researcher = sign_in(Client(), haven.researcher)
    response = _upload(researcher, haven, "model.py", b"\x00\x01")
    assert response.status_code == 200
    assert "is a binary file, not code" in response.content.decode()
    assert ProjectImport.objects.count() == 0


def test_the_uploader_sees_no_review_form_and_is_refused_a_review(haven):
    haven.researcher.role_grants.create(role=Role.DATA_STEWARD)
    project_import = _bring_in(haven, "model.py", CODE.encode())
    client = sign_in(Client(), haven.researcher)
    page = client.get(reverse("data:project_import", args=[project_import.pk])).content.decode()
    assert "Your decision" not in page
    response = client.post(
        reverse("data:review_project_import", args=[project_import.pk]),
        {"decision": "approve", "comment": ""},
    )
    assert response.status_code == 403
    assert "brought in yourself" in response.content.decode()


def test_a_reference_table_preview_shows_types_and_first_rows(haven, steward):
    project_import = _bring_in(haven, "icd10.csv", LOOKUP_CSV)
    page = (
        sign_in(Client(), steward)
        .get(reverse("data:project_import", args=[project_import.pk]))
        .content.decode()
    )
    assert "The first 3 rows" in page
    assert "Circulatory" in page
    assert "Columns and their types" in page


def test_rejecting_without_a_reason_asks_for_one_in_the_imports_words(haven, steward):
    project_import = _bring_in(haven, "model.py", CODE.encode())
    response = sign_in(Client(), steward).post(
        reverse("data:review_project_import", args=[project_import.pk]),
        {"decision": "reject", "comment": " "},
    )
    page = response.content.decode()
    assert "Say why the import is rejected, so the researcher can act on it." in page
    assert "upload is rejected" not in page
    assert "say what the researcher should change" in page
    assert ProjectImport.objects.get().state == ImportState.AWAITING_REVIEW
