"""Generalisation keeps missing values missing and coarsens the rest as a steward expects."""

import datetime

import pyarrow as pa
import pytest

from havenkit.deid.generalise import (
    generalise_age,
    generalise_date,
    generalise_postcode_to_district,
    group_rare_categories,
)


def test_dates_to_month_and_year_stay_dates():
    dates = pa.array([datetime.date(2020, 5, 17), None])
    assert generalise_date(dates, to="month").to_pylist() == [datetime.date(2020, 5, 1), None]
    assert generalise_date(dates, to="year").to_pylist() == [datetime.date(2020, 1, 1), None]
    with pytest.raises(ValueError, match="'month' or 'year'"):
        generalise_date(dates, to="week")


def test_ages_fall_into_labelled_bands():
    bands = generalise_age([0, 15, 16, 44.9, 65, 101, None], [0, 16, 45, 65])
    assert bands.to_pylist() == ["0-15", "0-15", "16-44", "16-44", "65+", "65+", None]


def test_bands_must_increase_and_cover_every_age():
    with pytest.raises(ValueError, match="increasing order"):
        generalise_age([30], [16, 0])
    with pytest.raises(ValueError, match="below the first band"):
        generalise_age([10], [16, 65])


def test_postcodes_become_districts_however_written():
    postcodes = ["EH3 9AB", "eh39ab", " G1 1AA ", "AB10", None]
    assert generalise_postcode_to_district(postcodes).to_pylist() == [
        "EH3",
        "EH3",
        "G1",
        "AB10",
        None,
    ]


def test_rare_categories_are_grouped():
    values = ["I21", "I21", "C25", None, "F20", "I21"]
    assert group_rare_categories(values, min_count=2).to_pylist() == [
        "I21",
        "I21",
        "Other",
        None,
        "Other",
        "I21",
    ]
