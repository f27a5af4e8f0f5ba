"""Checks on files that did not come from the library: the file rules, then the table rules.

Every file: an allowed type, within the size limit, no identifier (a CHI number, the project's
pseudonym column, a configured column name). A CSV must also be within the row limit; it is read
as every check reads a CSV (:mod:`havenkit.sdc.csv_tables`: label columns, header rows, value
columns, and cells named as the preview marks them), and when it is a count table (label
columns beside columns of whole numbers) each count gets the threshold and zeros rules.

A suppressed cell is only hidden if the table's totals do not give it back: the margin checks
are :mod:`havenkit.sdc.margins`.

A column named as another statistic ("max_cost", "mean cost") or holding decimals makes it a
magnitude table, which cannot be checked without the records behind it (a minimum or maximum
is one person's value), and an image or a text cannot be checked at all, so those go to an
output checker with the reason.
A file a job's havenkit.sdc session wrote, unchanged since, keeps the result the session
recorded (:mod:`havenkit.sdc.recorded`) instead of the table rules; the file rules still apply.
The CLI (``havenkit sdc check``) and the release-request portal both call :func:`check_file`.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from havenkit.deid.chi import validate_chi
from havenkit.sdc.config import SdcConfig, default_config
from havenkit.sdc.csv_tables import (
    CsvTable,
    UnreadableCsv,
    magnitude,
    names_another_statistic,
    read_csv_table,
)
from havenkit.sdc.findings import CELLS_SHOWN, FileFinding, cells_text
from havenkit.sdc.margins import margin_findings
from havenkit.sdc.recorded import RecordedOutput, RecordedSession, sha256_of
from havenkit.sdc.rules import FAIL, PASS, REVIEW, overall

_TEXT_TYPES = ("csv", "txt", "md", "json", "html", "log", "svg")
_TEN_DIGITS = re.compile(r"(?<!\d)\d{10}(?!\d)")
# How many flagged cells a report names before it says "and N more".
EXIT_STATUS = {PASS: 0, FAIL: 1, REVIEW: 2}
CHECKED_FROM_FILE = "checked from the file"


@dataclass(frozen=True)
class RecordedCheck:
    """The result a job's havenkit.sdc session recorded for a file, as findings on that file."""

    output: RecordedOutput
    findings: list[FileFinding]


@dataclass
class FileCheckReport:
    """Every finding on one file; the file's status is the worst of them."""

    path: Path
    findings: list[FileFinding] = field(default_factory=list)
    # Where the result came from: the file itself, or a job's havenkit.sdc session.
    source: str = CHECKED_FROM_FILE

    @property
    def status(self) -> str:
        return overall([finding.status for finding in self.findings])

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "status": self.status,
            "source": self.source,
            "findings": [
                {
                    "status": finding.status,
                    "rule": finding.rule,
                    "message": finding.message,
                    "cells": [list(cell) for cell in finding.cells],
                }
                for finding in self.findings
            ],
        }


def _chi_line(text: str) -> int | None:
    """The line of the first ten-digit run in ``text`` that is a valid CHI number, if any."""
    for match in _TEN_DIGITS.finditer(text):
        if validate_chi(match.group()).valid:
            return text.count("\n", 0, match.start()) + 1
    return None


def _identifier_findings(
    frame: pd.DataFrame, names: set[str], header_rows: int
) -> list[FileFinding]:
    findings = []
    for column in frame.columns:
        if str(column).strip().lower() in names:
            findings.append(
                FileFinding(
                    FAIL,
                    "identifier",
                    f"column {column!r} is an identifier column; "
                    "remove it, outputs must not carry record-level identifiers",
                )
            )
            continue
        values = frame[column]
        candidates = values[values.str.fullmatch(r"\s*\d{10}\s*")]
        for row, value in candidates.items():
            if validate_chi(value.strip()).valid:
                findings.append(
                    FileFinding(
                        FAIL,
                        "identifier",
                        f"column {column!r} holds a value that is "
                        f"a valid CHI number (row {int(row) + header_rows + 1}); remove the column",
                    )
                )
                break
    return findings


