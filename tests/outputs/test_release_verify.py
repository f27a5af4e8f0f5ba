"""``havenkit release verify ZIP`` against the package the portal hands out."""

import hashlib
import json
import shutil
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from havenkit.data.models import Dataset, DatasetVersion, Extract
from havenkit.outputs import services
from havenkit.outputs.models import FileReview
from havenkit.outputs.services import FileChoice
from tests.outputs.test_services import draft, review_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(haven, tmp_path) -> Path:
    release_request = services.submit(draft(haven, "table.csv", "summary.txt"), haven.researcher)
    review_all(release_request, haven.checker_a)
    release_request = review_all(release_request, haven.checker_b)
    path = tmp_path / "package.zip"
    with path.open("wb") as out:
        shutil.copyfileobj(services.released_package(release_request, haven.researcher), out)
    return path


def verify(path: Path) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("release", "verify", str(path), stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def rewritten(path: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of the package with some members replaced (bytes) or left out (None)."""
    target = path.with_name("tampered.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            if name not in changes:
                out.writestr(name, source.read(name))
        for name, content in changes.items():
            if content is not None:
                out.writestr(name, content)
    return target


def manifest_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as package:
        return json.loads(package.read("manifest.json"))


def with_table_changed_to_match(package: Path) -> Path:
    """The package with table.csv changed and its manifest and RO-Crate edited to match.

    Only a record kept apart from the package (the haven's database or a signed release record)
    can tell such a package from the one released.
    """
    content = b"region,patients\nLothian,3\n"
    manifest = manifest_of(package)
    entry = next(f for f in manifest["files"] if f["name"] == "table.csv")
    entry["size_bytes"] = len(content)
    entry["sha256"] = hashlib.sha256(content).hexdigest()
    with zipfile.ZipFile(package) as source:
        crate = json.loads(source.read("ro-crate-metadata.json"))
    for item in crate["@graph"]:
        if item["@id"] == "outputs/table.csv":
            item["sha256"] = entry["sha256"]
    return rewritten(
        package,
        {
            "outputs/table.csv": content,
            "manifest.json": json.dumps(manifest).encode(),
            "ro-crate-metadata.json": json.dumps(crate).encode(),
        },
    )


def test_an_intact_package_verifies(package):
    status, out, _err = verify(package)
    assert status == 0
    assert "VERIFIED" in out
    assert "2 files" in out


def test_a_changed_file_is_named(package):
    status, _out, err = verify(rewritten(package, {"outputs/table.csv": b"region,patients\n"}))
    assert status == 1
    assert "table.csv is 16 bytes" in err


def test_a_missing_file_is_named(package):
    status, _out, err = verify(rewritten(package, {"outputs/summary.txt": None}))
    assert status == 1
    assert "outputs/summary.txt is in manifest.json but not in the package" in err


def test_a_manifest_edited_to_match_a_changed_file_fails_against_the_haven(package):
    tampered = with_table_changed_to_match(package)
    status, _out, err = verify(tampered)
    assert status == 1
    assert "table.csv is not the file the haven records as released" in err


def test_a_package_of_a_request_that_was_not_released_fails(package, haven):
    other = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(haven.job.pk, "table.csv", "Patients")]
    )
    manifest = manifest_of(package)
    manifest["release_request"] = other.pk
    status, _out, err = verify(rewritten(package, {"manifest.json": json.dumps(manifest).encode()}))
    assert status == 1
    assert f"release request {other.pk} is draft, not released" in err


def test_missing_approvals_in_the_haven_record_fail(package):
    FileReview.objects.filter(
        release_file__name="table.csv", checker__username="checker_b"
    ).delete()
    status, _out, err = verify(package)
    assert status == 1
    assert "the haven records 1 approvals of table.csv, not 2" in err


def test_something_that_is_not_a_zip_fails(tmp_path):
    path = tmp_path / "not.zip"
    path.write_text("hello")
    status, _out, err = verify(path)
    assert status == 1
    assert "cannot read" in err


def test_the_manifest_names_the_dataset_version_behind_the_extract(haven):
    dataset = Dataset.objects.create(
        title="SMR01", description="Hospital admissions", data_controller="PHS"
    )
    version = DatasetVersion.objects.create(dataset=dataset, version=3, storage_path="datasets/x")
    extract = Extract.objects.create(
        project=haven.project, dataset_version=version, storage_path="extracts/x"
    )
    release_request = draft(haven, "table.csv")
    release_request.files.update(extract_id=extract.pk)
    [entry] = services.manifest(release_request)["files"]
    assert entry["dataset_versions"] == [
        {
            "dataset": "SMR01",
            "dataset_version": 3,
            "dataset_version_id": version.pk,
            "extract_version": 1,
        }
    ]
