"""Release requests: copying files in, reviews, the state machine, release and download.

``policies`` says what a request's state allows and ``core.permissions`` says who may act;
this module does the work and audits every step with the project id. A file is copied into
the request's own store (``HAVENKIT_HOME/releases/<request>/<job>/<name>``) when it is added,
and its SHA-256 is checked against the job's record then, at release and at every download, so
what two checkers approved is exactly what leaves the haven.
"""

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from havenkit.core import audit, permissions
from havenkit.core.models import AuditEvent, Outcome
from havenkit.data import services as data
from havenkit.data.models import Extract
from havenkit.outputs import checks, packages, policies, signing, timeline
from havenkit.outputs.models import (
    FileReview,
    ReleaseFile,
    ReleaseRequest,
    RequestState,
    ReviewReply,
)
from havenkit.outputs.policies import ReleaseRequestError
from havenkit.outputs.preview import TablePreview, table_preview
from havenkit.projects.models import memberships_in_date
from havenkit.sdc import ConfigError
from havenkit.sdc.recorded import RESULTS
from havenkit.workspaces import services as workspaces

# Changing, submitting and withdrawing a request needs the same standing as creating one:
# a researcher member of the active project.
EDIT_REQUEST = "edit_release_request"
# Any member of the active project may answer a checker's comment, not only the author.
REPLY_TO_REVIEW = "reply_to_release_review"

# Files the request page shows inline to checkers, and how much of them. An SVG is shown as
# an image (an <img> runs no script), not as text.
TEXT_SUFFIXES = {".txt", ".md", ".json", ".log", ".html", ".tsv"}
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
PREVIEW_MAX_BYTES = 1024 * 1024
PREVIEW_MAX_ROWS = 500


class StoredCopyChanged(ReleaseRequestError):
    """A stored copy is missing or no longer matches its SHA-256: it must not leave the haven."""


@dataclass(frozen=True)
class FileChoice:
    """An output a researcher picked for a release request."""

    job_id: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class FilePreview:
    """What a checker sees of a file inline: a CSV as a table, text, an image, or nothing."""

    table: TablePreview | None
    text: str
    truncated: bool
    is_image: bool = False


def _home() -> Path:
    return Path(settings.HAVENKIT_HOME)


def request_directory(release_request: ReleaseRequest) -> Path:
    return _home() / "releases" / str(release_request.pk)


def stored_copy(release_file: ReleaseFile) -> Path:
    return _home() / release_file.stored_path


