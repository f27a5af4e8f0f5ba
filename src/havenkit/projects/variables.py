"""The variables an application asks for, each named with the dataset it comes from.

Two datasets may both have a table called ``people``, so "people.sex" alone does not say whose
``sex`` was approved. An application therefore stores each variable it picks from the catalogue
as ``"<dataset id>:<table>.<column>"`` (see :func:`variable_id`), and an approval covers that
column of that dataset only.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from havenkit.data import catalogue as data_catalogue
from havenkit.data.models import Dataset, DatasetVersion

_VARIABLE_ID = re.compile(r"(\d+):([^:\s]+)")


def variable_id(dataset_id: int, name: str) -> str:
    """The stored name of the "table.column" ``name`` of one dataset."""
    return f"{dataset_id}:{name}"


def parse(value: str) -> tuple[int, str] | None:
    """The dataset id and "table.column" of a stored variable; None for anything else."""
    match = _VARIABLE_ID.fullmatch(value)
    return (int(match[1]), match[2]) if match else None


def by_dataset(values: Iterable[str]) -> dict[int, list[str]]:
    """Stored variables as "table.column" names per dataset id, in the order given."""
    grouped: dict[int, list[str]] = {}
    for value in values:
        if parsed := parse(value):
            grouped.setdefault(parsed[0], []).append(parsed[1])
    return grouped


def qualify(names: Iterable[str], tables: Mapping[int, Iterable[str]]) -> list[str]:
    """Stored names for ``names``, given the table names of each chosen dataset.

    A name already stored with its dataset is kept. A bare "table.column", as applications
    held them before variables were picked per dataset, meant that column in every chosen
    dataset with a table of that name, and becomes exactly that, so no approval is lost.
    """
    qualified = []
    for name in names:
        if parse(name):
            qualified.append(name)
            continue
        table = name.partition(".")[0]
        qualified.extend(
            variable_id(dataset_id, name)
            for dataset_id, names_of_tables in sorted(tables.items())
            if table in names_of_tables
        )
    return list(dict.fromkeys(qualified))


def tables_of(versions: Iterable[DatasetVersion]) -> dict[int, set[str]]:
    """The table names of each dataset, over the given versions of it."""
    tables: dict[int, set[str]] = {}
    for version in versions:
        tables.setdefault(version.dataset_id, set()).update(version.tables)
    return tables


def qualify_for(names: Iterable[str], datasets: Iterable[Dataset]) -> list[str]:
    """:func:`qualify` against the tables of every version of the chosen ``datasets``."""
    versions = DatasetVersion.objects.filter(dataset__in=list(datasets))
    return qualify(names, tables_of(versions))


@dataclass(frozen=True)
class CatalogueVariable:
    """One column an applicant may tick, with what the catalogue says of it."""

    id: str
    name: str
    description: str
    tag: str  # "identifier", "quasi-identifier" or ""
    position: int  # its place in the whole list, which numbers the page's checkboxes


@dataclass(frozen=True)
class CatalogueTable:
    dataset: Dataset
    name: str
    variables: list[CatalogueVariable]


def catalogue_tables(datasets: Iterable[Dataset]) -> list[CatalogueTable]:
    """Every column of the current version of each dataset, table by table, described from
    the catalogue where a steward described it (a column never described is still listed)."""
    tables: list[CatalogueTable] = []
    position = 0
    for dataset in datasets:
        version = data_catalogue.current_version(dataset)
        if version is None:
            continue
        described = {(v.table, v.name): v for v in version.variables.all()}
        for table, entry in version.tables.items():
            offered = []
            for column in entry.get("columns", []):
                variable = described.get((table, column))
                tag = ""
                if variable is not None and variable.is_identifier:
                    tag = "identifier"
                elif variable is not None and variable.is_quasi_identifier:
                    tag = "quasi-identifier"
                offered.append(
                    CatalogueVariable(
                        id=variable_id(dataset.pk, f"{table}.{column}"),
                        name=column,
                        description=variable.description if variable is not None else "",
                        tag=tag,
                        position=position,
                    )
                )
                position += 1
            tables.append(CatalogueTable(dataset, table, offered))
    return tables


def offered_ids(datasets: Iterable[Dataset]) -> set[str]:
    """The stored names of every variable the chosen datasets offer."""
    return {variable.id for table in catalogue_tables(datasets) for variable in table.variables}


def gone_from_catalogue(values: Iterable[str]) -> list[tuple[str, str]]:
    """Stored variables the current version of their dataset no longer has, as ("table.column",
    dataset title): a new version may drop a column ticked earlier, and a column that is gone
    can be neither approved nor extracted."""
    grouped = by_dataset(values)
    datasets = Dataset.objects.in_bulk(list(grouped))
    gone = []
    for pk, names in grouped.items():
        dataset = datasets.get(pk)
        version = data_catalogue.current_version(dataset) if dataset is not None else None
        columns = {
            f"{table}.{column}"
            for table, entry in (version.tables.items() if version is not None else [])
            for column in entry.get("columns", [])
        }
        title = dataset.title if dataset is not None else f"dataset {pk}"
        gone.extend((name, title) for name in names if name not in columns)
    return gone


def labelled(values: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Stored variables as (dataset title, its "table.column" names), by title, for pages."""
    grouped = by_dataset(values)
    titles = Dataset.objects.in_bulk(list(grouped))
    return sorted(
        (titles[pk].title if pk in titles else f"Dataset {pk} (no longer in the catalogue)", names)
        for pk, names in grouped.items()
    )
