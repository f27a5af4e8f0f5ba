"""What other apps may ask of data: dataset versions, extracts and where their files are."""

import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from havenkit.core import audit
from havenkit.core.files import files_with_hashes, remove_tree, sha256_of_file
from havenkit.core.models import Outcome
from havenkit.data import catalogue, dummy, generalisation, keys
from havenkit.data.catalogue import VariableDeclaration
from havenkit.data.generalisation import GeneralisationError
from havenkit.data.models import Dataset, DatasetVersion, Extract, Variable
from havenkit.deid.pseudonymise import PSEUDONYM_SCHEME, pseudonymise_column
from havenkit.deid.risk import k_anonymity_report
from havenkit.projects import services as projects

# The identifier column of every table, and the column that replaces it in an extract.
CHI_COLUMN = "chi"
PSEUDONYM_COLUMN = "pseudonym"
# A record in a group of fewer people than this on its quasi-identifiers is flagged.
DEFAULT_K_THRESHOLD = 10


def project_extracts_folder(project: Any) -> Path:
    """Where every extract of the project, real and dummy, is stored."""
    return Path(settings.HAVENKIT_HOME) / "extracts" / f"project-{project.pk}"


def reference_directory(project: Any) -> Path:
    """Where the project's approved reference tables are kept, beside its extracts.

    Inside the extracts folder, so closing the project deletes them and records them in the
    same deletion record as the extracts.
    """
    return project_extracts_folder(project) / "reference"


def project_extract_files(project: Any) -> list[dict[str, Any]]:
    """Every extract file of the project with its size and SHA-256, for a deletion record."""
    folder = project_extracts_folder(project)
    if not folder.is_dir():
        return []
    return files_with_hashes(folder, Path(settings.HAVENKIT_HOME))


def delete_project_extracts(project: Any) -> None:
    """Remove the project's extract files; the Extract rows stay as the record of what was."""
    folder = project_extracts_folder(project)
    if folder.is_dir():
        remove_tree(folder)


def current_extract(project: Any) -> Extract | None:
    """The newest extract released to this project's workspace, if any."""
    return Extract.objects.filter(project=project).order_by("-version").first()


def current_extracts(listed: Iterable[Any]) -> dict[int, Extract]:
    """The newest extract of each listed project that has one, by project id, in one query."""
    newest = Extract.objects.filter(project=OuterRef("project")).order_by("-version")
    extracts = Extract.objects.filter(
        project__in=list(listed), pk=Subquery(newest.values("pk")[:1])
    )
    return {extract.project_id: extract for extract in extracts}


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


def create_extract(
    project: Any,
    dataset_version: DatasetVersion,
    tables: dict[str, pa.Table],
    *,
    recipe: dict,
    created_by: Any,
    disclosure_risks: dict[str, dict] | None = None,
    linkage: list[dict[str, Any]] | None = None,
) -> Extract:
    """Store already-minimised, already-pseudonymised tables as the project's next extract,
    with each table's disclosure-risk report and the linkage report, in one row.

    Storage only: it trusts its caller to have checked the tables against the project's
    approved application, as :func:`build_linked_extract` does.

    The tables are written to a draft folder, renamed into place as the last step of the
    transaction that makes the row, and removed again if that transaction does not commit,
    so an extract is never without its reports, a build that fails part-way leaves neither
    files nor a row behind, and a later build of the same version is not blocked by what it
    left.
    """
    previous = current_extract(project)
    version = previous.version + 1 if previous else 1
    storage_path = f"extracts/project-{project.pk}/v{version}"
    directory = Path(settings.HAVENKIT_HOME) / storage_path
    draft = directory.with_name(f".{directory.name}.{secrets.token_hex(4)}")
    renamed = False
    try:
        with transaction.atomic():
            manifest = write_tables(draft, tables)
            for table, risk in (disclosure_risks or {}).items():
                manifest[table]["disclosure_risk"] = risk
            extract = Extract.objects.create(
                project=project,
                dataset_version=dataset_version,
                version=version,
                storage_path=storage_path,
                recipe=recipe,
                tables=manifest,
                linkage=linkage or [],
                created_by=created_by,
            )
            audit.record(
                "extract.created",
                actor=created_by,
                obj=extract,
                project=project,
                details={
                    "dataset_version": dataset_version.pk,
                    "dataset_versions": [
                        source["dataset_version"] for source in recipe.get("sources", ())
                    ],
                    "tables": sorted(manifest),
                },
            )
            if directory.exists():
                # No other row holds this version (the insert would have failed), so the
                # folder is what a build killed between its rename and its commit left behind.
                remove_tree(directory)
            draft.rename(directory)
            renamed = True
    except BaseException:
        # Removing a renamed folder is safe: the insert of this version succeeded, so no
        # committed row names the folder.
        for leftover in (draft, directory) if renamed else (draft,):
            if leftover.exists():
                remove_tree(leftover)
        raise
    return extract


