"""Researchers' imports: code files and reference tables brought into a project through the
airlock, reviewed before use.

A project member uploads a file with a statement of why the project needs it. The file waits
in ``HAVENKIT_HOME/ingress/imports/<id>/``, outside the project, until a data steward or an
approver who is not the uploader reviews it. Only an approval places it in the project:

- a code file becomes the next version of the workspace's code file of that name, authored
  by the uploader (the import record says who approved it);
- a reference table is written, read-only, as Parquet and CSV to the project's
  ``reference/`` folder beside its extracts, which jobs see at ``/reference``.

A file refused at the door (wrong type, binary, too large, a name with folders in it, an
unreadable table, a person who is not a member) leaves nothing behind but an audit event.
"""

import hashlib
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from havenkit.core import audit, permissions
from havenkit.core.files import files_with_hashes, remove_tree
from havenkit.core.models import Outcome
from havenkit.data import services
from havenkit.data.models import ImportKind, ImportState, ProjectImport
from havenkit.data.validation import UnreadableFile, csv_header, first_bad_utf8, ragged_rows
from havenkit.deid.chi import chi_check_scheme
from havenkit.workspaces import services as workspaces

CODE_EXTENSIONS = (".py", ".R", ".txt", ".sql")
TABLE_EXTENSIONS = (".csv", ".parquet")
# A reference table is a small lookup (codes to labels, deprivation ranks), not a dataset:
# datasets come in through the data stewards' ingress.
MAX_REFERENCE_TABLE_BYTES = 50 * 1024 * 1024
PENDING_FILE = "pending"
INCOMING_PREFIX = ".in-"
STAGED_TABLE = "staged.parquet"
PREVIEW_ROWS = 10
# A column is flagged when at least this share of its values are valid CHI numbers.
CHI_SHARE_FLAGGED = 0.5
_CHI_LIKE_NAME = re.compile(r"chi|nhs_?(no|num)|upi", re.IGNORECASE)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ImportRefused(ValueError):
    """The file cannot come in, or the action is not allowed in the import's state; the
    message says why and what to do instead."""


def imports_root() -> Path:
    return Path(settings.HAVENKIT_HOME) / "ingress" / "imports"


def import_directory(project_import: ProjectImport) -> Path:
    return imports_root() / str(project_import.pk)


def new_incoming_directory() -> Path:
    """A fresh name for the folder a file is received into before it has a record.

    A process killed while receiving leaves this folder behind; ``airlock.sweep_stale_uploads``
    finds such folders by the :data:`INCOMING_PREFIX` and deletes them once stale.
    """
    return imports_root() / f"{INCOMING_PREFIX}{secrets.token_hex(8)}"


def incoming_directories() -> list[Path]:
    """Every folder a file is, or was left, being received into."""
    root = imports_root()
    return sorted(root.glob(f"{INCOMING_PREFIX}*")) if root.is_dir() else []


def kind_of(file_name: str) -> ImportKind | None:
    suffix = PurePosixPath(file_name).suffix
    if suffix in CODE_EXTENSIONS:
        return ImportKind.CODE
    if suffix.lower() in TABLE_EXTENSIONS:
        return ImportKind.REFERENCE_TABLE
    return None


def check_file_name(file_name: str) -> ImportKind:
    """The kind of file the name says, or :class:`ImportRefused` if the name cannot be used
    as it stands in a workspace or the reference folder."""
    if "/" in file_name or "\\" in file_name or ".." in file_name:
        raise ImportRefused(
            f"The file name {file_name!r} contains a folder or '..': name the file itself, "
            "such as analysis.py or icd10_chapters.csv."
        )
    if PurePosixPath(file_name).name != file_name or PureWindowsPath(file_name).drive:
        raise ImportRefused(f"The file name {file_name!r} is not a plain file name.")
    if not _SAFE_NAME.match(file_name):
        raise ImportRefused(
            f"The file name {file_name!r} may only use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit, up to 100 characters."
        )
    kind = kind_of(file_name)
    if kind is None:
        raise ImportRefused(
            f"{file_name} is not a file the airlock brings into projects: code as "
            f"{', '.join(CODE_EXTENSIONS)}, reference tables as .csv or .parquet."
        )
    return kind


def size_limit(kind: ImportKind) -> int:
    if kind == ImportKind.CODE:
        return settings.MAX_CODE_FILE_BYTES
    return MAX_REFERENCE_TABLE_BYTES


