"""The k-anonymity report on hand-made tables whose groups we can count by eye."""

import pandas as pd
import pyarrow as pa
import pytest

from havenkit.deid.risk import k_anonymity_report

# Groups on (sex, band): (M, 16-44) x3, (F, 16-44) x2, (F, 65+) x1, (None, 65+) x1.
TABLE = pa.table(
    {
        "sex": ["M", "M", "M", "F", "F", "F", None],
        "band": ["16-44", "16-44", "16-44", "16-44", "16-44", "65+", "65+"],
        "icd10": ["I21"] * 7,
    }
)


def test_known_groups_give_known_k():
    report = k_anonymity_report(TABLE, ["sex", "band"], threshold=3)
    assert report.records == 7
    assert report.groups == 4
    assert report.unique_records == 2
    assert report.smallest_group == 1
    assert report.records_below_threshold == 4
    assert not report.passes


def test_coarser_quasi_identifiers_raise_k():
    report = k_anonymity_report(TABLE.to_pandas(), ["band"], threshold=2)
    assert (report.smallest_group, report.unique_records, report.passes) == (2, 0, True)


def test_unknown_columns_are_named():
    with pytest.raises(ValueError, match="not columns: age"):
        k_anonymity_report(TABLE, ["sex", "age"])


def test_empty_table_has_no_groups():
    report = k_anonymity_report(pd.DataFrame({"sex": []}), ["sex"])
    assert (report.records, report.groups, report.records_below_threshold) == (0, 0, 0)