def _count_findings(cells: pd.DataFrame, rows: list[str], config: SdcConfig) -> list[FileFinding]:
    """The threshold and zeros rules on every count, each failing cell named."""
    findings = []
    rules = [
        ("threshold", cells < config.safe_threshold, f"counts below {config.safe_threshold}"),
        (
            "zeros",
            (cells == 0) & config.zeros_are_disclosive,
            "zero counts (an empty cell says nobody has that combination)",
        ),
    ]
    for rule, mask, what in rules:
        flagged = [
            (rows[r], str(c)) for c in cells.columns for r in range(len(cells)) if mask[c].iat[r]
        ]
        if flagged:
            findings.append(
                FileFinding(
                    FAIL,
                    rule,
                    f"{len(flagged)} {what}: {cells_text(flagged)}; suppress them "
                    "(a blank or a marker such as * is read as suppressed) or make the table with "
                    "havenkit.sdc",
                    tuple(flagged),
                )
            )
    return findings


def _not_counts(table: CsvTable, values: list[str]) -> FileFinding | None:
    """Why the value columns are not a table of counts, as a finding; None when they are."""
    numeric = set(table.numeric_columns)
    text = [c for c in values if c not in numeric]
    if text:
        return FileFinding(
            REVIEW,
            "content",
            f"column {text[0]!r} holds text under the column headers, so havenkit cannot check "
            "it as a table of counts: an output checker must review it",
        )
    cells = table.numbers[values]
    decimals = [c for c in values if ((cells[c] < 0) | (cells[c].dropna() % 1 != 0)).any()]
    if decimals:
        return FileFinding(
            REVIEW,
            "content",
            f"column {decimals[0]!r} holds decimals or negative values, so this is not a count "
            "table; magnitude tables (sums, means) need the records behind them to be checked: "
            "make the table with havenkit.sdc in your job, or an output checker must review it",
        )
    named = [c for c in values if magnitude(c) or names_another_statistic(c)]
    if named:
        return FileFinding(
            REVIEW,
            "content",
            f"column {named[0]!r} is named as a statistic other than a count (a mean, a sum, "
            "a median, a minimum or maximum, a spread or a mode); a minimum, maximum or mode is "
            "one person's value, and the others need the records behind them to be checked: "
            "make the table with havenkit.sdc in your job, or an output checker must review it",
        )
    return None


def _numeric_levels(table: CsvTable, config: SdcConfig) -> list[str]:
    """Numbers in the lower column levels that would fail as counts.

    A row of numbers is read as a column level only under a row that groups columns (years
    under each sex); a header row is never allowed to hide a count that fails, so such a
    level with small numbers (a SIMD quintile 1-5) goes to an output checker.
    """
    labels = len(table.label_columns)
    found = []
    for row in table.header_rows[1 : table.column_levels]:
        cells = pd.Series(row[labels:])
        numbers = pd.to_numeric(cells, errors="coerce")
        if (numbers.notna() | (cells == "")).all():
            failing = (numbers < config.safe_threshold) | (
                (numbers == 0) & config.zeros_are_disclosive
            )
            found += cells[failing].tolist()
    return list(dict.fromkeys(found))


def _table_findings(table: CsvTable, config: SdcConfig) -> list[FileFinding]:
    """Recognise a count table and check its counts; otherwise say why a person must look."""
    values = [c for c in table.value_columns if table.numbers[c].notna().any()]
    if not values:
        return [
            FileFinding(
                REVIEW,
                "content",
                "no column of numbers, so there are no cells to "
                "check: an output checker must read it",
            )
        ]
    if not table.label_columns:
        return [
            FileFinding(
                REVIEW,
                "content",
                "every column is numeric, so havenkit cannot tell "
                "the labels from the counts: an output checker must review it",
            )
        ]
    not_counts = _not_counts(table, table.value_columns)
    if not_counts:
        return [not_counts]
    counts = table.value_columns
    cells = table.numbers[counts]
    rows = table.row_labels()
    findings = _count_findings(cells, rows, config) + margin_findings(table, config, rows)
    if findings:
        return findings
    ordered = list(table.ordered_labels)
    if ordered and _count_findings(table.numbers[ordered], rows, config):
        numeric = set(table.numeric_columns)
        names = ", ".join(repr(c) for c in table.label_columns if c in numeric)
        return [
            FileFinding(
                REVIEW,
                "content",
                f"{names} hold ordered whole numbers, as row labels do (a SIMD quintile, a "
                "year), but read as counts some are below "
                f"{config.safe_threshold}; the other {int(cells.notna().sum().sum())} counts "
                "pass. Write the table with havenkit.sdc (its results say which columns are "
                "labels) or an output checker must review it",
            )
        ]
    hidden = _numeric_levels(table, config)
    if hidden:
        return [
            FileFinding(
                REVIEW,
                "content",
                f"a column level of numbers ({', '.join(hidden[:CELLS_SHOWN])}) would fail as "
                "counts if its header row were a row of data: an output checker must review it",
            )
        ]
    hidden_cells = int(table.suppressed[counts].to_numpy().sum())
    suppressed = (
        f"; {hidden_cells} suppressed, none that the totals give back below the threshold"
        if hidden_cells
        else ""
    )
    return [
        FileFinding(
            PASS,
            "threshold",
            f"count table: {int(cells.notna().sum().sum())} counts, none below "
            f"{config.safe_threshold}{' or zero' if config.zeros_are_disclosive else ''}"
            + suppressed,
        )
    ]


