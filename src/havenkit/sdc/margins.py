"""Suppressed cells that a table's totals give back: the margin checks of a CSV count table.

A suppressed cell (blank, or a marker such as "*", "c" or "<10": the list is
:data:`havenkit.sdc.csv_tables.SUPPRESSION_MARKERS`) is only hidden if the totals do not give it
back. In a table with margins, a row or column with one suppressed cell gives it back (its
total less its other cells), which can leave another line with one, so this repeats over rows
and columns until nothing more comes back; then what several lines give back together (two
blocks of suppressed cells joined by one cell) is found exactly, as the cells every solution
of the totals' equations agrees on. A cell given back that fails the threshold or zeros rule
fails the file, named with how it comes back ("(Lothian, F) = 3 from the row total"), and so
do the suppressed cells of a line whose total shows they add up to less than the threshold.
Totals that are not the sums of their cells go to an output checker. This is what secondary
suppression prevents, and what the library's own ``suppress=True`` never prints.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from havenkit.sdc.config import SdcConfig
from havenkit.sdc.csv_tables import CsvTable
from havenkit.sdc.findings import CELLS_SHOWN, FileFinding, cells_text
from havenkit.sdc.rules import FAIL, REVIEW


@dataclass(frozen=True)
class _Lines:
    """One margin and the lines it totals, as positions in the table's value cells.

    Line ``k`` is the cells at (``part_rows[k, i]``, ``part_columns[k, i]``) and its total is
    at (``total_rows[k]``, ``total_columns[k]``). ``across`` is True when each line is a row
    (its total in a margin column) and False when each is a column (its total in the margin
    row). Every line of one margin has as many cells, so a round over them is one array step.
    """

    across: bool
    part_rows: np.ndarray
    part_columns: np.ndarray
    total_rows: np.ndarray
    total_columns: np.ndarray

    def parts_and_totals(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            values[self.part_rows, self.part_columns],
            values[self.total_rows, self.total_columns],
        )


def _margin_lines(table: CsvTable) -> list[_Lines]:
    """The lines each margin totals: a margin column totals, in every row, the value columns
    under the same upper header labels ("count / All" totals "count / F" and "count / M");
    a single margin row totals, in every column, the rows that are not margins."""
    columns = table.value_columns
    position = {name: i for i, name in enumerate(table.columns)}
    levels = table.header_rows[: table.column_levels]
    headers = {c: [row[position[c]] for row in levels if row[position[c]]] for c in columns}
    margins = set(table.margin_columns)
    rows = np.arange(len(table.cells))
    found = []
    for margin in table.margin_columns:
        upper = headers[margin][:-1]
        members = [
            j
            for j, c in enumerate(columns)
            if c not in margins and headers[c][: len(upper)] == upper
        ]
        if members:
            found.append(
                _Lines(
                    across=True,
                    part_rows=np.repeat(rows[:, None], len(members), axis=1),
                    part_columns=np.tile(members, (len(rows), 1)),
                    total_rows=rows,
                    total_columns=np.full(len(rows), columns.index(margin)),
                )
            )
    is_margin = table.margin_rows.to_numpy()
    if is_margin.sum() == 1 and (~is_margin).any():
        data = np.flatnonzero(~is_margin)
        every = np.arange(len(columns))
        found.append(
            _Lines(
                across=False,
                part_rows=np.tile(data, (len(columns), 1)),
                part_columns=np.repeat(every[:, None], len(data), axis=1),
                total_rows=np.full(len(columns), np.flatnonzero(is_margin)[0]),
                total_columns=every,
            )
        )
    return found


@dataclass(frozen=True)
class _Recovered:
    """A suppressed cell worked out from the totals of the lines ``through`` (a margin and a
    line of it). From one line: its total less its other cells (or, for a suppressed total,
    the sum of its cells), once ``after`` were worked out. From several: adding and taking
    away their totals leaves the cell alone."""

    cell: tuple[int, int]
    value: float
    through: tuple[tuple[_Lines, int], ...]
    is_total: bool = False
    after: tuple[tuple[int, int], ...] = ()
    # How many lines give the cell back: ``through`` names only the first few.
    lines_count: int = 1


def _not_adding_up(lines: _Lines, values: np.ndarray) -> int | None:
    """The first line whose cells do not add up to its total (more than the total, or, with
    nothing suppressed, other than it), or None: a margin that is not a sum gives nothing back."""
    parts, totals = lines.parts_and_totals(values)
    rest = totals - np.nansum(parts, axis=1)
    complete = ~np.isnan(parts).any(axis=1)
    wrong = np.flatnonzero(~np.isnan(totals) & ((rest < 0) | (complete & (rest != 0))))
    return int(wrong[0]) if len(wrong) else None


def _recover(values: np.ndarray, margins: list[_Lines]) -> tuple[list[_Recovered], np.ndarray]:
    """Every suppressed cell the margins give back, and the values with them filled in.

    A line with exactly one unknown cell gives it back; rounds over every margin repeat until
    none does, so a cell given back by a row total can open a column to its total (the chain
    that secondary suppression exists to break).
    """
    values = values.copy()
    found: list[_Recovered] = []
    recovered = np.zeros(values.shape, dtype=bool)
    while True:
        before = len(found)
        for lines in margins:
            parts, totals = lines.parts_and_totals(values)
            missing = np.isnan(parts)
            unknown = missing.sum(axis=1)
            sums = np.nansum(parts, axis=1)
            one_part = np.flatnonzero((unknown == 1) & ~np.isnan(totals))
            at = missing[one_part].argmax(axis=1)
            solved = [
                (k, (lines.part_rows[k, i], lines.part_columns[k, i]), totals[k] - sums[k], False)
                for k, i in zip(one_part, at, strict=True)
            ] + [
                (k, (lines.total_rows[k], lines.total_columns[k]), sums[k], True)
                for k in np.flatnonzero((unknown == 0) & np.isnan(totals))
            ]
            for k, (row, column), value, is_total in solved:
                cells = [
                    *zip(lines.part_rows[k], lines.part_columns[k], strict=True),
                    (lines.total_rows[k], lines.total_columns[k]),
                ]
                after = tuple((int(r), int(c)) for r, c in cells if recovered[r, c])
                found.append(
                    _Recovered((int(row), int(column)), value, ((lines, k),), is_total, after)
                )
                values[row, column] = value
                recovered[row, column] = True
        if len(found) == before:
            return found, values


@dataclass(frozen=True)
class _Equations:
    """Every line with a suppressed cell as an equation in the suppressed cells: its cells less
    its total equal ``equals`` (its total less its known cells, the total taken as 0 when it
    is suppressed). Entry ``i`` puts cell ``variable[i]`` (at ``unknown[variable[i]]``) in
    equation ``equation[i]`` with ``coefficient[i]``: +1 as a cell, -1 as the total."""

    lines: list[tuple[_Lines, int]]
    equals: np.ndarray
    equation: np.ndarray
    variable: np.ndarray
    coefficient: np.ndarray
    unknown: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray, margins: list[_Lines]) -> "_Equations":
        unknown = np.argwhere(np.isnan(values))
        index = np.full(values.shape, -1)
        index[unknown[:, 0], unknown[:, 1]] = np.arange(len(unknown))
        equation, variable, coefficient, equals, lines_of = [], [], [], [], []
        for lines in margins:
            parts, totals = lines.parts_and_totals(values)
            part_index = index[lines.part_rows, lines.part_columns]
            total_index = index[lines.total_rows, lines.total_columns]
            involved = np.flatnonzero((part_index >= 0).any(axis=1) | (total_index >= 0))
            first = len(lines_of)
            line, at = np.nonzero(part_index[involved] >= 0)
            hidden_total = np.flatnonzero(total_index[involved] >= 0)
            equation += [first + line, first + hidden_total]
            variable += [part_index[involved][line, at], total_index[involved][hidden_total]]
            coefficient += [np.ones(len(line)), -np.ones(len(hidden_total))]
            equals.append(np.nan_to_num(totals[involved]) - np.nansum(parts[involved], axis=1))
            lines_of += [(lines, int(k)) for k in involved]
        return cls(
            lines_of,
            np.concatenate(equals),
            np.concatenate(equation).astype(int),
            np.concatenate(variable).astype(int),
            np.concatenate(coefficient),
            unknown,
        )


def _bridges(nodes: int, ends: list[tuple[int, int]]) -> tuple[list[tuple[int, int, int]], ...]:
    """The bridges of a multigraph (edges on no cycle), by Tarjan's depth-first search.

    Returns each bridge as (edge, parent, child) of the search tree, and every node's discovery
    time, the size of the subtree under it, the root of its component and the node discovered
    at each time: a component, and the subtree under a node, are discovered one after another.
    """
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(nodes)]
    for edge, (u, v) in enumerate(ends):
        adjacency[u].append((v, edge))
        adjacency[v].append((u, edge))
    discovered, low, size, root_of = [-1] * nodes, [0] * nodes, [1] * nodes, [0] * nodes
    at_time: list[int] = []
    bridges = []
    for root in range(nodes):
        if discovered[root] >= 0:
            continue
        stack = [(root, -1, iter(adjacency[root]))]
        discovered[root] = low[root] = len(at_time)
        at_time.append(root)
        root_of[root] = root
        while stack:
            node, arrived_by, neighbours = stack[-1]
            for other, edge in neighbours:
                if edge == arrived_by:
                    continue
                if discovered[other] < 0:
                    discovered[other] = low[other] = len(at_time)
                    at_time.append(other)
                    root_of[other] = root
                    stack.append((other, edge, iter(adjacency[other])))
                    break
                low[node] = min(low[node], discovered[other])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    size[parent] += size[node]
                    if low[node] > discovered[parent]:
                        bridges.append((arrived_by, parent, node))
    return bridges, discovered, size, root_of, at_time


def _recover_together(
    values: np.ndarray, margins: list[_Lines]
) -> tuple[list[_Recovered], np.ndarray, bool]:
    """The suppressed cells that several totals give back together, once no line gives one
    back alone (two blocks of suppressed cells joined by one cell), and the values with them
    filled in; False when the totals are not laid out as the rows and columns of one table.

    The equations are a graph: a node per line, an edge per suppressed cell joining its two
    lines (a cell in only one line joins it to a "free" node that no total holds). Going round
    a cycle of cells, adding and taking away one amount in turn, keeps every total, so a cell
    on a cycle is not given back; a cell on none (a bridge) is, by the side of the bridge
    without the free node: add that side's equations across and take away those down, and
    every other cell cancels. The two equations of the grand total are turned round first,
    so that each cell counts the same way in both its lines.
    """
    values = values.copy()
    if not np.isnan(values).any() or not margins:
        return [], values, True
    system = _Equations.of(values, margins)
    free = len(system.lines)
    totals = [(int(lines.total_rows[k]), int(lines.total_columns[k])) for lines, k in system.lines]
    across = np.array([lines.across for lines, _ in system.lines])
    totalled = [
        {
            cell
            for lines in margins
            if lines.across == way
            for cell in zip(lines.total_rows.tolist(), lines.total_columns.tolist(), strict=True)
        }
        for way in (True, False)
    ]
    grand = totalled[0] & totalled[1]
    # Each equation as it is added: across +1, down -1, a grand total's equations turned round.
    weight = np.where(across, 1.0, -1.0) * np.array([-1.0 if t in grand else 1.0 for t in totals])
    entries: dict[int, list[tuple[int, float]]] = {}
    counted = weight[system.equation] * system.coefficient
    for eq, cell, count in zip(
        system.equation.tolist(), system.variable.tolist(), counted.tolist(), strict=True
    ):
        entries.setdefault(cell, []).append((eq, count))
    if any(len(e) > 2 or (len(e) == 2 and e[0][1] + e[1][1] != 0) for e in entries.values()):
        return [], values, False
    cells = list(entries)
    ends = [(e[0][0], e[1][0] if len(e) == 2 else free) for e in entries.values()]
    bridges, discovered, size, root_of, at_time = _bridges(free + 1, ends)
    sums = np.concatenate([[0.0], np.cumsum(np.append(weight * system.equals, 0.0)[at_time])])
    found = []
    for edge, parent, child in bridges:
        start, stop = discovered[child], discovered[child] + size[child]
        root = root_of[child]
        whole = discovered[root], discovered[root] + size[root]
        free_below = root_of[free] == root and start <= discovered[free] < stop
        free_beside = root_of[free] == root and not free_below
        if free_below or (not free_beside and 2 * size[child] > size[root]):
            end = parent
            side = [*at_time[whole[0] : start][:CELLS_SHOWN], *at_time[stop : stop + CELLS_SHOWN]]
            lines_count = size[root] - size[child]
            total = sums[whole[1]] - sums[whole[0]] - (sums[stop] - sums[start])
        else:
            end, side = child, at_time[start : min(stop, start + CELLS_SHOWN)]
            lines_count = size[child]
            total = sums[stop] - sums[start]
        count = dict(entries[cells[edge]])[end]
        row, column = system.unknown[cells[edge]]
        value = float(total / count)
        values[row, column] = value
        found.append(
            _Recovered(
                (int(row), int(column)),
                value,
                tuple(system.lines[node] for node in side[:CELLS_SHOWN]),
                lines_count=lines_count,
            )
        )
    return found, values, True


def _disclosive(values: np.ndarray | float, config: SdcConfig) -> np.ndarray | bool:
    """The threshold and zeros rules on counts a person can read or work out."""
    return (values < config.safe_threshold) | ((values == 0) & config.zeros_are_disclosive)


@dataclass(frozen=True)
class _Names:
    """How findings name the cells and lines of a table's value cells."""

    rows: list[str]
    columns: list[str]

    def cell(self, cell: tuple[int, int]) -> tuple[str, str]:
        return self.rows[cell[0]], self.columns[cell[1]]

    def cells(self, cells: Sequence[tuple[int, int]]) -> str:
        return cells_text([self.cell(cell) for cell in cells])

    def recovered(self, r: _Recovered) -> str:
        """'(Lothian, F) = 3 from the row total': a cell given back and how."""
        if r.lines_count > 1:
            names = [
                self.rows[k] if lines.across else self.columns[k]
                for lines, k in sorted(r.through, key=lambda line: (not line[0].across, line[1]))
            ]
            listed = (
                f"{', '.join(names[:-1])} and {names[-1]}"
                if r.lines_count == len(names)
                else f"{', '.join(names)} and {r.lines_count - len(names)} more"
            )
            how = f"the totals of {listed} together"
        else:
            line = "row" if r.through[0][0].across else "column"
            how = f"the sum of its {line}" if r.is_total else f"the {line} total"
        verb = "is" if len(r.after) == 1 else "are"
        after = f" once {self.cells(r.after)} {verb} worked out" if r.after else ""
        return f"{self.cells([r.cell])} = {r.value:g} from {how}{after}"


