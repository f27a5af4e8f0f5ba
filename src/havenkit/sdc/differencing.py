"""Differencing: what subtracting an already-released table from a new one reveals.

Two safe tables can together disclose a small group: "patients by region" and "patients by
region, aged 18 or over" differ by the under-18s of each region, and a total released next to a
table with a suppressed cell gives the suppressed cell back. ACRO only prints a reminder; this
module computes the recovered cells and flags those below the threshold for a person to review.

**Reading a table.** A CSV is read as every check reads one (:mod:`havenkit.sdc.csv_tables`:
its label columns, numbers among them such as a year or a SIMD quintile, its header rows, its
value columns, and cells named as the file checks name them and the preview marks them); a
blank cell is a suppressed one. A label that is a whole number is compared in one form, "2019"
for "2019.0" (a year column with a gap goes through floats) and "2" for "02" (a code written
as text), and numbers in column names are matched the same way, so a table written with years
as text lines up with one read back as numbers; findings name labels and columns as the new
table writes them.

A numeric column is a *count* when it holds whole numbers ≥ 0 and its name is not a magnitude
name. It is a *mean* when a word of its name is "mean", "average" or "avg", and a *sum* when a
word is "sum" or "total" ("mean_cost", "cost (sum)", "total_cost"; a column called just
"Total" is a count margin). A mean or a sum is only used with the number of people behind each
cell: the table's count column named "n", "count", "n_cost"..., else its only count column;
for a released table without one, the count column of another released table over exactly the
same rows (the counts released beside the means). A mean times its count is the cell's sum. A
column whose name says it is another statistic ("median", "min", "max", "std", "mode") is
never a count, even when it holds whole numbers.

A CSV with several header rows, as pandas writes a table whose columns have several levels
(``havenkit.sdc``'s ``pivot_table`` or ``crosstab`` with a list of aggfuncs, or several column
variables), has each column named by its header labels joined by " / ": "count / cost" and
"mean / cost" (a count, and a mean of cost with its count of people), "count / F".

**Lining up two tables.** They are compared on the label columns they share (same name); every
other label column is summed over, leaving out its "Total"/"All"/"Overall" rows. A shared
variable's categories are lined up by these rules, in order:

* the same labels, or labels only one table has (a filter): matched by name;
* *bands*, labels that read as whole-number intervals ("16-64" is 16 to 64 inclusive, "16 to
  64", "65+", "65 and over", "<16", "under 16", "<=15", ">64"); a band starting at 0 starts at
  the bottom, like "<16" (ages and counts are not negative). Each table's bands must tile a
  range without gaps or overlaps, and the two ranges must share their lower or their upper end.
  Bands are compared on the coarsest bands both tables add up to ("0-15,16-64,65+" and
  "0-64,65+" nest: both give "<65" and "65+"); where the codings cross ("0-15" and "0-17"),
  the slices between their cut points ("16-17") are recovered from cumulative counts;
* a *named other-category* (a label starting "Other" or "All other"): when every other label
  of the table that has it appears in the other table, the other table's remaining labels are
  merged into it (and two other-categories into each other when one table's named labels are
  a subset of the other's).

Codes that fit none of these (bands with a gap, two other-categories over different labels,
bands over different ranges) are not guessed at: the finding is "review" with the reason, and
the tables are still compared on the variables that do line up.

**What it detects.** On the common categories, each table is summed to each group and the
groups subtracted, for every count column both tables have by name. This covers the same
variables (a filter, a category added to a margin row, a changed period), a margin (region
against region x sex, where a suppressed cell of the finer table comes back), partly
overlapping variables (region x sex against region x agegroup: the region margins must agree),
recoded categories as above, and magnitude tables: where the count of people behind a sum or a
mean differs by fewer than the threshold, subtracting reveals the sum of those few people's
values (one person's value when the difference is 1). A recovered count above zero and below
the threshold is a "review" finding naming the other table, the cells (row labels joined by
" / ", and the column) and the recovered count; a recovered sum is never printed. When the
difference in a group comes from exactly one suppressed cell, that cell is named. A blank
counts as zero in a group's sum, so the difference is the suppressed cells' total: what the
subtraction gives back. A slice counted through a blank band is unknown, unless the tables
share their other end and it can be counted from there.

**Three or more tables.** Every pair of the new table and a released one is compared as
above; then :mod:`havenkit.sdc.combinations` searches triples and a cover minus every part that
fits in it (its docstring says exactly which combinations), and a count only they give back is
a "review" finding naming every table involved. The search is cheap beside the pairwise
comparisons it builds on: a table of 12,500 counts (10 regions x 50 diagnoses x 25 age bands)
against 20 released tables (margins and filtered copies) takes 1.55 s of CPU where pairs alone
took 1.47 s, and 3.38 s against 3.19 s when all 20 are on the new table's own groups, the
search's worst case (best of 3, on a loaded 2-core machine, November 2026).

**Renamed variables.** The same variable under two names ("hb" and "health_board") cannot be
told from two variables by the tables alone; the caller may pass ``aliases`` mapping a label
column's other names to one name, and the tables are compared on it.

**Medians, minimums, maximums, standard deviations.** These are deliberately not differenced.
A sum over a group minus the sum over part of it is the sum over the rest; no such identity
holds for a median (the medians of 120 people and of 117 of them only loosely bound the 3
people's values), nor for a standard deviation without its sum and count. A minimum or maximum
that moves when people leave does show that a leaver held the extreme, but a minimum or maximum
is one person's value already: ``havenkit.sdc``'s own rule sends such a table to review
whatever differencing says. Their columns are read as neither counts nor sums (a column whose
name says "median", "min", "max", "std" or "mode" is never a count), so only the counts beside
them are compared.

It does not detect: tables that share no label column, column variables spread over count
column names that differ between the tables (a sex column "F","M" against a "patients"
column), a variable renamed between the tables without an alias, a column of numbers that is a
label by none of the rules of :mod:`havenkit.sdc.csv_tables` (each row's labels already unique,
a name that does not say so: it is read as a count), more than one re-banded variable
crossing in the same pair, a new means table without its own count column, released means with
no released count over the same rows, and a column of means named by its variable alone
(``pivot_table`` with the one aggfunc "mean" writes "cost"), which reads as neither a count nor
a mean; across three or more tables, what :mod:`havenkit.sdc.combinations` lists as not
searched. A group missing from one table is not compared (an omitted row is not read as zero).
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import TextIO

import pandas as pd

from havenkit.sdc.combinations import Combination, Margins, combinations
from havenkit.sdc.csv_tables import (
    COUNT_WORDS,
    TOTAL_LABELS,
    UnreadableCsv,
    column_key,
    join_labels,
    magnitude,
    names_another_statistic,
    read_csv_table,
    words,
)
from havenkit.sdc.findings import CELLS_SHOWN, FileFinding
from havenkit.sdc.rules import REVIEW

# How many recovered cells a finding names before it says "and N more".
OTHER_CATEGORY = re.compile(r"\s*(all\s+)?others?\b", re.IGNORECASE)
# A label that is a whole number, in whatever form it was written ("2019", "2019.0" after a
# column with a gap went through floats, "02019" as a string code): its digits.
_WHOLE_NUMBER = re.compile(r"^\s*0*(\d+)(?:\.0*)?\s*$")
_BAND_PATTERNS: tuple[tuple[re.Pattern, Callable[..., tuple[float, float]]], ...] = (
    (re.compile(r"(\d+)\s*(?:-|\u2013|to)\s*(\d+)"), lambda low, high: (low, high + 1)),
    (
        re.compile(r"(?:>=|≥)\s*(\d+)|(\d+)\s*(?:\+|and over|or over|or more|and above)"),
        lambda *low: (next(v for v in low if v is not None), math.inf),
    ),
    (re.compile(r">\s*(\d+)"), lambda low: (low + 1, math.inf)),
    (re.compile(r"(?:<=|≤|up to)\s*(\d+)"), lambda high: (-math.inf, high + 1)),
    (re.compile(r"(?:<|under|less than|below)\s*(\d+)"), lambda high: (-math.inf, high)),
)
Band = tuple[float, float]
# What every comparison yields, one line per group and value column: the group's labels, the
# cell a finding names, the column, new minus old, how many blank cells went into it, and the
# new table's sum over the group (none for a slice between crossing bands).
_DIFFERENCE_COLUMNS = ["group", "row", "column", "difference", "blanks", "new"]


@dataclass(frozen=True)
class Table:
    """A CSV read for differencing: label columns, counts, and sums with the people behind them.

    Every frame is NaN where a cell is blank. ``sums`` and ``people`` are keyed by the variable
    ("cost"): a sum column as it is, a mean column as mean times its count of people.
    ``unpaired`` holds the sums and means (``kinds`` says which) that have no count of people
    in this table, until :meth:`with_people_from` finds one; ``sum_columns`` names the column
    each variable came from, and ``magnitude_columns`` are all the numeric columns that are
    not counts.
    """

    labels: pd.DataFrame
    counts: pd.DataFrame
    sums: pd.DataFrame = field(default_factory=pd.DataFrame)
    people: pd.DataFrame = field(default_factory=pd.DataFrame)
    unpaired: pd.DataFrame = field(default_factory=pd.DataFrame)
    kinds: Mapping[str, str] = field(default_factory=dict)
    sum_columns: Mapping[str, str] = field(default_factory=dict)
    magnitude_columns: tuple[str, ...] = ()

    @property
    def label_columns(self) -> list[str]:
        return list(self.labels.columns)

    def row_labels(self) -> list[str]:
        """Row labels as every check names cells: label values joined by " / ", blanks left out."""
        return join_labels(self.labels).tolist()

    def with_aliases(self, aliases: Mapping[str, str]) -> "Table":
        """This table with each label column named in ``aliases`` under the name it maps to,
        unless the table already has a column of that name."""
        names = {
            column: aliases[column]
            for column in self.label_columns
            if column in aliases and aliases[column] not in self.label_columns
        }
        return replace(self, labels=self.labels.rename(columns=names)) if names else self

    def with_people_from(self, other: "Table") -> "Table":
        """This table with counts of people for its unpaired means and sums taken from
        ``other``, when ``other`` is a count table over exactly the same rows (a means table
        released beside the counts it was computed from)."""
        columns = self.label_columns
        if self.unpaired.empty or set(other.label_columns) != set(columns):
            return self
        theirs = pd.MultiIndex.from_frame(other.labels[columns])
        ours = pd.MultiIndex.from_frame(self.labels)
        if theirs.has_duplicates or not ours.isin(theirs).all():
            return self
        counts = other.counts.set_axis(theirs).reindex(ours).set_axis(self.labels.index)
        sums, people = _paired(self.unpaired, self.kinds, counts)
        if sums.empty:
            return self
        return replace(
            self,
            sums=pd.concat([self.sums, sums], axis=1),
            people=pd.concat([self.people, people], axis=1),
            unpaired=self.unpaired.drop(columns=sums.columns),
        )


@dataclass(frozen=True)
class Recovered:
    """A cell subtraction reveals: where (row labels, column) and how many people are in it."""

    row: str
    column: str
    people: int


@dataclass(frozen=True)
class Comparison:
    """What subtracting one table from another reveals, and what could not be lined up.

    ``counts`` are small recovered counts; ``magnitudes`` are sums of fewer than the threshold
    number of people (``column`` is the variable summed); ``unaligned`` says why a shared
    variable's categories could not be lined up. ``margins`` are both tables' counts on the
    groups they were compared on, for searching combinations with other released tables (see
    :mod:`havenkit.sdc.combinations`), or None when the groups are not the new table's own.
    """

    counts: list[Recovered] = field(default_factory=list)
    magnitudes: list[Recovered] = field(default_factory=list)
    unaligned: list[str] = field(default_factory=list)
    margins: Margins | None = None


def _paired(
    magnitudes: pd.DataFrame, kinds: Mapping[str, str], counts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sums, people) for each magnitude with a count of people among ``counts``."""
    sums, people = {}, {}
    for variable in magnitudes.columns:
        column = _contributors(variable, list(counts.columns))
        if column is not None:
            values = magnitudes[variable]
            sums[variable] = values * counts[column] if kinds[variable] == "mean" else values
            people[variable] = counts[column]
    return pd.DataFrame(sums, index=magnitudes.index), pd.DataFrame(people, index=magnitudes.index)


