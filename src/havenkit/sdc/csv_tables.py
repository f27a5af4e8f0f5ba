"""Reading a CSV table that did not come with its own description: one reading for every check.

``havenkit sdc check`` (and the portal's file checks), differencing across releases and the
portal's preview all read a table here, so a cell a finding names is the cell the preview marks.

**Header rows.** pandas writes a table whose columns have one level (``region,year,patients``)
as one header row. A table with two or more column variables (a crosstab by sex and age band,
a pivot table with a list of aggfuncs) gets one header row per level, each with the level's
name (or nothing) in its first cell and its labels over the value columns, then a row naming
the label (index) columns with every other cell blank::

    sex,,F,F,M,M,All
    agegrp,,old,young,old,young,
    region,hb,,,,,
    Fife,1,10,4,12,9,35

That layout is recognised when the top header row labels every value column and each lower
one reads as a column level: it holds a label that is not a number, or it is numbers under a
row that repeats a label over side-by-side columns (years under each sex). A fully suppressed
data row looks like the row of names, and this keeps the rows above it data.

The label columns are those the top header row leaves blank after its first cell (pandas
writes a level's name there): pandas names them in the row of names, but an index only partly
named leaves some of those blank too (``region,,,``, or ``,hb,,``).

**Labels and values.** Under several header rows, the index columns are the labels and
every other column holds values. Under one header row, a column is a label when its header
cell is blank (pandas' unnamed index), when it holds text, or when it holds whole numbers and
its name says it is a label ("year", "month", "quarter", "week", "period", "code",
"quintile", "decile", with no word of a count: "year_count" is a count). pandas writes the
labels first, unique and sorted, so when those leave two rows alike, the next columns of whole
numbers that tell the rows apart, each increasing within the rows it tells apart, are labels
too (``ordered_labels``: a table of numbers alone needs its leading columns sorted to be read
so); at least one column of numbers is left for the values.

**Suppressed cells.** A value cell is suppressed when it is blank or holds one of the markers
UK statistical producers write for a withheld number (:data:`SUPPRESSION_MARKERS`, any case:
``*``, ``**``, ``-``, ``..``, ``:``, ``c``, ``[c]``, ``x``, ``[x]``, ``s``, ``supp``,
``suppressed``) or a bound such as ``<10``, ``< 5`` or ``<=4``. Its number is NaN, and a column
of numbers and suppressed cells is a column of numbers.

**Margins.** A row whose first cell is "All", "Total" or "Overall" is a margin row (pandas'
``margins=True`` writes "All" with blanks under the other index columns), and a value column
whose last header label is one of those words is a margin column. Margin rows take no part in
telling labels from values (their blank labels are not a gap in a column of years).

**Naming cells.** A cell is named by its row's labels joined by " / ", blanks left out (the
margin row of a table with two index columns is "All"), and its column's header labels joined
by " / ", blanks left out ("F / young", "All"): the way havenkit.sdc names the cells of the
tables it makes.
"""

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TextIO

import pandas as pd

TOTAL_LABELS = frozenset({"total", "all", "overall"})
MEAN_WORDS = frozenset({"mean", "average", "avg"})
SUM_WORDS = frozenset({"sum", "total"})
COUNT_WORDS = frozenset({"n", "count"})
OTHER_STATISTIC_WORDS = frozenset({"median", "min", "minimum", "max", "maximum", "std", "mode"})
LABEL_WORDS = frozenset(
    {"year", "month", "quarter", "week", "period", "code", "quintile", "decile"}
)
# What a researcher writes in a cell they suppressed by hand, besides a blank (see the module's
# docstring): the GSS "[c]" (confidential) and "[x]" (not available), the "*", "c" and "x" of
# Public Health Scotland and NRS tables, ONS's "..", Eurostat's ":", and plain words.
SUPPRESSION_MARKERS = frozenset(
    {"", "*", "**", "***", "-", "..", ":", "c", "[c]", "x", "[x]", "s", "supp", "suppressed"}
)
# A bound in place of the number ("<10", "< 5", "<=4"): the cell is suppressed.
_BELOW = re.compile(r"<=?\s*\d+")
# pandas writes one header row per column level; more levels than this are not a table we read.
HEADER_ROWS_AT_MOST = 8
# A whole number inside a column name, in whatever form it was written ("2019", "2019.0" after a
# column with a gap went through floats, "02019" as a string code): its digits.
_WHOLE_NUMBER_WORD = re.compile(r"(?<![\w.])0*(\d+)(?:\.0*)?(?![\w.])")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class UnreadableCsv(ValueError):
    """A file that cannot be parsed as CSV; the message is the parser's first line."""


