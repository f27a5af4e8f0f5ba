"""Differencing: what subtracting an already-released count table from a new one reveals.

Two safe tables can together disclose a small count: "patients by region" and "patients by
region, aged 18 or over" differ by the under-18s of each region, and a total released next to a
table with a suppressed cell gives the suppressed cell back. ACRO only prints a reminder; this
module computes the recovered cells and flags those below the threshold for a person to review.

What it detects, honestly stated. Both files must read as count tables (the same rule as
:mod:`havenkit.sdc.files`: label columns beside columns of whole numbers, blank cells read as
suppressed). Then, where one table's label columns are the same as, or a subset of, the other's
and they share at least one count column by name:

* **same variables** (equal label columns): for each row label and count column in both, the
  difference of the two counts is the number of people in one population and not the other
  (a filter, a category added to or removed from a margin row, a changed period);
* **a margin** (the coarser table's label columns are a subset of the finer one's): the finer
  table is summed over its extra variables, and the coarser count minus that sum is what the
  subtraction reveals: a suppressed (blank) cell of the finer table when the populations are
  the same, else the people in one population and not the other.

A recovered value that is above zero and below the threshold is a "review" finding naming the
other table. It does not detect: tables whose variables only partly overlap, recoded or merged
categories, differences across three or more tables, column variables spread over count column
names that differ between the tables, and magnitude tables (sums, means).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from havenkit.sdc.files import FileFinding
from havenkit.sdc.rules import REVIEW

# How many recovered cells a finding names before it says "and N more".
_CELLS_SHOWN = 10


@dataclass(frozen=True)
class CountTable:
    """A CSV read as a count table: label columns, count columns (NaN where blank)."""

    labels: pd.DataFrame
    counts: pd.DataFrame

    @property
    def label_columns(self) -> list[str]:
        return list(self.labels.columns)

    def row_labels(self) -> list[str]:
        """Row labels as :mod:`havenkit.sdc.files` names cells: label values joined by " / "."""
        return self.labels.agg(" / ".join, axis=1).tolist()


def read_count_table(path: Path | str) -> CountTable | None:
    """The file as a count table, or None when it is not one (or cannot be read as CSV)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
        return None
    frame.columns = [str(column) for column in frame.columns]
    numbers = frame.apply(lambda column: pd.to_numeric(column.str.strip(), errors="coerce"))
    blank = frame.apply(lambda column: column.str.strip() == "")
    numeric = [
        column
        for column in frame.columns
        if (numbers[column].notna() | blank[column]).all() and numbers[column].notna().any()
    ]
    labels = [column for column in frame.columns if column not in numeric]
    if not numeric or not labels:
        return None
    counts = numbers[numeric]
    if ((counts < 0) | (counts % 1 > 0)).any().any():
        return None
    return CountTable(labels=frame[labels], counts=counts)


def _summed(table: CountTable, by: list[str]) -> pd.DataFrame:
    """Counts summed over every label column not in ``by``; blanks count as unknown zeros."""
    frame = pd.concat([table.labels[by], table.counts], axis=1)
    return frame.groupby(by, sort=False).sum(min_count=0)


def recovered_cells(
    new: CountTable, released: CountTable, threshold: int
) -> list[tuple[str, str, int]]:
    """(row label, column, recovered count) for each small count subtraction would reveal."""
    new_labels, old_labels = set(new.label_columns), set(released.label_columns)
    if new_labels <= old_labels:
        coarse, fine = new, released
    elif old_labels <= new_labels:
        coarse, fine = released, new
    else:
        return []
    by = coarse.label_columns
    columns = [column for column in coarse.counts.columns if column in fine.counts.columns]
    if not columns or coarse.labels.duplicated().any():
        return []
    coarse_counts = pd.concat([coarse.labels, coarse.counts[columns]], axis=1).set_index(by)
    fine_counts = _summed(fine, by)[columns]
    shared = coarse_counts.index.intersection(fine_counts.index)
    difference = (coarse_counts.loc[shared] - fine_counts.loc[shared]).abs()
    small = (difference > 0) & (difference < threshold)
    found = []
    for label, row in small.iterrows():
        row_label = " / ".join(label) if isinstance(label, tuple) else str(label)
        found += [
            (row_label, column, int(difference.at[label, column])) for column in row.index[row]
        ]
    return found


def differencing_findings(
    new_path: Path | str, released: Mapping[str, Path | str], threshold: int
) -> list[FileFinding]:
    """A "review" finding for each released table that subtracting from the new one reveals.

    ``released`` maps a name people recognise (e.g. "table.csv of release request 3") to the
    released file. A new file that is not a count table gets no finding: the file checks
    already send it to an output checker.
    """
    new = read_count_table(new_path)
    if new is None:
        return []
    findings = []
    for name, path in released.items():
        other = read_count_table(path)
        if other is None:
            continue
        cells = recovered_cells(new, other, threshold)
        if not cells:
            continue
        shown = ", ".join(
            f"({row}, {column}) = {value}" for row, column, value in cells[:_CELLS_SHOWN]
        )
        if len(cells) > _CELLS_SHOWN:
            shown += f" and {len(cells) - _CELLS_SHOWN} more"
        findings.append(
            FileFinding(
                REVIEW,
                "differencing",
                f"subtracting {name} from this table reveals {len(cells)} count"
                f"{'s' if len(cells) != 1 else ''} below {threshold}: {shown}; an output checker "
                "must decide whether the two tables may both be out",
                tuple((row, column) for row, column, _value in cells),
            )
        )
    return findings