def _csv_findings(
    path: Path, config: SdcConfig, names: set[str], recorded: RecordedCheck | None
) -> list[FileFinding]:
    try:
        table = read_csv_table(path)
    except UnreadableCsv as error:
        return [FileFinding(FAIL, "format", f"cannot be read as CSV: {error}")]
    frame = table.cells
    findings = []
    if len(frame) > config.max_csv_rows:
        findings.append(
            FileFinding(
                FAIL,
                "rows",
                f"{len(frame):,} rows, more than the {config.max_csv_rows:,} allowed: "
                "a table that long is usually record-level data; aggregate it",
            )
        )
    findings += _identifier_findings(frame, names, len(table.header_rows))
    if recorded is None:
        return findings + _table_findings(table, config)
    findings += recorded.findings
    if recorded.output.status == PASS and recorded.output.is_count_table:
        # The counts are in the file: a recorded "pass" must agree with them.
        findings += [f for f in _table_findings(table, config) if f.status == FAIL]
    return findings


def _recorded_findings(
    output: RecordedOutput, session: RecordedSession, config: SdcConfig, where: str
) -> list[FileFinding]:
    command = output.record.get("command", "")
    findings = [
        FileFinding(
            PASS,
            "recorded",
            f"havenkit.sdc recorded {output.uid} ({command}) in {where} as {output.status}",
        )
    ]
    for check in output.checks():
        status = check.get("status", REVIEW)
        if status == PASS:
            continue
        cells = tuple((str(row), str(column)) for row, column in check.get("cells", []))
        where_cells = f" in {len(cells)} cell{'s' if len(cells) != 1 else ''}" if cells else ""
        findings.append(
            FileFinding(
                status if status in (FAIL, REVIEW) else REVIEW,
                str(check.get("name", "check")),
                f"{status}{where_cells}: {check.get('reason') or output.record.get('summary', '')}"
                + (f": {cells_text(cells)}" if cells else ""),
                cells,
            )
        )
    if output.status != PASS and len(findings) == 1:
        findings.append(FileFinding(output.status, "recorded", str(output.record.get("summary"))))
    if output.record.get("exception"):
        findings.append(
            FileFinding(PASS, "exception", f"noted by the session: {output.record['exception']}")
        )
    laxer = session.laxer_than(config)
    if laxer:
        findings.append(
            FileFinding(
                REVIEW,
                "configuration",
                "the job's havenkit.sdc session used rules looser than the haven's ("
                + "; ".join(laxer)
                + "), so its result is not enough: an output checker must review it",
            )
        )
    return findings


def _recorded_check(
    path: Path, session: RecordedSession | None, config: SdcConfig, where: str
) -> tuple[RecordedCheck | None, list[FileFinding]]:
    """The session's result for ``path`` when it still holds the bytes the session wrote.

    Otherwise None, with a finding that says why the file was checked on its own instead.
    """
    output = session.output_for(path.name) if session is not None else None
    if output is None:
        return None, []
    if output.checksum != sha256_of(path):
        return None, [
            FileFinding(
                REVIEW,
                "recorded",
                f"havenkit.sdc recorded {output.uid} in {where}, but this file changed after "
                "the session was finalised (its SHA-256 differs from the session's), so the "
                "recorded result does not apply: checked from the file instead",
            )
        ]
    return RecordedCheck(output, _recorded_findings(output, session, config, where)), []