def _receive(
    chunks: Iterable[bytes], destination: Path, limit: int, file_name: str
) -> tuple[int, str]:
    """Write the chunks to ``destination``, stopping as soon as they pass ``limit``; return
    the size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with destination.open("xb") as handle:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ImportRefused(
                    f"{file_name} is larger than {filesizeformat(limit)}, the most the airlock "
                    "takes for this kind of file."
                )
            handle.write(chunk)
            digest.update(chunk)
    if size == 0:
        raise ImportRefused(f"{file_name} is empty.")
    return size, digest.hexdigest()


def _check_code(path: Path, file_name: str) -> None:
    content = path.read_bytes()
    if b"\x00" in content:
        raise ImportRefused(
            f"{file_name} is a binary file, not code: the airlock only brings in code as text."
        )
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ImportRefused(
            f"{file_name} is not UTF-8 text (line {line}). Save it as UTF-8 and upload it again."
        ) from None


def _read_table(path: Path, file_name: str) -> pa.Table:
    """The whole table (it is size-limited), with each column's type inferred."""
    if file_name.lower().endswith(".parquet"):
        try:
            return pq.read_table(path)
        except (pa.ArrowException, OSError):
            raise ImportRefused(
                f"{file_name} is not a readable Parquet file: is it truncated or another format?"
            ) from None
    bad_byte = first_bad_utf8(path)
    if bad_byte is not None:
        line, offset = bad_byte
        raise ImportRefused(
            f"{file_name}, row {line} (byte {offset:,}), is not UTF-8 text. Save the file as "
            "CSV UTF-8 and upload it again."
        )
    try:
        return pacsv.read_csv(path)
    except pa.ArrowInvalid:
        try:
            columns = len(csv_header(path))
        except UnreadableFile as error:
            raise ImportRefused(f"{file_name}: {error.message}") from None
        ragged = ragged_rows(path, columns)
        if not ragged:
            raise ImportRefused(f"{file_name} cannot be read as a CSV table.") from None
        row, fields = ragged[0]
        raise ImportRefused(
            f"{file_name}, row {row}, has {fields} fields where the header has {columns}. "
            "Every row needs one value per column."
        ) from None


def _chi_like_share(column: pa.ChunkedArray) -> float:
    """The share of a column's values that are valid CHI numbers, reading whole numbers as
    ten digits (a CHI stored as a number loses its leading zero)."""
    if pa.types.is_integer(column.type):
        text = pc.utf8_lpad(pc.cast(column, pa.string()), 10, "0")
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = column
    else:
        return 0.0
    present = len(column) - column.null_count
    if present == 0:
        return 0.0
    valid = chi_check_scheme(text).column("valid")
    return pc.sum(pc.cast(valid, pa.int64())).as_py() / present


def chi_like_columns(table: pa.Table) -> list[dict[str, Any]]:
    """Columns a reviewer should look at as possible CHI numbers, by name or by value."""
    flagged = []
    for name in table.column_names:
        share = _chi_like_share(table.column(name))
        by_name = bool(_CHI_LIKE_NAME.search(name))
        if by_name or share >= CHI_SHARE_FLAGGED:
            reasons = []
            if by_name:
                reasons.append("its name suggests a CHI or NHS number")
            if share:
                reasons.append(f"{share:.0%} of its values are valid CHI numbers")
            flagged.append({"column": name, "reason": "; ".join(reasons)})
    return flagged


def _table_report(table: pa.Table) -> dict[str, Any]:
    if table.num_rows == 0:
        raise ImportRefused("The table has no rows.")
    return {
        "rows": table.num_rows,
        "columns": [{"name": field.name, "type": str(field.type)} for field in table.schema],
        "chi_like": chi_like_columns(table),
    }


def _refuse(
    project: Any, file_name: str, reason: str, person: Any, request: HttpRequest | None
) -> None:
    audit.record(
        "import.refused",
        request=request,
        actor=person,
        project=project,
        outcome=Outcome.FAILURE,
        details={"file": file_name, "reason": reason},
    )