def _declared_codes(extract: Extract) -> dict[str, dict[str, list[str]]]:
    """The catalogue's allowed values of each extract column left as it was in the dataset."""
    generalised = set(extract.recipe.get("generalisations") or {})
    codes: dict[str, dict[str, list[str]]] = {}
    variables = Variable.objects.filter(dataset_version__in=source_versions(extract))
    for variable in variables.exclude(allowed_values=[]):
        if f"{variable.table}.{variable.name}" not in generalised:
            codes.setdefault(variable.table, {})[variable.name] = variable.allowed_values
    return codes


def dummy_extract_directory(extract: Extract) -> Path:
    """The folder of the extract's dummy data, made the first time it is asked for.

    Same tables, column names and types as the real extract, as Parquet and CSV; see
    :mod:`havenkit.data.dummy` for how values are drawn. Made in a draft folder and renamed
    into place, so a reader never sees half of it.
    """
    directory = extract_directory(extract).with_name(f"v{extract.version}-dummy")
    if directory.is_dir():
        return directory
    tables = dummy.dummy_tables(
        extract_directory(extract),
        list(extract.tables),
        _declared_codes(extract),
        PSEUDONYM_COLUMN,
        dummy.seed_for(f"extract {extract.pk}"),
    )
    draft = directory.with_name(f".{directory.name}.{secrets.token_hex(4)}")
    write_tables(draft, tables)
    try:
        draft.rename(directory)
    except OSError:
        shutil.rmtree(draft)
        if not directory.is_dir():
            raise
    audit.record(
        "extract.dummy_created",
        obj=extract,
        project=extract.project_id,
        details={"tables": {name: table.num_rows for name, table in tables.items()}},
    )
    return directory


class ExtractRequestError(ValueError):
    """The variables asked for are not in the dataset version, or not approved for the
    project, or the version's files have changed."""


def may_include(approved: dict[int, set[str]], dataset_id: int, name: str, linking: bool) -> bool:
    """Whether the "table.column" ``name`` of a dataset may go into the project's extract.

    A variable may when the project's application was approved for it (``approved``, from
    :func:`havenkit.projects.services.approved_variables`). A table's CHI column, which only
    ever leaves as the project's pseudonym, may also when the application asked for that
    dataset's CHI in any of its tables (the same person in every table), or when the extract
    links several datasets: linkage on CHI needs it, and the pseudonym is what joins them.
    """
    names = approved.get(dataset_id, set())
    if name in names:
        return True
    if name.partition(".")[2] != CHI_COLUMN:
        return False
    return linking or any(other.partition(".")[2] == CHI_COLUMN for other in names)


def _refuse_extract(project: Any, created_by: Any, reason: str, **details: Any) -> NoReturn:
    """Record in the audit log that an extract was refused, then raise the reason."""
    audit.record(
        "extract.refused",
        actor=created_by,
        obj=project,
        project=project,
        outcome=Outcome.DENIED,
        details={**details, "reason": reason},
    )
    raise ExtractRequestError(reason)


