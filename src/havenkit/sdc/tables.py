"""``crosstab`` and ``pivot_table``: pandas' calls, with every cell checked before it leaves.

A table is a grid of cells: each row is one combination of the index variables, each column
one combination of the column variables, all combinations shown (as ``pd.crosstab`` with
``dropna=False`` and as ACRO does), because a missing row would itself say that a count is
zero. Records are numbered by cell once; :mod:`havenkit.sdc.cells` computes every statistic in
one grouped pass and :mod:`havenkit.sdc.rules` turns them into masks.

Suppression removes the records of every failing cell and recomputes from what remains, so a
margin is the total of the cells shown and never reveals a suppressed one. Rounding rounds the
cells and then adds up the rounded cells for the margins.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from havenkit.sdc import cells as cellstats
from havenkit.sdc import rules
from havenkit.sdc.cells import CellStats
from havenkit.sdc.config import SdcConfig, default_config
from havenkit.sdc.output import Check, Output

AGGFUNCS = ("count", "sum", "mean", "median", "min", "max", "std", "mode")
# Statistics whose cells add up, so that rounded cells can make rounded margins.
_ADDITIVE = ("count", "sum")


@dataclass(frozen=True)
class _Axis:
    """One side of a table: each record's position along it (-1 when a key is missing)."""

    codes: np.ndarray
    labels: pd.Index

    @property
    def size(self) -> int:
        return len(self.labels)


def _keys(axis: Any, prefix: str) -> list[pd.Series]:
    """Accept what pandas accepts for an axis: a Series, an array, a frame, or a list of them."""
    if axis is None:
        return []
    if isinstance(axis, pd.DataFrame):
        items: list[Any] = [axis[column] for column in axis]
    elif isinstance(axis, list | tuple):
        items = list(axis)
    else:
        items = [axis]
    keys = []
    for position, item in enumerate(items):
        key = item if isinstance(item, pd.Series) else pd.Series(np.asarray(item))
        keys.append(key if key.name is not None else key.rename(f"{prefix}_var{position}"))
    return keys


