"""The ingress airlock: nothing enters the haven's datasets without validation and a second
person's approval.

An upload is copied to ``HAVENKIT_HOME/ingress/<id>/`` in chunks as it arrives, validated
batch by batch into a staged Parquet file, and then waits for review. Only an approval turns
it into a dataset version; a rejection, a failed validation or an interrupted upload deletes
the files and leaves the record, with its reason, in the database and the audit log.
"""

import hashlib
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from havenkit.core import audit
from havenkit.core.models import Outcome
from havenkit.data import catalogue, imports, services
from havenkit.data.catalogue import VariableDeclaration
from havenkit.data.models import Dataset, IngressState, IngressUpload
from havenkit.data.validation import (
    ColumnSpec,
    file_format,
    schema_as_json,
    schema_from_json,
    validate_file,
)

PROBLEMS_SHOWN = 200
PROBLEMS_FILE = "problems.csv"
STAGED_FILE = "staged.parquet"


class AirlockError(ValueError):
    """An action the upload's state does not allow; the message says what to do instead."""


def upload_directory(upload: IngressUpload) -> Path:
    return Path(settings.HAVENKIT_HOME) / "ingress" / str(upload.pk)


def problems_path(upload: IngressUpload) -> Path:
    return upload_directory(upload) / PROBLEMS_FILE


