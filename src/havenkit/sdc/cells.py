"""Every statistic the disclosure rules need for each cell of a table, in one grouped pass.

ACRO recomputes the whole table once per check and queries the records once per failing cell.
Here each record carries its cell number; ``np.bincount`` gives every cell's count, sum and
spread, ``np.maximum.at`` its largest contributors, and only medians and modes sort the
records by (cell, value). The rules in :mod:`havenkit.sdc.rules` are masks over these arrays.

Cells are numbered ``0 .. n_cells - 1`` by the caller; a record's cell is its number.
"""

from dataclasses import dataclass

import numpy as np

# Below this many cells the cell numbers fit in 16 bits, where numpy's stable sort is a radix
# sort: several times faster than sorting 64-bit keys.
_RADIX_CELLS = 2**16


@dataclass(frozen=True)
class CellStats:
    """Per-cell statistics; every array has one entry per cell.

    ``records`` counts every record in the cell (ACRO's count, the number of contributors);
    the others use only records whose value is not missing. ``top`` holds the largest values,
    largest first, NaN where a cell has fewer values than columns.
    """

    records: np.ndarray
    values: np.ndarray | None = None
    total: np.ndarray | None = None
    squares: np.ndarray | None = None  # sum of squared deviations from the cell mean
    negatives: np.ndarray | None = None
    top: np.ndarray | None = None
    minimum: np.ndarray | None = None
    median: np.ndarray | None = None
    mode: np.ndarray | None = None

    @property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.values > 0, self.total / self.values, np.nan)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation (ddof 1), as pandas gives it."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.values > 1, np.sqrt(self.squares / (self.values - 1)), np.nan)

    @property
    def maximum(self) -> np.ndarray:
        return self.top[:, 0]

    def top_sum(self, n: int) -> np.ndarray:
        """The sum of the n largest values of each cell (fewer where the cell has fewer)."""
        return np.nansum(self.top[:, :n], axis=1)


def _sorted_by_cell(cells: np.ndarray, values: np.ndarray, n_cells: int) -> np.ndarray:
    """The order that sorts records by cell, and by value within a cell."""
    by_value = np.argsort(values)
    keys = cells[by_value]
    if n_cells <= _RADIX_CELLS:
        keys = keys.astype(np.uint16)
    return by_value[np.argsort(keys, kind="stable")]


def _modes(cells: np.ndarray, values: np.ndarray, n_cells: int) -> np.ndarray:
    """The most frequent value of each cell, the smallest when several tie (sorted input)."""
    result = np.full(n_cells, np.nan)
    if len(values) == 0:
        return result
    starts = np.flatnonzero(
        np.concatenate(([True], (cells[1:] != cells[:-1]) | (values[1:] != values[:-1])))
    )
    lengths = np.diff(np.append(starts, len(values)))
    run_cells = cells[starts]
    # Longest run first within each cell; lexsort is stable, so ties keep the smaller value.
    order = np.lexsort((-lengths, run_cells))
    first = order[np.concatenate(([True], run_cells[order][1:] != run_cells[order][:-1]))]
    result[run_cells[first]] = values[starts[first]]
    return result


def _largest(cells: np.ndarray, values: np.ndarray, n_cells: int, n: int) -> np.ndarray:
    """The n largest values of each cell, largest first, NaN where a cell has fewer.

    Each round takes every cell's maximum (``np.maximum.at``, a few milliseconds for a million
    records) and removes one record holding it, so no sort is needed.
    """
    remaining = values.copy()
    top = np.full((n_cells, n), np.nan)
    for j in range(n):
        best = np.full(n_cells, -np.inf)
        np.maximum.at(best, cells, remaining)
        found = best > -np.inf
        top[found, j] = best[found]
        holders = np.flatnonzero((remaining == best[cells]) & found[cells])
        _, first = np.unique(cells[holders], return_index=True)
        remaining[holders[first]] = -np.inf
    return top