def _listed(reasons: list[str]) -> str:
    more = len(reasons) - CELLS_SHOWN
    return "; ".join(reasons[:CELLS_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _usable_margins(
    table: CsvTable, values: np.ndarray, names: _Names
) -> tuple[list[_Lines], list[FileFinding]]:
    """The margins whose totals are sums of their cells, and a review for each that is not."""
    margins, findings = [], []
    for lines in _margin_lines(table):
        wrong = _not_adding_up(lines, values)
        if wrong is None:
            margins.append(lines)
            continue
        where = names.rows[wrong] if lines.across else names.columns[wrong]
        findings.append(
            FileFinding(
                REVIEW,
                "totals",
                f"the {'row' if lines.across else 'column'} total of {where!r} is not the sum "
                "of its cells, so havenkit cannot tell whether the suppressed cells can be worked "
                "out from the totals: an output checker must review it",
            )
        )
    return margins, findings


def _jointly_small(
    margins: list[_Lines], values: np.ndarray, names: _Names, config: SdcConfig
) -> list[FileFinding]:
    """The lines with two or more suppressed cells that their total shows add up to a count
    that fails, so that each of them is known to fail too."""
    groups = []
    for lines in margins:
        parts, totals = lines.parts_and_totals(values)
        missing = np.isnan(parts)
        rest = totals - np.nansum(parts, axis=1)
        for k in np.flatnonzero((missing.sum(axis=1) >= 2) & _disclosive(rest, config)):
            hidden = np.flatnonzero(missing[k])
            cells = list(
                zip(
                    lines.part_rows[k, hidden].tolist(),
                    lines.part_columns[k, hidden].tolist(),
                    strict=True,
                )
            )
            line = "row" if lines.across else "column"
            groups.append(
                (
                    cells,
                    " and ".join(names.cells([cell]) for cell in cells)
                    + f" together = {rest[k]:g} from the {line} total",
                )
            )
    if not groups:
        return []
    return [
        FileFinding(
            FAIL,
            "suppressed together",
            f"{len(groups)} row{'s' if len(groups) != 1 else ''} or columns whose suppressed "
            f"cells the totals show add up to below {config.safe_threshold} (so each is below "
            f"it too): {_listed([reason for _, reason in groups])}; suppress cells so that the "
            f"suppressed cells of each row and column add up to at least {config.safe_threshold}",
            tuple(dict.fromkeys(names.cell(cell) for cells, _ in groups for cell in cells)),
        )
    ]


def margin_findings(table: CsvTable, config: SdcConfig, rows: list[str]) -> list[FileFinding]:
    """Suppressed cells that the table's totals give back, alone or a line's suppressed cells
    together, when what they give back fails the threshold or zeros rule."""
    columns = table.value_columns
    if not table.suppressed[columns].to_numpy().any():
        return []
    values = table.numbers[columns].to_numpy(dtype=float)
    names = _Names(rows, columns)
    margins, findings = _usable_margins(table, values, names)
    recovered, filled = _recover(values, margins)
    together, filled, solved = _recover_together(filled, margins)
    recovered += together
    if not solved:
        findings.append(
            FileFinding(
                REVIEW,
                "totals",
                "the totals are not laid out as the rows and columns of one table (a cell "
                "counts in more than one total each way), so havenkit cannot tell what they "
                "give back together: an output checker must review the suppression",
            )
        )
    negative = next((r for r in recovered if r.value < 0), None)
    if negative is not None:
        # Only totals that are not sums give a count below zero back.
        findings.append(
            FileFinding(
                REVIEW,
                "totals",
                f"working {names.cells([negative.cell])} out from the totals gives "
                f"{negative.value:g}, so the totals are not sums of the cells: an output "
                "checker must review whether the suppressed cells can be worked out",
            )
        )
    given_back = [r for r in recovered if r.value >= 0 and _disclosive(r.value, config)]
    if given_back:
        findings.append(
            FileFinding(
                FAIL,
                "suppression",
                f"{len(given_back)} suppressed cell{'s' if len(given_back) != 1 else ''} "
                f"the totals give back below {config.safe_threshold}"
                f"{' or zero' if config.zeros_are_disclosive else ''}: "
                f"{_listed([names.recovered(r) for r in given_back])}; suppress a second cell "
                "in each of those rows and columns (secondary suppression) or remove the totals",
                tuple(names.cell(r.cell) for r in given_back),
            )
        )
    return findings + _jointly_small(margins, filled, names, config)
