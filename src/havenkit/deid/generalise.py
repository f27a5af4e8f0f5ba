"""Generalisation: coarser values for quasi-identifiers, so fewer records stand out.

Each function takes a pyarrow or pandas column and returns a pyarrow array of the same length;
missing values stay missing. A steward chooses them per variable when building an extract.
"""

from collections.abc import Sequence
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

OTHER = "Other"


def _as_arrow(column: object) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    if isinstance(column, pa.Array):
        return column
    return pa.array(column, from_pandas=True)


def generalise_date(column: object, to: Literal["month", "year"]) -> pa.Array:
    """Each date moved to the first day of its month or year; the column stays a date."""
    if to not in ("month", "year"):
        raise ValueError(f"Dates generalise to 'month' or 'year', not {to!r}.")
    values = _as_arrow(column)
    if not pa.types.is_date(values.type) and not pa.types.is_timestamp(values.type):
        values = pc.cast(values, pa.date32())
    return pc.floor_temporal(values, unit=to)


def _band_label(lower: int, upper: int | None) -> str:
    return f"{lower}+" if upper is None else f"{lower}-{upper - 1}"


def generalise_age(column: object, bands: Sequence[int]) -> pa.Array:
    """Ages as band labels: ``bands=[0, 16, 45, 65]`` gives "0-15", "16-44", "45-64", "65+".

    ``bands`` are the lower bounds, in increasing order; an age below the first is refused,
    since it is a data error rather than something to hide in a band.
    """
    bounds = list(bands)
    if not bounds or bounds != sorted(set(bounds)):
        raise ValueError("Age bands are lower bounds in increasing order, such as [0, 16, 65].")
    ages = pc.cast(_as_arrow(column), pa.float64())
    if pc.any(pc.less(ages, bounds[0])).as_py():
        raise ValueError(f"Some ages are below the first band's lower bound, {bounds[0]}.")
    labels = pa.array(
        [_band_label(low, high) for low, high in zip(bounds, [*bounds[1:], None], strict=True)]
    )
    indices = pc.subtract(_count_bounds_at_or_below(ages, bounds), 1)
    return pc.take(labels, indices)


def _count_bounds_at_or_below(ages: pa.Array, bounds: list[int]) -> pa.Array:
    """For each age, how many lower bounds it reaches: its band's position plus one."""
    count = pc.cast(pc.greater_equal(ages, bounds[0]), pa.int64())
    for bound in bounds[1:]:
        count = pc.add(count, pc.cast(pc.greater_equal(ages, bound), pa.int64()))
    return count


def generalise_postcode_to_district(column: object) -> pa.Array:
    """The outward code (district) of each UK postcode: "EH3 9AB" and "eh39ab" give "EH3".

    The inward code is always a digit and two letters, so without a space it is the last three.
    """
    text = pc.utf8_upper(pc.utf8_trim_whitespace(pc.cast(_as_arrow(column), pa.string())))
    compact = pc.replace_substring(text, " ", "")
    has_inward = pc.greater_equal(pc.utf8_length(compact), 5)
    outward = pc.utf8_slice_codeunits(compact, 0, -3)
    return pc.if_else(has_inward, outward, compact)


def group_rare_categories(column: object, min_count: int, other: str = OTHER) -> pa.Array:
    """Categories seen fewer than ``min_count`` times become ``other``; missing stays missing."""
    values = pc.cast(_as_arrow(column), pa.string())
    counts = pc.value_counts(values)
    categories = counts.field("values")
    rare = pc.filter(categories, pc.less(counts.field("counts"), min_count))
    is_rare = pc.fill_null(pc.is_in(values, value_set=rare), False)
    return pc.if_else(pc.and_(is_rare, pc.is_valid(values)), other, values)