def check_file(
    path: Path | str,
    config: SdcConfig | None = None,
    identifier_columns: Iterable[str] = (),
    *,
    session: RecordedSession | None = None,
    where: str = "",
) -> FileCheckReport:
    """Check one file against the haven's file rules and, for a CSV, the table rules.

    ``identifier_columns`` adds the project's own identifier column names (its pseudonym
    column) to those in the configuration. When ``session`` (a finalised havenkit.sdc session,
    ``where`` saying which: "job 12") names the file and the file is unchanged, its recorded
    result replaces the table rules; the file rules still apply.
    """
    config = config or default_config()
    path = Path(path)
    report = FileCheckReport(path)
    if not path.is_file():
        report.findings.append(FileFinding(FAIL, "file", "no such file"))
        return report
    kind = path.suffix.lower().lstrip(".")
    if kind not in config.allowed_file_types:
        report.findings.append(
            FileFinding(
                FAIL,
                "file type",
                f"files of type .{kind or '(none)'} may not leave the haven; "
                f"allowed: {', '.join(config.allowed_file_types)}",
            )
        )
        return report
    size = path.stat().st_size
    if size > config.max_file_bytes:
        report.findings.append(
            FileFinding(
                FAIL, "size", f"{size:,} bytes, more than the {config.max_file_bytes:,} allowed"
            )
        )
        return report
    names = {name.lower() for name in (*config.identifier_column_names, *identifier_columns)}
    recorded, notes = _recorded_check(path, session, config, where or str(path.parent))
    report.findings += notes
    if recorded is not None:
        report.source = (
            f"recorded by havenkit.sdc in {where or path.parent} ({recorded.output.uid})"
        )
    if kind == "csv":
        report.findings += _csv_findings(path, config, names, recorded)
        return report
    if kind in _TEXT_TYPES:
        line = _chi_line(path.read_text(encoding="utf-8", errors="replace"))
        if line:
            # The number itself is never quoted: reports are read and downloaded by people.
            report.findings.append(
                FileFinding(
                    FAIL,
                    "identifier",
                    f"line {line} holds a valid CHI number; remove every identifier before release",
                )
            )
    if recorded is not None:
        report.findings += recorded.findings
        return report
    report.findings.append(
        FileFinding(
            REVIEW,
            "content",
            f"a .{kind} file cannot be checked automatically: an output checker must look at it",
        )
    )
    return report


def check_files(
    paths: Iterable[Path | str],
    config: SdcConfig | None = None,
    identifier_columns: Iterable[str] = (),
) -> list[FileCheckReport]:
    """Check each file; a file in a finalised havenkit.sdc session's folder keeps its result."""
    identifiers = tuple(identifier_columns)
    sessions: dict[Path, RecordedSession | None] = {}
    reports = []
    for path in map(Path, paths):
        folder = path.parent
        if folder not in sessions:
            sessions[folder] = RecordedSession.read(folder)
        reports.append(check_file(path, config, identifiers, session=sessions[folder]))
    return reports


def exit_status(reports: Sequence[FileCheckReport]) -> int:
    """0 when every file passes, 1 when any fails, else 2 (a person must review)."""
    return EXIT_STATUS[overall([report.status for report in reports])]


def render_text(reports: Sequence[FileCheckReport]) -> str:
    lines = []
    for report in reports:
        lines.append(f"{report.status.upper():6} {report.path} ({report.source})")
        lines += [f"  {f.status}: {f.rule}: {f.message}" for f in report.findings]
    statuses = [report.status for report in reports]
    lines.append(
        f"{len(reports)} file{'s' if len(reports) != 1 else ''}: "
        + ", ".join(f"{statuses.count(s)} {s}" for s in (PASS, REVIEW, FAIL))
    )
    return "\n".join(lines)


def render_json(reports: Sequence[FileCheckReport]) -> str:
    return json.dumps(
        {
            "status": overall([report.status for report in reports]),
            "files": [report.as_dict() for report in reports],
        },
        indent=2,
    )
