"""Generalisation choices a steward can make per variable of an extract, written as short
text so a recipe stays readable JSON: "month", "year", "district", "age_bands:0,16,45,65",
"rare:10"."""

import pyarrow as pa

from havenkit.deid.generalise import (
    generalise_age,
    generalise_date,
    generalise_postcode_to_district,
    group_rare_categories,
)

CHOICES = [
    ("", "Keep as it is"),
    ("month", "Dates to month"),
    ("year", "Dates to year"),
    ("district", "Postcodes to district"),
    ("age_bands:0,16,45,65,85", "Ages to bands 0-15, 16-44, 45-64, 65-84, 85+"),
    ("rare:10", "Group categories seen fewer than 10 times as Other"),
]


class GeneralisationError(ValueError):
    """A generalisation that is unknown or does not fit the variable's values."""


def apply(column: pa.ChunkedArray | pa.Array, spec: str, where: str) -> pa.Array:
    """``column`` generalised as ``spec`` says; ``where`` ("table.column") names it in errors."""
    kind, _, argument = spec.partition(":")
    try:
        if kind in ("month", "year"):
            return generalise_date(column, to=kind)
        if kind == "district":
            return generalise_postcode_to_district(column)
        if kind == "age_bands":
            return generalise_age(column, [int(bound) for bound in argument.split(",")])
        if kind == "rare":
            return group_rare_categories(column, int(argument))
    except (ValueError, pa.ArrowException) as error:
        raise GeneralisationError(f"{where} cannot be generalised as {spec!r}: {error}") from None
    raise GeneralisationError(f"{where}: {spec!r} is not a generalisation havenkit knows.")
