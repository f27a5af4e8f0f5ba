"""Cells suppressed by hand that a table's totals give back, found by ``havenkit sdc check``."""

import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havenkit.sdc.csv_tables import SUPPRESSION_MARKERS, read_csv_table
from havenkit.sdc.files import check_file

THRESHOLD = 10


def crosstab(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    """pandas' crosstab with margins of one record per person, so each cell has its count."""
    keys = list(counts)
    people = pd.DataFrame(
        [keys[i] for i in np.repeat(np.arange(len(keys)), list(counts.values()))],
        columns=["region", "sex"],
    )
    return pd.crosstab(people.region, people.sex, margins=True)


def suppressed_by_hand(path, table: pd.DataFrame, cells: dict[tuple[str, str], str]):
    """``table`` as pandas writes it, then ``cells`` overwritten as a researcher would."""
    table = table.astype(object)
    for (row, column), marker in cells.items():
        table.loc[row, column] = marker
    table.to_csv(path)
    return path


def given_back(report) -> dict[str, tuple]:
    return {f.rule: f.cells for f in report.findings if f.rule.startswith("suppress")}


REGIONS = {
    ("Borders", "F"): 20,
    ("Borders", "M"): 25,
    ("Fife", "F"): 12,
    ("Fife", "M"): 4,
    ("Lothian", "F"): 3,
    ("Lothian", "M"): 30,
}


def test_a_blank_and_a_star_are_given_back_by_the_row_totals(tmp_path):
    path = suppressed_by_hand(
        tmp_path / "t.csv", crosstab(REGIONS), {("Lothian", "F"): "", ("Fife", "M"): "*"}
    )
    assert path.read_text().splitlines() == [
        "region,F,M,All",
        "Borders,20,25,45",
        "Fife,12,*,16",
        "Lothian,,30,33",
        "All,35,59,94",
    ]

    report = check_file(path)

    assert report.status == "fail"
    [finding] = report.findings
    assert finding.rule == "suppression"
    assert finding.cells == (("Fife", "M"), ("Lothian", "F"))
    assert "(Fife, M) = 4 from the row total; (Lothian, F) = 3 from the row total" in (
        finding.message
    )
    assert "secondary suppression" in finding.message


def test_a_suppressed_cell_the_totals_give_back_at_or_above_the_threshold_passes(tmp_path):
    path = suppressed_by_hand(tmp_path / "t.csv", crosstab(REGIONS), {("Borders", "F"): "c"})
    # The small visible counts fail as counts; nothing is given back below the threshold.
    assert "suppression" not in given_back(check_file(path))


def test_two_suppressed_cells_per_line_adding_up_to_the_threshold_are_safe(tmp_path):
    counts = {
        ("A", "X"): 3,
        ("A", "Y"): 12,
        ("A", "Z"): 20,
        ("B", "X"): 15,
        ("B", "Y"): 4,
        ("B", "Z"): 30,
        ("C", "X"): 25,
        ("C", "Y"): 25,
        ("C", "Z"): 25,
    }
    hidden = {("A", "X"): "*", ("A", "Y"): "*", ("B", "X"): "*", ("B", "Y"): "*"}
    path = suppressed_by_hand(tmp_path / "t.csv", crosstab(counts), hidden)

    report = check_file(path)

    assert report.status == "pass"
    assert report.findings[0].message.endswith(
        "; 4 suppressed, none that the totals give back below the threshold"
    )


def test_suppressed_cells_of_a_line_that_add_up_to_below_the_threshold_fail_together(tmp_path):
    counts = {
        ("A", "X"): 3,
        ("A", "Y"): 4,
        ("A", "Z"): 20,
        ("B", "X"): 15,
        ("B", "Y"): 14,
        ("B", "Z"): 30,
        ("C", "X"): 25,
        ("C", "Y"): 25,
        ("C", "Z"): 25,
    }
    hidden = {("A", "X"): "*", ("A", "Y"): "*", ("B", "X"): "*", ("B", "Y"): "*"}
    path = suppressed_by_hand(tmp_path / "t.csv", crosstab(counts), hidden)

    report = check_file(path)

    assert report.status == "fail"
    [together] = report.findings
    assert together.rule == "suppressed together"
    assert together.cells == (("A", "X"), ("A", "Y"))
    assert "(A, X) and (A, Y) together = 7 from the row total" in together.message


def test_a_chain_of_recoveries_is_followed_to_the_end(tmp_path):
    # No row can be solved at first; the column totals give back (B, X) and (C, Z), and
    # then rows B and C each have one suppressed cell left.
    counts = {
        ("A", "X"): 20,
        ("A", "Y"): 20,
        ("A", "Z"): 20,
        ("B", "X"): 15,
        ("B", "Y"): 4,
        ("B", "Z"): 30,
        ("C", "X"): 25,
        ("C", "Y"): 12,
        ("C", "Z"): 14,
    }
    hidden = {("B", "X"): "x", ("B", "Y"): "x", ("C", "Y"): "..", ("C", "Z"): "[c]"}
    path = suppressed_by_hand(tmp_path / "t.csv", crosstab(counts), hidden)

    report = check_file(path)

    assert report.status == "fail"
    [finding] = report.findings
    assert finding.cells == (("B", "Y"),)
    assert "(B, Y) = 4 from the row total once (B, X) is worked out" in finding.message


def test_a_suppressed_total_is_worked_out_too(tmp_path):
    # The row total of Fife is hidden, so Fife's M is not given back by its row; the column
    # total gives it back.
    path = suppressed_by_hand(
        tmp_path / "t.csv", crosstab(REGIONS), {("Fife", "M"): "<5", ("Fife", "All"): "*"}
    )
    [finding] = [f for f in check_file(path).findings if f.rule == "suppression"]
    assert finding.cells == (("Fife", "M"),)
    assert "(Fife, M) = 4 from the column total" in finding.message


def test_totals_that_are_not_sums_go_to_review(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("region,F,M,Total\nFife,20,*,30\nLothian,40,30,75\n")
    report = check_file(path)
    assert report.status == "review"
    [finding] = report.findings
    assert finding.rule == "totals"
    assert finding.message.startswith("the row total of 'Lothian' is not the sum of its cells")


def test_without_totals_a_suppressed_cell_is_not_given_back(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("region,F,M\nFife,20,*\nLothian,40,30\n")
    report = check_file(path)
    assert report.status == "pass"
    assert "1 suppressed" in report.findings[0].message


@pytest.mark.parametrize(
    "marker", [*sorted(SUPPRESSION_MARKERS), "C", "X", "<10", "< 5", "<=4", "[C]"]
)
def test_every_documented_marker_is_read_as_suppressed(tmp_path, marker):
    path = tmp_path / "t.csv"
    path.write_text(f'region,F,M,All\nFife,12,"{marker}",16\nLothian,20,30,50\n')
    table = read_csv_table(path)
    assert table.value_columns == ["F", "M", "All"]
    assert table.suppressed["M"].tolist() == [True, False]
    assert given_back(check_file(path)) == {"suppression": (("Fife", "M"),)}


def test_the_command_fails_a_table_whose_totals_give_a_cell_back(tmp_path, capsys):
    path = suppressed_by_hand(tmp_path / "t.csv", crosstab(REGIONS), {("Lothian", "F"): "*"})
    with pytest.raises(SystemExit) as exited:
        call_command("sdc", "check", "--json", str(path))
    assert exited.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "fail"
    findings = report["files"][0]["findings"]
    suppression = [f for f in findings if f["rule"] == "suppression"]
    assert suppression[0]["cells"] == [["Lothian", "F"]]
    assert "(Lothian, F) = 3 from the row total" in suppression[0]["message"]


def test_a_cell_joining_two_blocks_of_suppressed_cells_is_given_back(tmp_path):
    # No row or column has only one suppressed cell, but the totals of rows A and B less
    # those of columns W and X leave (B, Y) alone.
    counts = {(row, column): 20 for row in "ABCD" for column in "WXYZ"} | {("B", "Y"): 4}
    hidden = {
        (r, c): "*" for rows, columns in (("AB", "WX"), ("CD", "YZ")) for r in rows for c in columns
    }
    hidden[("B", "Y")] = "*"
    path = suppressed_by_hand(tmp_path / "t.csv", crosstab(counts), hidden)

    [finding] = check_file(path).findings

    assert finding.cells == (("B", "Y"),)
    # Either block's rows and columns give it back.
    assert any(
        f"(B, Y) = 4 from the totals of {lines} together" in finding.message
        for lines in ("A, B, W and X", "C, D, Y and Z")
    )


@st.composite
def tables_with_suppression(draw):
    """A count table with margins and some of its cells, totals included, suppressed."""
    rows = draw(st.integers(2, 5))
    columns = draw(st.integers(2, 5))
    counts = np.array(
        draw(st.lists(st.integers(0, 40), min_size=rows * columns, max_size=rows * columns))
    ).reshape(rows, columns)
    full = np.zeros((rows + 1, columns + 1), dtype=int)
    full[:rows, :columns] = counts
    full[:rows, columns] = counts.sum(axis=1)
    full[rows, :] = full[:rows, :].sum(axis=0)
    cells = [(r, c) for r in range(rows + 1) for c in range(columns + 1)]
    hidden = draw(st.lists(st.sampled_from(cells), min_size=1, max_size=12, unique=True))
    if rows >= 4 and columns >= 4 and draw(st.booleans()):
        # Two blocks of suppressed cells joined by one cell, as a careless secondary
        # suppression leaves them: only several lines together give the joining cell back.
        r = draw(st.permutations(range(rows)))
        c = draw(st.permutations(range(columns)))
        blocks = {(r[i], c[j]) for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]}
        blocks |= {(r[i], c[j]) for i in (2, 3) for j in (2, 3)}
        hidden = list(dict.fromkeys([*blocks, *hidden]))
    return full, hidden


def determined(full: np.ndarray, hidden: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The hidden cells of ``full`` (a table with its totals in the last row and column) that
    its totals fix, by linear algebra: a cell is fixed when adding it as an equation does not
    raise the rank of the equations (each row's and each column's cells less its total)."""
    last_row, last_column = full.shape[0] - 1, full.shape[1] - 1
    equations = np.array(
        [
            [(r == line) * (1 - 2 * (c == last_column)) for r, c in hidden]
            for line in range(last_row + 1)
        ]
        + [
            [(c == line) * (1 - 2 * (r == last_row)) for r, c in hidden]
            for line in range(last_column + 1)
        ],
        dtype=float,
    )
    rank = np.linalg.matrix_rank(equations)
    return {
        cell
        for i, cell in enumerate(hidden)
        if np.linalg.matrix_rank(np.vstack([equations, np.eye(len(hidden))[i]])) == rank
    }


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables_with_suppression())
def test_a_flagged_cell_is_exactly_one_the_totals_give_back_below_the_threshold(tmp_path, example):
    full, hidden = example
    rows = [f"r{r}" for r in range(full.shape[0] - 1)] + ["All"]
    columns = [f"c{c}" for c in range(full.shape[1] - 1)] + ["All"]
    table = pd.DataFrame(full, index=pd.Index(rows, name="region"), columns=columns)
    path = suppressed_by_hand(
        tmp_path / "t.csv", table, {(rows[r], columns[c]): "*" for r, c in hidden}
    )

    flagged = set(given_back(check_file(path)).get("suppression", ()))

    assert flagged == {
        (rows[r], columns[c]) for r, c in determined(full, hidden) if full[r, c] < THRESHOLD
    }
