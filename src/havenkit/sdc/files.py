"""Checks on files that did not come from the library: the file rules, then the table rules.

Every file: an allowed type, within the size limit, no identifier (a CHI number, the project's
pseudonym column, a configured column name). A CSV must also be within the row limit; when it
is a count table (label columns beside columns of whole numbers) each count gets the threshold
and zeros rules. A magnitude table cannot be checked without the records behind it, and an
image or a text cannot be checked at all, so those go to an output checker with the reason.
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
from havenkit.sdc.config import SdcConfig
from havenkit.sdc.rules import FAIL, PASS, REVIEW, overall

_TEXT_TYPES = ("csv", "txt", "md", "json", "html", "log", "svg")
_TEN_DIGITS = re.compile(r"(?<!\d)\d{10}(?!\d)")
# How many flagged cells a report names before it says "and N more".
_CELLS_SHOWN = 10
EXIT_STATUS = {PASS: 0, FAIL: 1, REVIEW: 2}


@dataclass(frozen=True)
class FileFinding:
    """One rule's verdict on a file, worded for the researcher and the checker."""

    status: str
    rule: str
    message: str
    cells: tuple[tuple[str, str], ...] = ()


@dataclass
class FileCheckReport:
    """Every finding on one file; the file's status is the worst of them."""

    path: Path
    findings: list[FileFinding] = field(default_factory=list)

    @property
    def status(self) -> str:
        return overall([finding.status for finding in self.findings])

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "status": self.status,
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


def _identifier_findings(frame: pd.DataFrame, names: set[str]) -> list[FileFinding]:
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
                        f"a valid CHI number (row {int(row) + 2}); remove the column",
                    )
                )
                break
    return findings


def _row_labels(frame: pd.DataFrame, label_columns: list[str]) -> list[str]:
    if not label_columns:
        return [f"row {row + 2}" for row in range(len(frame))]
    return frame[label_columns].agg(" / ".join, axis=1).tolist()


def _cells_text(cells: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(f"({row}, {column})" for row, column in cells[:_CELLS_SHOWN])
    more = len(cells) - _CELLS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _table_findings(frame: pd.DataFrame, config: SdcConfig) -> list[FileFinding]:
    """Recognise a count table and check its counts; otherwise say why a person must look."""
    numbers = frame.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
    blank = frame.apply(lambda column: column.str.strip() == "")
    numeric = [
        c
        for c in frame.columns
        if (numbers[c].notna() | blank[c]).all() and numbers[c].notna().any()
    ]
    labels = [c for c in frame.columns if c not in numeric]
    if not numeric:
        return [
            FileFinding(
                REVIEW,
                "content",
                "no column of numbers, so there are no cells to "
                "check: an output checker must read it",
            )
        ]
    if not labels:
        return [
            FileFinding(
                REVIEW,
                "content",
                "every column is numeric, so havenkit cannot tell "
                "the labels from the counts: an output checker must review it",
            )
        ]
    cells = numbers[numeric]
    not_counts = [c for c in numeric if ((cells[c] < 0) | (cells[c].dropna() % 1 != 0)).any()]
    if not_counts:
        return [
            FileFinding(
                REVIEW,
                "content",
                f"column {not_counts[0]!r} holds decimals or negative values, so this is not a "
                "count table; magnitude tables (sums, means) need the records behind them to be "
                "checked: make the table with havenkit.sdc in your job, or an output checker "
                "must review it",
            )
        ]
    rows = _row_labels(frame, labels)
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
        flagged = [(rows[r], str(c)) for c in numeric for r in range(len(frame)) if mask[c].iat[r]]
        if flagged:
            findings.append(
                FileFinding(
                    FAIL,
                    rule,
                    f"{len(flagged)} {what}: {_cells_text(flagged)}; suppress them "
                    "(blank cells are read as suppressed) or make the table with havenkit.sdc",
                    tuple(flagged),
                )
            )
    if not findings:
        findings.append(
            FileFinding(
                PASS,
                "threshold",
                f"count table: {int(cells.notna().sum().sum())} counts, none below "
                f"{config.safe_threshold}{' or zero' if config.zeros_are_disclosive else ''}",
            )
        )
    return findings


def _csv_findings(path: Path, config: SdcConfig, names: set[str]) -> list[FileFinding]:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return [FileFinding(FAIL, "format", f"cannot be read as CSV: {first_line}")]
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
    findings += _identifier_findings(frame, names)
    return findings + _table_findings(frame, config)


def check_file(
    path: Path | str, config: SdcConfig | None = None, identifier_columns: Iterable[str] = ()
) -> FileCheckReport:
    """Check one file against the haven's file rules and, for a CSV, the table rules.

    ``identifier_columns`` adds the project's own identifier column names (its pseudonym
    column) to those in the configuration.
    """
    config = config or SdcConfig()
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
    if kind == "csv":
        report.findings += _csv_findings(path, config, names)
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
    identifiers = tuple(identifier_columns)
    return [check_file(path, config, identifiers) for path in paths]


def exit_status(reports: Sequence[FileCheckReport]) -> int:
    """0 when every file passes, 1 when any fails, else 2 (a person must review)."""
    return EXIT_STATUS[overall([report.status for report in reports])]


def render_text(reports: Sequence[FileCheckReport]) -> str:
    lines = []
    for report in reports:
        lines.append(f"{report.status.upper():6} {report.path}")
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
