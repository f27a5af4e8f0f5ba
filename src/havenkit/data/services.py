"""What other apps may ask of data: dataset versions, extracts and where their files are."""

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction

from havenkit.core import audit
from havenkit.data import keys
from havenkit.data.models import Dataset, DatasetVersion, Extract
from havenkit.deid.pseudonymise import PSEUDONYM_SCHEME, pseudonymise_column

# The identifier column of every table, and the column that replaces it in an extract.
CHI_COLUMN = "chi"
PSEUDONYM_COLUMN = "pseudonym"


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def current_extract(project: Any) -> Extract | None:
    """The newest extract released to this project's workspace, if any."""
    return Extract.objects.filter(project=project).order_by("-version").first()


def extract_directory(extract: Extract) -> Path:
    """The folder holding the extract's tables, each as ``<table>.parquet`` and ``<table>.csv``."""
    return Path(settings.HAVENKIT_HOME) / extract.storage_path


def write_tables(directory: Path, tables: dict[str, pa.Table]) -> dict[str, dict]:
    """Write each table as Parquet and CSV; return the manifest with rows and checksums."""
    directory.mkdir(parents=True, exist_ok=False)
    manifest = {}
    for name, table in tables.items():
        parquet_path = directory / f"{name}.parquet"
        csv_path = directory / f"{name}.csv"
        pq.write_table(table, parquet_path)
        pacsv.write_csv(table, csv_path)
        manifest[name] = {
            "rows": table.num_rows,
            "columns": table.column_names,
            "parquet_sha256": sha256_of_file(parquet_path),
            "csv_sha256": sha256_of_file(csv_path),
        }
    return manifest


@transaction.atomic
def create_extract(
    project: Any,
    dataset_version: DatasetVersion,
    tables: dict[str, pa.Table],
    *,
    recipe: dict,
    created_by: Any,
) -> Extract:
    """Store already-minimised, already-pseudonymised tables as the project's next extract."""
    previous = current_extract(project)
    version = previous.version + 1 if previous else 1
    storage_path = f"extracts/project-{project.pk}/v{version}"
    manifest = write_tables(Path(settings.HAVENKIT_HOME) / storage_path, tables)
    extract = Extract.objects.create(
        project=project,
        dataset_version=dataset_version,
        version=version,
        storage_path=storage_path,
        recipe=recipe,
        tables=manifest,
        created_by=created_by,
    )
    audit.record(
        "extract.created",
        actor=created_by,
        obj=extract,
        project=project,
        details={"dataset_version": dataset_version.pk, "tables": sorted(manifest)},
    )
    return extract


class ExtractRequestError(ValueError):
    """The variables asked for are not in the dataset version, or its files have changed."""


def _write_read_only_parquet(directory: Path, tables: dict[str, pa.Table]) -> dict[str, dict]:
    """Write each table as Parquet, then take away write permission: a version never changes."""
    manifest = {}
    for name, table in tables.items():
        path = directory / f"{name}.parquet"
        pq.write_table(table, path)
        path.chmod(0o444)
        manifest[name] = {
            "file": path.name,
            "rows": table.num_rows,
            "columns": table.column_names,
            "sha256": sha256_of_file(path),
        }
    directory.chmod(0o555)
    return manifest


def _remove_partial_version(directory: Path) -> None:
    """Delete a version folder whose database row was never committed, if there is one."""
    if not directory.exists():
        return
    directory.chmod(0o755)
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()