def _contributors(variable: str, counts: list[str]) -> str | None:
    """The count column of the people behind ``variable``: "n", "count", "n_cost", or the only."""
    own = set(variable.split("_"))
    named = [
        column
        for column in counts
        if set(words(column)) & COUNT_WORDS and set(words(column)) <= COUNT_WORDS | own
    ]
    if len(named) == 1:
        return named[0]
    return counts[0] if len(counts) == 1 else None


def read_table(path: Path | str | TextIO) -> Table | None:
    """The file (a path or an open text file) as a table of counts and magnitudes, or None (not
    a table, or not a CSV)."""
    try:
        table = read_csv_table(path)
    except (UnreadableCsv, OSError):
        return None
    labels = list(table.label_columns)
    numeric = [
        column
        for column in table.numeric_columns
        if column not in labels and table.numbers[column].notna().any()
    ]
    if not numeric or not labels:
        return None
    values = table.numbers[numeric]
    whole = ((values >= 0) & (values % 1 == 0) | values.isna()).all()
    kinds = {column: magnitude(column) for column in numeric}
    counts = [
        column
        for column in numeric
        if whole[column] and kinds[column] is None and not names_another_statistic(column)
    ]
    sum_columns = {kind[1]: column for column, kind in kinds.items() if kind}
    magnitudes = pd.DataFrame(
        {v: values[column] for v, column in sum_columns.items()}, index=values.index
    )
    magnitude_kinds = {kind[1]: kind[0] for kind in kinds.values() if kind}
    sums, people = _paired(magnitudes, magnitude_kinds, values[counts])
    if not counts and magnitudes.empty:
        return None
    return Table(
        labels=table.cells[labels],
        counts=values[counts],
        sums=sums,
        people=people,
        unpaired=magnitudes.drop(columns=sums.columns),
        kinds=magnitude_kinds,
        sum_columns=sum_columns,
        magnitude_columns=tuple(column for column in numeric if column not in counts),
    )