def _medians(values: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The median of each cell, from records sorted by cell and then value."""
    starts = np.cumsum(count) - count
    low, high = starts + (count - 1) // 2, starts + count // 2
    valid = count > 0

    def pick(positions: np.ndarray) -> np.ndarray:
        return np.where(valid, values[np.where(valid, positions, 0)], np.nan)

    return (pick(low) + pick(high)) / 2


def compute(
    cells: np.ndarray,
    n_cells: int,
    values: np.ndarray | None = None,
    *,
    top_n: int = 2,
    median: bool = False,
    mode: bool = False,
) -> CellStats:
    """All statistics for each cell from its records' cell numbers and values.

    Only medians and modes need the records sorted within each cell; the rest are sums and
    running maxima over the records as they come.
    """
    records = np.bincount(cells, minlength=n_cells)
    if values is None:
        return CellStats(records=records)
    present = ~np.isnan(values)
    cells, values = cells[present], values[present]

    count = np.bincount(cells, minlength=n_cells)
    total = np.bincount(cells, weights=values, minlength=n_cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    deviations = values - mean[cells]
    squares = np.bincount(cells, weights=deviations * deviations, minlength=n_cells)
    negatives = np.bincount(cells, weights=values < 0, minlength=n_cells).astype(np.int64)
    minimum = np.full(n_cells, np.inf)
    np.minimum.at(minimum, cells, values)

    medians = modes = None
    if median or mode:
        order = _sorted_by_cell(cells, values, n_cells)
        sorted_cells, sorted_values = cells[order], values[order]
        medians = _medians(sorted_values, count) if median else None
        modes = _modes(sorted_cells, sorted_values, n_cells) if mode else None
    return CellStats(
        records=records,
        values=count,
        total=np.where(count > 0, total, np.nan),
        squares=squares,
        negatives=negatives,
        top=_largest(cells, values, n_cells, top_n),
        minimum=np.where(count > 0, minimum, np.nan),
        median=medians,
        mode=modes,
    )


def merge(stats: CellStats, groups: np.ndarray, n_groups: int) -> CellStats:
    """Statistics of groups of cells (a table's margins) from the cells' own statistics.

    Counts and sums add; the largest values of a group are the largest of its cells' largest
    values; squared deviations combine by the parallel-variance formula. Medians and modes do
    not combine, so margins of those are computed from the records (see ``compute``).
    """
    records = np.bincount(groups, weights=stats.records, minlength=n_groups).astype(np.int64)
    if stats.values is None:
        return CellStats(records=records)
    count = np.bincount(groups, weights=stats.values, minlength=n_groups).astype(np.int64)
    cell_total = np.nan_to_num(stats.total)
    total = np.bincount(groups, weights=cell_total, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        group_mean = total / count
        cell_mean = np.nan_to_num(cell_total / stats.values)
    spread = stats.squares + stats.values * (cell_mean - group_mean[groups]) ** 2
    squares = np.bincount(groups, weights=np.nan_to_num(spread), minlength=n_groups)

    top_n = stats.top.shape[1]
    candidates = stats.top.ravel()
    owners = np.repeat(groups, top_n)
    order = np.lexsort((np.nan_to_num(candidates, nan=-np.inf), owners))
    candidates, owners = candidates[order], owners[order]
    ends = np.cumsum(np.bincount(owners, minlength=n_groups))
    size = np.bincount(owners, minlength=n_groups)
    top = np.full((n_groups, top_n), np.nan)
    for j in range(top_n):
        valid = size > j
        top[valid, j] = candidates[ends[valid] - 1 - j]
    minimum = np.full(n_groups, np.inf)
    np.minimum.at(minimum, groups, np.nan_to_num(stats.minimum, nan=np.inf))
    return CellStats(
        records=records,
        values=count,
        total=np.where(count > 0, total, np.nan),
        squares=squares,
        negatives=np.bincount(groups, weights=stats.negatives, minlength=n_groups).astype(np.int64),
        top=top,
        minimum=np.where(np.isinf(minimum), np.nan, minimum),
    )
