"""Benchmark: havenkit.sdc against ACRO (PyPI ``acro``) and a plain ``pd.crosstab``.

Run ``python -m bench.sdc``. Synthetic records, seed 42: region (10 levels, Zipf 1.0), diag
(50 levels, Zipf 2.0), agegrp (25 levels, Zipf 1.5), cost (lognormal 7, 1.2). Cases: counts and
mean cost for region x diag and (region, agegrp) x diag, each with checks only and with
suppression. For each: seconds for pandas, havenkit and ACRO, the ratios, peak memory
(tracemalloc, measured in a separate run so it does not slow the timings), and whether both
tools flag (or suppress) exactly the same cells.

ACRO's suppression queries all the records once per failing cell, so on the 3-way tables it
takes many minutes; it is timed on ``--acro-suppression-rows`` records instead, and havenkit
is timed again on the same records for that comparison. The table says so.
"""

import argparse
import contextlib
import logging
import os
import platform
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from havenkit import sdc

SEED = 42
SHARED_CHECKS = ("MinimumThresholdCheck", "PresenceOfZeroCheck", "NKCheck", "PPercentCheck")


def synthetic(rows: int, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def zipf(levels: int, exponent: float, prefix: str) -> np.ndarray:
        weights = 1 / np.arange(1, levels + 1) ** exponent
        labels = np.array([f"{prefix}{i:02d}" for i in range(1, levels + 1)])
        return labels[rng.choice(levels, size=rows, p=weights / weights.sum())]

    return pd.DataFrame(
        {
            "region": zipf(10, 1.0, "R"),
            "diag": zipf(50, 2.0, "D"),
            "agegrp": zipf(25, 1.5, "A"),
            "cost": rng.lognormal(7, 1.2, rows),
        }
    )


@dataclass(frozen=True)
class Case:
    name: str
    three_way: bool
    mean: bool

    def arguments(self, data: pd.DataFrame) -> tuple[tuple, dict[str, Any]]:
        index = [data.region, data.agegrp] if self.three_way else data.region
        kwargs = {"values": data.cost, "aggfunc": "mean"} if self.mean else {}
        return (index, data.diag), kwargs


CASES = (
    Case("counts region x diag", three_way=False, mean=False),
    Case("mean cost region x diag", three_way=False, mean=True),
    Case("counts (region, agegrp) x diag", three_way=True, mean=False),
    Case("mean cost (region, agegrp) x diag", three_way=True, mean=True),
)


def timed(call: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The best of ``repeat`` wall-clock times, and the last result.

    The best, not the mean: on a shared machine the other users only ever add time.
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_mib(call: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@contextlib.contextmanager
def quiet_acro():
    """ACRO logs every table it makes; a benchmark only wants its timings."""
    logging.disable(logging.INFO)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def acro_call(case: Case, data: pd.DataFrame, suppress: bool) -> Callable[[], Any]:
    from acro import ACRO  # the baseline is a dev dependency, not havenkit's

    def call() -> tuple[pd.DataFrame, dict]:
        with quiet_acro():
            session = ACRO(suppress=suppress)
            args, kwargs = case.arguments(data)
            table = session.crosstab(*args, **kwargs)
            record = session.results.get(f"output_{session.results.output_id - 1}")
        return table, record.sdc["cells"]

    return call


def havenkit_call(case: Case, data: pd.DataFrame, suppress: bool) -> Callable[[], sdc.Output]:
    args, kwargs = case.arguments(data)
    return lambda: sdc.crosstab(*args, **kwargs, suppress=suppress)


def pandas_call(case: Case, data: pd.DataFrame) -> Callable[[], pd.DataFrame]:
    args, kwargs = case.arguments(data)
    return lambda: pd.crosstab(*args, **kwargs)


def same_flags(ours: sdc.Output, theirs: dict) -> bool:
    flagged = {check.name: sorted(check.positions) for check in ours.checks}
    return all(
        flagged.get(name, []) == sorted(map(tuple, theirs[name]))
        for name in SHARED_CHECKS
        if name in theirs
    )


def same_suppressed(ours: sdc.Output, theirs: pd.DataFrame) -> bool:
    return bool(
        (ours.table.isna().to_numpy() == theirs.reindex_like(ours.table).isna().to_numpy()).all()
    )


@dataclass
class Row:
    case: str
    mode: str
    rows: int
    pandas: float
    havenkit: float
    acro: float | None
    havenkit_mib: float
    acro_mib: float | None
    identical: bool | None

    def cells(self) -> list[str]:
        return [
            self.case,
            self.mode,
            f"{self.rows:,}",
            f"{self.pandas:.3f}",
            f"{self.havenkit:.3f}",
            "-" if self.acro is None else f"{self.acro:.2f}",
            "-" if self.acro is None else f"{self.acro / self.havenkit:,.0f}x",
            f"{self.havenkit / self.pandas:.2f}x",
            f"{self.havenkit_mib:,.0f}",
            "-" if self.acro_mib is None else f"{self.acro_mib:,.0f}",
            {None: "-", True: "yes", False: "NO"}[self.identical],
        ]


HEADER = [
    "case",
    "mode",
    "rows",
    "pandas s",
    "havenkit s",
    "acro s",
    "acro/havenkit",
    "havenkit/pandas",
    "havenkit MiB",
    "acro MiB",
    "same cells",
]


def measure(case: Case, data: pd.DataFrame, suppress: bool, with_acro: bool = True) -> Row:
    """One line of the table; ``with_acro`` False times havenkit and pandas alone."""
    pandas_seconds, _ = timed(pandas_call(case, data), repeat=5)
    havenkit_seconds, ours = timed(havenkit_call(case, data, suppress), repeat=5)
    acro_seconds = identical = None
    if with_acro:
        acro_seconds, (acro_table, acro_cells) = timed(acro_call(case, data, suppress))
        identical = same_suppressed(ours, acro_table) if suppress else same_flags(ours, acro_cells)
    return Row(
        case=case.name,
        mode="suppress" if suppress else "checks",
        rows=len(data),
        pandas=pandas_seconds,
        havenkit=havenkit_seconds,
        acro=acro_seconds,
        havenkit_mib=peak_mib(havenkit_call(case, data, suppress)),
        # ACRO's memory is measured on checks only: its suppression takes minutes per run.
        acro_mib=peak_mib(acro_call(case, data, suppress)) if with_acro and not suppress else None,
        identical=identical,
    )


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--acro-suppression-rows",
        type=int,
        default=100_000,
        help="records on which ACRO's suppression of the 3-way tables is timed",
    )
    options = parser.parse_args(argv)
    data = synthetic(options.rows)
    fewer = data.iloc[: options.acro_suppression_rows].reset_index(drop=True)
    print(
        f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"
    )
    rows = []
    plan = [(case, data, False, True) for case in CASES]
    for case in CASES:
        if case.three_way:
            plan += [(case, data, True, False), (case, fewer, True, True)]
        else:
            plan.append((case, data, True, True))
    for case, records, suppress, with_acro in plan:
        rows.append(measure(case, records, suppress, with_acro))
        print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end\n")
    print(markdown(rows))
    print(
        f"\nACRO's suppression of the 3-way tables is timed on the first {len(fewer):,} records "
        "(havenkit too, on the same records, for the ratio): ACRO runs one query over all the "
        "records per failing cell, which takes many minutes on all of them."
    )


if __name__ == "__main__":
    main()