def band(label: str) -> Band | None:
    """The whole-number interval [low, high) a label such as "16-64" or "65+" stands for."""
    text = label.strip().lower()
    for pattern, bounds in _BAND_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            low, high = bounds(*(int(g) if g is not None else None for g in match.groups()))
            if low >= high:
                return None
            return (-math.inf if low == 0 else low, high)
    return None


def band_label(low: float, high: float) -> str:
    """How a finding names a band: "16-64", "65+", "<16", or "all" for the whole range."""
    if low == -math.inf and high == math.inf:
        return "all"
    if low == -math.inf:
        return f"<{high:g}"
    return f"{low:g}+" if high == math.inf else f"{low:g}-{high - 1:g}"


class _Unaligned(Exception):
    """A shared variable whose categories cannot be lined up; the message says why."""


@dataclass(frozen=True)
class _Coding:
    """How one shared variable's labels line up: a common code for each label of each table.

    For bands, ``bands`` holds each table's label -> band, and ``slices`` the pairs of cut
    points (with the table, 0 new or 1 old, each comes from) between which the two tables'
    bands cross, so that the slice between them can be recovered.
    """

    new: dict[str, str]
    old: dict[str, str]
    bands: tuple[dict[str, Band], dict[str, Band]] = ({}, {})
    slices: tuple[tuple[float, float, int, int], ...] = ()


