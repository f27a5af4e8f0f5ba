"""A file a job's havenkit.sdc session wrote keeps the result the session recorded, when it is
unchanged and the session's rules are at least the haven's; CSV checks on the library's tables."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from havenkit.sdc import SdcConfig
from havenkit.sdc.files import check_file, check_files
from havenkit.sdc.recorded import RecordedSession
from havenkit.sdc.session import Session

rng = np.random.default_rng(5)
SIMD = pd.DataFrame(
    {
        "simd": rng.integers(1, 6, 3000),
        "sex": rng.choice(["F", "M"], 3000),
        "year": rng.integers(2019, 2021, 3000),
    }
)


def finalised(tmp_path, *calls, config=None):
    session = Session(config)
    for call in calls:
        call(session)
    return session.finalise(tmp_path / "outputs")


def test_a_numeric_label_table_the_library_passed_passes_as_recorded(tmp_path):
    folder = finalised(tmp_path, lambda s: s.crosstab(SIMD.simd, SIMD.sex))
    path = folder / "output_0_0.csv"
    assert check_file(path).status == "review"  # on its own: 1-5 could be counts

    [report] = check_files([path])

    assert report.status == "pass"
    assert report.source == f"recorded by havenkit.sdc in {folder} (output_0)"
    assert "as pass" in report.findings[0].message


def test_recorded_failing_cells_are_named_by_their_labels(tmp_path):
    small = SIMD.head(60)
    folder = finalised(tmp_path, lambda s: s.crosstab(small.simd, small.sex))
    session = RecordedSession.read(folder)

    report = check_file(folder / "output_0_0.csv", session=session, where="job 7")

    assert report.status == "fail"
    threshold = next(f for f in report.findings if f.rule == "MinimumThresholdCheck")
    assert threshold.status == "fail"
    assert ("1", "F") in threshold.cells
    assert report.source == "recorded by havenkit.sdc in job 7 (output_0)"


def test_a_file_changed_after_finalise_is_checked_from_the_file(tmp_path):
    folder = finalised(tmp_path, lambda s: s.crosstab(SIMD.simd, SIMD.sex))
    path = folder / "output_0_0.csv"
    path.write_text("simd,F,M\n1,3,400\n2,300,400\n")

    report = check_file(path, session=RecordedSession.read(folder), where="job 7")

    assert report.status == "fail"  # the edited 3, found by the file's own check
    assert report.source == "checked from the file"
    assert "changed after the session was finalised" in report.findings[0].message


def test_a_session_with_rules_looser_than_the_havens_goes_to_review(tmp_path):
    folder = finalised(tmp_path, lambda s: s.crosstab(SIMD.simd, SIMD.sex))
    session = RecordedSession.read(folder)

    report = check_file(folder / "output_0_0.csv", SdcConfig(), session=session)
    assert report.status == "pass"

    report = check_file(folder / "output_0_0.csv", SdcConfig(safe_threshold=20), session=session)

    assert report.status == "review"
    looser = next(f for f in report.findings if f.rule == "configuration")
    assert "safe_threshold must be at least 20, not 10" in looser.message


def test_a_recorded_pass_the_counts_contradict_fails(tmp_path):
    folder = finalised(tmp_path, lambda s: s.crosstab(SIMD.simd, SIMD.sex))
    results = json.loads((folder / "results.json").read_text())
    path = folder / "output_0_0.csv"
    path.write_text("sex,F,M\nsimd,,\n1,3,400\n2,300,400\n")  # pandas' header, a small count
    (folder / "checksums" / "output_0_0.csv.txt").write_text(
        hashlib.sha256(path.read_bytes()).hexdigest()
    )
    assert results["results"]["output_0"]["status"] == "pass"

    report = check_file(path, session=RecordedSession.read(folder))

    assert report.status == "fail"
    assert any(f.rule == "threshold" and f.cells == (("1", "F"),) for f in report.findings)


def test_an_acro_or_missing_results_file_is_no_recorded_result(tmp_path):
    assert RecordedSession.read(tmp_path) is None
    (tmp_path / "results.json").write_text(json.dumps({"version": "1.0.2", "results": {}}))
    assert RecordedSession.read(tmp_path) is None


# The CSV check alone, on tables a real session wrote.


def written(tmp_path, call):
    folder = finalised(tmp_path, call)
    (folder / "results.json").unlink()
    return folder / "output_0_0.csv"


def test_numeric_labels_over_counts_that_pass_as_counts_too_pass(tmp_path):
    path = written(tmp_path, lambda s: s.crosstab(SIMD.year, SIMD.sex))
    report = check_file(path)
    assert report.status == "pass"


def test_numeric_labels_that_would_fail_as_counts_go_to_review_saying_why(tmp_path):
    report = check_file(written(tmp_path, lambda s: s.crosstab([SIMD.simd, SIMD.year], SIMD.sex)))
    assert report.status == "review"
    assert "'simd', 'year' hold ordered whole numbers" in report.findings[0].message


def test_small_counts_beside_numeric_labels_still_fail(tmp_path):
    small = SIMD.head(30)
    report = check_file(written(tmp_path, lambda s: s.crosstab(small.year, small.sex)))
    assert report.status == "fail"
    assert report.findings[0].rule == "threshold"


def test_a_three_way_table_is_read_with_pandas_header_rows(tmp_path):
    path = written(tmp_path, lambda s: s.crosstab(SIMD.simd, [SIMD.sex, SIMD.year]))
    report = check_file(path)
    assert report.status == "pass"
    assert "20 counts" in report.findings[0].message

    small = SIMD.head(100)
    path = written(tmp_path / "small", lambda s: s.crosstab(small.simd, [small.sex, small.year]))
    threshold = check_file(path).findings[0]
    assert threshold.status == "fail"
    row, column = threshold.cells[0]
    assert row == "1"
    assert column.startswith("F / 20")


def test_an_unnamed_index_is_read_as_labels(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"F": [40, 50], "M": [30, 3]}, index=[1, 2]).to_csv(path)
    report = check_file(path)
    assert report.status == "fail"
    assert report.findings[0].cells == (("2", "M"),)


def test_the_command_uses_the_result_recorded_beside_the_file(tmp_path, capsys):
    folder = finalised(tmp_path, lambda s: s.crosstab(SIMD.simd, SIMD.sex))
    with pytest.raises(SystemExit) as exited:
        call_command("sdc", "check", str(folder / "output_0_0.csv"))
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"PASS   {folder / 'output_0_0.csv'} (recorded by havenkit.sdc in")


def test_a_suppressed_row_never_turns_small_counts_above_it_into_a_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("region,F,M\nA,5,3\nB,,\nC,20,30\n")
    report = check_file(path)
    assert report.status == "fail"
    assert report.findings[0].cells == (("A", "F"), ("A", "M"))
