"""Dummy data for an extract: the same tables, columns and types, and no real record.

Researchers write and test their code against it before real access is approved (as
OpenSAFELY does). Each column is drawn on its own, so no row of the real extract survives:
pseudonyms are fresh random ones of the same format (drawn from one pool, so tables still
join); coded values come from the catalogue's allowed values, or else from categories seen at
least ``MIN_CATEGORY_COUNT`` times; numbers and dates from the real column's 5th to 95th
percentile (extremes single people out); and each column is missing as often as the real one.
"""

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from havenkit.deid.pseudonymise import PSEUDONYM_HEX_CHARS

MIN_CATEGORY_COUNT = 10
MAX_ROWS = 10_000
_FALLBACK_CATEGORIES = [f"value {n}" for n in range(1, 6)]


def _random_pseudonyms(rng: np.random.Generator, count: int) -> pa.Array:
    raw = rng.integers(0, 256, size=(count, PSEUDONYM_HEX_CHARS // 2), dtype=np.uint8)
    return pa.array([row.tobytes().hex() for row in raw], type=pa.string())


def _categories(column: pa.ChunkedArray, allowed: list[str]) -> pa.Array:
    if allowed:
        return pa.array(allowed, type=pa.string())
    counts = pc.value_counts(pc.drop_null(column).cast(pa.string()))
    common = pc.filter(
        counts.field("values"), pc.greater_equal(counts.field("counts"), MIN_CATEGORY_COUNT)
    )
    return common if len(common) else pa.array(_FALLBACK_CATEGORIES, type=pa.string())


def _numbers(rng: np.random.Generator, column: pa.ChunkedArray, rows: int) -> pa.Array:
    """Uniform between the column's 5th and 95th percentiles, in the column's own type."""
    as_numbers = column.cast(pa.int32()) if pa.types.is_date(column.type) else column
    present = pc.drop_null(as_numbers.cast(pa.float64()))
    if len(present) == 0:
        return pa.nulls(rows, column.type)
    low, high = pc.quantile(present, q=[0.05, 0.95]).to_pylist()
    values = rng.uniform(low, high, size=rows)
    if pa.types.is_floating(column.type):
        return pa.array(values, type=column.type)
    whole = pa.array(np.round(values).astype(np.int64))
    if pa.types.is_date(column.type):
        return whole.cast(pa.int32()).cast(column.type)
    return whole.cast(column.type)


def _with_missing(rng: np.random.Generator, values: pa.Array, fraction: float) -> pa.Array:
    if fraction <= 0:
        return values
    missing = rng.random(len(values)) < fraction
    return pc.if_else(pa.array(missing), pa.nulls(len(values), values.type), values)


def dummy_table(
    real: pa.Table,
    allowed_values: dict[str, list[str]],
    pseudonym_pool: pa.Array,
    pseudonym_column: str,
    rng: np.random.Generator,
) -> pa.Table:
    rows = min(real.num_rows, MAX_ROWS)
    columns = {}
    for field in real.schema:
        column = real[field.name]
        if field.name == pseudonym_column:
            values = pc.take(pseudonym_pool, pa.array(rng.integers(0, len(pseudonym_pool), rows)))
        elif pa.types.is_integer(field.type) and allowed_values.get(field.name):
            choices = pa.array(allowed_values[field.name]).cast(field.type)
            values = pc.take(choices, pa.array(rng.integers(0, len(choices), rows)))
        elif (
            pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_date(field.type)
        ):
            values = _numbers(rng, column, rows)
        else:
            choices = _categories(column, allowed_values.get(field.name, []))
            values = pc.take(choices, pa.array(rng.integers(0, len(choices), rows))).cast(
                field.type
            )
        fraction = column.null_count / len(column) if len(column) else 0.0
        columns[field.name] = _with_missing(rng, values, fraction)
    return pa.table(columns, schema=real.schema)


def seed_for(label: str) -> int:
    """A seed fixed by the extract, so the dummy data is the same each time it is made."""
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "big")


def dummy_tables(
    real_directory: Path,
    tables: list[str],
    allowed_values: dict[str, dict[str, list[str]]],
    pseudonym_column: str,
    seed: int,
) -> dict[str, pa.Table]:
    """Dummy versions of the real Parquet tables in ``real_directory``.

    ``allowed_values`` gives, per table and column, the codes the catalogue declares.
    """
    rng = np.random.default_rng(seed)
    real = {name: pq.read_table(real_directory / f"{name}.parquet") for name in tables}
    largest = max((table.num_rows for table in real.values()), default=1)
    pool = _random_pseudonyms(rng, max(1, min(largest, MAX_ROWS) // 3))
    return {
        name: dummy_table(table, allowed_values.get(name, {}), pool, pseudonym_column, rng)
        for name, table in real.items()
    }