def _is_total(label: str) -> bool:
    return label.strip().lower() in TOTAL_LABELS


def _align(variable: str, new_labels: list[str], old_labels: list[str]) -> _Coding:
    """Line up a shared variable's categories; raises :class:`_Unaligned` saying why not.

    Labels are lined up in their compared form (whole numbers in one form: "2019.0" and
    "02019" as "2019"), and a group is named as the new table writes it, so a finding names
    the cell the file shows.
    """
    new_keys = {label: _WHOLE_NUMBER.sub(r"\1", label) for label in new_labels}
    old_keys = {label: _WHOLE_NUMBER.sub(r"\1", label) for label in old_labels}
    shown = {key: label for label, key in reversed(new_keys.items())}
    coding = _align_keys(
        variable, list(dict.fromkeys(new_keys.values())), list(dict.fromkeys(old_keys.values()))
    )

    def by_label(codes: dict, keys: dict[str, str]) -> dict:
        return {label: codes[key] for label, key in keys.items() if key in codes}

    def named(codes: dict[str, str]) -> dict[str, str]:
        return {key: shown.get(code, code) for key, code in codes.items()}

    return _Coding(
        by_label(named(coding.new), new_keys),
        by_label(named(coding.old), old_keys),
        bands=(by_label(coding.bands[0], new_keys), by_label(coding.bands[1], old_keys)),
        slices=coding.slices,
    )


def _align_keys(variable: str, new_labels: list[str], old_labels: list[str]) -> _Coding:
    """:func:`_align` on the labels' compared forms."""
    new_rest = [label for label in new_labels if not _is_total(label)]
    old_rest = [label for label in old_labels if not _is_total(label)]
    totals = {label: "Total" for label in (*new_labels, *old_labels) if _is_total(label)}
    if set(new_rest) == set(old_rest):
        coding = _Coding({label: label for label in new_rest}, {label: label for label in old_rest})
    else:
        new_bands = {label: b for label in new_rest if (b := band(label))}
        old_bands = {label: b for label in old_rest if (b := band(label))}
        if len(new_bands) >= 2 and len(old_bands) >= 2:
            coding = _align_bands(variable, new_rest, old_rest, new_bands, old_bands)
        else:
            coding = _align_names(variable, new_rest, old_rest)
    coding.new.update({label: totals[label] for label in new_labels if label in totals})
    coding.old.update({label: totals[label] for label in old_labels if label in totals})
    return coding


def _cut_points(variable: str, bands: dict[str, Band], which: str) -> list[float]:
    """The bands' cut points, low end to high end, after checking they tile one range."""
    ordered = sorted(bands.values())
    for (low, high), (next_low, next_high) in pairwise(ordered):
        if high != next_low:
            raise _Unaligned(
                f"the bands of {variable!r} in {which} ({band_label(low, high)}, "
                f"{band_label(next_low, next_high)}) "
                f"{'overlap' if high > next_low else 'leave a gap'}"
            )
    return [low for low, _high in ordered] + [ordered[-1][1]]


