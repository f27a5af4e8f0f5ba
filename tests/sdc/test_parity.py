"""havenkit flags the cells ACRO 1.0.2 flags wherever the rule is the same, and differs only
where ACRO is wrong: each of its four known defects is asserted here as a difference."""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from acro import ACRO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havenkit import sdc
from havenkit.sdc import analyses

# Checks whose rule is the same in both tools, by ACRO's names.
SHARED_CHECKS = ("MinimumThresholdCheck", "PresenceOfZeroCheck", "NKCheck", "PPercentCheck")
property_settings = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def acro_session(tmp_path, monkeypatch):
    """An ACRO session working in a temporary folder (it writes plots to the current one)."""
    monkeypatch.chdir(tmp_path)
    logging.getLogger("acro").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield ACRO(suppress=False)


def last_record(acro_session):
    return acro_session.results.get(f"output_{acro_session.results.output_id - 1}")


def flagged_by_acro(acro_session, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acro_session.crosstab(*args, **kwargs)
    record = last_record(acro_session)
    cells = record.sdc["cells"]
    return record.status, {name: sorted(map(tuple, cells[name])) for name in cells}


def flagged_by_havenkit(*args, **kwargs):
    output = sdc.crosstab(*args, **kwargs)
    return output.status, {check.name: sorted(check.positions) for check in output.checks}


def assert_same_cells(theirs, ours):
    shared = [name for name in SHARED_CHECKS if name in theirs]
    assert shared, "no check in common: the comparison would prove nothing"
    for name in shared:
        assert ours.get(name, []) == theirs[name], name


def records(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "region": rng.choice(list("ABCD"), n, p=[0.55, 0.3, 0.12, 0.03]),
            "sex": rng.choice(["F", "M"], n),
            "diag": rng.choice(["I10", "E11", "J45", "C50"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "cost": rng.lognormal(5, 1.5, n),
        }
    )


@pytest.mark.parametrize("aggfunc", [None, "sum", "mean", "median", "min", "max"])
@pytest.mark.parametrize("margins", [False, True])
@pytest.mark.parametrize("three_way", [False, True])
def test_flags_the_cells_acro_flags(acro_session, aggfunc, margins, three_way):
    data = records(seed=7)
    index = [data.region, data.sex] if three_way else data.region
    values = None if aggfunc is None else data.cost
    kwargs = {"values": values, "aggfunc": aggfunc, "margins": margins}
    acro_status, theirs = flagged_by_acro(acro_session, index, data.diag, **kwargs)
    status, ours = flagged_by_havenkit(index, data.diag, **kwargs)
    assert_same_cells(theirs, ours)
    assert acro_status == status == "fail"


def test_std_fails_where_acro_fails_on_degrees_of_freedom(acro_session):
    data = records(seed=3)
    acro_status, _ = flagged_by_acro(
        acro_session, data.region, data.diag, values=data.cost, aggfunc="std"
    )
    output = sdc.crosstab(data.region, data.diag, values=data.cost, aggfunc="std")
    counts = pd.crosstab(data.region, data.diag).to_numpy()
    (check,) = output.checks
    assert acro_status == output.status == "fail"
    assert sorted(check.positions) == sorted(map(tuple, np.argwhere(counts - 1 < 10).tolist()))


def test_a_table_acro_passes_passes(acro_session):
    rng = np.random.default_rng(11)
    data = pd.DataFrame({"a": rng.choice(list("xy"), 500), "b": rng.choice(list("pq"), 500)})
    acro_status, theirs = flagged_by_acro(acro_session, data.a, data.b)
    status, ours = flagged_by_havenkit(data.a, data.b)
    assert_same_cells(theirs, ours)
    assert acro_status == status == "pass"


small_tables = st.integers(min_value=1, max_value=120).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from("abc"), min_size=n, max_size=n),
        st.lists(st.sampled_from("pqrs"), min_size=n, max_size=n),
        st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=n, max_size=n),
    )
)


@property_settings
@given(
    table=small_tables,
    aggfunc=st.sampled_from([None, "sum", "mean", "median", "max"]),
    margins=st.booleans(),
)
def test_generated_tables_flag_the_same_cells(acro_session, table, aggfunc, margins):
    rows, columns, amounts = table
    data = pd.DataFrame({"a": rows, "b": columns, "v": amounts})
    kwargs = {"values": None if aggfunc is None else data.v, "aggfunc": aggfunc}
    acro_status, theirs = flagged_by_acro(acro_session, data.a, data.b, margins=margins, **kwargs)
    status, ours = flagged_by_havenkit(data.a, data.b, margins=margins, **kwargs)
    assert_same_cells(theirs, ours)
    if aggfunc != "max":  # max is always "review" here, never "pass": defect 4
        assert status == acro_status