def _words(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _approved_or_refused(project: Any, created_by: Any) -> dict[int, set[str]]:
    """The project's approved variables per dataset id, or a refusal when it has none."""
    approved = projects.approved_variables(project)
    if not approved:
        _refuse_extract(
            project,
            created_by,
            f"{project.reference} has no approved application naming datasets and variables "
            f"(the project is {project.get_status_display().lower()}), so no extract can be "
            "built for it. An extract holds only what an approved application asked for.",
        )
    return approved


def check_approved_datasets(
    project: Any, dataset_versions: list[DatasetVersion], created_by: Any
) -> dict[int, set[str]]:
    """Refuse a dataset version whose dataset the project's application did not ask for;
    return the approved variables per dataset id."""
    approved = _approved_or_refused(project, created_by)
    others = [
        str(version.dataset) for version in dataset_versions if version.dataset_id not in approved
    ]
    if others:
        titles = Dataset.objects.filter(pk__in=approved).values_list("title", flat=True)
        _refuse_extract(
            project,
            created_by,
            f"The application for {project.reference} did not ask for {_words(others)}, so "
            f"it cannot go into its extract. It was approved for {_words(list(titles))}.",
            datasets=others,
        )
    return approved


def _check_approved_variables(
    project: Any,
    variables: dict[str, list[str]],
    sources: dict[str, DatasetVersion],
    approved: dict[int, set[str]],
    created_by: Any,
) -> None:
    """Refuse every chosen variable the project's application was not approved for."""
    linking = len(set(sources.values())) > 1
    refused = [
        f"{table}.{column}"
        for table, columns in variables.items()
        for column in columns
        if not may_include(approved, sources[table].dataset_id, f"{table}.{column}", linking)
    ]
    if not refused:
        return
    allowed = "; ".join(
        f"{version.dataset}: {', '.join(sorted(approved[version.dataset_id]))}"
        for version in dict.fromkeys(sources.values())
    )
    verb = "are not variables" if len(refused) > 1 else "is not a variable"
    chi = any(name.partition(".")[2] == CHI_COLUMN for name in refused)
    _refuse_extract(
        project,
        created_by,
        f"{_words(refused)} {verb} the application for {project.reference} was approved for, "
        f"so no extract was built. Approved: {allowed}."
        + (
            f" A {CHI_COLUMN} column goes into an extract, as the pseudonym, only when the "
            "application asked for the dataset's CHI or the extract links several datasets."
            if chi
            else ""
        ),
        variables=refused,
    )


def _approval_for_recipe(approved: dict[int, set[str]]) -> list[dict[str, Any]]:
    """The approved variables an extract was checked against, as its recipe keeps them."""
    titles = Dataset.objects.in_bulk(list(approved))
    return [
        {"dataset": titles[pk].title, "dataset_id": pk, "variables": sorted(names)}
        for pk, names in sorted(approved.items())
    ]


def _write_read_only_parquet(
    directory: Path, tables: dict[str, pa.Table | Path]
) -> dict[str, dict]:
    """Write (or copy) each table as Parquet, then take away write permission: a version
    never changes. A table given as a path is a Parquet file already validated elsewhere."""
    manifest = {}
    for name, table in tables.items():
        path = directory / f"{name}.parquet"
        if isinstance(table, Path):
            shutil.copyfile(table, path)
        else:
            pq.write_table(table, path)
        path.chmod(0o444)
        metadata = pq.ParquetFile(path).metadata
        manifest[name] = {
            "file": path.name,
            "rows": metadata.num_rows,
            "columns": metadata.schema.to_arrow_schema().names,
            "sha256": sha256_of_file(path),
        }
    directory.chmod(0o555)
    return manifest


def _remove_partial_version(directory: Path) -> None:
    """Delete a version folder whose database row was never committed, if there is one."""
    if directory.exists():
        remove_tree(directory)


def table_path(dataset_version: DatasetVersion, table: str) -> Path:
    entry = dataset_version.tables[table]
    return Path(settings.HAVENKIT_HOME) / dataset_version.storage_path / entry["file"]


def _describe_version(
    dataset_version: DatasetVersion,
    previous: DatasetVersion | None,
    declarations: dict[str, list[VariableDeclaration]],
) -> None:
    """Catalogue each table: as declared, else as the previous version described it, else
    with types read from the file."""
    for table in dataset_version.tables:
        described_before = previous is not None and previous.variables.filter(table=table).exists()
        if table not in declarations and described_before:
            catalogue.copy_variables(previous, dataset_version, [table])
        else:
            catalogue.describe_table(
                dataset_version,
                table,
                table_path(dataset_version, table),
                declarations.get(table, ()),
            )


@transaction.atomic
def describe_dataset_version(
    dataset_version: DatasetVersion, declarations: dict[str, list[VariableDeclaration]]
) -> None:
    """Catalogue a version stored before it was described (versions made by earlier releases)."""
    dataset_version.variables.all().delete()
    _describe_version(dataset_version, None, declarations)


def create_dataset_version(
    title: str,
    description: str,
    data_controller: str,
    tables: dict[str, pa.Table | Path],
    approved_by: Any,
    *,
    declarations: dict[str, list[VariableDeclaration]] | None = None,
    dataset_details: dict[str, Any] | None = None,
) -> DatasetVersion:
    """Store approved tables as the next immutable version of the dataset called ``title``.

    Each table becomes ``<table>.parquet`` under ``datasets/<dataset id>/v<n>/``, recorded with
    its rows, columns and SHA-256, made read-only, and described in the catalogue
    (``declarations`` per table; ``dataset_details`` are Dataset fields for a new dataset).
    If recording fails, the files go too, so a failed attempt leaves neither a row nor a
    folder behind.
    """
    written: Path | None = None
    try:
        with transaction.atomic():
            dataset, _created = Dataset.objects.get_or_create(
                title=title,
                defaults={
                    "description": description,
                    "data_controller": data_controller,
                    **(dataset_details or {}),
                },
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
            _describe_version(dataset_version, previous, declarations or {})
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
    path = table_path(dataset_version, table)
    if not path.is_file() or sha256_of_file(path) != dataset_version.tables[table]["sha256"]:
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


def _quasi_identifiers(
    dataset_version: DatasetVersion, table: str, columns: list[str]
) -> list[str]:
    """The chosen columns the catalogue marks as quasi-identifiers: the risk report's default."""
    flagged = dataset_version.variables.filter(
        table=table, name__in=columns, is_quasi_identifier=True
    ).values_list("name", flat=True)
    return [column for column in columns if column in set(flagged)]


def _build_table(
    dataset_version: DatasetVersion, table: str, columns: list[str], generalisations: dict[str, str]
) -> pa.Table:
    """The chosen columns of one table, generalised as asked, still with the real CHI."""
    data = _read_dataset_table(dataset_version, table, columns)
    for column in columns:
        spec = generalisations.get(f"{table}.{column}")
        if spec:
            position = data.column_names.index(column)
            data = data.set_column(
                position, column, generalisation.apply(data[column], spec, f"{table}.{column}")
            )
    return data


def _pseudonymise_table(data: pa.Table, key: bytes) -> pa.Table:
    if CHI_COLUMN not in data.column_names:
        return data
    position = data.column_names.index(CHI_COLUMN)
    return data.set_column(position, PSEUDONYM_COLUMN, pseudonymise_column(data[CHI_COLUMN], key))


def table_sources(
    dataset_versions: list[DatasetVersion], variables: dict[str, list[str]] | None = None
) -> dict[str, DatasetVersion]:
    """Which dataset version each table comes from (of those chosen, if ``variables``).

    Tables keep their names in an extract, so two linked versions may not share one.
    """
    sources: dict[str, DatasetVersion] = {}
    for dataset_version in dataset_versions:
        if dataset_version.withdrawn_at is not None:
            raise ExtractRequestError(
                f"{dataset_version} has been withdrawn: its files are deleted."
            )
        for table in dataset_version.tables:
            if table in sources:
                raise ExtractRequestError(
                    f"{sources[table]} and {dataset_version} both have a table {table!r}; "
                    "link versions of different datasets whose tables have different names."
                )
            sources[table] = dataset_version
    if variables is None:
        return sources
    unknown = sorted(set(variables) - set(sources))
    if unknown:
        chosen = " and ".join(str(version) for version in dataset_versions)
        raise ExtractRequestError(
            f"{chosen} has no table {', '.join(map(repr, unknown))}; "
            f"it has {', '.join(sorted(sources))}."
        )
    return {table: sources[table] for table in variables}


def _linkage_report(
    tables: dict[str, pa.Table], sources: dict[str, DatasetVersion]
) -> list[dict[str, Any]]:
    """For each linked dataset version, how many of its people and records link to another.

    Computed on the real CHI before it is replaced, and kept as counts only: which people
    did not link is never written down, since that would itself say something about them.
    """
    chunks: dict[DatasetVersion, list[pa.Array]] = {}
    for table, data in tables.items():
        if CHI_COLUMN in data.column_names:
            column = data[CHI_COLUMN].cast(pa.string())
            chunks.setdefault(sources[table], []).extend(column.chunks)
    chis = {
        version: pa.chunked_array(arrays, type=pa.string()).combine_chunks()
        for version, arrays in chunks.items()
    }
    missing = [str(version) for version in dict.fromkeys(sources.values()) if version not in chis]
    if missing:
        raise ExtractRequestError(
            f"To link {', '.join(missing)} with the other datasets, include a {CHI_COLUMN} "
            "column from it: linkage is on the CHI number."
        )
    people = {version: pc.drop_null(pc.unique(records)) for version, records in chis.items()}
    report = []
    for version, records in chis.items():
        others = pa.concat_arrays([ids for other, ids in people.items() if other != version])
        not_linked = pc.and_(pc.is_valid(records), pc.invert(pc.is_in(records, value_set=others)))
        people_linked = pc.is_in(people[version], value_set=others)
        report.append(
            {
                "dataset": version.dataset.title,
                "dataset_version": version.pk,
                "version": version.version,
                "records": len(records),
                "records_without_chi": records.null_count,
                "records_not_linked": pc.sum(not_linked).as_py() or 0,
                "people": len(people[version]),
                "people_not_linked": len(people[version]) - (pc.sum(people_linked).as_py() or 0),
            }
        )
    return report


def build_linked_extract(
    project: Any,
    dataset_versions: list[DatasetVersion],
    variables: dict[str, list[str]],
    created_by: Any,
    *,
    generalisations: dict[str, str] | None = None,
    quasi_identifiers: dict[str, list[str]] | None = None,
    k_threshold: int = DEFAULT_K_THRESHOLD,
) -> Extract:
    """Build the project's next extract from the tables of one or more dataset versions.

    Only ``variables`` (table to columns) are kept. Every table's ``chi`` column becomes
    ``pseudonym``, made with this project's own key, so tables from every version join on it
    inside the project but never to another project's. When several versions are linked,
    the extract carries a linkage report: per version, the counts of records and people
    whose CHI is found in no other version. ``generalisations`` maps "table.column" to a
    choice of :mod:`generalisation`. Each table gets a disclosure-risk report on its
    quasi-identifiers (by default those the catalogue marks); the recipe names every source
    version and is enough to rebuild the extract exactly.

    Only what the project's approved application asked for goes in (see :func:`may_include`):
    anything else is refused, naming it, before any file is read, and the refusal is audited.
    The recipe keeps the approved variables the extract was checked against.
    """
    if not dataset_versions:
        raise ExtractRequestError("Choose at least one dataset version.")
    if not variables:
        raise ExtractRequestError("An extract needs at least one table.")
    approved = check_approved_datasets(project, dataset_versions, created_by)
    sources = table_sources(dataset_versions, variables)
    for version in dataset_versions:
        chosen = {table: names for table, names in variables.items() if sources[table] == version}
        if not chosen:
            raise ExtractRequestError(f"No variables were chosen from {version}.")
        _check_variables(version, chosen)
    _check_approved_variables(project, variables, sources, approved, created_by)
    generalisations = {name: spec for name, spec in (generalisations or {}).items() if spec}
    key_version = keys.CURRENT_KEY_VERSION
    key = keys.project_key(project.pk, key_version)
    tables, risks = {}, {}
    try:
        for table, columns in variables.items():
            tables[table] = _build_table(sources[table], table, columns, generalisations)
    except GeneralisationError as error:
        raise ExtractRequestError(str(error)) from None
    linkage = _linkage_report(tables, sources) if len(dataset_versions) > 1 else []
    for table, columns in variables.items():
        tables[table] = _pseudonymise_table(tables[table], key)
        chosen = (quasi_identifiers or {}).get(table)
        if chosen is None:
            chosen = _quasi_identifiers(sources[table], table, columns)
        if chosen:
            try:
                risks[table] = k_anonymity_report(tables[table], chosen, k_threshold).as_dict()
            except ValueError as error:
                raise ExtractRequestError(f"Disclosure-risk report of {table}: {error}") from None
    first = dataset_versions[0]
    recipe = {
        "dataset": first.dataset.title,
        "dataset_version": first.pk,
        "dataset_version_number": first.version,
        "sources": [
            {
                "dataset": version.dataset.title,
                "dataset_version": version.pk,
                "version": version.version,
                "tables": [table for table in variables if sources[table] == version],
            }
            for version in dataset_versions
        ],
        "linked_on": CHI_COLUMN if len(dataset_versions) > 1 else None,
        "variables": variables,
        "approved_variables": _approval_for_recipe(approved),
        "linkage_keys": sorted(
            f"{table}.{CHI_COLUMN}"
            for table, columns in variables.items()
            if CHI_COLUMN in columns
            and f"{table}.{CHI_COLUMN}" not in approved[sources[table].dataset_id]
        ),
        "generalisations": generalisations,
        "quasi_identifiers": quasi_identifiers,
        "k_threshold": k_threshold,
        "key_version": key_version,
        "pseudonym_scheme": PSEUDONYM_SCHEME,
        "pseudonymised_column": {CHI_COLUMN: PSEUDONYM_COLUMN},
    }
    return create_extract(
        project,
        first,
        tables,
        recipe=recipe,
        created_by=created_by,
        disclosure_risks=risks,
        linkage=linkage,
    )


def build_pseudonymised_extract(
    project: Any,
    dataset_version: DatasetVersion,
    variables: dict[str, list[str]],
    created_by: Any,
    **options: Any,
) -> Extract:
    """Build the project's next extract from one dataset version; see build_linked_extract."""
    return build_linked_extract(project, [dataset_version], variables, created_by, **options)


def source_versions(extract: Extract) -> list[DatasetVersion]:
    """The dataset versions the extract was built from, in the order its recipe names them."""
    sources = extract.recipe.get("sources")
    if not sources:
        return [extract.dataset_version]
    by_pk = DatasetVersion.objects.in_bulk([source["dataset_version"] for source in sources])
    return [by_pk[source["dataset_version"]] for source in sources]


def rebuild_extract(extract: Extract, created_by: Any) -> Extract:
    """Build the extract again from its recipe, as the project's next version: same dataset
    versions, variables, generalisations and key version, so the same files."""
    recipe = extract.recipe
    made_with = (recipe.get("key_version"), recipe.get("pseudonym_scheme"))
    if made_with != (keys.CURRENT_KEY_VERSION, PSEUDONYM_SCHEME):
        raise ExtractRequestError(
            f"Extract {extract.version} was made with another key version or pseudonym scheme; "
            "rebuilding it would change every pseudonym, so build a new extract instead."
        )
    return build_linked_extract(
        extract.project,
        source_versions(extract),
        recipe["variables"],
        created_by,
        generalisations=recipe.get("generalisations"),
        quasi_identifiers=recipe.get("quasi_identifiers"),
        k_threshold=recipe.get("k_threshold", DEFAULT_K_THRESHOLD),
    )


class WithdrawalError(ValueError):
    """A withdrawal without a reason, or of a version already withdrawn."""


def withdraw_dataset_version(
    dataset_version: DatasetVersion,
    approved_by: Any,
    reason: str,
    request: Any = None,
) -> DatasetVersion:
    """Delete a dataset version's files and leave a deletion record in the audit log.

    The record says what was deleted (each file with the SHA-256 it was approved with and the
    one it had when deleted), when, why and who approved it. The database row stays, marked
    withdrawn, so extracts and the audit log can still name it. Who may withdraw is checked
    by the caller (``withdraw_dataset_version`` in core.permissions).
    """
    if not reason.strip():
        raise WithdrawalError("Say why the dataset version is withdrawn.")
    with transaction.atomic():
        dataset_version = DatasetVersion.objects.select_for_update().get(pk=dataset_version.pk)
        if dataset_version.withdrawn_at is not None:
            raise WithdrawalError(f"{dataset_version} was already withdrawn.")
        directory = Path(settings.HAVENKIT_HOME) / dataset_version.storage_path
        deleted = []
        for name, entry in sorted(dataset_version.tables.items()):
            path = directory / entry["file"]
            deleted.append(
                {
                    "table": name,
                    "file": f"{dataset_version.storage_path}/{entry['file']}",
                    "approved_sha256": entry["sha256"],
                    "sha256_at_deletion": sha256_of_file(path) if path.is_file() else None,
                    "rows": entry["rows"],
                }
            )
        dataset_version.withdrawn_at = timezone.now()
        dataset_version.withdrawn_by = approved_by
        dataset_version.withdrawal_reason = reason
        dataset_version.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit.record(
            "dataset_version.deleted",
            request=request,
            actor=approved_by,
            obj=dataset_version,
            details={
                "dataset": dataset_version.dataset.title,
                "version": dataset_version.version,
                "approved_by": approved_by.username,
                "reason": reason,
                "deleted_at": dataset_version.withdrawn_at.isoformat(),
                "files": deleted,
            },
        )
        # Deleted last, once the record is written: a failure before here changes nothing.
        _remove_partial_version(directory)
    return dataset_version
