"""Histograms, survival tables, regression models and custom outputs."""

import numpy as np
import pandas as pd
import pytest

from havenkit.sdc import analyses

rng = np.random.default_rng(0)


def test_histogram_bins_hold_every_value_and_small_bins_fail():
    data = pd.DataFrame({"x": np.r_[rng.normal(50, 5, 500), [120.0]]})
    output = analyses.hist(data, "x", bins=10)
    assert output.table["count"].sum() == len(data)
    assert output.status == "fail"
    threshold = next(c for c in output.checks if c.name == "MinimumThresholdCheck")
    assert (9, "count") in threshold.cells  # the bin holding only the outlier


def test_histogram_suppression_blanks_small_bins():
    data = pd.DataFrame({"x": np.r_[rng.normal(50, 5, 500), [120.0]]})
    output = analyses.hist(data, "x", bins=10, suppress=True)
    assert output.table["count"].isna().any()
    assert (output.table["count"].dropna() >= 10).all()
    assert output.status == "review"


def test_survival_table_fails_steps_with_few_at_risk_and_suppression_cuts_them():
    time = rng.integers(1, 40, 300)
    status = rng.integers(0, 2, 300)
    output = analyses.survival_table(time, status)
    at_risk = output.table["num at risk"]
    assert output.status == "fail"
    assert len(output.checks[0].cells) == int((at_risk < 10).sum())

    cut = analyses.survival_table(time, status, suppress=True)
    assert (cut.table["num at risk"] >= 10).all()
    assert len(cut.table) < len(output.table)
    assert cut.status == "review"


def test_models_pass_with_enough_residual_degrees_of_freedom():
    data = pd.DataFrame({"x": rng.normal(size=200)})
    data["y"] = 2 * data.x + rng.normal(size=200)
    data["event"] = (data.y > 0).astype(int)
    for output in (
        analyses.olsr("y ~ x", data),
        analyses.logitr("event ~ x", data),
        analyses.probitr("event ~ x", data),
    ):
        assert output.status == "pass"
        assert output.properties["dof"] == 198
        assert {"Coef.", "Std.Err."} <= set(output.table.columns)
    assert analyses.olsr("y ~ x", data).table.loc["x", "Coef."] == pytest.approx(2, abs=0.2)


def test_a_model_on_too_few_records_fails():
    x = np.column_stack([np.ones(8), rng.normal(size=8)])
    y = rng.normal(size=8)
    output = analyses.ols(y, x)
    assert output.status == "fail"
    assert "residual degrees of freedom 6 < 10" in output.summary
    assert analyses.logit((y > 0).astype(int), x).checks[0].status == "fail"
    assert analyses.probit((y > 0).astype(int), x).checks[0].status == "fail"


def test_custom_output_is_always_for_review(tmp_path):
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"\x89PNG")
    output = analyses.custom_output(plot, "a bar chart of counts over 100")
    assert output.status == "review"
    assert output.comments == ["a bar chart of counts over 100"]
    with pytest.raises(FileNotFoundError, match="is not a file"):
        analyses.custom_output(tmp_path / "missing.png")
