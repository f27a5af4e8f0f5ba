"""The data catalogue: describing what the haven holds, searching it, and publishing it.

What the public may see is decided here, once: dataset and variable descriptions, and row
counts rounded (never a value from a record). The same summaries feed the portal's pages and
the DCAT JSON-LD that other catalogues harvest.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from havenkit.data.models import Dataset, DatasetVersion, Variable, VariableType

# Public counts follow HDR UK's cohort-discovery rule: below 10 is not shown, the rest is
# rounded to the nearest 10, so a count never singles out a handful of people.
SMALLEST_PUBLIC_COUNT = 10
ROUND_PUBLIC_COUNTS_TO = 10
# A hit in a title outranks one in a description, which outranks one in a variable.
TITLE_WEIGHT, DESCRIPTION_WEIGHT, VARIABLE_WEIGHT = 100, 10, 1


@dataclass(frozen=True)
class VariableDeclaration:
    """What a steward says about one column; the catalogue adds what it measures."""

    name: str
    type: str
    description: str = ""
    allowed_values: tuple[str, ...] = ()
    is_identifier: bool = False
    is_quasi_identifier: bool = False


def rounded_count(rows: int) -> str:
    """A row count fit for the public: "fewer than 10", or rounded to the nearest 10."""
    if rows < SMALLEST_PUBLIC_COUNT:
        return f"fewer than {SMALLEST_PUBLIC_COUNT}"
    return f"about {ROUND_PUBLIC_COUNTS_TO * round(rows / ROUND_PUBLIC_COUNTS_TO):,}"


def _type_of(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return VariableType.INTEGER
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return VariableType.NUMBER
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return VariableType.DATE
    return VariableType.STRING


def null_counts_of_parquet(path: Path) -> dict[str, int]:
    """Missing values per column, read from the Parquet footer's statistics, not the data."""
    metadata = pq.ParquetFile(path).metadata
    counts: dict[str, int] = {}
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            nulls = column.statistics.null_count if column.statistics is not None else 0
            counts[column.path_in_schema] = counts.get(column.path_in_schema, 0) + (nulls or 0)
    return counts


def describe_table(
    dataset_version: DatasetVersion,
    table: str,
    parquet_path: Path,
    declarations: Iterable[VariableDeclaration] = (),
) -> list[Variable]:
    """Record one stored table's variables: declared facts, types from the file, missingness."""
    declared = {declaration.name: declaration for declaration in declarations}
    schema = pq.read_schema(parquet_path)
    rows = pq.ParquetFile(parquet_path).metadata.num_rows
    nulls = null_counts_of_parquet(parquet_path)
    variables = []
    for position, field in enumerate(schema):
        declaration = declared.get(field.name) or VariableDeclaration(
            field.name, _type_of(field.type)
        )
        variables.append(
            Variable(
                dataset_version=dataset_version,
                table=table,
                name=field.name,
                type=declaration.type,
                description=declaration.description,
                allowed_values=list(declaration.allowed_values),
                missing_fraction=round(nulls.get(field.name, 0) / rows, 4) if rows else 0.0,
                is_identifier=declaration.is_identifier,
                is_quasi_identifier=declaration.is_quasi_identifier,
                position=position,
            )
        )
    return Variable.objects.bulk_create(variables)


@transaction.atomic
def copy_variables(source: DatasetVersion, target: DatasetVersion, tables: Iterable[str]) -> None:
    """Carry the descriptions of unchanged tables over to a new version of the dataset."""
    Variable.objects.bulk_create(
        Variable(
            dataset_version=target,
            table=variable.table,
            name=variable.name,
            type=variable.type,
            description=variable.description,
            allowed_values=variable.allowed_values,
            missing_fraction=variable.missing_fraction,
            is_identifier=variable.is_identifier,
            is_quasi_identifier=variable.is_quasi_identifier,
            position=variable.position,
        )
        for variable in source.variables.filter(table__in=list(tables))
    )


def current_version(dataset: Dataset) -> DatasetVersion | None:
    """The newest version not withdrawn: the one the catalogue describes and extracts use."""
    return dataset.versions.filter(withdrawn_at__isnull=True).order_by("-version").first()