def _align_bands(
    variable: str,
    new_rest: list[str],
    old_rest: list[str],
    new_bands: dict[str, Band],
    old_bands: dict[str, Band],
) -> _Coding:
    """Bands on the coarsest common bands, plus the slices a crossing of cut points reveals."""
    new_points = _cut_points(variable, new_bands, "this table")
    old_points = _cut_points(variable, old_bands, "the released table")
    same_low, same_high = new_points[0] == old_points[0], new_points[-1] == old_points[-1]
    if not (same_low or same_high):
        raise _Unaligned(
            f"the bands of {variable!r} cover different ranges "
            f"({band_label(new_points[0], new_points[-1])} and "
            f"{band_label(old_points[0], old_points[-1])})"
        )
    common = sorted(set(new_points) & set(old_points))

    def common_band(low: float, high: float) -> str | None:
        start = max((p for p in common if p <= low), default=None)
        end = min((p for p in common if p >= high), default=None)
        return None if start is None or end is None else band_label(start, end)

    def codes(rest: list[str], bands: dict[str, Band]) -> dict[str, str]:
        coded = {label: common_band(*bands[label]) for label in bands}
        names = {label: label for label in rest if label not in bands}
        return {label: code for label, code in coded.items() if code} | names

    points = sorted({(p, 0) for p in new_points} | {(p, 1) for p in old_points})
    owners: dict[float, set[int]] = {}
    for point, table in points:
        owners.setdefault(point, set()).add(table)
    cuts = sorted(owners)
    slices = tuple(
        (low, high, next(iter(owners[low])), next(iter(owners[high])))
        for low, high in pairwise(cuts)
        if len(owners[low]) == 1 and len(owners[high]) == 1 and owners[low] != owners[high]
    )
    return _Coding(
        codes(new_rest, new_bands),
        codes(old_rest, old_bands),
        bands=(new_bands, old_bands),
        slices=slices,
    )


def _align_names(variable: str, new_rest: list[str], old_rest: list[str]) -> _Coding:
    """Names matched as they are, or merged into a named other-category (see module doc)."""
    new_other = [label for label in new_rest if OTHER_CATEGORY.match(label)]
    old_other = [label for label in old_rest if OTHER_CATEGORY.match(label)]
    if len(new_other) > 1 or len(old_other) > 1:
        raise _Unaligned(
            f"{variable!r} has more than one other-category "
            f"({', '.join(repr(label) for label in new_other + old_other)})"
        )
    new_named = set(new_rest) - set(new_other)
    old_named = set(old_rest) - set(old_other)
    new_codes = {label: label for label in new_rest}
    old_codes = {label: label for label in old_rest}
    if new_other and old_other:
        if new_named == old_named:
            new_codes[new_other[0]] = old_codes[old_other[0]] = "Other"
        elif old_named < new_named:
            new_codes |= dict.fromkeys([*(new_named - old_named), new_other[0]], old_other[0])
        elif new_named < old_named:
            old_codes |= dict.fromkeys([*(old_named - new_named), old_other[0]], new_other[0])
        else:
            raise _Unaligned(
                f"both tables group {variable!r} into an other-category, but over different "
                f"labels ({', '.join(sorted(new_named ^ old_named))} in only one of them)"
            )
    elif new_other or old_other:
        other = (new_other or old_other)[0]
        named, rest, codes = (
            (new_named, old_rest, old_codes) if new_other else (old_named, new_rest, new_codes)
        )
        missing = named - set(rest)
        if missing:
            raise _Unaligned(
                f"one table groups {variable!r} into {other!r}, but its labels "
                f"{', '.join(sorted(missing))} are not in the other table, so havenkit "
                "cannot tell what the other-category holds"
            )
        codes |= dict.fromkeys(set(rest) - named, other)
    return _Coding(new_codes, old_codes)


@dataclass(frozen=True)
class _Side:
    """One table on the common categories: codes of the shared variables, values, row labels."""

    codes: pd.DataFrame
    labels: pd.DataFrame
    values: pd.DataFrame
    rows: pd.Series


def _side(table: Table, codings: dict[str, _Coding], which: str, values: pd.DataFrame) -> _Side:
    shared = list(codings)
    extra = [column for column in table.label_columns if column not in codings]
    keep = pd.Series(True, index=table.labels.index)
    for column in extra:
        keep &= ~table.labels[column].str.strip().str.lower().isin(TOTAL_LABELS)
    codes = pd.DataFrame({v: table.labels[v].map(getattr(codings[v], which)) for v in shared})
    keep &= codes.notna().all(axis=1)
    # Only a blank cell is ever named by its own row, so only those rows' labels are joined.
    blank_rows = keep & values.isna().any(axis=1)
    return _Side(
        codes=codes[keep],
        labels=table.labels.loc[keep, shared],
        values=values[keep],
        rows=join_labels(table.labels[blank_rows]).reindex(codes.index[keep]),
    )


