"""Differencing across three or more tables: a cover minus the parts released beside it.

Pairwise differencing (:mod:`havenkit.sdc.differencing`) misses a count that only comes back
when three or more tables are put together: "patients by region" released, then "patients by
region, aged under 18", then "aged 18 to 64" as the new table: each pair differs by many
people, but the first minus the other two is the over-65s of each region, which nobody
released. This module searches such combinations, with a bound on their number so the cost
stays that of the pairwise comparisons.

**What is searched.** Only tables compared with the new one on the same groups: the same shared
label columns, each of the new table's labels standing for itself (or a total, or a band named
by its range), counts under the same column names. Among the new table N and such released
tables, per count column:

* every *triple* of N and two released tables A and B, as N minus A and B (N covers both),
  and A minus N and B (A covers N and B);
* for each table chosen as the cover (N or one released table), the *sum of every other table
  that fits inside it* (no larger in any group), N always among them when N is not the cover:
  the cover minus that sum, when it has at least three parts.

A combination is only read as a cover and its parts when what is left is zero or more in every
group both have (people are never fewer than none): unrelated tables rarely pass that, which
keeps coincidences out. What is left in a group, above zero and below the threshold, is a
recovered count, unless a pair of the same tables already reveals that group (the pairwise
finding names it) or an earlier combination did. A blank (suppressed) cell counts as zero, as
in pairwise differencing. The cost is the number of groups times the square of the number of
released tables per set of shared variables; the pairwise comparisons that give the groups cost
far more.

**Not searched.** Combinations of two or more parts besides the new table that are not every
part fitting the cover (a cover and four of its five released parts, when the fifth overlaps
another), differences of differences (N minus A plus B with no table covering the others),
chains through a table with other variables (N shares "sex" with A, A shares "region" with B),
tables lined up by re-banding or merging into an other-category of the new table, and sums and
means.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Margins:
    """The new and one released table's counts on the groups they were compared on.

    ``variables`` are the shared label columns the groups are made of; ``counts`` is indexed by
    (group, column) with the columns "new" and "released", blanks counted as zero.
    """

    variables: tuple[str, ...]
    counts: pd.DataFrame

    @classmethod
    def of(cls, variables: tuple[str, ...], differences: pd.DataFrame) -> "Margins":
        """From pairwise differences: each group's new count, and new minus the difference.

        Two groups whose labels join to the same name ("A / B" and "C", "A" and "B / C") are
        left out, as they cannot be told apart across tables.
        """
        found = differences.set_index(["group", "column"])
        found = found[~found.index.duplicated(keep=False)]
        released = found["new"] - found["difference"]
        return cls(variables, pd.DataFrame({"new": found["new"], "released": released}))


@dataclass(frozen=True)
class Combination:
    """Tables whose combination gives back small counts: the cover minus the parts.

    ``cover`` is a released table's name, or None when the new table is the cover; ``parts``
    are the released tables subtracted (the new table is one too when it is not the cover).
    ``cells`` are (group, column, recovered count).
    """

    cover: str | None
    parts: tuple[str, ...]
    cells: tuple[tuple[str, str, int], ...]


def combinations(margins: Mapping[str, Margins], threshold: int) -> list[Combination]:
    """Every combination the module docstring lists that reveals a count below ``threshold``.

    ``margins`` maps each released table's name to its margins with the new table.
    """
    by_variables: dict[tuple[str, ...], list[str]] = {}
    for name, margin in margins.items():
        by_variables.setdefault(margin.variables, []).append(name)
    found = []
    for names in by_variables.values():
        if len(names) >= 2:
            found += _Search(names, margins, threshold).run()
    return found


class _Search:
    """One set of tables on the same groups: a matrix of groups by released tables."""

    def __init__(self, names: list[str], margins: Mapping[str, Margins], threshold: int):
        released = pd.concat({name: margins[name].counts["released"] for name in names}, axis=1)
        new = pd.concat({name: margins[name].counts["new"] for name in names}, axis=1)
        self.names = names
        self.cells = released.index
        self.released = released.to_numpy(dtype=float)
        self.new = new.max(axis=1).to_numpy(dtype=float)
        self.threshold = threshold
        # Groups a pair of the new table and each released table already reveals.
        self.pairs = self._small(self.new[:, None] - self.released)
        self.done = np.zeros(len(self.cells), dtype=bool)

    def _small(self, left: np.ndarray) -> np.ndarray:
        size = np.abs(left)
        with np.errstate(invalid="ignore"):
            return (size > 0) & (size < self.threshold)

    @staticmethod
    def _left_over(left: np.ndarray) -> np.ndarray:
        """For each column of ``left``: whether it is what a cover leaves after its parts,
        zero or more wherever it is known, and known somewhere."""
        known = ~np.isnan(left)
        return ((left >= 0) | ~known).all(axis=0) & known.any(axis=0)

    def _take(self, cover: int | None, parts: list[int], left: np.ndarray) -> list[Combination]:
        """The combination, if it reveals groups no pair of its tables or earlier one did."""
        hits = self._small(left) & ~self.done
        hits &= ~self.pairs[:, [i for i in (cover, *parts) if i is not None]].any(axis=1)
        if not hits.any():
            return []
        self.done |= hits
        cells = tuple(
            (group, column, round(abs(value)))
            for (group, column), value in zip(self.cells[hits], left[hits], strict=True)
        )
        return [
            Combination(
                None if cover is None else self.names[cover],
                tuple(self.names[i] for i in parts),
                cells,
            )
        ]

    def _triples(self) -> list[Combination]:
        found = []
        for a in range(len(self.names)):
            counts = self.released[:, [a]]
            # The new table covers a and b (each pair once), or a covers the new table and b.
            for cover, left, first in (
                (None, self.new[:, None] - counts - self.released, a + 1),
                (a, counts - self.new[:, None] - self.released, 0),
            ):
                usable = self._left_over(left)
                usable[:first] = False
                usable[a] = False
                for b in np.flatnonzero(usable & self._small(left).any(axis=0)):
                    parts = [a, b] if cover is None else [b]
                    found += self._take(cover, parts, left[:, b])
        return found

    def _fits(self, part: np.ndarray, cover: np.ndarray) -> bool:
        with np.errstate(invalid="ignore"):
            return bool(((part <= cover) | np.isnan(part) | np.isnan(cover)).all())

    def _sums(self) -> list[Combination]:
        found = []
        for cover in [None, *range(len(self.names))]:
            whole = self.new if cover is None else self.released[:, cover]
            if cover is not None and not self._fits(self.new, whole):
                continue
            parts = [
                i
                for i in range(len(self.names))
                if i != cover and self._fits(self.released[:, i], whole)
            ]
            if len(parts) + (cover is not None) < 3:
                continue
            left = whole - self.released[:, parts].sum(axis=1)
            if cover is not None:
                left = left - self.new
            if self._left_over(left[:, None])[0]:
                found += self._take(cover, parts, left)
        return found

    def run(self) -> list[Combination]:
        return self._triples() + self._sums()