def search_datasets(query: str = "", classification: str = "") -> QuerySet[Dataset]:
    """Datasets matching every word of ``query``, best first: title, description, variables.

    Each word scores where it is found (a title hit outranks a description hit, which
    outranks a variable's name or description), and a dataset must match every word.
    """
    datasets = Dataset.objects.all()
    if classification:
        datasets = datasets.filter(classification=classification)
    score = Value(0)
    for position, word in enumerate(query.split()):
        in_variables = Variable.objects.filter(
            Q(name__icontains=word) | Q(description__icontains=word),
            dataset_version__dataset=OuterRef("pk"),
            dataset_version__withdrawn_at__isnull=True,
        )
        hit = f"variable_hit_{position}"
        datasets = datasets.annotate(**{hit: Exists(in_variables)}).filter(
            Q(title__icontains=word) | Q(description__icontains=word) | Q(**{hit: True})
        )
        score = (
            score
            + _weight_when(Q(title__icontains=word), TITLE_WEIGHT)
            + _weight_when(Q(description__icontains=word), DESCRIPTION_WEIGHT)
            + _weight_when(Q(**{hit: True}), VARIABLE_WEIGHT)
        )
    return datasets.annotate(score=score).order_by("-score", "title")


def _weight_when(condition: Q, weight: int) -> Case:
    return Case(When(condition, then=Value(weight)), default=Value(0), output_field=IntegerField())


def classifications() -> list[str]:
    return list(
        Dataset.objects.order_by("classification")
        .values_list("classification", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: str
    variables: list[Variable]


def public_tables(dataset_version: DatasetVersion | None) -> list[TableSummary]:
    """Each table of a version with its rounded row count and described variables."""
    if dataset_version is None:
        return []
    variables: dict[str, list[Variable]] = {}
    for variable in dataset_version.variables.all():
        variables.setdefault(variable.table, []).append(variable)
    return [
        TableSummary(name, rounded_count(entry["rows"]), variables.get(name, []))
        for name, entry in sorted(dataset_version.tables.items())
    ]


def _date(value: Any) -> str | None:
    return value.isoformat() if value else None


def dcat_catalogue(
    datasets: Iterable[Dataset], catalogue_url: str, dataset_url: Callable[[Dataset], str]
) -> dict:
    """The catalogue as DCAT in JSON-LD, with each dataset's public page as its identifier.

    Row counts are rounded as on the public pages; variables are listed by name and
    description only (as ``dct:description`` on a ``csvw:Column``), never with values.
    """
    entries = []
    for dataset in datasets:
        version = current_version(dataset)
        tables = public_tables(version)
        entry: dict[str, Any] = {
            "@id": dataset_url(dataset),
            "@type": "dcat:Dataset",
            "dct:title": dataset.title,
            "dct:description": dataset.description,
            "dct:publisher": {"@type": "foaf:Agent", "foaf:name": dataset.data_controller},
            "dct:accessRights": dataset.classification,
            "dcat:landingPage": dataset_url(dataset),
            "dct:temporal": {
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": _date(dataset.coverage_start),
                "dcat:endDate": _date(dataset.coverage_end),
            },
            "dct:accrualPeriodicity": dataset.update_schedule or None,
            "dcat:version": str(version.version) if version else None,
            "dct:issued": _date(version.created_at) if version else None,
            "havenkit:tables": [
                {
                    "@type": "csvw:Table",
                    "csvw:name": table.name,
                    "havenkit:roundedRows": table.rows,
                    "csvw:tableSchema": {
                        "csvw:column": [
                            {
                                "@type": "csvw:Column",
                                "csvw:name": variable.name,
                                "csvw:datatype": variable.type,
                                "dct:description": variable.description,
                            }
                            for variable in table.variables
                        ]
                    },
                }
                for table in tables
            ],
        }
        entries.append(entry)
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "csvw": "http://www.w3.org/ns/csvw#",
            "havenkit": "https://havenkit.invalid/ns#",
        },
        "@id": catalogue_url,
        "@type": "dcat:Catalog",
        "dct:title": "havenkit data catalogue",
        "dcat:dataset": entries,
    }