def _group_differences(new: _Side, old: _Side) -> pd.DataFrame:
    """Per common group and value column: new minus old, blanks counted as zero.

    Also how many blanks each side has in the group and, when one side has exactly one blank
    and the other none, the row label of that blank: the difference is then that cell.
    """
    keys = list(new.codes.columns)

    def grouped(side: _Side) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        blank = side.values.isna()
        parts = {
            "sum": side.values.fillna(0),
            "blanks": blank,
            "row": pd.DataFrame({c: side.rows.where(blank[c]) for c in side.values.columns}),
        }
        groups = pd.concat(parts, axis=1).groupby([side.codes[key] for key in keys], sort=False)
        return (
            groups["sum"].sum()["sum"],
            groups["blanks"].sum()["blanks"],
            groups["row"].first()["row"],
        )

    new_sum, new_blanks, new_rows = grouped(new)
    old_sum, old_blanks, old_rows = grouped(old)
    shared = new_sum.index.intersection(old_sum.index, sort=False)
    if shared.empty:
        return pd.DataFrame(columns=_DIFFERENCE_COLUMNS)
    long = pd.DataFrame(
        {
            "difference": (new_sum.loc[shared] - old_sum.loc[shared]).stack(future_stack=True),
            "new_blanks": new_blanks.loc[shared].stack(future_stack=True),
            "old_blanks": old_blanks.loc[shared].stack(future_stack=True),
            "new_row": new_rows.loc[shared].stack(future_stack=True),
            "old_row": old_rows.loc[shared].stack(future_stack=True),
            "new": new_sum.loc[shared].stack(future_stack=True),
        }
    )
    groups = long.index.droplevel(-1).to_frame(index=False).astype(str)
    long["group"] = join_labels(groups).to_numpy()
    only_new = (long["new_blanks"] == 1) & (long["old_blanks"] == 0)
    only_old = (long["old_blanks"] == 1) & (long["new_blanks"] == 0)
    long["row"] = long["new_row"].where(only_new, long["old_row"].where(only_old, long["group"]))
    long["column"] = long.index.get_level_values(-1)
    long["blanks"] = long["new_blanks"] + long["old_blanks"]
    return long.reset_index(drop=True)[_DIFFERENCE_COLUMNS]


def _cumulative(side: _Side, variable: str, bands: dict[str, Band], rest: list[str]):
    """Per group of the other shared variables: counts below and from each cut point.

    A blank band makes every cumulative count through it unknown (NaN), so a slice is only
    recovered from cells that are there.
    """
    low = side.labels[variable].map({label: bounds[0] for label, bounds in bands.items()})
    known = low.notna()
    by = [side.codes.loc[known, key] for key in rest] or [pd.Series("", index=low[known].index)]
    lows = sorted({b[0] for b in bands.values()})
    highs = [b[1] for b in sorted(bands.values())]
    below, above = {}, {}
    for column in side.values.columns:
        values = side.values.loc[known, column]
        totals = values.fillna(0).groupby([*by, low[known]]).sum()
        blanks = values.isna().groupby([*by, low[known]]).sum()
        per_band = totals.where(blanks == 0).unstack(-1).reindex(columns=lows)
        left = per_band.cumsum(axis=1, skipna=False).set_axis(highs, axis=1)
        left.insert(0, lows[0], 0.0)
        right = per_band.iloc[:, ::-1].cumsum(axis=1, skipna=False).iloc[:, ::-1]
        right[highs[-1]] = 0.0
        below[column], above[column] = left, right
    return below, above


