"""A CSV file of a release request as the table a checker reads, with the flagged cells marked.

pandas writes a table whose columns have several levels (a crosstab with two column variables,
a pivot table with a list of aggfuncs; havenkit.sdc writes its tables the same way) as one
header row per level, then a row naming the index columns with every other cell blank::

    sex,F,F,M,M,All
    agegrp,old,young,old,young,
    region,,,,,
    Fife,10,4,12,9,35

The preview shows those rows as header rows: the level's name heads its row, an upper level's
label spans the columns it groups, and a label with only blanks below it (a margin's "All")
spans down to the last header row. The index columns are row headers. A cell is marked when an
output-checking finding names it the way havenkit.sdc and ``havenkit sdc check`` do: its row's
index labels joined by " / ", and its column's header labels joined by " / " with blanks left
out ("F / young", "All"). A file with one header row keeps the labels the differencing reader
finds (:func:`havenkit.sdc.differencing.read_table`), as its findings were named.
"""

import csv
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from havenkit.sdc.differencing import read_table

# pandas writes one header row per column level; a table with more is not one we lay out.
_HEADER_ROWS_AT_MOST = 8
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


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
    """``text`` (the start of the CSV at ``path``) as header rows and at most ``max_rows`` rows."""
    grid = list(csv.reader(io.StringIO(text)))
    layout = header_layout(grid)
    if layout is None:
        return _one_header_row(path, grid, flagged, max_rows)
    return _several_header_rows(grid, layout, flagged, max_rows)


def header_layout(grid: list[list[str]]) -> tuple[int, int] | None:
    """(header rows, index columns) when ``grid`` is a table pandas wrote with two or more
    column levels, else None.

    The row after the header rows names the index columns and leaves every other cell blank;
    each header row holds at most its level's name among the index columns, and the top one
    labels every other column. A fully suppressed data row looks like that row of names, so the
    rows above it count as header rows only when they read as headers: the top one groups
    columns (a label repeated over neighbouring columns) or each of the others holds a label
    that is not a number.
    """
    for depth in range(2, min(_HEADER_ROWS_AT_MOST, len(grid) - 1) + 1):
        rows = [[cell.strip() for cell in row] for row in grid[: depth + 1]]
        width = len(rows[0])
        names = rows[depth]
        index = next((column for column, name in enumerate(names) if not name), width)
        if (
            not 0 < index < width
            or any(len(row) != width for row in rows)
            or any(names[index:])
            or any(sum(map(bool, row[:index])) > 1 for row in rows[:depth])
            or not all(rows[0][index:])
        ):
            continue
        top = rows[0][index:]
        groups = any(left == right for left, right in itertools.pairwise(top))
        worded = all(
            any(label and not _NUMBER.fullmatch(label) for label in row[index:])
            for row in rows[1:depth]
        )
        if groups or worded:
            return depth, index
    return None


def _one_header_row(
    path: Path, grid: list[list[str]], flagged: set[tuple[str, str]], max_rows: int
) -> TablePreview:
    header, *rows = grid or [[]]
    table = read_table(path)
    labels = table.row_labels() if table is not None else []
    label_columns = set(table.label_columns) if table is not None else set()
    return TablePreview(
        header_rows=[[HeaderCell(name) if name.strip() else HeaderCell("", "") for name in header]],
        rows=[
            [
                PreviewCell(
                    text=cell,
                    flagged=index < len(labels)
                    and column < len(header)
                    and (labels[index], header[column]) in flagged,
                    is_label=column < len(header) and header[column] in label_columns,
                )
                for column, cell in enumerate(row)
            ]
            for index, row in enumerate(rows[:max_rows])
        ],
        more_rows=len(rows) > max_rows,
    )


def _several_header_rows(
    grid: list[list[str]], layout: tuple[int, int], flagged: set[tuple[str, str]], max_rows: int
) -> TablePreview:
    depth, index = layout
    width = len(grid[0])
    columns = [
        " / ".join(label for row in grid[:depth] if (label := row[column].strip()))
        for column in range(index, width)
    ]
    # A header row's level name, if it has one, is its only label among the index columns.
    corners = [
        HeaderCell(name, "row", colspan=index) if name else HeaderCell("", "", colspan=index)
        for name in ("".join(cell.strip() for cell in row[:index]) for row in grid[:depth])
    ]
    header_rows = [
        [corners[level], *_level_headers(grid, depth, index, level)] for level in range(depth)
    ]
    header_rows.append(
        [HeaderCell(name.strip()) for name in grid[depth][:index]]
        + [HeaderCell("", "", colspan=width - index)]
    )
    rows = grid[depth + 1 :]
    return TablePreview(
        header_rows=header_rows,
        rows=[_data_row(row, index, columns, flagged) for row in rows[:max_rows]],
        more_rows=len(rows) > max_rows,
    )


def _data_row(
    row: list[str], index: int, columns: list[str], flagged: set[tuple[str, str]]
) -> list[PreviewCell]:
    """A data row below several header rows: its index labels, then its values, each flagged
    when a finding names it by this row's labels and the column's header labels."""
    labels = [cell.strip() for cell in row[:index]]
    # The file checks join every index label, blanks too (the "All" row of a table with two
    # index columns is "All / "); havenkit.sdc leaves blanks out ("All").
    names = {" / ".join(labels), " / ".join(label for label in labels if label)}
    return [PreviewCell(cell, is_label=True) for cell in row[:index]] + [
        PreviewCell(
            cell,
            flagged=column < len(columns)
            and any((name, columns[column]) in flagged for name in names),
        )
        for column, cell in enumerate(row[index:])
    ]


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