def create_dataset_version(
    title: str,
    description: str,
    data_controller: str,
    tables: dict[str, pa.Table],
    approved_by: Any,
) -> DatasetVersion:
    """Store approved tables as the next immutable version of the dataset called ``title``.

    Each table becomes ``<table>.parquet`` under ``datasets/<dataset id>/v<n>/``, recorded with
    its rows, columns and SHA-256, and made read-only. If recording fails, the files go too,
    so a failed attempt leaves neither a row nor a folder behind.
    """
    written: Path | None = None
    try:
        with transaction.atomic():
            dataset, _created = Dataset.objects.get_or_create(
                title=title,
                defaults={"description": description, "data_controller": data_controller},
            )
            # Holding the dataset's row lock, the next number and its folder are ours alone.
            dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
            previous = dataset.versions.order_by("-version").first()
            version = previous.version + 1 if previous else 1
            storage_path = f"datasets/{dataset.pk}/v{version}"
            directory = Path(settings.HAVENKIT_HOME) / storage_path
            # A folder for a number with no row is what a killed earlier attempt left.
            _remove_partial_version(directory)
            directory.mkdir(parents=True)
            written = directory
            manifest = _write_read_only_parquet(directory, tables)
            dataset_version = DatasetVersion.objects.create(
                dataset=dataset,
                version=version,
                storage_path=storage_path,
                tables=manifest,
                approved_by=approved_by,
            )
            audit.record(
                "dataset_version.created",
                actor=approved_by,
                obj=dataset_version,
                details={
                    "dataset": dataset.title,
                    "version": version,
                    "tables": {name: entry["rows"] for name, entry in manifest.items()},
                },
            )
    except BaseException:
        if written is not None:
            _remove_partial_version(written)
        raise
    return dataset_version


def _read_dataset_table(
    dataset_version: DatasetVersion, table: str, columns: list[str]
) -> pa.Table:
    """Read the asked-for columns of one table, after checking its file is the one approved."""
    entry = dataset_version.tables[table]
    path = Path(settings.HAVENKIT_HOME) / dataset_version.storage_path / entry["file"]
    if not path.is_file() or sha256_of_file(path) != entry["sha256"]:
        raise ExtractRequestError(
            f"The file of table {table!r} in {dataset_version} is missing or no longer matches "
            "its recorded SHA-256: the stored dataset has been tampered with or damaged. "
            "Restore it from backup before building extracts."
        )
    return pq.read_table(path, columns=columns)


def _check_variables(dataset_version: DatasetVersion, variables: dict[str, list[str]]) -> None:
    if not variables:
        raise ExtractRequestError("An extract needs at least one table.")
    for table, columns in variables.items():
        if table not in dataset_version.tables:
            raise ExtractRequestError(
                f"{dataset_version} has no table {table!r}; it has "
                f"{', '.join(sorted(dataset_version.tables))}."
            )
        available = dataset_version.tables[table]["columns"]
        missing = [column for column in columns if column not in available]
        if missing:
            raise ExtractRequestError(
                f"Table {table!r} of {dataset_version} has no column "
                f"{', '.join(map(repr, missing))}; it has {', '.join(available)}."
            )
        if not columns:
            raise ExtractRequestError(f"No variables were chosen from table {table!r}.")


def build_pseudonymised_extract(
    project: Any,
    dataset_version: DatasetVersion,
    variables: dict[str, list[str]],
    created_by: Any,
) -> Extract:
    """Build the project's next extract: only ``variables``, with CHI replaced by pseudonyms.

    Every table's ``chi`` column becomes ``pseudonym``, made with this project's own key, so
    the tables still link to each other inside the project but never to another project's.
    """
    _check_variables(dataset_version, variables)
    key_version = keys.CURRENT_KEY_VERSION
    key = keys.project_key(project.pk, key_version)
    tables = {}
    for table, columns in variables.items():
        data = _read_dataset_table(dataset_version, table, columns)
        if CHI_COLUMN in data.column_names:
            position = data.column_names.index(CHI_COLUMN)
            data = data.set_column(
                position, PSEUDONYM_COLUMN, pseudonymise_column(data[CHI_COLUMN], key)
            )
        tables[table] = data
    recipe = {
        "dataset": dataset_version.dataset.title,
        "dataset_version": dataset_version.pk,
        "dataset_version_number": dataset_version.version,
        "variables": variables,
        "key_version": key_version,
        "pseudonym_scheme": PSEUDONYM_SCHEME,
        "pseudonymised_column": {CHI_COLUMN: PSEUDONYM_COLUMN},
    }
    return create_extract(project, dataset_version, tables, recipe=recipe, created_by=created_by)
