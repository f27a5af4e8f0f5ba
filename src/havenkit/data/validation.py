"""Validating a file at the ingress airlock against the schema its steward declared.

Plain data in, plain data out (no Django), so it can be tested and benchmarked on its own.
The file is read in batches, never whole, and written batch by batch to a staged Parquet file
with the declared types; every problem is noted with its row (1 = the first record after the
header) and column, and never quotes a value, since values may identify people.
"""

import codecs
import csv
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from havenkit.deid.chi import MODULUS_10, MODULUS_11, chi_check_scheme

FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".dta": "dta",
    ".sav": "sav",
    ".sas7bdat": "sas7bdat",
}
TYPES = {
    "string": pa.string(),
    "chi": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
}
# How text must look to be read as each type; dates are then checked to be real days.
_PATTERNS = {
    "integer": r"^\s*[+-]?[0-9]+\s*$",
    "number": r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
}
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "date": "a real date written YYYY-MM-DD",
}
SEX_COLUMN = "sex"
MAX_PROBLEMS_KEPT = 10_000
BATCH_ROWS = 100_000
# Smaller blocks keep the reader's working memory down (16 MiB blocks cost 1.7x the peak).
CSV_BLOCK_BYTES = 4 * 1024 * 1024
# What DuckDB may hold while looking for repeated keys; beyond it, it spills to disk.
DUPLICATE_CHECK_MEMORY = "256MB"


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column: its type, whether it must be present and filled, and its codes."""

    name: str
    type: str
    required: bool = False
    key: bool = False
    allowed_values: tuple[str, ...] = ()
    description: str = ""
    is_identifier: bool = False
    is_quasi_identifier: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(
                f"Column {self.name!r} has type {self.type!r}; use one of {', '.join(TYPES)}."
            )


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str
    problem: str


@dataclass
class ValidationReport:
    rows: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    chi_schemes: dict[str, dict[str, int]] = field(default_factory=dict)
    # CSV records skipped for having the wrong number of fields: (row, fields, expected).
    ragged: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.problem_count == 0

    def add(self, row: int | None, column: str, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(Problem(row, column, problem))

    def add_rows(
        self, mask: pa.Array, first_row: int, column: str, problem: str | pa.Array
    ) -> None:
        """One problem for each row of a batch where ``mask`` is true.

        Every one is counted, but only the first :data:`MAX_PROBLEMS_KEPT` are kept, so a
        file that is wrong throughout costs neither memory nor time per row.
        """
        positions = np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))
        self.problem_count += len(positions)
        room = max(0, MAX_PROBLEMS_KEPT - len(self.problems))
        for position in positions[:room].tolist():
            text = problem if isinstance(problem, str) else problem[position].as_py()
            self.problems.append(Problem(first_row + position, column, text))

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "column", "problem"])
            for problem in self.problems:
                row = "" if problem.row is None else problem.row
                writer.writerow([row, problem.column, problem.problem])

    def as_dict(self, shown: int) -> dict:
        return {
            "rows": self.rows,
            "problem_count": self.problem_count,
            "problems": [
                {"row": p.row, "column": p.column, "problem": p.problem}
                for p in self.problems[:shown]
            ],
            "chi_schemes": self.chi_schemes,
        }


class UnreadableFile(Exception):
    """The file cannot be read at all as its format; the message says why and where."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


def file_format(filename: str) -> str | None:
    return FORMATS.get(Path(filename).suffix.lower())


# ---- Reading: each reader yields (batch of raw columns, rows before it) -----------------


def first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """(row, byte offset) of the first byte that is not UTF-8, reading 1 MiB at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = newlines = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                newlines += chunk[: error.start].count(b"\n")
                return newlines, offset + error.start
            offset += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return newlines, offset
    return None


def ragged_rows(path: Path, expected: int) -> list[tuple[int, int]]:
    """(row, fields) of each record whose field count differs from the header's.

    Only run once the fast reader has found such a record: it is the slow, exact pass.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return [
            (row, len(fields)) for row, fields in enumerate(reader, 1) if len(fields) != expected
        ]


def csv_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise UnreadableFile("The file is empty: the first line must name the columns.")
    return header