def receive_import(
    *,
    project: Any,
    file_name: str,
    chunks: Iterable[bytes],
    purpose: str,
    uploaded_by: Any,
    request: HttpRequest | None = None,
) -> ProjectImport:
    """Check a file a project member brings in and keep it for review.

    Raises :class:`ImportRefused` (and keeps nothing) for a file that cannot come in, and
    :class:`permissions.Denied` for a person who may not bring files into this project.
    """
    permissions.check(uploaded_by, "import_to_project", project)
    incoming = new_incoming_directory()
    try:
        if not purpose.strip():
            raise ImportRefused("Say what the project needs this file for, for the reviewer.")
        kind = check_file_name(file_name)
        incoming.mkdir(parents=True)
        pending = incoming / PENDING_FILE
        size, sha256 = _receive(chunks, pending, size_limit(kind), file_name)
        report: dict[str, Any] = {}
        if kind == ImportKind.CODE:
            _check_code(pending, file_name)
        else:
            table = _read_table(pending, file_name)
            report = _table_report(table)
            pq.write_table(table, incoming / STAGED_TABLE)
            pending.unlink()
        with transaction.atomic():
            project_import = ProjectImport.objects.create(
                project=project,
                kind=kind,
                file_name=file_name,
                purpose=purpose.strip(),
                size_bytes=size,
                sha256=sha256,
                report=report,
                uploaded_by=uploaded_by,
            )
            audit.record(
                "import.received",
                request=request,
                actor=uploaded_by,
                obj=project_import,
                project=project,
                details={
                    "file": file_name,
                    "kind": kind,
                    "sha256": sha256,
                    "chi_like_columns": [flag["column"] for flag in report.get("chi_like", [])],
                },
            )
            # Last, so a failure before it leaves nothing: the record rolls back, and the
            # incoming folder is removed below.
            incoming.rename(import_directory(project_import))
    except ImportRefused as refusal:
        _refuse(project, file_name, str(refusal), uploaded_by, request)
        raise
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return project_import


def code_content(project_import: ProjectImport) -> str:
    """The code as it was uploaded (it was checked to be UTF-8 on the way in)."""
    return (import_directory(project_import) / PENDING_FILE).read_text(encoding="utf-8")


