"""crosstab and pivot_table: pandas' numbers, the cells each rule flags, and the mitigations."""

import numpy as np
import pandas as pd
import pytest

from havenkit import sdc

rng = np.random.default_rng(42)
N = 600
DATA = pd.DataFrame(
    {
        "region": rng.choice(list("ABCD"), N, p=[0.5, 0.3, 0.17, 0.03]),
        "sex": rng.choice(["F", "M"], N),
        "diag": rng.choice(["C50", "E11", "I10"], N, p=[0.1, 0.3, 0.6]),
        "cost": rng.lognormal(6, 1, N),
    }
)


@pytest.mark.parametrize("aggfunc", ["sum", "mean", "median", "min", "max", "std"])
@pytest.mark.parametrize("margins", [False, True])
def test_tables_hold_the_numbers_pandas_computes(aggfunc, margins):
    index = [DATA.region, DATA.sex]
    ours = sdc.crosstab(index, DATA.diag, values=DATA.cost, aggfunc=aggfunc, margins=margins)
    theirs = pd.crosstab(
        index, DATA.diag, values=DATA.cost, aggfunc=aggfunc, margins=margins, dropna=False
    )
    pd.testing.assert_frame_equal(
        ours.table, theirs.reindex_like(ours.table), check_dtype=False, check_names=False
    )


def test_counts_match_pandas_with_margins():
    ours = sdc.crosstab(DATA.region, DATA.diag, margins=True)
    pd.testing.assert_frame_equal(ours.table, pd.crosstab(DATA.region, DATA.diag, margins=True))


def test_pivot_table_with_several_aggfuncs_matches_pandas():
    ours = sdc.pivot_table(
        DATA, values="cost", index=["region"], columns="diag", aggfunc=["mean", "median", "count"]
    )
    theirs = pd.pivot_table(
        DATA, values="cost", index=["region"], columns="diag", aggfunc=["mean", "median", "count"]
    )
    pd.testing.assert_frame_equal(
        ours.table, theirs, check_dtype=False, check_names=False, check_column_type=False
    )


def test_mode_is_the_most_frequent_value_of_each_cell():
    data = pd.DataFrame(
        {"a": ["x"] * 5 + ["y"] * 3, "b": ["p"] * 8, "v": [1, 2, 2, 3, 3.0, 4, 4, 5]}
    )
    table = sdc.crosstab(data.a, data.b, values=data.v, aggfunc="mode").table
    assert table["p"].tolist() == [2.0, 4.0]  # x ties 2 and 3: the smaller is shown


def test_checks_name_failing_cells_by_their_labels_and_say_why():
    output = sdc.crosstab(DATA.region, DATA.diag)
    threshold = next(c for c in output.checks if c.name == "MinimumThresholdCheck")
    counts = pd.crosstab(DATA.region, DATA.diag)
    expected = sorted((r, c) for r in counts.index for c in counts.columns if counts.loc[r, c] < 10)
    assert sorted(threshold.cells) == expected
    assert threshold.status == "fail"
    assert "fewer than 10 records" in threshold.reason
    assert output.status == "fail"
    assert output.summary.startswith("fail; MinimumThresholdCheck: fail in")


def test_a_dominated_cell_fails_nk_and_p_ratio():
    data = pd.DataFrame({"a": ["x"] * 12, "b": ["p"] * 12, "v": [100.0, 100.0] + [2.0] * 10})
    output = sdc.crosstab(data.a, data.b, values=data.v, aggfunc="sum")
    statuses = {c.name: c.status for c in output.checks}
    assert statuses == {
        "MinimumThresholdCheck": "pass",
        "NegativeValuesCheck": "pass",
        "NKCheck": "fail",
        "PPercentCheck": "pass",
    }
    data.loc[0, "v"] = 1000.0  # the others no longer hide the largest: p-ratio fails too
    output = sdc.crosstab(data.a, data.b, values=data.v, aggfunc="sum")
    assert {c.name: c.status for c in output.checks}["PPercentCheck"] == "fail"


def test_negative_values_send_the_cell_to_review():
    data = pd.DataFrame({"a": ["x"] * 20, "b": ["p"] * 20, "v": [-5.0] + [10.0] * 19})
    output = sdc.crosstab(data.a, data.b, values=data.v, aggfunc="mean")
    assert output.status == "review"
    assert "NegativeValuesCheck: review in 1 cell" in output.summary


