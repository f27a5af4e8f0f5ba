"""A session's finalised folder: what ACRO writes, in ACRO's structure, with checksums."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from acro.record import load_records

from havenkit.sdc import SdcConfig
from havenkit.sdc.session import Session

rng = np.random.default_rng(4)
DATA = pd.DataFrame(
    {
        "region": rng.choice(list("ABC"), 300, p=[0.6, 0.35, 0.05]),
        "diag": rng.choice(list("xyz"), 300),
        "cost": rng.lognormal(5, 1, 300),
    }
)


@pytest.fixture
def finalised(tmp_path):
    session = Session(SdcConfig(safe_threshold=12))
    session.crosstab(DATA.region, DATA.diag, margins=True)
    session.pivot_table(DATA, values="cost", index="region", columns="diag", suppress=True)
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"\x89PNG not really")
    session.custom_output(plot, "a plot")
    session.add_exception("output_0", "the small cells are all in one region we publish anyway")
    return session.finalise(tmp_path / "outputs")


def test_results_json_has_acros_structure_and_acro_loads_it(finalised):
    document = json.loads((finalised / "results.json").read_text())
    assert document["tool"]["name"] == "havenkit"
    first = document["results"]["output_0"]
    assert set(first) == {
        "uid",
        "status",
        "type",
        "properties",
        "files",
        "outcome",
        "command",
        "summary",
        "timestamp",
        "comments",
        "exception",
        "fair",
        "checks",  # havenkit's own: each check's reason and cells by label
    }
    assert first["status"] == "fail"
    threshold = next(c for c in first["checks"] if c["name"] == "MinimumThresholdCheck")
    assert threshold["status"] == "fail"
    assert threshold["cells"]
    assert all(len(cell) == 2 for cell in threshold["cells"])
    assert first["files"][0]["name"] == "output_0_0.csv"
    assert first["files"][0]["sdc"]["summary"]["MinimumThresholdCheck"] > 0

    records = load_records(str(finalised))
    assert [records.get(k).status for k in records.get_keys()] == ["fail", "review", "review"]
    assert records.get("output_0").exception.startswith("the small cells")
    assert records.get("output_2").output == ["plot.png"]


def test_each_table_is_a_csv_and_the_config_is_written(finalised):
    table = pd.read_csv(finalised / "output_0_0.csv", index_col=0)
    assert table.loc["All", "All"] == len(DATA)
    assert json.loads((finalised / "config.json").read_text())["safe_threshold"] == 12
    assert (finalised / "plot.png").read_bytes() == b"\x89PNG not really"


def test_every_file_has_its_sha256(finalised):
    files = [p for p in finalised.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"results.json", "config.json", "output_0_0.csv"}
    for path in files:
        recorded = (finalised / "checksums" / f"{path.name}.txt").read_text()
        assert recorded == hashlib.sha256(path.read_bytes()).hexdigest()


def test_finalise_refuses_a_folder_with_files_in_it(tmp_path):
    (tmp_path / "old.csv").write_text("a\n1\n")
    with pytest.raises(FileExistsError, match="is not empty"):
        Session().finalise(tmp_path)


def test_an_exception_for_an_unknown_output_is_refused():
    with pytest.raises(KeyError, match="No output output_3"):
        Session().add_exception("output_3", "because")