def preview(project_import: ProjectImport, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """The first rows of a reference table awaiting review, values of CHI-like columns hidden."""
    staged = pq.ParquetFile(import_directory(project_import) / STAGED_TABLE)
    first = next(staged.iter_batches(batch_size=rows), None)
    hidden = {flag["column"] for flag in project_import.report.get("chi_like", [])}
    columns = staged.schema_arrow.names
    records = first.to_pylist() if first is not None else []
    return {
        "columns": columns,
        "hidden": sorted(hidden),
        "rows": [
            ["(hidden)" if name in hidden else record[name] for name in columns]
            for record in records
        ],
    }


def reference_path(project: Any, file_name: str, extension: str) -> Path:
    return services.reference_directory(project) / f"{PurePosixPath(file_name).stem}.{extension}"


def _place_reference_table(project_import: ProjectImport) -> str:
    """Write the table, read-only, as Parquet and CSV into the project's reference folder.

    Each file is written beside its place and renamed into it, so a job never reads half a
    table; a table of the same name is replaced.
    """
    table = pq.read_table(import_directory(project_import) / STAGED_TABLE)
    folder = services.reference_directory(project_import.project)
    folder.mkdir(parents=True, exist_ok=True)
    for extension, write in (("parquet", pq.write_table), ("csv", pacsv.write_csv)):
        final = reference_path(project_import.project, project_import.file_name, extension)
        draft = final.with_name(f".{final.name}.{secrets.token_hex(4)}")
        write(table, draft)
        draft.chmod(0o444)
        draft.replace(final)
    return f"reference/{PurePosixPath(project_import.file_name).stem}.parquet (and .csv)"


def _require_awaiting_review(project_import: ProjectImport) -> None:
    if project_import.state == ImportState.CLOSED:
        raise ImportRefused(
            f"Project {project_import.project.reference} closed before this import was "
            "reviewed, so it can no longer be approved or rejected. Its file is deleted with the "
            "project's other files."
        )
    if project_import.state != ImportState.AWAITING_REVIEW:
        raise ImportRefused(
            f"This import is {project_import.get_state_display().lower()}, so it cannot be "
            "reviewed again."
        )


@contextmanager
def _decision(
    project_import: ProjectImport, reviewer: Any, comment: str
) -> Iterator[ProjectImport]:
    """The import, locked, checked again and marked reviewed, for the body to decide on; once
    the decision is saved, the file leaves the airlock. If the body raises, nothing changes."""
    permissions.check(reviewer, "review_project_import", project_import)
    with transaction.atomic():
        locked = ProjectImport.objects.select_for_update().select_related("project", "uploaded_by")
        project_import = locked.get(pk=project_import.pk)
        _require_awaiting_review(project_import)
        project_import.mark_reviewed(reviewer, comment)
        yield project_import
    shutil.rmtree(import_directory(project_import), ignore_errors=True)


def _settle(
    project_import: ProjectImport,
    state: ImportState,
    *,
    actor: Any,
    request: HttpRequest | None,
    **details: Any,
) -> None:
    """Save the import in its final state and audit it as ``import.<state>``."""
    project_import.state = state
    project_import.save()
    audit.record(
        f"import.{state.value}",
        request=request,
        actor=actor,
        obj=project_import,
        project=project_import.project,
        details={
            "file": project_import.file_name,
            "uploaded_by": project_import.uploaded_by.username,
            **details,
        },
    )


def approve(
    project_import: ProjectImport,
    reviewer: Any,
    comment: str = "",
    request: HttpRequest | None = None,
) -> ProjectImport:
    """Place the reviewed file in the project: nothing reaches the project before this."""
    with _decision(project_import, reviewer, comment) as project_import:
        if not project_import.project.is_active:
            raise ImportRefused("The project is no longer active, so nothing can be added to it.")
        if project_import.is_code:
            version = workspaces.save_code_file(
                project_import.project,
                project_import.file_name,
                code_content(project_import),
                project_import.uploaded_by,
            )
            project_import.code_version = version
            project_import.delivered_as = f"{project_import.file_name} version {version.number}"
        else:
            project_import.delivered_as = _place_reference_table(project_import)
        _settle(
            project_import,
            ImportState.APPROVED,
            actor=reviewer,
            request=request,
            sha256=project_import.sha256,
            delivered_as=project_import.delivered_as,
        )
    return project_import


def reject(
    project_import: ProjectImport, reviewer: Any, comment: str, request: HttpRequest | None = None
) -> ProjectImport:
    """Refuse the import: its file is deleted, the record and the reason stay."""
    if not comment.strip():
        raise ImportRefused("Say why the import is rejected, so the researcher can act on it.")
    with _decision(project_import, reviewer, comment) as project_import:
        _settle(
            project_import, ImportState.REJECTED, actor=reviewer, request=request, comment=comment
        )
    return project_import


def close_pending(project: Any) -> list[ProjectImport]:
    """Mark closed every import of a closed project still awaiting review, so none can be
    approved into a project that has ended. Their files stay, like the workspace's, until the
    project's files are deleted after the retention period (:func:`delete_project_imports`)."""
    with transaction.atomic():
        pending = list(
            ProjectImport.objects.select_for_update()
            .select_related("project", "uploaded_by")
            .filter(project=project, state=ImportState.AWAITING_REVIEW)
        )
        for project_import in pending:
            _settle(project_import, ImportState.CLOSED, actor=None, request=None)
    return pending


def _directories_of(project: Any) -> list[Path]:
    """The airlock folders still holding files of the project's imports: those awaiting review
    or closed with the project (an approval or rejection deletes its folder)."""
    folders = (
        import_directory(project_import)
        for project_import in ProjectImport.objects.filter(project=project)
    )
    return [folder for folder in folders if folder.is_dir()]


def project_import_files(project: Any) -> list[dict[str, Any]]:
    """Every file of the project's imports left in the airlock, with its size and SHA-256, for
    the deletion record."""
    home = Path(settings.HAVENKIT_HOME)
    return [
        entry for folder in _directories_of(project) for entry in files_with_hashes(folder, home)
    ]


def delete_project_imports(project: Any) -> None:
    """Remove the files of the project's imports from the airlock; the records stay."""
    for folder in _directories_of(project):
        remove_tree(folder)


def import_of(code_version: Any) -> ProjectImport | None:
    """The approved import a code version came from, if it came through the airlock: the
    workspace shows it as "imported via the airlock, approved by ..."."""
    if code_version is None:
        return None
    return (
        ProjectImport.objects.select_related("reviewed_by")
        .filter(code_version=code_version, state=ImportState.APPROVED)
        .first()
    )