def _slice_differences(
    new: _Side, old: _Side, variable: str, coding: _Coding, order: list[str]
) -> pd.DataFrame:
    """The slices between crossing cut points ("16-17" from "0-15" and "0-17"), per group.

    A slice from cut point x of one table to cut point y of the other is the count below y
    minus the count below x when the tables start at the same point, else the count from x
    minus the count from y when they end at the same point.
    """
    rest = [key for key in new.codes.columns if key != variable]
    sides = (
        _cumulative(new, variable, coding.bands[0], rest),
        _cumulative(old, variable, coding.bands[1], rest),
    )
    starts = [min(b[0] for b in bands.values()) for bands in coding.bands]
    ends = [max(b[1] for b in bands.values()) for bands in coding.bands]
    found = []
    for column in new.values.columns:
        for low, high, low_table, high_table in coding.slices:
            below_low = sides[low_table][0][column]
            below_high = sides[high_table][0][column]
            groups = below_low.index.intersection(below_high.index)
            value = pd.Series(math.nan, index=groups)
            if starts[0] == starts[1]:
                value = (below_high[high] - below_low[low]).reindex(groups)
            if ends[0] == ends[1]:
                above_low = sides[low_table][1][column]
                above_high = sides[high_table][1][column]
                value = value.fillna((above_low[low] - above_high[high]).reindex(groups))
            group_labels = value.index.to_frame(index=False).astype(str)
            parts = {key: group_labels.iloc[:, i] for i, key in enumerate(rest)}
            parts[variable] = pd.Series(band_label(low, high), index=group_labels.index)
            row = join_labels(pd.DataFrame({key: parts[key] for key in order})).to_numpy()
            found.append(
                pd.DataFrame(
                    {
                        "group": row,
                        "row": row,
                        "column": column,
                        "difference": value.to_numpy(),
                        "blanks": 0,
                    }
                )
            )
    return pd.concat(found, ignore_index=True)


def _differences(
    new: Table,
    old: Table,
    codings: dict[str, _Coding],
    new_values: pd.DataFrame,
    old_values: pd.DataFrame,
) -> pd.DataFrame:
    """Every difference between the two tables' values: common groups, then crossing slices."""
    new_side = _side(new, codings, "new", new_values)
    old_side = _side(old, codings, "old", old_values)
    frames = [_group_differences(new_side, old_side)]
    for variable, coding in codings.items():
        if coding.slices:
            # Every band counts towards the slices, even one outside the common bands.
            own = _Coding(*({label: label for label in bands} for bands in coding.bands))
            by_band = codings | {variable: own}
            frames.append(
                _slice_differences(
                    _side(new, by_band, "new", new_values),
                    _side(old, by_band, "old", old_values),
                    variable,
                    coding,
                    list(codings),
                )
            )
    return pd.concat(frames, ignore_index=True)


def _small(differences: pd.Series, threshold: int) -> pd.Series:
    size = differences.abs()
    return (size > 0) & (size < threshold)


def compare(new: Table, old: Table, threshold: int) -> Comparison:
    """What subtracting ``old`` from ``new`` (or the reverse) reveals below ``threshold``."""
    shared = [column for column in new.label_columns if column in old.label_columns]
    codings, unaligned = {}, []
    for variable in shared:
        try:
            codings[variable] = _align(
                variable, new.labels[variable].unique(), old.labels[variable].unique()
            )
        except _Unaligned as reason:
            unaligned.append(str(reason))
    crossing = [variable for variable, coding in codings.items() if coding.slices]
    if len(crossing) > 1:
        unaligned.append(
            f"more than one variable is banded differently ({', '.join(crossing)}); havenkit "
            "recovers the slices of one re-banded variable at a time"
        )
        codings = {v: c for v, c in codings.items() if v not in crossing}
    if not codings:
        return Comparison(unaligned=unaligned)
    theirs = {column_key(column): column for column in old.counts.columns}
    counts = {c: theirs[key] for c in new.counts.columns if (key := column_key(c)) in theirs}
    recovered_counts, margins = [], None
    if counts:
        old_counts = old.counts[list(counts.values())].set_axis(list(counts), axis=1)
        found = _differences(new, old, codings, new.counts[list(counts)], old_counts)
        if _keeps_new_groups(codings):
            margins = Margins.of(tuple(codings), found[found["new"].notna()])
        found = found[_small(found["difference"], threshold)]
        recovered_counts = _recovered(found)
    magnitudes = [variable for variable in new.sums.columns if variable in old.sums.columns]
    recovered_sums = []
    if magnitudes:

        def values(table: Table) -> pd.DataFrame:
            people = table.people[magnitudes].add_prefix("n:")
            return pd.concat([table.sums[magnitudes], people], axis=1)

        found = _differences(new, old, codings, values(new), values(old))
        is_people = found["column"].str.startswith("n:")
        found["column"] = found["column"].str.removeprefix("n:")
        both = found[is_people].merge(
            found[~is_people], on=["group", "column"], suffixes=("", "_sum")
        )
        revealed = (
            _small(both["difference"], threshold)
            & (both["blanks"] == 0)
            & (both["blanks_sum"] == 0)
            & both["difference_sum"].notna()
        )
        named = both[revealed]
        named = named.assign(row=named["group"], column=named["column"].map(new.sum_columns))
        recovered_sums = _recovered(named)
    return Comparison(recovered_counts, recovered_sums, unaligned, margins)


