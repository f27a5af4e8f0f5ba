"""A CSV file of a release request as the table a checker reads, with the flagged cells marked.

The file is read as every check reads it (:func:`havenkit.sdc.csv_tables.read_csv_table`), so
a cell is marked exactly when a finding names it: its row's labels joined by " / " and its
column's header labels joined by " / " ("Fife / 2019", "F / young", "All"). pandas writes a
table whose columns have several levels (a crosstab with two column variables, a pivot table
with a list of aggfuncs; havenkit.sdc writes its tables the same way) as one header row per
level, then a row naming the index columns with every other cell blank::

    sex,F,F,M,M,All
    agegrp,old,young,old,young,
    region,,,,,
    Fife,10,4,12,9,35

The preview shows those rows as header rows: the level's name heads its row, an upper level's
label spans the columns it groups, and a label with only blanks below it (a margin's "All")
spans down to the last header row. The label columns are row headers.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from havenkit.sdc.csv_tables import CsvTable, UnreadableCsv, read_csv_table


@dataclass(frozen=True)
class HeaderCell:
    """A cell of a header row. ``scope`` is empty for a blank corner, shown as a plain cell."""

    text: str
    scope: str = "col"
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class PreviewCell:
    """One cell of a data row: a row header (``is_label``), or a value a finding may flag."""

    text: str
    flagged: bool = False
    is_label: bool = False


@dataclass(frozen=True)
class TablePreview:
    """The header rows and the first data rows; ``more_rows`` when the file has more."""

    header_rows: list[list[HeaderCell]]
    rows: list[list[PreviewCell]]
    more_rows: bool


def table_preview(
    path: Path, text: str, flagged: set[tuple[str, str]], max_rows: int
) -> TablePreview:
    """The CSV at ``path`` as header rows and at most ``max_rows`` rows, failing cells marked.

    ``text`` (the start of the file) is shown as plain rows, nothing marked, when the file
    cannot be read as a table: no check could have named one of its cells either.
    """
    try:
        table = read_csv_table(path)
    except (UnreadableCsv, OSError):
        return _plain_rows(text, max_rows)
    if table.column_levels == 1:
        header_rows = [
            [HeaderCell(name) if name else HeaderCell("", "") for name in table.header_rows[0]]
        ]
    else:
        header_rows = _several_header_rows(table)
    names = table.row_labels()
    labels = set(table.label_columns)
    rows = [
        [
            PreviewCell(
                text,
                flagged=column not in labels and (names[index], column) in flagged,
                is_label=column in labels,
            )
            for column, text in zip(table.columns, row, strict=True)
        ]
        for index, row in enumerate(table.cells.head(max_rows).itertuples(index=False))
    ]
    return TablePreview(header_rows, rows, more_rows=len(table.cells) > max_rows)


def _plain_rows(text: str, max_rows: int) -> TablePreview:
    header, *rows = list(csv.reader(io.StringIO(text))) or [[]]
    return TablePreview(
        header_rows=[[HeaderCell(name) for name in header]],
        rows=[[PreviewCell(cell) for cell in row] for row in rows[:max_rows]],
        more_rows=len(rows) > max_rows,
    )


def _several_header_rows(table: CsvTable) -> list[list[HeaderCell]]:
    """The column level rows, then the row naming the label columns."""
    grid = [list(row) for row in table.header_rows]
    depth, index = table.column_levels, len(table.label_columns)
    width = len(grid[0])
    # A header row's level name, if it has one, is its only label among the index columns.
    corners = [
        HeaderCell(name, "row", colspan=index) if name else HeaderCell("", "", colspan=index)
        for name in ("".join(row[:index]) for row in grid[:depth])
    ]
    header_rows = [
        [corners[level], *_level_headers(grid, depth, index, level)] for level in range(depth)
    ]
    header_rows.append(
        [HeaderCell(name) for name in grid[depth][:index]]
        + [HeaderCell("", "", colspan=width - index)]
    )
    return header_rows


def _level_headers(grid: list[list[str]], depth: int, index: int, level: int) -> list[HeaderCell]:
    """The column headers of one header row, each label spanning the columns it groups."""

    def blank_from(row: int, column: int) -> bool:
        return not any(grid[below][column].strip() for below in range(row, depth))

    cells: list[HeaderCell] = []
    column, width = index, len(grid[0])
    while column < width:
        label = grid[level][column].strip()
        if not label:
            # Under a label that spans down (a margin's "All") nothing is drawn.
            if not blank_from(level, column):
                cells.append(HeaderCell("", ""))
            column += 1
            continue
        rowspan = depth - level if blank_from(level + 1, column) else 1
        colspan = 1
        if level + rowspan < depth:
            group = [row[column] for row in grid[: level + 1]]
            while (
                column + colspan < width
                and [row[column + colspan] for row in grid[: level + 1]] == group
            ):
                colspan += 1
        scope = "colgroup" if colspan > 1 else "col"
        cells.append(HeaderCell(label, scope, colspan=colspan, rowspan=rowspan))
        column += colspan
    return cells