# ACRO's defects, each asserted as the difference.


def test_defect_1_acro_suppressed_totals_still_count_suppressed_cells(acro_session):
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {
            "region": rng.choice([1, 2, 3], 300, p=[0.6, 0.35, 0.05]),
            "diag": rng.choice([10, 20, 30, 40], 300, p=[0.5, 0.3, 0.15, 0.05]),
        }
    )
    acro_session.suppress = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acro_table = acro_session.crosstab(data.region, data.diag, margins=True)
    assert acro_table.loc["All", "All"] == len(data)  # every record, suppressed or not

    ours = sdc.crosstab(data.region, data.diag, margins=True, suppress=True)
    cells = ours.table.drop(index="All", columns="All")
    assert cells.isna().any().any()
    assert ours.table.loc["All", "All"] == np.nansum(cells.to_numpy()) < len(data)
    assert (ours.table.loc["All"].drop("All").fillna(0) == cells.sum()).all()
    assert ours.status == "review"


def test_defect_5_acro_sends_a_mitigated_table_to_review_when_nothing_failed(acro_session):
    rng = np.random.default_rng(11)
    data = pd.DataFrame({"a": rng.choice(list("xy"), 500), "b": rng.choice(list("pq"), 500)})
    for mitigation in ("suppress", "round"):
        acro_session.mitigation = mitigation
        acro_status, theirs = flagged_by_acro(acro_session, data.a, data.b)
        status, ours = flagged_by_havenkit(data.a, data.b, **{mitigation: True})
        assert_same_cells(theirs, ours)  # no cell flagged by either
        assert all(not cells for cells in theirs.values())
        assert (acro_status, status) == ("review", "pass"), mitigation


def test_defect_2_acro_drops_the_maximum_from_the_last_bin(acro_session):
    # Ten values in each bin of [0, 5) and [5, 10]; one of the last ten is the maximum.
    data = pd.DataFrame({"x": np.r_[np.zeros(10), np.full(9, 7.0), [10.0]]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acro_session.hist(data, "x", bins=2, filename="histogram.png")
    assert last_record(acro_session).status == "fail"

    ours = analyses.hist(data, "x", bins=2)
    assert ours.table["count"].tolist() == [10, 10]
    assert ours.status == "pass"


def test_defect_3_acro_fails_every_survival_table(acro_session):
    rng = np.random.default_rng(5)
    time, status = rng.integers(1, 20, 2000), rng.integers(0, 2, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acro_session.surv_func(time, status, output="table")
    assert last_record(acro_session).status == "fail"

    assert analyses.survival_table(time, status).status == "pass"


def test_defect_4_acro_has_no_threshold_on_mode_and_passes_min_max(acro_session):
    rng = np.random.default_rng(2)
    data = pd.DataFrame(
        {
            "a": rng.choice(list("xy"), 80, p=[0.9, 0.1]),
            "b": rng.choice(list("pq"), 80),
            "v": rng.integers(1, 4, 80).astype(float),
        }
    )
    acro_status, _ = flagged_by_acro(acro_session, data.a, data.b, values=data.v, aggfunc="mode")
    ours = sdc.crosstab(data.a, data.b, values=data.v, aggfunc="mode")
    counts = pd.crosstab(data.a, data.b)
    assert counts.to_numpy().min() < 10
    assert acro_status == "pass"
    assert ours.status == "fail"
    (threshold,) = [c for c in ours.checks if c.name == "MinimumThresholdCheck"]
    assert sorted(threshold.positions) == sorted(map(tuple, np.argwhere(counts.to_numpy() < 10)))

    big = pd.DataFrame({"a": ["x", "y"] * 50, "b": ["p"] * 50 + ["q"] * 50, "v": range(100)})
    for aggfunc in ("min", "max"):
        acro_status, _ = flagged_by_acro(
            acro_session, big.a, big.b, values=big.v.astype(float), aggfunc=aggfunc
        )
        ours = sdc.crosstab(big.a, big.b, values=big.v.astype(float), aggfunc=aggfunc)
        assert (acro_status, ours.status) == ("pass", "review")
