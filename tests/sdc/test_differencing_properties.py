"""Differencing on random tables: every small recovered cell is flagged, and nothing else.

Each property builds records (as counts per combination of categories), makes two tables from
them the way a researcher would, and works out by hand what subtracting one from the other
reveals; havenkit must flag exactly the revealed values that are above zero and below the
threshold.
"""

import io
import math
import tempfile
from itertools import pairwise
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from havenkit.sdc.differencing import band_label, compare, differencing_findings, read_table

THRESHOLD = 10
REGIONS = ["Lothian", "Fife", "Borders", "Highland"]


def csv(header: list[str], rows: list[list[object]]) -> io.StringIO:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return io.StringIO("\n".join(lines) + "\n")


def compared(new: io.StringIO, old: io.StringIO):
    return compare(read_table(new), read_table(old), THRESHOLD)


@st.composite
def records_and_removed(draw):
    """Counts per (region, sex, agegroup), and how many of each a filter removes."""
    regions = REGIONS[: draw(st.integers(1, 4))]
    cells = [(r, s, a) for r in regions for s in ("F", "M") for a in ("<18", "18+")]
    counts = {cell: draw(st.integers(0, 40)) for cell in cells}
    removed = {cell: draw(st.integers(0, count)) for cell, count in counts.items()}
    return regions, counts, removed


@settings(max_examples=60, deadline=None)
@given(records_and_removed())
def test_records_removed_from_a_partly_overlapping_table(data):
    regions, counts, removed = data
    # Released: region x sex over every record. New: region x agegroup after a filter.
    released = csv(
        ["region", "sex", "patients"],
        [[r, s, sum(counts[(r, s, a)] for a in ("<18", "18+"))] for r in regions for s in "FM"],
    )
    new = csv(
        ["region", "agegroup", "patients"],
        [
            [r, a, sum(counts[(r, s, a)] - removed[(r, s, a)] for s in "FM")]
            for r in regions
            for a in ("<18", "18+")
        ],
    )
    gone = {r: sum(v for (region, *_), v in removed.items() if region == r) for r in regions}
    expected = {(r, "patients", n) for r, n in gone.items() if 0 < n < THRESHOLD}
    found = compared(new, released)
    assert {(c.row, c.column, c.people) for c in found.counts} == expected
    assert found.unaligned == []


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_suppressed_cells_come_back_from_a_margin(data):
    regions = REGIONS[: data.draw(st.integers(1, 4))]
    counts = {(r, s): data.draw(st.integers(0, 30)) for r in regions for s in "FMX"}
    # Released: region x sex with every count below the threshold suppressed (and one region
    # large enough that the count column is not all blank).
    released = csv(
        ["region", "sex", "patients"],
        [[r, s, n if n >= THRESHOLD else None] for (r, s), n in counts.items()]
        + [["Tayside", "F", 50]],
    )
    new = csv(
        ["region", "patients"],
        [[r, sum(counts[(r, s)] for s in "FMX")] for r in regions] + [["Tayside", 50]],
    )
    expected = set()
    for r in regions:
        hidden = [(s, n) for s in "FMX" if (n := counts[(r, s)]) < THRESHOLD]
        total = sum(n for _s, n in hidden)
        if 0 < total < THRESHOLD:
            row = f"{r} / {hidden[0][0]}" if len(hidden) == 1 else r
            expected.add((row, total))
    found = compared(new, released)
    assert {(c.row, c.people) for c in found.counts} == expected


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_regions_merged_into_other_give_back_their_suppressed_cells(data):
    regions = [*REGIONS, "Tayside", "Grampian"]
    counts = {r: data.draw(st.integers(0, 30)) for r in regions}
    named = data.draw(st.sets(st.sampled_from(regions), max_size=5).map(sorted))
    rest = [r for r in regions if r not in named]
    # Released: every region, counts below the threshold suppressed, plus a large one so the
    # column is never all blank. New: the named regions and "Other" for the rest (which
    # includes the large one: every label not named goes into "Other").
    released = csv(
        ["region", "patients"],
        [[r, n if n >= THRESHOLD else None] for r, n in counts.items()] + [["Fife North", 50]],
    )
    new = csv(
        ["region", "patients"],
        [[r, counts[r]] for r in named] + [["Other", sum(counts[r] for r in rest) + 50]],
    )
    expected = {(r, counts[r]) for r in named if 0 < counts[r] < THRESHOLD}
    hidden = [r for r in rest if counts[r] < THRESHOLD]
    total = sum(counts[r] for r in hidden)
    if 0 < total < THRESHOLD:
        expected.add((hidden[0] if len(hidden) == 1 else "Other", total))
    found = compared(new, released)
    assert {(c.row, c.people) for c in found.counts} == expected
    assert found.unaligned == []


@st.composite
def ages_and_two_bandings(draw):
    """People per single year of age 0..14, and two sets of cut points banding them."""
    years = draw(st.lists(st.integers(0, 6), min_size=15, max_size=15))
    cuts = st.sets(st.integers(1, 14), min_size=1, max_size=5).map(sorted)
    return years, draw(cuts), draw(cuts)


