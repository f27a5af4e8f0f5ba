"""The release package's RO-Crate description, and checking a downloaded package.

A package is ``outputs/<file>`` for each released file, ``manifest.json`` (havenkit's own
record), ``SHA256SUMS`` and ``ro-crate-metadata.json`` (the same facts in the RO-Crate
vocabulary, so repositories and workflow tools can read them). :func:`verify_package` checks a
zip against its manifest and against the haven's database, the record that cannot travel with
the zip and be edited on the way.
"""

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from rocrate.model.person import Person
from rocrate.rocrate import ROCrate

from havenkit.outputs.models import Decision, ReleaseRequest, RequestState
from havenkit.outputs.policies import APPROVALS_NEEDED

MANIFEST = "manifest.json"
RO_CRATE_METADATA = "ro-crate-metadata.json"
OUTPUTS_FOLDER = "outputs/"


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


def _check_against_record(manifest: dict[str, Any]) -> ReleaseRequest:
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
    listed = {entry["name"]: entry for entry in manifest["files"]}
    recorded = {f.name: f for f in release_request.files.prefetch_related("reviews__checker")}
    if set(listed) != set(recorded):
        raise PackageProblem(
            f"the package's files ({', '.join(sorted(listed))}) are not the files the haven "
            f"released ({', '.join(sorted(recorded))})"
        )
    for name, release_file in recorded.items():
        entry = listed[name]
        if (entry["sha256"], entry["size_bytes"]) != (release_file.sha256, release_file.size_bytes):
            raise PackageProblem(f"{name} is not the file the haven released (SHA-256 or size)")
        reviews = list(release_file.reviews.all())
        approvals = [r for r in reviews if r.decision == Decision.APPROVED]
        if len(approvals) < APPROVALS_NEEDED:
            raise PackageProblem(
                f"the haven records {len(approvals)} approvals of {name}, not {APPROVALS_NEEDED}"
            )
        recorded_reviews = sorted((r.checker.username, r.decision) for r in reviews)
        listed_reviews = sorted((r["checker"], r["decision"]) for r in entry["reviews"])
        if recorded_reviews != listed_reviews:
            raise PackageProblem(f"{MANIFEST}'s reviews of {name} are not the haven's record")
    return release_request


def verify_package(path: Path | str) -> ReleaseRequest:
    """Check a downloaded package; return its release request, or raise the first problem."""
    try:
        with zipfile.ZipFile(path) as package:
            manifest = _read_json(package, MANIFEST)
            try:
                _check_against_manifest(package, manifest)
                return _check_against_record(manifest)
            except (KeyError, TypeError) as error:
                raise PackageProblem(f"{MANIFEST} is missing or mangles {error}") from None
    except (OSError, zipfile.BadZipFile) as error:
        raise PackageProblem(f"cannot read {path} as a zip: {error}") from None