def _keeps_new_groups(codings: dict[str, _Coding]) -> bool:
    """Whether the groups compared are named the same whatever the released table: each of the
    new table's labels stands for itself (or a total, or a band named by its range), and no
    slice between crossing bands was taken."""
    for coding in codings.values():
        if coding.slices:
            return False
        if not coding.bands[0] and any(
            code != label and not _is_total(label) for label, code in coding.new.items()
        ):
            return False
    return True


def _recovered(found: pd.DataFrame) -> list[Recovered]:
    return [
        Recovered(row, column, round(abs(difference)))
        for row, column, difference in found[["row", "column", "difference"]].itertuples(
            index=False
        )
    ]


def _shown(cells: list[Recovered], value: Callable[[int], str]) -> str:
    """The first cells, each as "(row, column)" and its recovered count as ``value`` words it."""
    shown = ", ".join(f"({c.row}, {c.column}) {value(c.people)}" for c in cells[:CELLS_SHOWN])
    more = len(cells) - CELLS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def _findings(name: str, comparison: Comparison, threshold: int) -> list[FileFinding]:
    """The comparison with one released table as findings a researcher and a checker read."""
    findings = []
    decide = "an output checker must decide whether the two tables may both be out"
    cells = comparison.counts
    if cells:
        findings.append(
            FileFinding(
                REVIEW,
                "differencing",
                f"subtracting {name} from this table reveals {len(cells)} count"
                f"{'s' if len(cells) != 1 else ''} below {threshold}: "
                f"{_shown(cells, lambda people: f'= {people}')}; {decide}",
                tuple((cell.row, cell.column) for cell in cells),
            )
        )
    sums = comparison.magnitudes
    if sums:
        single = any(cell.people == 1 for cell in sums)
        findings.append(
            FileFinding(
                REVIEW,
                "differencing",
                f"subtracting {name} from this table reveals the sum of fewer than {threshold} "
                f"people's values in {len(sums)} cell{'s' if len(sums) != 1 else ''}: "
                f"{_shown(sums, lambda people: f'over {_people(people)}')}"
                f"{'; a sum over 1 person is that one value' if single else ''}; {decide}",
                tuple((cell.row, cell.column) for cell in sums),
            )
        )
    for reason in comparison.unaligned:
        findings.append(
            FileFinding(
                REVIEW,
                "differencing",
                f"this table and {name} share a variable that havenkit cannot line up: "
                f"{reason}; an output checker must check what subtracting one from the other "
                "reveals",
            )
        )
    return findings


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _combination_finding(combination: Combination, threshold: int) -> FileFinding:
    """A combination of three or more tables as a finding naming every one of them."""
    cells = [Recovered(*cell) for cell in combination.cells]
    parts = list(combination.parts)
    if combination.cover is None:
        subtraction = f"subtracting {_listed(parts)} from this table"
    else:
        subtraction = f"subtracting {_listed(['this table', *parts])} from {combination.cover}"
    return FileFinding(
        REVIEW,
        "differencing",
        f"{subtraction} reveals {len(cells)} count{'s' if len(cells) != 1 else ''} below "
        f"{threshold}, which no two of these tables reveal: "
        f"{_shown(cells, lambda people: f'= {people}')}; an output checker must decide whether "
        f"these {len(parts) + (1 if combination.cover is None else 2)} tables may all be out",
        tuple((cell.row, cell.column) for cell in cells),
    )


def differencing_findings(
    new_path: Path | str,
    released: Mapping[str, Path | str],
    threshold: int,
    aliases: Mapping[str, str] | None = None,
) -> list[FileFinding]:
    """The "review" findings for each released table that subtracting from the new one reveals.

    ``released`` maps a name people recognise (e.g. "table.csv of release request 3") to the
    released file. ``aliases`` maps a variable's other names to one name ({"hb":
    "health_board"}), so tables that call a label column differently are compared on it: the
    same variable under two names cannot be told from two variables by the tables alone. A new
    file that is not a table gets no finding: the file checks already send it to an output
    checker.
    """
    new = read_table(new_path)
    if new is None:
        return []
    new = new.with_aliases(aliases or {})
    others = {
        name: table.with_aliases(aliases or {})
        for name, path in released.items()
        if (table := read_table(path))
    }
    findings, margins = [], {}
    for name, other in others.items():
        # A released mean's people come from the released counts over the same rows, never
        # from the new table, whose population may differ.
        for counts in others.values():
            other = other.with_people_from(counts)
        comparison = compare(new, other, threshold)
        findings += _findings(name, comparison, threshold)
        if comparison.margins is not None:
            margins[name] = comparison.margins
    findings += [
        _combination_finding(found, threshold) for found in combinations(margins, threshold)
    ]
    return findings