def _receive(chunks: Iterable[bytes], destination: Path) -> tuple[int, str]:
    """Write the chunks to ``destination`` as they come; return size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with destination.open("xb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _delete_except_problems(directory: Path) -> None:
    for path in directory.iterdir() if directory.exists() else ():
        if path.name != PROBLEMS_FILE:
            path.unlink()


def _fail(upload: IngressUpload, reason: str, request: HttpRequest | None) -> None:
    _delete_except_problems(upload_directory(upload))
    upload.state = IngressState.FAILED
    upload.failure_reason = reason
    upload.save(update_fields=["state", "failure_reason"])
    audit.record(
        "ingress.failed",
        request=request,
        actor=upload.uploaded_by,
        obj=upload,
        outcome=Outcome.FAILURE,
        details={"file": upload.original_name, "reason": reason},
    )


def receive_upload(
    *,
    filename: str,
    chunks: Iterable[bytes],
    dataset_title: str,
    table_name: str,
    schema: list[ColumnSpec],
    uploaded_by: Any,
    dataset_description: str = "",
    data_controller: str = "",
    request: HttpRequest | None = None,
) -> IngressUpload:
    """Bring a file into the airlock and validate it; the record says how that went.

    If anything stops the upload half-way (the connection drops, the disk fills, the process
    is interrupted) its files are deleted and the record is marked failed, with the reason.
    """
    fmt = file_format(filename)
    if fmt is None:
        raise AirlockError(
            f"{filename} is not a file type the airlock reads: use .csv, .parquet, .dta, "
            ".sav or .sas7bdat."
        )
    upload = IngressUpload.objects.create(
        dataset_title=dataset_title,
        dataset_description=dataset_description,
        data_controller=data_controller,
        table_name=table_name,
        original_name=Path(filename).name,
        file_format=fmt,
        schema=schema_as_json(schema),
        uploaded_by=uploaded_by,
    )
    directory = upload_directory(upload)
    directory.mkdir(parents=True)
    raw = directory / f"upload.{fmt}"
    try:
        upload.size_bytes, upload.sha256 = _receive(chunks, raw)
        upload.state = IngressState.VALIDATING
        upload.save(update_fields=["size_bytes", "sha256", "state"])
        report = validate_file(raw, fmt, schema, directory / STAGED_FILE)
        raw.unlink()
        report.write_csv(directory / PROBLEMS_FILE)
    except BaseException as error:
        _fail(
            upload, f"The upload stopped before it was complete ({type(error).__name__}).", request
        )
        raise
    upload.rows = report.rows
    upload.report = report.as_dict(shown=PROBLEMS_SHOWN)
    if report.valid:
        upload.state = IngressState.AWAITING_REVIEW
    else:
        upload.state = IngressState.INVALID
        _delete_except_problems(directory)
    upload.save()
    audit.record(
        "ingress.validated" if report.valid else "ingress.invalid",
        request=request,
        actor=uploaded_by,
        obj=upload,
        outcome=Outcome.SUCCESS if report.valid else Outcome.FAILURE,
        details={
            "file": upload.original_name,
            "sha256": upload.sha256,
            "bytes": upload.size_bytes,
            "rows": report.rows,
            "problems": report.problem_count,
            "chi_schemes": report.chi_schemes,
        },
    )
    return upload


def _declarations(upload: IngressUpload) -> list[VariableDeclaration]:
    return [
        VariableDeclaration(
            name=spec.name,
            type=spec.type,
            description=spec.description,
            allowed_values=spec.allowed_values,
            is_identifier=spec.is_identifier or spec.type == "chi",
            is_quasi_identifier=spec.is_quasi_identifier,
        )
        for spec in schema_from_json(upload.schema)
    ]


def _require_awaiting_review(upload: IngressUpload) -> None:
    if upload.state != IngressState.AWAITING_REVIEW:
        raise AirlockError(
            f"This upload is {upload.get_state_display().lower()}, so it cannot be reviewed."
        )


def approve(
    upload: IngressUpload, reviewer: Any, comment: str = "", request: HttpRequest | None = None
) -> IngressUpload:
    """Make the upload part of the next version of its dataset: the dataset's other tables
    carry over unchanged, this table is added or replaced. Who may approve is checked by the
    caller (``review_ingress``); here only the state."""
    with transaction.atomic():
        upload = IngressUpload.objects.select_for_update().get(pk=upload.pk)
        _require_awaiting_review(upload)
        dataset = Dataset.objects.filter(title=upload.dataset_title).first()
        previous = catalogue.current_version(dataset) if dataset else None
        tables: dict[str, Path] = {}
        if previous is not None:
            tables = {name: services.table_path(previous, name) for name in previous.tables}
        tables[upload.table_name] = upload_directory(upload) / STAGED_FILE
        dataset_version = services.create_dataset_version(
            upload.dataset_title,
            upload.dataset_description,
            upload.data_controller,
            tables,
            approved_by=reviewer,
            declarations={upload.table_name: _declarations(upload)},
        )
        upload.state = IngressState.APPROVED
        upload.mark_reviewed(reviewer, comment)
        upload.dataset_version = dataset_version
        upload.save()
        audit.record(
            "ingress.approved",
            request=request,
            actor=reviewer,
            obj=upload,
            details={
                "dataset_version": dataset_version.pk,
                "table": upload.table_name,
                "sha256": dataset_version.tables[upload.table_name]["sha256"],
                "uploaded_by": upload.uploaded_by.username,
            },
        )
    _delete_except_problems(upload_directory(upload))
    return upload


def reject(
    upload: IngressUpload, reviewer: Any, comment: str, request: HttpRequest | None = None
) -> IngressUpload:
    """Refuse the upload: its staged data is deleted, the record and the reason stay."""
    if not comment.strip():
        raise AirlockError("Say why the upload is rejected, so the steward can fix it.")
    with transaction.atomic():
        upload = IngressUpload.objects.select_for_update().get(pk=upload.pk)
        _require_awaiting_review(upload)
        upload.state = IngressState.REJECTED
        upload.mark_reviewed(reviewer, comment)
        upload.save()
        audit.record(
            "ingress.rejected",
            request=request,
            actor=reviewer,
            obj=upload,
            details={"comment": comment, "uploaded_by": upload.uploaded_by.username},
        )
    _delete_except_problems(upload_directory(upload))
    return upload


# A process killed while receiving or validating cannot mark its own upload failed.
UNFINISHED_STATES = (IngressState.RECEIVING, IngressState.VALIDATING)
STALE_AFTER = timedelta(hours=6)


def sweep_stale_uploads(older_than: timedelta = STALE_AFTER) -> list[IngressUpload]:
    """Mark failed every upload left receiving or validating for longer than ``older_than``,
    delete its partial files, and audit each with what was deleted; likewise delete the
    folders researchers' imports were being received into (:func:`_sweep_incoming_imports`).

    Such an upload was begun by a process that was killed (a restart, an out-of-memory kill)
    before it could clean up. ``older_than`` must be longer than the slowest real upload and
    validation, or a live one would be swept from under its process.
    """
    cutoff = timezone.now() - older_than
    _sweep_incoming_imports(cutoff)
    swept = []
    stale = IngressUpload.objects.filter(state__in=UNFINISHED_STATES, created_at__lt=cutoff)
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            upload = IngressUpload.objects.select_for_update().get(pk=pk)
            if upload.state not in UNFINISHED_STATES:
                continue
            directory = upload_directory(upload)
            deleted = _files_in(directory)
            left_in = upload.get_state_display().lower()
            upload.state = IngressState.FAILED
            upload.failure_reason = (
                f"The upload was still {left_in} {_age(timezone.now() - upload.created_at)} "
                "after it began: the process handling it stopped. Its partial files were "
                "deleted; upload the file again."
            )
            upload.save(update_fields=["state", "failure_reason"])
            audit.record(
                "ingress.swept",
                obj=upload,
                outcome=Outcome.FAILURE,
                details={
                    "file": upload.original_name,
                    "uploaded_by": upload.uploaded_by.username,
                    "left_in": left_in,
                    "deleted": deleted,
                },
            )
            # Deleted last, once the record is written: a failure before here changes nothing.
            shutil.rmtree(directory, ignore_errors=True)
        swept.append(upload)
    return swept


def _files_in(directory: Path) -> list[dict[str, Any]]:
    """What sweeping ``directory`` deletes, for the audit event."""
    files = sorted(directory.iterdir()) if directory.is_dir() else []
    return [{"file": path.name, "bytes": path.stat().st_size} for path in files]


def _last_written(directory: Path) -> datetime:
    """When the folder or any file in it last changed: a live upload keeps this recent."""
    paths = [directory, *directory.iterdir()]
    return datetime.fromtimestamp(max(path.stat().st_mtime for path in paths), tz=UTC)


def _sweep_incoming_imports(cutoff: datetime) -> None:
    """Delete each folder a researcher's import was received into and left unchanged since
    ``cutoff``: its process was killed before the import had a record, so the folder is all
    there is. Each deletion is audited with the files it held."""
    for directory in imports.incoming_directories():
        last_written = _last_written(directory)
        if last_written >= cutoff:
            continue
        audit.record(
            "ingress.swept",
            outcome=Outcome.FAILURE,
            details={
                "folder": directory.relative_to(Path(settings.HAVENKIT_HOME)).as_posix(),
                "left_in": "an import being received",
                "unchanged_for": _age(timezone.now() - last_written),
                "deleted": _files_in(directory),
            },
        )
        shutil.rmtree(directory, ignore_errors=True)


def _age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours >= 2 else f"{age.total_seconds() / 60:.0f} minutes"