def _sorted_factorize(key: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes numbering the key's values in sorted order (-1 for missing), and those values.

    Factorising unsorted and sorting the few distinct values afterwards is a third faster
    than ``pd.factorize(sort=True)`` on a million strings.
    """
    codes, uniques = pd.factorize(key)
    if len(uniques) == 0:
        return codes.astype(np.int64), pd.Index(uniques)
    sorted_uniques, order = pd.Index(uniques).sort_values(return_indexer=True)
    # One gather renumbers every record: the extra last entry is where a missing value's
    # code (-1) lands, so no second pass over the records is needed to keep it missing.
    rank = np.empty(len(order) + 1, np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1
    return rank[codes], sorted_uniques


def _axis(keys: list[pd.Series], length: int, single_label: str) -> _Axis:
    """Codes and labels of one side; every combination of the keys' values is a label."""
    if not keys:
        return _Axis(np.zeros(length, np.int64), pd.Index([single_label]))
    codes: np.ndarray | None = None
    levels = []
    for key in keys:
        if isinstance(key.dtype, pd.CategoricalDtype):
            key_codes, uniques = key.cat.codes.to_numpy(np.int64), key.cat.categories
        else:
            key_codes, uniques = _sorted_factorize(key)
        if codes is None:
            codes = key_codes
        else:
            missing = (codes < 0) | (key_codes < 0)
            codes = np.where(missing, -1, codes * len(uniques) + key_codes)
        levels.append(uniques)
    if len(keys) == 1:
        labels = pd.Index(levels[0], name=keys[0].name)
    else:
        labels = pd.MultiIndex.from_product(levels, names=[key.name for key in keys])
    return _Axis(codes, labels)


def _with_margin(labels: pd.Index, margins_name: str) -> pd.Index:
    if isinstance(labels, pd.MultiIndex):
        margin = (margins_name, *[""] * (labels.nlevels - 1))
        return labels.append(pd.MultiIndex.from_tuples([margin], names=labels.names))
    return labels.append(pd.Index([margins_name], name=labels.name))


def _assemble(
    inner: CellStats,
    rows: CellStats,
    columns: CellStats,
    grand: CellStats,
    n_rows: int,
    n_columns: int,
) -> CellStats:
    """One grid of statistics: the cells, a margin column, and a margin row with the total."""
    parts = {}
    for name in (f.name for f in fields(CellStats)):
        blocks = [getattr(stats, name) for stats in (inner, rows, columns, grand)]
        if any(block is None for block in blocks):
            parts[name] = None
            continue
        extra = blocks[0].shape[1:]
        grid = np.concatenate(
            [
                np.concatenate(
                    [
                        blocks[0].reshape(n_rows, n_columns, *extra),
                        blocks[1].reshape(n_rows, 1, *extra),
                    ],
                    axis=1,
                ),
                np.concatenate(
                    [blocks[2].reshape(1, n_columns, *extra), blocks[3].reshape(1, 1, *extra)],
                    axis=1,
                ),
            ],
            axis=0,
        )
        parts[name] = grid.reshape((n_rows + 1) * (n_columns + 1), *extra)
    return CellStats(**parts)


def _grid(
    cell: np.ndarray,
    values: np.ndarray | None,
    n_rows: int,
    n_columns: int,
    margins: bool,
    aggfuncs: Sequence[str],
    config: SdcConfig,
) -> CellStats:
    """Statistics of every cell, and of the margins when asked for."""
    options = {
        "top_n": max(2, config.safe_nk_n),
        "median": "median" in aggfuncs,
        "mode": "mode" in aggfuncs,
    }
    inner = cellstats.compute(cell, n_rows * n_columns, values, **options)
    if not margins:
        return inner
    if options["median"] or options["mode"]:
        # Medians and modes of a margin cannot be built from its cells: go back to the records.
        rows = cellstats.compute(cell // n_columns, n_rows, values, **options)
        columns = cellstats.compute(cell % n_columns, n_columns, values, **options)
        grand = cellstats.compute(np.zeros_like(cell), 1, values, **options)
    else:
        numbers = np.arange(n_rows * n_columns)
        rows = cellstats.merge(inner, numbers // n_columns, n_rows)
        columns = cellstats.merge(inner, numbers % n_columns, n_columns)
        grand = cellstats.merge(inner, np.zeros_like(numbers), 1)
    return _assemble(inner, rows, columns, grand, n_rows, n_columns)


def _statistic(aggfunc: str, stats: CellStats) -> np.ndarray:
    return {
        "count": lambda: stats.records,
        "sum": lambda: stats.total,
        "mean": lambda: stats.mean,
        "median": lambda: stats.median,
        "min": lambda: stats.minimum,
        "max": lambda: stats.maximum,
        "std": lambda: stats.std,
        "mode": lambda: stats.mode,
    }[aggfunc]()


def _round_with_margins(block: np.ndarray, base: int, margins: bool) -> np.ndarray:
    """Round the cells to ``base``; margins become the totals of the rounded cells."""
    if not margins:
        return base * np.round(block / base)
    inner = base * np.round(block[:-1, :-1] / base)
    rounded = np.empty_like(block, dtype=float)
    rounded[:-1, :-1] = inner
    rounded[:-1, -1] = np.nansum(inner, axis=1)
    rounded[-1, :-1] = np.nansum(inner, axis=0)
    rounded[-1, -1] = np.nansum(inner)
    return rounded


@dataclass(frozen=True)
class _Request:
    """A table call, normalised: keys, values and what to compute."""

    method: str
    row_keys: list[pd.Series]
    column_keys: list[pd.Series]
    values: pd.Series | None
    aggfuncs: list[str]
    margins: bool
    margins_name: str
    suppress: bool
    round: bool
    config: SdcConfig
    command: str


def _aggfuncs(aggfunc: str | Sequence[str] | None, values: Any) -> list[str]:
    names = (
        ["count"] if aggfunc is None else [aggfunc] if isinstance(aggfunc, str) else list(aggfunc)
    )
    unknown = [name for name in names if name not in AGGFUNCS]
    if unknown or not names:
        raise ValueError(
            f"aggfunc {', '.join(map(repr, unknown)) or 'list is empty'}: "
            f"use one or a list of {', '.join(AGGFUNCS)}."
        )
    if values is None and names != ["count"]:
        raise ValueError(f"aggfunc {names} needs values: the variable to summarise.")
    return names


def _names(keys: list[pd.Series]) -> list[str]:
    return [str(key.name) for key in keys]


def _suppress(
    request: _Request,
    findings: dict[str, list[rules.Finding]],
    cell: np.ndarray,
    values: np.ndarray | None,
    rows: _Axis,
    columns: _Axis,
    stats: CellStats,
) -> tuple[CellStats, np.ndarray, dict[str, list[rules.Finding]]]:
    """Remove the records of every failing cell and recompute the grid from what remains.

    Returns the new statistics, the cells to blank (the failing cells, and any margin left
    with no record) and the rules applied again, so anything still failing is reported.
    """
    shape = (rows.size + request.margins, columns.size + request.margins)
    inner = np.zeros(shape, bool)
    inner[: rows.size, : columns.size] = True
    failing = np.zeros(shape, bool)
    for finding in (f for group in findings.values() for f in group):
        if finding.status == rules.FAIL:
            failing |= finding.mask.reshape(shape) & inner
    if not failing.any():
        return stats, failing, findings
    keep = ~failing[: rows.size, : columns.size].ravel()[cell]
    kept_values = None if values is None else values[keep]
    stats = _grid(
        cell[keep],
        kept_values,
        rows.size,
        columns.size,
        request.margins,
        request.aggfuncs,
        request.config,
    )
    suppressed = failing | (~inner & (stats.records.reshape(shape) == 0))
    return stats, suppressed, {f: rules.apply(f, stats, request.config) for f in request.aggfuncs}


def _tabulate(request: _Request) -> Output:
    """Compute, check and (when asked) mitigate one table."""
    config = request.config
    if request.round and not set(request.aggfuncs) <= set(_ADDITIVE):
        raise ValueError(
            "Rounding applies to counts and sums, whose rounded cells still add up to the "
            f"margins; {', '.join(request.aggfuncs)} cannot be rounded that way. Use suppress."
        )
    length = len(request.row_keys[0])
    rows = _axis(request.row_keys, length, "")
    single = str(request.values.name) if request.values is not None else "count"
    columns = _axis(request.column_keys, length, single)
    present = (rows.codes >= 0) & (columns.codes >= 0)
    cell = (rows.codes * columns.size + columns.codes)[present]
    values = None
    if request.values is not None:
        values = pd.to_numeric(request.values, errors="raise").to_numpy(float)[present]

    n_rows, n_columns = rows.size + request.margins, columns.size + request.margins
    stats = _grid(cell, values, rows.size, columns.size, request.margins, request.aggfuncs, config)
    findings = {f: rules.apply(f, stats, config) for f in request.aggfuncs}

    suppressed = np.zeros((n_rows, n_columns), bool)
    after = findings
    if request.suppress:
        stats, suppressed, after = _suppress(request, findings, cell, values, rows, columns, stats)

    row_labels = _with_margin(rows.labels, request.margins_name) if request.margins else rows.labels
    column_labels = (
        _with_margin(columns.labels, request.margins_name) if request.margins else columns.labels
    )
    blocks = []
    for aggfunc in request.aggfuncs:
        block = _statistic(aggfunc, stats).reshape(n_rows, n_columns).astype(float)
        if request.round:
            block = _round_with_margins(block, config.safe_round_base, request.margins)
        block[suppressed] = np.nan
        blocks.append(pd.DataFrame(block, index=row_labels, columns=column_labels))
    if len(blocks) == 1:
        table = blocks[0]
        if request.aggfuncs == ["count"] and not suppressed.any() and not request.round:
            table = table.astype(np.int64)
    else:
        table = pd.concat(blocks, axis=1, keys=request.aggfuncs)

    mitigation, exception = "none", ""
    if request.suppress:
        mitigation = "suppress"
        if suppressed.any():
            exception = f"suppression applied: {int(suppressed.sum())} cells suppressed"
    if request.round:
        mitigation = "round" if not request.suppress else "suppress and round"
        exception = "; ".join(
            filter(None, [exception, f"rounding applied to base {config.safe_round_base}"])
        )
    checks = _checks(request, findings, after, suppressed, (n_rows, n_columns), table)
    return Output(
        kind="table",
        method=request.method,
        table=table,
        checks=checks,
        command=request.command,
        mitigation=mitigation,
        exception=exception,
        properties={
            "method": request.method,
            "mitigation": mitigation,
            "aggfunc": request.aggfuncs,
        },
    )


def _checks(
    request: _Request,
    before: dict[str, list[rules.Finding]],
    after: dict[str, list[rules.Finding]],
    suppressed: np.ndarray,
    shape: tuple[int, int],
    table: pd.DataFrame,
) -> list[Check]:
    """One Check per rule, its cells gathered across the statistics of the table.

    A fail that suppression removed, or that rounding changed, is left for review: the output
    checker sees what was done and where. Anything still failing afterwards stays a fail.
    """
    checks: dict[str, Check] = {}
    for block, aggfunc in enumerate(request.aggfuncs):
        for found, remains in zip(before[aggfunc], after[aggfunc], strict=True):
            flagged = found.mask.reshape(shape)
            # Rounding alone removes nothing: what it changed is left for review, not re-failed.
            rounded_only = request.round and not request.suppress and found.status == rules.FAIL
            still = remains.mask.reshape(shape) & ~suppressed & ~rounded_only
            check = checks.setdefault(found.check, Check(found.check, rules.PASS, found.reason))
            if found.reason not in check.reason:
                check.reason += f"; {found.reason}"
            where = np.argwhere(flagged | still)
            rows, columns = where[:, 0], where[:, 1] + block * shape[1]
            check.positions += zip(rows.tolist(), columns.tolist(), strict=True)
            check.cells += zip(
                table.index[rows].tolist(), table.columns[columns].tolist(), strict=True
            )
            if still.any():
                status = found.status
            elif flagged.any():
                status = rules.REVIEW if request.suppress or request.round else found.status
            else:
                status = rules.PASS
            check.status = rules.overall([check.status, status])
    for check in checks.values():
        if check.status == rules.REVIEW and check.positions and (request.suppress or request.round):
            mitigation = "suppressed" if request.suppress else "rounded"
            if mitigation not in check.reason:
                check.reason += f"; {mitigation}"
    return list(checks.values())


def _command(method: str, request_parts: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in request_parts.items() if v not in (None, False))
    return f"{method}({shown})"


def crosstab(
    index: Any,
    columns: Any,
    values: Any = None,
    aggfunc: str | Sequence[str] | None = None,
    margins: bool = False,
    margins_name: str = "All",
    *,
    suppress: bool = False,
    round: bool = False,
    config: SdcConfig | None = None,
) -> Output:
    """``pd.crosstab`` with disclosure checks: counts by default, or ``aggfunc`` of ``values``.

    ``index`` and ``columns`` take a Series or a list of them (several variables per side).
    """
    row_keys, column_keys = _keys(index, "row"), _keys(columns, "col")
    if not row_keys or not column_keys:
        raise ValueError("crosstab needs at least one index and one columns variable.")
    value_series = None
    if values is not None:
        value_series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
        value_series = value_series.rename(value_series.name or "values")
    aggfuncs = _aggfuncs(aggfunc, value_series)
    command = _command(
        "crosstab",
        {
            "index": _names(row_keys),
            "columns": _names(column_keys),
            "values": None if value_series is None else value_series.name,
            "aggfunc": aggfunc,
            "margins": margins,
            "suppress": suppress,
            "round": round,
        },
    )
    return _tabulate(
        _Request(
            "crosstab",
            row_keys,
            column_keys,
            value_series,
            aggfuncs,
            margins,
            margins_name,
            suppress,
            round,
            config or default_config(),
            command,
        )
    )


def pivot_table(
    data: pd.DataFrame,
    values: str | None = None,
    index: str | Sequence[str] | None = None,
    columns: str | Sequence[str] | None = None,
    aggfunc: str | Sequence[str] = "mean",
    margins: bool = False,
    margins_name: str = "All",
    *,
    suppress: bool = False,
    round: bool = False,
    config: SdcConfig | None = None,
) -> Output:
    """``pd.pivot_table`` with disclosure checks; variables are named columns of ``data``."""

    def named(names: str | Sequence[str] | None) -> list[pd.Series]:
        chosen = [] if names is None else [names] if isinstance(names, str) else list(names)
        missing = [name for name in chosen if name not in data.columns]
        if missing:
            raise ValueError(f"pivot_table: no column {', '.join(missing)} in the data.")
        return [data[name] for name in chosen]

    row_keys = named(index)
    if not row_keys:
        raise ValueError("pivot_table needs at least one index variable.")
    value_series = named(values)[0] if values is not None else None
    aggfuncs = _aggfuncs(aggfunc, value_series)
    command = _command(
        "pivot_table",
        {
            "values": values,
            "index": index,
            "columns": columns,
            "aggfunc": aggfunc,
            "margins": margins,
            "suppress": suppress,
            "round": round,
        },
    )
    return _tabulate(
        _Request(
            "pivot_table",
            row_keys,
            named(columns),
            value_series,
            aggfuncs,
            margins,
            margins_name,
            suppress,
            round,
            config or default_config(),
            command,
        )
    )
