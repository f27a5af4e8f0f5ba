"""What other apps may ask of data: a project's current extract and where its files are."""

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction

from havenkit.core import audit
from havenkit.data.models import DatasetVersion, Extract


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
