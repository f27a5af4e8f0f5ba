"""The disclosure rules, each a vectorised mask over a table's cell statistics.

Which rules apply to which statistic follows ACRO 1.0.2 (its ``statbarns`` ontology), with
its gaps closed: the mode and min/max need enough contributors, and a min or max always goes
to a person because it is one record's value. Check names are ACRO's, so a checker who knows
the SACRO viewer reads them unchanged.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from havenkit.sdc.cells import CellStats
from havenkit.sdc.config import SdcConfig

PASS, REVIEW, FAIL = "pass", "review", "fail"

THRESHOLD = "MinimumThresholdCheck"
ZEROS = "PresenceOfZeroCheck"
DOMINANCE = "NKCheck"
P_RATIO = "PPercentCheck"
NEGATIVES = "NegativeValuesCheck"
DEGREES_OF_FREEDOM = "MinimumDoFCheck"
REVEALS_RECORD = "RevealsRecordCheck"


@dataclass(frozen=True)
class Finding:
    """One rule applied to every cell: the cells it flags, the status they get and why."""

    check: str
    status: str
    reason: str
    mask: np.ndarray


Rule = Callable[[CellStats, SdcConfig], Finding]


def threshold(stats: CellStats, config: SdcConfig) -> Finding:
    return Finding(
        THRESHOLD,
        FAIL,
        f"fewer than {config.safe_threshold} records contribute",
        stats.records < config.safe_threshold,
    )


def zeros(stats: CellStats, config: SdcConfig) -> Finding:
    return Finding(
        ZEROS,
        FAIL,
        "no record contributes: an empty cell says that nobody has this combination",
        stats.records == 0 if config.zeros_are_disclosive else np.zeros_like(stats.records, bool),
    )


def negatives(stats: CellStats, config: SdcConfig) -> Finding:
    return Finding(
        NEGATIVES,
        REVIEW,
        "negative values make dominance undefined, so a person must judge the cell",
        stats.negatives > 0,
    )


def dominance(stats: CellStats, config: SdcConfig) -> Finding:
    n, k = config.safe_nk_n, config.safe_nk_k
    with np.errstate(invalid="ignore", divide="ignore"):
        share = stats.top_sum(n) / stats.total
    return Finding(
        DOMINANCE,
        FAIL,
        f"the largest {n} contributors make up {k:.0%} or more of the total",
        (share >= k) & (stats.negatives == 0),
    )


def p_ratio(stats: CellStats, config: SdcConfig) -> Finding:
    largest = stats.maximum
    rest = stats.total - stats.top_sum(2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(largest == 0, rest, rest / largest)
    ratio = np.nan_to_num(ratio, nan=1.0)
    return Finding(
        P_RATIO,
        FAIL,
        f"the contributors after the largest two add up to less than {config.safe_pratio_p:.0%} "
        "of the largest, so the second largest could estimate it",
        (ratio < config.safe_pratio_p) & (stats.negatives == 0),
    )


def degrees_of_freedom(stats: CellStats, config: SdcConfig) -> Finding:
    return Finding(
        DEGREES_OF_FREEDOM,
        FAIL,
        f"fewer than {config.safe_dof_threshold} degrees of freedom (records - 1)",
        stats.records - 1 < config.safe_dof_threshold,
    )


def reveals_record(stats: CellStats, config: SdcConfig) -> Finding:
    return Finding(
        REVEALS_RECORD,
        REVIEW,
        "a minimum or maximum is one person's own value: an output checker must agree it can go",
        stats.records > 0,
    )


RULES: dict[str, tuple[Rule, ...]] = {
    "count": (threshold, zeros),
    "sum": (threshold, negatives, dominance, p_ratio),
    "mean": (threshold, negatives, dominance, p_ratio),
    "median": (threshold, zeros),
    "mode": (threshold, zeros),
    "min": (threshold, zeros, reveals_record),
    "max": (threshold, zeros, reveals_record),
    "std": (degrees_of_freedom,),
}


def apply(aggfunc: str, stats: CellStats, config: SdcConfig) -> list[Finding]:
    """Every rule that applies to this statistic, over every cell."""
    return [rule(stats, config) for rule in RULES[aggfunc]]


def overall(statuses: list[str]) -> str:
    """Any fail is a fail; else any review is a review; else pass."""
    if FAIL in statuses:
        return FAIL
    return REVIEW if REVIEW in statuses else PASS