def _read_csv(path: Path, report: ValidationReport) -> Iterator[pa.RecordBatch]:
    bad_byte = first_bad_utf8(path)
    if bad_byte is not None:
        line, offset = bad_byte
        where = "the header" if line == 0 else f"row {line}"
        raise UnreadableFile(
            f"{where.capitalize()} (byte {offset:,}) is not UTF-8 text. Save the file as "
            "CSV UTF-8 and upload it again.",
            line or None,
        )
    header = csv_header(path)
    skipped = []

    def skip(row: pacsv.InvalidRow) -> str:
        skipped.append(row)
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, encoding="utf-8"),
        parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    yield from reader
    if skipped:
        report.ragged = [
            (row, fields, len(header)) for row, fields in ragged_rows(path, len(header))
        ]


def _read_parquet(path: Path, report: ValidationReport) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise UnreadableFile(
            f"This is not a readable Parquet file (is it truncated or another format?): {error}"
        ) from None
    try:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS)
    except (pa.ArrowException, OSError) as error:
        raise UnreadableFile(
            f"The Parquet file is damaged after row {report.rows:,}: {error}", report.rows + 1
        ) from None


def _statistical_reader(read_function_name: str, kind: str) -> Callable:
    """A reader of one statistical package's files through pyreadstat; ``kind`` names the
    format in messages, such as "SAS .sas7bdat"."""

    def read(path: Path, report: ValidationReport) -> Iterator[pa.RecordBatch]:
        import pyreadstat

        read_function = getattr(pyreadstat, read_function_name)
        try:
            for frame, _meta in pyreadstat.read_file_in_chunks(
                read_function, str(path), chunksize=BATCH_ROWS
            ):
                yield pa.RecordBatch.from_pandas(frame, preserve_index=False)
        except pyreadstat.ReadstatError as error:
            where = f" after row {report.rows:,}" if report.rows else ""
            raise UnreadableFile(
                f"This is not a readable {kind} file: it is damaged or truncated{where} "
                f"({error}). Export it again from the program that made it and upload it again.",
                report.rows + 1 if report.rows else None,
            ) from None

    return read


READERS = {
    "csv": _read_csv,
    "parquet": _read_parquet,
    "dta": _statistical_reader("read_dta", "Stata .dta"),
    "sav": _statistical_reader("read_sav", "SPSS .sav"),
    "sas7bdat": _statistical_reader("read_sas7bdat", "SAS .sas7bdat"),
}


# ---- Checking one batch ------------------------------------------------------------------