def test_suppression_blanks_failing_cells_and_margins_add_up_to_what_is_shown():
    output = sdc.crosstab([DATA.region, DATA.sex], DATA.diag, margins=True, suppress=True)
    table = output.table
    cells = table.iloc[:-1, :-1]
    assert cells.isna().any().any()
    assert (cells.fillna(10) >= 10).all().all()
    np.testing.assert_array_equal(table.iloc[:-1, -1].fillna(0), cells.sum(axis=1))
    np.testing.assert_array_equal(table.iloc[-1, :-1].fillna(0), cells.sum(axis=0))
    assert table.iloc[-1, -1] == np.nansum(cells.to_numpy())
    assert output.status == "review"
    assert "suppression applied" in output.summary
    assert "; suppressed)" in output.summary


def test_suppressed_mean_margins_are_means_of_the_remaining_records():
    output = sdc.crosstab(
        DATA.region, DATA.diag, values=DATA.cost, aggfunc="mean", margins=True, suppress=True
    )
    shown = output.table.iloc[:-1, :-1].notna()
    kept = DATA[[shown.loc[r, d] for r, d in zip(DATA.region, DATA.diag, strict=True)]]
    assert output.table.loc["All", "All"] == pytest.approx(kept.cost.mean())


def test_rounding_rounds_cells_to_five_and_margins_are_their_sums():
    output = sdc.crosstab(DATA.region, DATA.diag, margins=True, round=True)
    table = output.table
    assert (table % 5 == 0).all().all()
    np.testing.assert_array_equal(table.iloc[:-1, -1], table.iloc[:-1, :-1].sum(axis=1))
    assert table.loc["All", "All"] == table.iloc[:-1, :-1].to_numpy().sum()
    assert output.status == "review"
    assert "rounding applied to base 5" in output.summary


def test_rounding_a_mean_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="Rounding applies to counts and sums"):
        sdc.crosstab(DATA.region, DATA.diag, values=DATA.cost, aggfunc="mean", round=True)


def test_unknown_aggfunc_and_missing_values_are_refused():
    with pytest.raises(ValueError, match="use one or a list of count"):
        sdc.crosstab(DATA.region, DATA.diag, values=DATA.cost, aggfunc="variance")
    with pytest.raises(ValueError, match="needs values"):
        sdc.crosstab(DATA.region, DATA.diag, aggfunc="mean")


def test_min_and_max_always_go_to_review_even_when_every_cell_is_large():
    data = pd.DataFrame({"a": ["x", "y"] * 50, "b": ["p"] * 100, "v": np.arange(100.0)})
    for aggfunc in ("min", "max"):
        output = sdc.crosstab(data.a, data.b, values=data.v, aggfunc=aggfunc)
        assert output.status == "review"
        assert "RevealsRecordCheck: review" in output.summary


def test_a_stricter_haven_flags_more():
    strict = sdc.SdcConfig(safe_threshold=100)
    default = sdc.crosstab(DATA.region, DATA.diag)
    stricter = sdc.crosstab(DATA.region, DATA.diag, config=strict)

    def flagged(output):
        return len(next(c for c in output.checks if c.name == "MinimumThresholdCheck").cells)

    assert flagged(stricter) > flagged(default)


@pytest.mark.parametrize("mitigation", [{"suppress": True}, {"round": True}])
def test_a_table_with_no_failing_cell_passes_whatever_the_mitigation(mitigation):
    big = DATA[DATA.region.isin(["A", "B"])]
    output = sdc.crosstab(big.region, big.sex, margins=True, **mitigation)
    assert output.status == "pass"
    assert "suppression applied" not in output.summary
    assert output.properties["mitigation"] == next(iter(mitigation))


def test_suppression_that_removed_cells_leaves_them_for_review():
    output = sdc.crosstab(DATA.region, DATA.diag, suppress=True)
    assert output.status == "review"
    blanks = int(output.table.isna().sum().sum())
    assert blanks > 0
    assert f"suppression applied: {blanks} cells suppressed" in output.summary