def column_key(name: str) -> str:
    """What a column is matched on between tables: its name, whole numbers in one form."""
    return _WHOLE_NUMBER_WORD.sub(r"\1", name.strip())


def words(name: str) -> list[str]:
    """The lower-case words of a column's name ("mean / cost" and "mean_cost": mean, cost)."""
    return re.findall(r"[a-z0-9]+", column_key(name).lower())


def magnitude(name: str) -> tuple[str, str] | None:
    """("mean" or "sum", the variable) when a column's name says it is a magnitude; a column
    called just "Total" (or "n total") is a count margin, not a sum."""
    named = words(name)
    for kind, vocabulary in (("mean", MEAN_WORDS), ("sum", SUM_WORDS)):
        rest = [word for word in named if word not in vocabulary]
        if len(rest) < len(named) and rest and not set(rest) <= COUNT_WORDS:
            return kind, "_".join(rest)
    return None


def names_another_statistic(name: str) -> bool:
    """Whether a column's name says it holds a median, minimum, maximum, spread or mode."""
    return bool(set(words(name)) & OTHER_STATISTIC_WORDS)


def join_labels(labels: pd.DataFrame) -> pd.Series:
    """Each row's labels joined by " / ", blanks left out: how a finding names a row."""
    joined = pd.Series("", index=labels.index, dtype=object)
    for column in labels.columns:
        part = labels[column].astype(str).str.strip()
        before = joined.where(joined == "", joined + " / ")
        joined = (before + part).where(part != "", joined)
    return joined


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text))


