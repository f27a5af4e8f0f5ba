"""The release package's RO-Crate description, and checking a downloaded package.

A package is ``outputs/<file>`` for each released file, ``manifest.json`` (havenkit's own
record), ``SHA256SUMS`` and ``ro-crate-metadata.json`` (the same facts in the RO-Crate
vocabulary, so repositories and workflow tools can read them). :func:`verify_package` checks a
zip against its manifest and against the haven's database, the record that cannot travel with
the zip and be edited on the way. Away from the haven, :func:`verify_package_offline` checks it
against ``release-record.json`` instead: the same facts, signed by the haven (``signing``).
"""

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from rocrate.model.person import Person
from rocrate.rocrate import ROCrate

from havenkit.outputs import signing
from havenkit.outputs.models import Decision, ReleaseRequest, RequestState
from havenkit.outputs.policies import APPROVALS_NEEDED

MANIFEST = "manifest.json"
RO_CRATE_METADATA = "ro-crate-metadata.json"
OUTPUTS_FOLDER = "outputs/"
RELEASE_RECORD = "release-record.json"
RECORD_FORMAT = "havenkit-release-record/1"


class PackageProblem(Exception):
    """The first thing wrong with a package, said so a person can act on it."""


def ro_crate_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    """The RO-Crate metadata of a package, built from its manifest with the rocrate library."""
    crate = ROCrate()
    project = manifest["project"]
    crate.name = f"{project['reference']} release {manifest['release_request']}"
    crate.description = (
        f"Outputs of project {project['reference']} released from the haven after review by "
        f"{APPROVALS_NEEDED} output checkers; see {MANIFEST} for the full provenance."
    )
    if manifest["released_at"]:
        crate.datePublished = manifest["released_at"]
    checkers: dict[str, Person] = {}
    for entry in manifest["files"]:
        reviewers = []
        for review in entry["reviews"]:
            username = review["checker"]
            if username not in checkers:
                checkers[username] = crate.add(
                    Person(crate, f"#checker-{username}", {"name": username})
                )
            reviewers.append(checkers[username])
        crate.add_file(
            source=None,
            dest_path=f"{OUTPUTS_FOLDER}{entry['name']}",
            fetch_remote=False,
            properties={
                "name": entry["name"],
                "description": entry["description"],
                "contentSize": entry["size_bytes"],
                "sha256": entry["sha256"],
                "contributor": reviewers,
            },
        )
    crate.add_file(
        source=None,
        dest_path=MANIFEST,
        fetch_remote=False,
        properties={"name": "havenkit release manifest", "encodingFormat": "application/json"},
    )
    return crate.metadata.generate()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_json(package: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(package.read(name))
    except KeyError:
        raise PackageProblem(f"the package has no {name}") from None
    except ValueError as error:
        raise PackageProblem(f"{name} is not valid JSON: {error}") from None


def _check_against_manifest(package: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    listed = {entry["name"]: entry for entry in manifest["files"]}
    present = {
        name.removeprefix(OUTPUTS_FOLDER)
        for name in package.namelist()
        if name.startswith(OUTPUTS_FOLDER) and not name.endswith("/")
    }
    for name in sorted(present - listed.keys()):
        raise PackageProblem(f"{OUTPUTS_FOLDER}{name} is in the package but not in {MANIFEST}")
    for name, entry in listed.items():
        if name not in present:
            raise PackageProblem(f"{OUTPUTS_FOLDER}{name} is in {MANIFEST} but not in the package")
        content = package.read(f"{OUTPUTS_FOLDER}{name}")
        if len(content) != entry["size_bytes"]:
            raise PackageProblem(
                f"{name} is {len(content)} bytes; {MANIFEST} says {entry['size_bytes']}"
            )
        if _sha256(content) != entry["sha256"]:
            raise PackageProblem(f"{name}'s SHA-256 does not match {MANIFEST}")
    crate = _read_json(package, RO_CRATE_METADATA)
    described = {
        item["@id"]: item.get("sha256") for item in crate.get("@graph", []) if "@id" in item
    }
    for name, entry in listed.items():
        if described.get(f"{OUTPUTS_FOLDER}{name}") != entry["sha256"]:
            raise PackageProblem(f"{RO_CRATE_METADATA} does not describe {name} as {MANIFEST} does")


def _check_files(manifest: dict[str, Any], recorded: list[dict[str, Any]], source: str) -> None:
    """The manifest's files are the recorded ones, alike in bytes and reviews, each approved.

    ``recorded`` holds each released file as the record has it (name, sha256, size_bytes and
    reviews of checker and decision); ``source`` names the record in messages.
    """
    listed = {entry["name"]: entry for entry in manifest["files"]}
    files = {entry["name"]: entry for entry in recorded}
    if set(listed) != set(files):
        raise PackageProblem(
            f"the package's files ({', '.join(sorted(listed))}) are not the files {source} "
            f"records as released ({', '.join(sorted(files))})"
        )
    for name, entry in files.items():
        if (listed[name]["sha256"], listed[name]["size_bytes"]) != (
            entry["sha256"],
            entry["size_bytes"],
        ):
            raise PackageProblem(
                f"{name} is not the file {source} records as released (SHA-256 or size)"
            )
        approvals = sum(1 for r in entry["reviews"] if r["decision"] == Decision.APPROVED)
        if approvals < APPROVALS_NEEDED:
            raise PackageProblem(
                f"{source} records {approvals} approvals of {name}, not {APPROVALS_NEEDED}"
            )
        recorded_reviews = sorted((r["checker"], r["decision"]) for r in entry["reviews"])
        listed_reviews = sorted((r["checker"], r["decision"]) for r in listed[name]["reviews"])
        if recorded_reviews != listed_reviews:
            raise PackageProblem(f"{MANIFEST}'s reviews of {name} are not what {source} records")


def _check_against_database(manifest: dict[str, Any]) -> ReleaseRequest:
    request_id = manifest.get("release_request")
    release_request = (
        ReleaseRequest.objects.select_related("project").filter(pk=request_id).first()
        if isinstance(request_id, int)
        else None
    )
    if release_request is None:
        raise PackageProblem(f"this haven has no release request {request_id!r}")
    if release_request.project.reference != manifest["project"]["reference"]:
        raise PackageProblem(
            f"release request {request_id} belongs to {release_request.project.reference}, "
            f"not {manifest['project']['reference']}"
        )
    if release_request.state != RequestState.RELEASED:
        raise PackageProblem(
            f"release request {request_id} is {release_request.get_state_display().lower()}, "
            "not released"
        )
    recorded = [
        {
            "name": release_file.name,
            "sha256": release_file.sha256,
            "size_bytes": release_file.size_bytes,
            "reviews": [
                {"checker": review.checker.username, "decision": review.decision}
                for review in release_file.reviews.all()
            ],
        }
        for release_file in release_request.files.prefetch_related("reviews__checker")
    ]
    _check_files(manifest, recorded, "the haven")
    return release_request


def haven_name() -> str:
    """The haven's name as it configures it (``HAVENKIT_HAVEN_NAME``)."""
    return settings.HAVEN_NAME


def release_record(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the haven signs about a release (``release-record.json``), from its manifest.

    Only what a package is checked against travels in the record: no descriptions, comments or
    provenance, which stay in the manifest and the haven.
    """
    return {
        "format": RECORD_FORMAT,
        "haven": haven_name(),
        "release_request": manifest["release_request"],
        "project": manifest["project"]["reference"],
        "released_at": manifest["released_at"],
        "files": [
            {
                "name": entry["name"],
                "sha256": entry["sha256"],
                "size_bytes": entry["size_bytes"],
                "reviews": [
                    {
                        "checker": review["checker"],
                        "decision": review["decision"],
                        "reviewed_at": review["reviewed_at"],
                    }
                    for review in entry["reviews"]
                ],
            }
            for entry in manifest["files"]
        ],
    }


def _read_record(record_path: Path | str, public_key_path: Path | str | None) -> dict[str, Any]:
    """The signed record, checked with the given public key or else this haven's own."""
    try:
        public_key = (
            signing.load_public_key(public_key_path)
            if public_key_path
            else signing.haven_public_key(create=False)
        )
        try:
            document = json.loads(Path(record_path).read_bytes())
        except OSError as error:
            raise PackageProblem(f"cannot read {record_path}: {error.strerror}") from None
        except ValueError as error:
            raise PackageProblem(f"{record_path} is not valid JSON: {error}") from None
        record = signing.verify(document, public_key)
    except signing.SignatureProblem as problem:
        raise PackageProblem(f"{Path(record_path).name} cannot be trusted: {problem}") from None
    if record.get("format") != RECORD_FORMAT:
        raise PackageProblem(f"{record_path} is not a {RECORD_FORMAT} record")
    return record


def _check_against_signed_record(manifest: dict[str, Any], record: dict[str, Any]) -> None:
    if manifest["release_request"] != record["release_request"]:
        raise PackageProblem(
            f"the package is of release request {manifest['release_request']!r}; the record is "
            f"of release request {record['release_request']!r}"
        )
    if manifest["project"]["reference"] != record["project"]:
        raise PackageProblem(
            f"the package is of project {manifest['project']['reference']}; the record is of "
            f"{record['project']}"
        )
    _check_files(manifest, record["files"], RELEASE_RECORD)


def _verified(path: Path | str, check: Callable[[dict[str, Any]], Any]) -> Any:
    """Open the package, check it against its manifest, then ``check`` the manifest."""
    try:
        with zipfile.ZipFile(path) as package:
            manifest = _read_json(package, MANIFEST)
            try:
                _check_against_manifest(package, manifest)
                return check(manifest)
            except (KeyError, TypeError) as error:
                raise PackageProblem(f"{MANIFEST} is missing or mangles {error}") from None
    except (OSError, zipfile.BadZipFile) as error:
        raise PackageProblem(f"cannot read {path} as a zip: {error}") from None


def verify_package_offline(
    path: Path | str, record_path: Path | str, public_key_path: Path | str | None = None
) -> dict[str, Any]:
    """Check a package against a signed release record, with no database; return the record."""
    record = _read_record(record_path, public_key_path)
    _verified(path, lambda manifest: _check_against_signed_record(manifest, record))
    return record


def verify_package(path: Path | str) -> ReleaseRequest:
    """Check a downloaded package; return its release request, or raise the first problem."""
    return _verified(path, _check_against_database)