def banded(years: list[int], cuts: list[int]) -> list[list[object]]:
    edges = [0, *cuts, len(years)]
    rows = [[f"{low}-{high - 1}", sum(years[low:high])] for low, high in pairwise(edges)]
    rows[-1][0] = f"{cuts[-1]}+"
    return rows


@settings(max_examples=80, deadline=None)
@given(ages_and_two_bandings())
def test_crossing_bands_reveal_exactly_the_slices_between_cut_points(data):
    years, new_cuts, old_cuts = data
    found = compared(
        csv(["age", "patients"], banded(years, new_cuts)),
        csv(["age", "patients"], banded(years, old_cuts)),
    )
    # A slice from a cut of one banding to the next cut, which is the other banding's, is
    # recovered; a slice between two cuts of the same banding is one of its own bands.
    owners = {cut: {"new"} for cut in new_cuts}
    for cut in old_cuts:
        owners.setdefault(cut, set()).add("old")
    cuts = sorted(owners)
    expected = set()
    for low, high in pairwise(cuts):
        if len(owners[low]) == len(owners[high]) == 1 and owners[low] != owners[high]:
            value = sum(years[low:high])
            if 0 < value < THRESHOLD:
                expected.add((band_label(low, high), value))
    assert {(c.row, c.people) for c in found.counts} == expected
    assert found.unaligned == []


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_sum_over_fewer_people_than_the_threshold_is_flagged(data):
    regions = REGIONS[: data.draw(st.integers(1, 4))]
    people = {r: data.draw(st.integers(10, 60)) for r in regions}
    removed = {r: data.draw(st.integers(0, people[r])) for r in regions}
    cost = {r: data.draw(st.integers(100, 900)) for r in regions}
    # Everybody in a region costs the same here; the sums are what the tables show.
    released = csv(["region", "n", "mean_cost"], [[r, people[r], float(cost[r])] for r in regions])
    new = csv(
        ["region", "n", "total_cost"],
        [[r, people[r] - removed[r], cost[r] * (people[r] - removed[r])] for r in regions],
    )
    expected = {(r, "total_cost", n) for r, n in removed.items() if 0 < n < THRESHOLD}
    found = compared(new, released)
    assert {(c.row, c.column, c.people) for c in found.magnitudes} == expected


def test_the_band_labels_the_property_builds_read_back_as_the_bands():
    assert [row[0] for row in banded([1] * 15, [3, 10])] == ["0-2", "3-9", "10+"]
    assert band_label(-math.inf, 3) == "<3"


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_years_written_as_text_ints_or_floats_line_up(data):
    years = data.draw(st.lists(st.integers(2000, 2030), min_size=1, max_size=4, unique=True))
    counts = {(r, y): data.draw(st.integers(0, 40)) for r in REGIONS[:2] for y in years}
    removed = {cell: data.draw(st.integers(0, count)) for cell, count in counts.items()}
    forms = [str, int, float]
    old_form, new_form = data.draw(st.sampled_from(forms)), data.draw(st.sampled_from(forms))

    def written(values: dict[tuple[str, int], int], form) -> io.StringIO:
        # A crosstab of region by year, as pandas writes it with the years in ``form``.
        frame = pd.Series(values).unstack()
        frame.columns = [form(year) for year in frame.columns]
        return io.StringIO(frame.rename_axis("region").to_csv())

    new = {cell: count - removed[cell] for cell, count in counts.items()}
    found = compared(written(new, new_form), written(counts, old_form))
    new_header = {year: str(new_form(year)) for year in years}
    expected = {(r, new_header[y], n) for (r, y), n in removed.items() if 0 < n < THRESHOLD}
    assert {(c.row, c.column, c.people) for c in found.counts} == expected


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_cover_minus_its_parts_gives_back_exactly_the_small_unreleased_part(data):
    regions = REGIONS[: data.draw(st.integers(1, 4))]
    # Each region's patients in four parts; parts at different scales, so that only the total
    # minus the three released parts comes near zero. The fourth part is never released.
    parts = {
        f"part{scale}.csv": {r: data.draw(st.integers(scale, 2 * scale - 1)) for r in regions}
        for scale in (100, 1000, 10000)
    }
    unreleased = {r: data.draw(st.integers(0, 30)) for r in regions}
    total = {r: sum(part[r] for part in parts.values()) + unreleased[r] for r in regions}
    tables = {"total.csv": total, **parts}
    new_name = data.draw(st.sampled_from(sorted(tables)))
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, counts in tables.items():
            paths[name] = Path(folder) / name
            pd.Series(counts, name="patients").rename_axis("region").to_csv(paths[name])
        new = paths.pop(new_name)
        findings = differencing_findings(new, paths, THRESHOLD)
    expected = {(r, "patients") for r, n in unreleased.items() if 0 < n < THRESHOLD}
    assert {cell for finding in findings for cell in finding.cells} == expected
    assert len(findings) == (1 if expected else 0)
    for finding in findings:
        assert all(name in finding.message for name in paths)
        assert "these 4 tables" in finding.message