def suppressed_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Whether each cell is blank or a suppression marker (see the module's docstring)."""
    lower = cells.apply(lambda column: column.str.lower())
    return lower.isin(SUPPRESSION_MARKERS) | lower.apply(
        lambda column: column.str.fullmatch(_BELOW)
    )


def _is_level(rows: list[list[str]], level: int, labels: int) -> bool:
    """Whether header row ``level`` (below the top one) reads as a column level: a label that
    is not a number, or numbers under a row that repeats a label over side-by-side columns."""
    if any(cell and not _is_number(cell) for cell in rows[level][labels:]):
        return True
    above = rows[level - 1][labels:]
    return any(left == right and left and not _is_number(left) for left, right in pairwise(above))


def header_layout(grid: Sequence[Sequence[str]]) -> tuple[int, int] | None:
    """(column levels, label columns) when ``grid`` (a CSV's first rows) is a table pandas wrote
    with two or more column levels, else None (one header row).

    The top level row leaves the label columns blank after its first cell and labels every
    value column; the row after the level rows names at least one label column and leaves
    every other cell blank; each level row holds at most its level's name among the label
    columns, and each lower one reads as a level (see :func:`_is_level`).
    """
    rows = [[str(cell).strip() for cell in row] for row in grid[: HEADER_ROWS_AT_MOST + 1]]
    width = len(rows[0]) if rows else 0
    for levels in range(2, min(HEADER_ROWS_AT_MOST, len(rows) - 1) + 1):
        if any(len(row) != width for row in rows[: levels + 1]):
            return None
        if not _is_level(rows, levels - 1, 1):
            return None  # a row of numbers alone is data, so no deeper layout either
        names = rows[levels]
        labels = next((column for column in range(1, width) if rows[0][column]), width)
        if (
            labels < width
            and any(names[:labels])
            and not any(names[labels:])
            and all(rows[0][labels:])
            and all(sum(map(bool, row[:labels])) <= 1 for row in rows[:levels])
            and all(_is_level(rows, level, labels) for level in range(1, levels))
        ):
            return levels, labels
    return None


@dataclass(frozen=True)
class CsvTable:
    """A CSV as label columns, value columns and the header rows above them.

    ``cells`` holds every data row as stripped text under one unique name per column (the
    column's header labels joined by " / "); ``numbers`` the same cells as numbers (NaN for a
    blank or text); ``suppressed`` whether each is blank or a suppression marker.
    ``header_rows`` are the lines above the data as written (for a table with several column
    levels, the level rows and then the row of label names); ``column_levels`` is how many of
    them are column levels. ``ordered_labels`` are the label columns of numbers
    read as labels only because they are sorted and tell the rows apart.
    """

    cells: pd.DataFrame
    numbers: pd.DataFrame
    suppressed: pd.DataFrame
    header_rows: tuple[tuple[str, ...], ...]
    column_levels: int
    label_columns: tuple[str, ...]
    ordered_labels: tuple[str, ...]
    margin_rows: pd.Series
    margin_columns: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return list(self.cells.columns)

    @property
    def value_columns(self) -> list[str]:
        return [column for column in self.cells.columns if column not in self.label_columns]

    @property
    def numeric_columns(self) -> list[str]:
        """The columns whose every cell is a number or suppressed."""
        numeric = (self.numbers.notna() | self.suppressed).all()
        return [column for column in self.cells.columns if numeric[column]]

    def row_labels(self) -> list[str]:
        """Each data row's name in findings: its labels joined by " / ", else its line."""
        if not self.label_columns:
            first = len(self.header_rows) + 1
            return [f"row {first + row}" for row in range(len(self.cells))]
        return join_labels(self.cells[list(self.label_columns)]).tolist()


def _unique(names: list[str]) -> list[str]:
    """Names with each repeated one made unique by its column's position."""
    repeated = {name for name in names if names.count(name) > 1}
    return [f"{name} ({i + 1})" if name in repeated else name for i, name in enumerate(names)]


def _one_row_labels(
    cells: pd.DataFrame,
    numbers: pd.DataFrame,
    suppressed: pd.DataFrame,
    unnamed: int,
    margin_rows: pd.Series,
) -> tuple[list[str], list[str]]:
    """(label columns, those read as labels by their order) of a table with one header row."""
    columns = list(cells.columns)
    data = ~margin_rows
    rows, values = cells[data], numbers[data]
    numeric = ((numbers.notna() | suppressed).all()).to_dict()
    whole = [
        c for c in columns if numeric[c] and values[c].notna().all() and (values[c] % 1 == 0).all()
    ]
    named = {c for c in whole if LABEL_WORDS & set(words(c)) and not COUNT_WORDS & set(words(c))}
    labels = [c for i, c in enumerate(columns) if i < unnamed or not numeric[c] or c in named]
    if labels and not rows[labels].duplicated().any():
        return labels, []
    room = sum(1 for c in columns if numeric[c] and c not in labels) - 1
    extended = list(labels)
    for column in [c for c in whole if c not in labels][: max(room, 0)]:
        within = [rows[c] for c in extended] or [pd.Series(0, index=rows.index)]
        if not values[column].groupby(within).is_monotonic_increasing.all():
            break
        extended.append(column)
        if not rows[extended].duplicated().any():
            return [c for c in columns if c in extended], [c for c in extended if c not in labels]
    return labels, []


def read_csv_table(source: Path | str | TextIO) -> CsvTable:
    """The CSV at ``source`` (a path, or an open text file) read as a table.

    Raises :class:`UnreadableCsv` when it cannot be parsed, and OSError when it cannot be read.
    """
    try:
        text = (
            Path(source).read_text(encoding="utf-8")
            if isinstance(source, str | os.PathLike)
            else source.read()
        )
        raw = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise UnreadableCsv(
            str(error).splitlines()[0] if str(error) else type(error).__name__
        ) from error
    raw = raw.fillna("").apply(lambda column: column.str.strip())
    layout = header_layout(raw.head(HEADER_ROWS_AT_MOST + 1).to_numpy().tolist())
    levels, labels = layout or (1, 0)
    header = raw.iloc[: levels + 1 if layout else 1].to_numpy().tolist()
    level_rows = header[:levels]
    names = [
        " / ".join(label for row in level_rows if (label := row[column]))
        for column in range(raw.shape[1])
    ]
    if layout:
        names[:labels] = header[levels][:labels]
    names = _unique([name or f"(column {i + 1})" for i, name in enumerate(names)])
    cells = raw.iloc[len(header) :].set_axis(names, axis=1).reset_index(drop=True)
    numbers = cells.apply(lambda column: pd.to_numeric(column, errors="coerce"))
    suppressed = suppressed_cells(cells) & numbers.isna()
    margin_rows = cells.iloc[:, 0].str.lower().isin(TOTAL_LABELS)
    if layout:
        label_columns, ordered = names[:labels], []
    else:
        unnamed = next((i for i, cell in enumerate(header[0]) if cell), len(names))
        label_columns, ordered = _one_row_labels(cells, numbers, suppressed, unnamed, margin_rows)
    margin_columns = tuple(
        name
        for column, name in enumerate(names)
        if name not in label_columns
        and (parts := [row[column] for row in level_rows if row[column]])
        and parts[-1].lower() in TOTAL_LABELS
    )
    return CsvTable(
        cells=cells,
        numbers=numbers,
        suppressed=suppressed,
        header_rows=tuple(tuple(row) for row in header),
        column_levels=levels,
        label_columns=tuple(label_columns),
        ordered_labels=tuple(ordered),
        margin_rows=margin_rows,
        margin_columns=margin_columns,
    )