def _convert(raw: pa.Array, spec: ColumnSpec, first_row: int, report: ValidationReport) -> pa.Array:
    """The column as the declared type, noting every row that cannot be; those become null."""
    target = TYPES[spec.type]
    if raw.type == target:
        return raw
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        try:
            return pc.cast(raw, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raw = pc.cast(raw, pa.string())
    text = raw.cast(pa.string())
    if target == pa.string():
        return text
    looks_right = pc.match_substring_regex(text, _PATTERNS[spec.type])
    if spec.type == "date":
        shaped = pc.if_else(looks_right, text, None)
        parsed = pc.strptime(shaped, "%Y-%m-%d", "s", error_is_null=True)
        # strptime rolls 30 February on to 1 March; a real day keeps the day it was written with.
        written_day = pc.cast(pc.utf8_slice_codeunits(shaped, 8, 10), pa.int64())
        real = pc.equal(pc.day(parsed), written_day)
        converted = pc.cast(pc.if_else(real, parsed, None), pa.date32())
    else:
        converted = pc.cast(pc.utf8_trim_whitespace(pc.if_else(looks_right, text, None)), target)
    wrong = pc.and_(pc.is_valid(text), pc.is_null(converted))
    report.add_rows(wrong, first_row, spec.name, f"is not {_TYPE_WORDS[spec.type]}")
    return converted


def _check_values(
    column: pa.Array, spec: ColumnSpec, first_row: int, report: ValidationReport
) -> None:
    if spec.required:
        report.add_rows(
            pc.is_null(column), first_row, spec.name, "has no value, but the column is required"
        )
    if spec.allowed_values:
        allowed = pa.array(spec.allowed_values, type=pa.string())
        outside = pc.invert(pc.is_in(pc.cast(column, pa.string()), value_set=allowed))
        report.add_rows(
            pc.and_(pc.is_valid(column), outside),
            first_row,
            spec.name,
            f"is not one of the allowed values ({', '.join(spec.allowed_values)})",
        )


def _check_chi(
    column: pa.Array,
    sexes: pa.Array | None,
    spec: ColumnSpec,
    first_row: int,
    report: ValidationReport,
) -> None:
    check = chi_check_scheme(column, sexes)
    reasons = check["reason"]
    report.add_rows(
        pc.is_valid(reasons),
        first_row,
        spec.name,
        pc.binary_join_element_wise("is not a valid CHI number: ", reasons, ""),
    )
    counts = report.chi_schemes.setdefault(spec.name, {MODULUS_11: 0, MODULUS_10: 0})
    for scheme in (MODULUS_11, MODULUS_10):
        counts[scheme] += pc.sum(pc.equal(check["scheme"], scheme)).as_py() or 0


def _check_batch(
    batch: pa.RecordBatch, schema: list[ColumnSpec], first_row: int, report: ValidationReport
) -> pa.RecordBatch:
    columns = {}
    for spec in schema:
        if spec.name not in batch.schema.names:
            columns[spec.name] = pa.nulls(batch.num_rows, TYPES[spec.type])
            continue
        column = _convert(batch.column(spec.name), spec, first_row, report)
        _check_values(column, spec, first_row, report)
        columns[spec.name] = column
    sexes = columns.get(SEX_COLUMN)
    for spec in schema:
        if spec.type == "chi" and spec.name in batch.schema.names:
            _check_chi(columns[spec.name], sexes, spec, first_row, report)
    return pa.RecordBatch.from_pydict(
        columns, schema=pa.schema([(spec.name, TYPES[spec.type]) for spec in schema])
    )


def _check_columns(names: list[str], schema: list[ColumnSpec], report: ValidationReport) -> None:
    declared = {spec.name for spec in schema}
    for spec in schema:
        if spec.name not in names and spec.required:
            report.add(None, spec.name, "is a required column but the file has no such column")
    for name in names:
        if name not in declared:
            report.add(None, name, "is in the file but not in the declared schema")


def _check_duplicate_keys(staged: Path, schema: list[ColumnSpec], report: ValidationReport) -> None:
    """Rows whose key columns repeat an earlier row's, found by DuckDB on disk, not in memory.

    DuckDB is held to :data:`DUPLICATE_CHECK_MEMORY` and spills to a folder beside the staged
    file, so a file of any size is checked in bounded memory: left to itself it takes up to
    80% of the machine's memory, and a window over every row held all the keys at once (a
    2 GB CSV peaked at 2.3 GiB). Counting each key is an aggregate, which DuckDB can spill;
    only the keys seen more than once are joined back to find their rows.
    """
    keys = [spec.name for spec in schema if spec.key]
    if not keys:
        return
    # Column names are quoted as SQL identifiers (a quote doubled); the path is never in SQL.
    quoted = ['"' + name.replace('"', '""') + '"' for name in keys]
    columns = ", ".join(quoted)
    # A missing key repeated is a repeat too, as it was in the declared key.
    same_key = " AND ".join(f"n.{name} IS NOT DISTINCT FROM r.{name}" for name in quoted)
    spill = staged.with_name(f"{staged.name}.duckdb-spill")
    try:
        duplicates, total = _repeated_keys(staged, spill, columns, same_key)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    for row, first_row in duplicates:
        report.add(int(row), "+".join(keys), f"repeats the key of row {first_row}")
    # Every repeat is counted, though only the first ones are listed.
    report.problem_count += total - len(duplicates)


def _repeated_keys(
    staged: Path, spill: Path, columns: str, same_key: str
) -> tuple[list[tuple[int, int]], int]:
    """(row, first row with the same key) of the first repeats, and how many there are."""
    import duckdb

    with duckdb.connect(
        config={
            "memory_limit": DUPLICATE_CHECK_MEMORY,
            "temp_directory": str(spill),
            "preserve_insertion_order": False,
        }
    ) as connection:
        connection.execute("SET enable_progress_bar = false")
        connection.read_parquet(str(staged), file_row_number=True).select(
            f"file_row_number + 1 AS row, {columns}"
        ).to_view("numbered")
        connection.execute(
            f"CREATE TEMP TABLE repeated AS SELECT {columns}, min(row) AS first_row, "  # noqa: S608
            f"count(*) - 1 AS repeats FROM numbered GROUP BY {columns} HAVING count(*) > 1"
        )
        total = connection.execute("SELECT sum(repeats) FROM repeated").fetchone()[0] or 0
        duplicates = connection.execute(
            f"SELECT n.row, r.first_row FROM numbered n JOIN repeated r ON {same_key} "  # noqa: S608
            f"WHERE n.row > r.first_row ORDER BY n.row LIMIT {MAX_PROBLEMS_KEPT}"
        ).fetchall()
    return duplicates, int(total)


def validate_file(path: Path, fmt: str, schema: list[ColumnSpec], staged: Path) -> ValidationReport:
    """Read ``path`` as ``fmt`` batch by batch, check it against ``schema``, and write the
    declared columns with their declared types to ``staged`` (Parquet). The caller deletes
    ``staged`` if the report is not valid."""
    report = ValidationReport()
    arrow_schema = pa.schema([(spec.name, TYPES[spec.type]) for spec in schema])
    try:
        with pq.ParquetWriter(staged, arrow_schema) as writer:
            columns_checked = False
            for batch in READERS[fmt](path, report):
                if not columns_checked:
                    _check_columns(batch.schema.names, schema, report)
                    columns_checked = True
                checked = _check_batch(batch, schema, report.rows + 1, report)
                writer.write_batch(checked)
                report.rows += batch.num_rows
    except UnreadableFile as error:
        report.add(error.row, "", error.message)
        return report
    if report.rows == 0 and not report.ragged:
        report.add(None, "", "The file has no records.")
    _check_duplicate_keys(staged, schema, report)
    _add_ragged_rows(report)
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return report


def _add_ragged_rows(report: ValidationReport) -> None:
    """Report skipped CSV records, and renumber the other problems as rows of the file.

    Rows were counted among the records kept, so each skipped record at or before a row
    moves that row on by one.
    """
    if not report.ragged:
        return
    skipped = sorted(row for row, _fields, _expected in report.ragged)
    renumbered = []
    for problem in report.problems:
        row = problem.row
        if row is not None:
            for skipped_row in skipped:
                if skipped_row <= row:
                    row += 1
        renumbered.append(Problem(row, problem.column, problem.problem))
    report.problems = renumbered
    report.rows += len(skipped)
    for row, fields, expected in report.ragged:
        report.add(
            row,
            "",
            f"has {fields} fields but the header names {expected} columns "
            "(a missing or extra comma, or an unclosed quote)",
        )


SCHEMA_HEADER = (
    "name",
    "type",
    "required",
    "key",
    "identifier",
    "quasi_identifier",
    "allowed_values",
    "description",
)
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


def _flag(value: str, line: int, what: str) -> bool:
    word = value.strip().lower()
    if word not in _YES | _NO:
        raise ValueError(f"Line {line} of the schema: {what} must be yes or no, not {value!r}.")
    return word in _YES


def parse_schema(text: str) -> list[ColumnSpec]:
    """Read a declared schema written as CSV, one column per line, with this header::

        name,type,required,key,identifier,quasi_identifier,allowed_values,description
        chi,chi,yes,yes,yes,no,,CHI number
        sex,string,yes,no,no,yes,F|M,Sex

    Allowed values are separated by "|"; only ``name`` and ``type`` must be filled.
    """
    rows = list(csv.reader(text.strip().splitlines()))
    if not rows or [cell.strip().lower() for cell in rows[0]] != list(SCHEMA_HEADER):
        raise ValueError(f"The schema's first line must be: {','.join(SCHEMA_HEADER)}")
    specs, seen = [], set()
    for line, cells in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(SCHEMA_HEADER):
            raise ValueError(
                f"Line {line} of the schema has more than {len(SCHEMA_HEADER)} fields."
            )
        values = dict(zip(SCHEMA_HEADER, [cell.strip() for cell in cells], strict=False))
        name = values.get("name", "")
        if not name or name in seen:
            raise ValueError(f"Line {line} of the schema needs a column name used only once.")
        seen.add(name)
        allowed = values.get("allowed_values", "")
        if values.get("type", "").lower() not in TYPES:
            raise ValueError(f"Line {line} of the schema: type must be one of {', '.join(TYPES)}.")
        specs.append(
            ColumnSpec(
                name=name,
                type=values.get("type", "").lower(),
                required=_flag(values.get("required", ""), line, "required"),
                key=_flag(values.get("key", ""), line, "key"),
                is_identifier=_flag(values.get("identifier", ""), line, "identifier"),
                is_quasi_identifier=_flag(
                    values.get("quasi_identifier", ""), line, "quasi_identifier"
                ),
                allowed_values=tuple(v.strip() for v in allowed.split("|") if v.strip()),
                description=values.get("description", ""),
            )
        )
    if not specs:
        raise ValueError("The schema declares no columns.")
    return specs


def schema_as_json(specs: list[ColumnSpec]) -> list[dict]:
    return [asdict(spec) | {"allowed_values": list(spec.allowed_values)} for spec in specs]


def schema_from_json(entries: list[dict]) -> list[ColumnSpec]:
    return [
        ColumnSpec(**(entry | {"allowed_values": tuple(entry["allowed_values"])}))
        for entry in entries
    ]