def _record(
    action: str,
    release_request: ReleaseRequest,
    *,
    actor: Any,
    request: HttpRequest | None,
    obj: Any = None,
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit one step of a release request.

    The request's id goes in every event's details, so events about its files (even removed
    ones) can be found for the request's timeline.
    """
    audit.record(
        action,
        request=request,
        actor=actor,
        obj=obj or release_request,
        project=release_request.project_id,
        outcome=outcome,
        details={"release_request": release_request.pk, **(details or {})},
    )


@contextmanager
def _refusals_audited(
    action: str, *, actor: Any, project: Any, request: HttpRequest | None, obj: Any = None
) -> Iterator[None]:
    """Record a refused action as a failed audit event, outside the transaction it undid."""
    try:
        yield
    except ReleaseRequestError as error:
        audit.record(
            action,
            request=request,
            actor=actor,
            obj=obj,
            project=project,
            outcome=Outcome.FAILURE,
            details={"reason": str(error)},
        )
        raise


@contextmanager
def _locked_change(
    action: str,
    release_request: ReleaseRequest,
    *,
    actor: Any,
    request: HttpRequest | None,
    obj: Any = None,
) -> Iterator[ReleaseRequest]:
    """Lock the request for one change; a refusal is audited outside the transaction it undid."""
    with (
        _refusals_audited(
            action,
            actor=actor,
            project=release_request.project,
            request=request,
            obj=obj or release_request,
        ),
        transaction.atomic(),
    ):
        yield _locked(release_request)


def _locked(release_request: ReleaseRequest) -> ReleaseRequest:
    return (
        ReleaseRequest.objects.select_for_update()
        .select_related("project")
        .get(pk=release_request.pk)
    )


def _move(
    release_request: ReleaseRequest,
    state: RequestState,
    *,
    actor: Any,
    request: HttpRequest | None,
    details: dict | None = None,
) -> None:
    """Change state and audit it as ``release.<state>``."""
    previous = release_request.state
    release_request.state = state
    release_request.save()
    _record(
        f"release.{state}",
        release_request,
        actor=actor,
        request=request,
        details={"from": previous, "to": state, **(details or {})},
    )


def _store_copy(release_request: ReleaseRequest, output: workspaces.OutputFile) -> str:
    """Copy a job output into the request's store, read-only, checking its SHA-256."""
    directory = request_directory(release_request)
    target = directory / str(output.job_id) / output.name
    if not target.resolve().is_relative_to(directory.resolve()):
        raise ReleaseRequestError(f"{output.name!r} is not a file name havenkit can store.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    shutil.copyfile(output.path, partial)
    if data.sha256_of_file(partial) != output.sha256:
        partial.unlink()
        raise StoredCopyChanged(
            f"The output file {output.name} of job {output.job_id} changed while it was being "
            "copied. Run the job again and add its new output."
        )
    partial.chmod(0o400)
    os.replace(partial, target)
    return target.relative_to(_home()).as_posix()


def _reset_reviews(release_file: ReleaseFile, *, actor: Any, request: HttpRequest | None) -> None:
    """A changed file is reviewed afresh; its old reviews, and replies to them, stay as history."""
    reviews = list(release_file.reviews.select_related("checker"))
    if not reviews:
        return
    release_file.reviews.update(superseded_at=timezone.now())
    _record(
        "release.reviews_reset",
        release_file.release_request,
        actor=actor,
        request=request,
        obj=release_file,
        details={
            "file": release_file.name,
            "reviews": [
                {"checker": review.checker.username, "decision": review.decision}
                for review in reviews
            ],
        },
    )


def _released_tables(project: Any) -> dict[str, Path]:
    """The CSV files this project already released, named as a checker would recognise them."""
    released = ReleaseFile.objects.filter(
        release_request__project=project, release_request__state=RequestState.RELEASED
    ).select_related("release_request")
    return {
        f"{f.name} of release request {f.release_request.pk}": stored_copy(f)
        for f in released
        if Path(f.name).suffix.lower() == ".csv"
    }


def _session_folder(release_request: ReleaseRequest, output: workspaces.OutputFile) -> Path | None:
    """The folder of the job's outputs whose results.json (a havenkit.sdc session's) may name
    ``output``, when that results.json is itself a recorded, unchanged output of the same job."""
    results = (Path(output.name).parent / RESULTS).as_posix()
    try:
        found = workspaces.open_job_output(release_request.project, output.job_id, results)
    except workspaces.OutputNotFound:
        return None
    return found.path.parent


def _output_checks(
    release_request: ReleaseRequest, stored_path: str, output: workspaces.OutputFile
) -> dict[str, Any]:
    """The file rules and differencing on a stored copy, as ReleaseFile fields."""
    try:
        status, findings = checks.check_release_file(
            _home() / stored_path,
            _released_tables(release_request.project),
            _session_folder(release_request, output),
            output.job_id,
        )
    except ConfigError as error:
        raise ReleaseRequestError(
            f"The haven's output-checking configuration cannot be used ({error}); "
            "ask the haven's administrator to correct haven.toml."
        ) from error
    return {"sdc_status": status, "sdc_findings": findings}


def _put_file(
    release_request: ReleaseRequest, choice: FileChoice, *, actor: Any, request: HttpRequest | None
) -> ReleaseFile:
    """Add an output to the request, or change the file of that name and reset its reviews."""
    try:
        output = workspaces.open_job_output(release_request.project, choice.job_id, choice.name)
    except workspaces.OutputNotFound as error:
        raise ReleaseRequestError(str(error)) from error
    fields = {
        "job_id": output.job_id,
        "description": choice.description.strip(),
        "sha256": output.sha256,
        "size_bytes": output.size_bytes,
        "code_file_name": output.code_file_name,
        "code_version_number": output.code_version_number,
        "extract_id": output.extract_id,
        "stored_path": _store_copy(release_request, output),
        "added_at": timezone.now(),
        # A justification was written for the previous content; the new one needs its own.
        "justification": "",
    }
    fields |= _output_checks(release_request, fields["stored_path"], output)
    release_file = release_request.files.filter(name=output.name).first()
    if release_file is None:
        release_file = ReleaseFile.objects.create(
            release_request=release_request, name=output.name, **fields
        )
        action = "release.file_added"
    else:
        old_copy = stored_copy(release_file)
        _reset_reviews(release_file, actor=actor, request=request)
        for field, value in fields.items():
            setattr(release_file, field, value)
        release_file.save()
        if old_copy != stored_copy(release_file):
            old_copy.unlink(missing_ok=True)
        action = "release.file_changed"
    _record(
        action,
        release_request,
        actor=actor,
        request=request,
        obj=release_file,
        details={
            "file": release_file.name,
            "job_id": release_file.job_id,
            "sha256": release_file.sha256,
            "size_bytes": release_file.size_bytes,
            "sdc_status": release_file.sdc_status,
        },
    )
    return release_file


def create_release_request(
    project: Any, author: Any, choices: list[FileChoice], *, request: HttpRequest | None = None
) -> ReleaseRequest:
    """Open a draft release request holding copies of the chosen outputs: all of them or none."""
    permissions.check(author, "create_release_request", project)
    created_in: Path | None = None
    with _refusals_audited("release.created", actor=author, project=project, request=request):
        policies.check_distinct_names([choice.name for choice in choices])
        try:
            with transaction.atomic():
                release_request = ReleaseRequest.objects.create(project=project, author=author)
                created_in = request_directory(release_request)
                _record("release.created", release_request, actor=author, request=request)
                for choice in choices:
                    _put_file(release_request, choice, actor=author, request=request)
        except ReleaseRequestError:
            if created_in is not None:
                shutil.rmtree(created_in, ignore_errors=True)
            raise
    return release_request


def add_file(
    release_request: ReleaseRequest,
    choice: FileChoice,
    actor: Any,
    *,
    request: HttpRequest | None = None,
) -> ReleaseFile:
    """Add an output, or change the file of the same name (which resets its reviews)."""
    permissions.check(actor, EDIT_REQUEST, release_request)
    with _locked_change(
        "release.file_added", release_request, actor=actor, request=request
    ) as locked:
        policies.check_change_files(locked.state)
        return _put_file(locked, choice, actor=actor, request=request)


def justify_file(
    release_file: ReleaseFile, actor: Any, justification: str, *, request: HttpRequest | None = None
) -> ReleaseFile:
    """Record why a file the rules did not pass should still be released; resets its reviews."""
    release_request = release_file.release_request
    permissions.check(actor, EDIT_REQUEST, release_request)
    with _locked_change(
        "release.file_justified", release_request, actor=actor, request=request, obj=release_file
    ) as locked:
        policies.check_change_files(locked.state)
        policies.check_justification(justification)
        _reset_reviews(release_file, actor=actor, request=request)
        release_file.justification = justification.strip()
        release_file.save(update_fields=["justification"])
        _record(
            "release.file_justified",
            locked,
            actor=actor,
            request=request,
            obj=release_file,
            details={
                "file": release_file.name,
                "sdc_status": release_file.sdc_status,
                "justification": release_file.justification,
            },
        )
    return release_file


def remove_file(
    release_file: ReleaseFile, actor: Any, *, request: HttpRequest | None = None
) -> None:
    release_request = release_file.release_request
    permissions.check(actor, EDIT_REQUEST, release_request)
    copy = stored_copy(release_file)
    with _locked_change(
        "release.file_removed", release_request, actor=actor, request=request, obj=release_file
    ) as locked:
        policies.check_change_files(locked.state)
        _record(
            "release.file_removed",
            locked,
            actor=actor,
            request=request,
            obj=release_file,
            details={"file": release_file.name, "job_id": release_file.job_id},
        )
        release_file.delete()
    copy.unlink(missing_ok=True)


def reply_to_review(
    review: FileReview, author: Any, text: str, *, request: HttpRequest | None = None
) -> ReviewReply:
    """Record a project member's answer to an output checker's comment, beside the comment."""
    release_file = review.release_file
    release_request = release_file.release_request
    permissions.check(author, REPLY_TO_REVIEW, release_request.project)
    with _locked_change(
        "release.review_replied", release_request, actor=author, request=request, obj=release_file
    ) as locked:
        policies.check_reply(locked.state, review.comment, text)
        reply = ReviewReply.objects.create(review=review, author=author, text=text.strip())
        _record(
            "release.review_replied",
            locked,
            actor=author,
            request=request,
            obj=release_file,
            details={
                "file": release_file.name,
                "review": review.pk,
                "checker": review.checker.username,
                "comment": review.comment,
                "reply": reply.text,
            },
        )
    return reply


def _reviews_per_file(release_request: ReleaseRequest) -> list[tuple[ReleaseFile, list]]:
    files = release_request.files.prefetch_related("reviews__checker")
    return [(release_file, list(release_file.reviews.all())) for release_file in files]


def submit(
    release_request: ReleaseRequest, actor: Any, *, request: HttpRequest | None = None
) -> ReleaseRequest:
    """Send a draft or returned request to output checkers; approvals of unchanged files stay."""
    permissions.check(actor, EDIT_REQUEST, release_request)
    with _locked_change(
        "release.submitted", release_request, actor=actor, request=request
    ) as locked:
        files = _reviews_per_file(locked)
        policies.check_submit(locked.state, files)
        policies.check_justified([release_file for release_file, _reviews in files])
        locked.submitted_at = timezone.now()
        _move(locked, RequestState.SUBMITTED, actor=actor, request=request)
        reached = policies.progress([reviews for _file, reviews in files])
        if reached != RequestState.SUBMITTED:
            _move(locked, reached, actor=actor, request=request)
    return locked


def withdraw(
    release_request: ReleaseRequest, actor: Any, *, request: HttpRequest | None = None
) -> ReleaseRequest:
    permissions.check(actor, EDIT_REQUEST, release_request)
    with _locked_change(
        "release.withdrawn", release_request, actor=actor, request=request
    ) as locked:
        policies.check_withdraw(locked.state)
        _move(locked, RequestState.WITHDRAWN, actor=actor, request=request)
    return locked


def review_file(
    release_file: ReleaseFile,
    checker: Any,
    decision: str,
    comment: str = "",
    *,
    request: HttpRequest | None = None,
) -> ReleaseRequest:
    """Record one checker's decision on one file and move the request on.

    When every file has two reviews the request is reviewed, then approved (and released at
    once), returned or rejected.
    """
    release_request = release_file.release_request
    permissions.check(checker, "review_release_request", release_request)
    with _locked_change(
        "release.file_reviewed", release_request, actor=checker, request=request, obj=release_file
    ) as locked:
        reviews = list(FileReview.objects.filter(release_file=release_file))
        policies.check_review_file(locked.state, release_file.name, reviews, checker.pk)
        policies.check_review_comment(decision, comment)
        FileReview.objects.create(
            release_file=release_file, checker=checker, decision=decision, comment=comment.strip()
        )
        _record(
            "release.file_reviewed",
            locked,
            actor=checker,
            request=request,
            obj=release_file,
            details={"file": release_file.name, "decision": decision, "comment": comment.strip()},
        )
        reviews_per_file = [reviews for _file, reviews in _reviews_per_file(locked)]
        reached = policies.progress(reviews_per_file)
        if reached != locked.state:
            _move(locked, reached, actor=checker, request=request)
        if reached == RequestState.REVIEWED:
            _move(locked, policies.outcome(reviews_per_file), actor=checker, request=request)
    if locked.state == RequestState.APPROVED:
        release(locked, actor=checker, request=request)
    return locked


def _verify_stored_copy(
    release_file: ReleaseFile, *, during: str, actor: Any, request: HttpRequest | None
) -> Path:
    """The stored copy's path, after checking it still matches; a mismatch is audited."""
    path = stored_copy(release_file)
    found = data.sha256_of_file(path) if path.is_file() else None
    if found == release_file.sha256:
        return path
    _record(
        "release.integrity_failed",
        release_file.release_request,
        actor=actor,
        request=request,
        obj=release_file,
        outcome=Outcome.FAILURE,
        details={
            "file": release_file.name,
            "during": during,
            "expected_sha256": release_file.sha256,
            "found_sha256": found,
        },
    )
    raise StoredCopyChanged(
        f"The stored copy of {release_file.name} is missing or no longer matches the SHA-256 "
        "the output checkers reviewed, so it cannot leave the haven. The haven's "
        "administrator has been told through the audit log."
    )


def _dataset_versions(extract_id: int | None) -> list[dict[str, Any]]:
    """The dataset version the job's extract was cut from (none for a job without data)."""
    extract = (
        Extract.objects.select_related("dataset_version__dataset").filter(pk=extract_id).first()
        if extract_id
        else None
    )
    if extract is None:
        return []
    version = extract.dataset_version
    return [
        {
            "dataset": version.dataset.title,
            "dataset_version": version.version,
            "dataset_version_id": version.pk,
            "extract_version": extract.version,
        }
    ]


def manifest(release_request: ReleaseRequest) -> dict[str, Any]:
    """What was released, from where, approved by whom: the package's ``manifest.json``."""
    files = []
    for release_file, reviews in _reviews_per_file(release_request):
        files.append(
            {
                "name": release_file.name,
                "description": release_file.description,
                "sha256": release_file.sha256,
                "size_bytes": release_file.size_bytes,
                "job_id": release_file.job_id,
                "code_file": release_file.code_file_name,
                "code_version": release_file.code_version_number,
                # The job's other code files (its imports and sources), at the versions it had.
                "other_code": workspaces.other_code_of(release_file.job_id),
                "extract_id": release_file.extract_id,
                "dataset_versions": _dataset_versions(release_file.extract_id),
                "sdc_status": release_file.sdc_status,
                "justification": release_file.justification,
                "reviews": [
                    {
                        "checker": review.checker.username,
                        "decision": review.decision,
                        "comment": review.comment,
                        "reviewed_at": review.created_at.isoformat(),
                    }
                    for review in reviews
                ],
            }
        )
    released_at = release_request.released_at
    return {
        "release_request": release_request.pk,
        "project": {
            "id": release_request.project.pk,
            "reference": release_request.project.reference,
        },
        "released_at": released_at.isoformat() if released_at else None,
        "files": files,
    }


def release(
    release_request: ReleaseRequest, *, actor: Any, request: HttpRequest | None = None
) -> None:
    """Mark an approved request and its files released, after checking every stored copy."""
    policies.check_release(release_request.state)
    for release_file in release_request.files.all():
        _verify_stored_copy(release_file, during="release", actor=actor, request=request)
    with transaction.atomic():
        locked = _locked(release_request)
        policies.check_release(locked.state)
        now = timezone.now()
        locked.files.update(released_at=now)
        locked.released_at = now
        release_request.released_at = now
        _move(
            locked,
            RequestState.RELEASED,
            actor=actor,
            request=request,
            details={"manifest": manifest(locked)},
        )
    release_request.state = locked.state


def open_released_file(
    release_file: ReleaseFile, user: Any, *, request: HttpRequest | None = None
) -> Path:
    """The path of a released file for a project member to download, checked and audited."""
    release_request = release_file.release_request
    permissions.check(user, "download_release", release_request)
    policies.check_download(release_request.state)
    path = _verify_stored_copy(release_file, during="download", actor=user, request=request)
    _record(
        "release.downloaded",
        release_request,
        actor=user,
        request=request,
        obj=release_file,
        details={"file": release_file.name, "sha256": release_file.sha256},
    )
    return path


def released_package(
    release_request: ReleaseRequest, user: Any, *, request: HttpRequest | None = None
) -> IO[bytes]:
    """A zip of every released file under ``outputs/``, with manifest.json, SHA256SUMS and
    ro-crate-metadata.json; ``havenkit release verify`` checks one.

    ``sha256sum -c SHA256SUMS`` run where the zip is unpacked checks every file.
    """
    permissions.check(user, "download_release", release_request)
    policies.check_download(release_request.state)
    files = list(release_request.files.all())
    paths = [
        _verify_stored_copy(release_file, during="download", actor=user, request=request)
        for release_file in files
    ]
    # Handed to the response, which closes it once sent.
    archive = tempfile.TemporaryFile()  # noqa: SIM115
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for release_file, path in zip(files, paths, strict=True):
            package.write(path, f"outputs/{release_file.name}")
        record = manifest(release_request)
        package.writestr(packages.MANIFEST, json.dumps(record, indent=2))
        package.writestr(
            packages.RO_CRATE_METADATA, json.dumps(packages.ro_crate_metadata(record), indent=2)
        )
        package.writestr("SHA256SUMS", "".join(f"{f.sha256}  outputs/{f.name}\n" for f in files))
    archive.seek(0)
    _record(
        "release.downloaded",
        release_request,
        actor=user,
        request=request,
        details={"package": True, "files": [release_file.name for release_file in files]},
    )
    return archive


def release_record(
    release_request: ReleaseRequest, user: Any, *, request: HttpRequest | None = None
) -> bytes:
    """``release-record.json``: the haven's signed record of a release, for checking a package
    away from the haven (``havenkit release verify ZIP --record FILE``).

    Made afresh from the database at each download: a released request no longer changes and
    Ed25519 signatures are deterministic, so every download is the same bytes.
    """
    permissions.check(user, "download_release", release_request)
    policies.check_download(release_request.state)
    document = signing.sign(packages.release_record(manifest(release_request)))
    _record(
        "release.record_downloaded",
        release_request,
        actor=user,
        request=request,
        details={"key_id": document["signature"]["key_id"]},
    )
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def check_may_view(user: Any, release_request: ReleaseRequest) -> None:
    """Members see their project's requests; output checkers see them once submitted."""
    permissions.check(user, "view_release_request", release_request)
    if not release_request.project.has_member(user):
        try:
            policies.check_open_to_checkers(release_request.state)
        except ReleaseRequestError as error:
            raise permissions.Denied(str(error)) from error


def preview_file(
    release_file: ReleaseFile, user: Any, *, request: HttpRequest | None = None
) -> FilePreview:
    """Show a checker (or a member) a file inline: CSV as rows, other text as text.

    There is no download of an unreleased file for anybody; this is how checkers read one.
    """
    release_request = release_file.release_request
    check_may_view(user, release_request)
    path = _verify_stored_copy(release_file, during="review", actor=user, request=request)
    _record(
        "release.file_viewed",
        release_request,
        actor=user,
        request=request,
        obj=release_file,
        details={"file": release_file.name},
    )
    suffix = Path(release_file.name).suffix.lower()
    if suffix in IMAGE_TYPES:
        return FilePreview(table=None, text="", truncated=False, is_image=True)
    if suffix != ".csv" and suffix not in TEXT_SUFFIXES:
        return FilePreview(table=None, text="", truncated=False)
    with path.open("rb") as handle:
        content = handle.read(PREVIEW_MAX_BYTES + 1)
    truncated = len(content) > PREVIEW_MAX_BYTES
    text = content[:PREVIEW_MAX_BYTES].decode("utf-8", errors="replace")
    if suffix != ".csv":
        return FilePreview(table=None, text=text, truncated=truncated)
    table = table_preview(path, text, release_file.flagged_cells(), PREVIEW_MAX_ROWS)
    return FilePreview(table=table, text="", truncated=truncated or table.more_rows)


def open_image(
    release_file: ReleaseFile, user: Any, *, request: HttpRequest | None = None
) -> tuple[Path, str]:
    """The stored copy of an image and its content type, for a permitted viewer, audited.

    This is how a checker sees a chart inline; it is not a download of an unreleased file.
    """
    release_request = release_file.release_request
    check_may_view(user, release_request)
    content_type = IMAGE_TYPES.get(Path(release_file.name).suffix.lower())
    if content_type is None:
        raise ReleaseRequestError(f"{release_file.name} is not an image havenkit shows inline.")
    path = _verify_stored_copy(release_file, during="review", actor=user, request=request)
    _record(
        "release.image_viewed",
        release_request,
        actor=user,
        request=request,
        obj=release_file,
        details={"file": release_file.name, "sha256": release_file.sha256},
    )
    return path, content_type


def timeline_of(release_request: ReleaseRequest, *, hidden_files: set[str]) -> list[timeline.Entry]:
    """Every step of the request from its audit events, in one query; see ``timeline``."""
    events = AuditEvent.objects.filter(
        project_id=str(release_request.project_id),
        outcome=Outcome.SUCCESS,
        action__in=timeline.ACTIONS,
        details__release_request=release_request.pk,
    ).only("id", "action", "occurred_at", "actor_username", "details")
    return timeline.entries(events, hidden_files=hidden_files)


def requests_awaiting_review(user: Any) -> list[ReleaseRequest]:
    """Release requests this output checker may review and that still need their review.

    Asked in a fixed number of queries however long the queue: separation of duties (not the
    author, not on the project's list) is the rule of ``permissions``' review_release_request,
    put to the database once for the whole queue; each request's page asks ``permissions``
    again when it is opened.
    """
    if not permissions.can(user, "view_review_queue"):
        return []
    own_projects = memberships_in_date().filter(user=user).values("project_id")
    candidates = (
        ReleaseRequest.objects.filter(state__in=policies.UNDER_REVIEW_STATES)
        .exclude(author=user)
        .exclude(project__in=own_projects)
        .select_related("project")
        .prefetch_related("files__reviews")
        .order_by("submitted_at", "id")
    )
    return [
        release_request
        for release_request in candidates
        if any(
            policies.can_review_file(
                release_request.state, release_file.name, list(release_file.reviews.all()), user.pk
            )
            for release_file in release_request.files.all()
        )
    ]


@dataclass(frozen=True)
class QueuedFile:
    """One file of a queued request as its checker triages it, without opening the request."""

    file: ReleaseFile
    your_review: FileReview | None
    reviews: str


@dataclass(frozen=True)
class QueuedRequest:
    release_request: ReleaseRequest
    files: list[QueuedFile]


def review_queue(user: Any) -> list[QueuedRequest]:
    """The checker's queue with, for each file, the rules' result and where its review stands.

    Other checkers' decisions are counted only on files this checker has reviewed
    (``policies.can_see_decisions``), so triage does not cost independence.
    """
    queue = []
    for release_request in requests_awaiting_review(user):
        files = []
        for release_file in release_request.files.all():
            reviews = list(release_file.reviews.all())
            visible = policies.can_see_decisions(release_request.state, reviews, user.pk)
            files.append(
                QueuedFile(
                    file=release_file,
                    your_review=next((r for r in reviews if r.checker_id == user.pk), None),
                    reviews=policies.review_summary(reviews, decisions_visible=visible),
                )
            )
        queue.append(QueuedRequest(release_request=release_request, files=files))
    return queue
