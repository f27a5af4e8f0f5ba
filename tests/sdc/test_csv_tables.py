"""One reading of a CSV for every check: tables written by pandas, named the same everywhere."""

from pathlib import Path

import numpy as np
import pandas as pd

from havenkit.outputs.preview import table_preview
from havenkit.sdc.csv_tables import read_csv_table
from havenkit.sdc.differencing import differencing_findings
from havenkit.sdc.files import check_file

THRESHOLD = 10


def records(columns: list[str], counts: dict[tuple, int]) -> pd.DataFrame:
    """One row per person, so that each group of ``columns`` has the count given."""
    keys = list(counts)
    repeats = np.repeat(np.arange(len(keys)), list(counts.values()))
    return pd.DataFrame([keys[i] for i in repeats], columns=columns)


def written(path: Path, table: pd.DataFrame | pd.Series) -> Path:
    table.to_csv(path)
    return path


def failing_cells(path: Path) -> set[tuple[str, str]]:
    return {cell for finding in check_file(path).findings for cell in finding.cells}


def marked(path: Path, flagged: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(row labels, column) of every cell the preview marks, read back from the preview."""
    preview = table_preview(path, path.read_text(), flagged, 500)
    table = read_csv_table(path)
    rows = table.row_labels()
    return {
        (rows[index], column)
        for index, row in enumerate(preview.rows)
        for column, cell in zip(table.columns, row, strict=True)
        if cell.flagged
    }


YEARS = {
    ("Fife", 2019): 30,
    ("Fife", 2020): 3,
    ("Lothian", 2019): 40,
    ("Lothian", 2020): 45,
}


def by_year(counts: dict[tuple, int]) -> pd.Series:
    people = records(["region", "year"], counts)
    return people.groupby(["region", "year"]).size().rename("patients")


def test_region_year_patients_names_a_failing_cell_the_same_in_every_check(tmp_path):
    new = written(tmp_path / "new.csv", by_year(YEARS))
    old = written(tmp_path / "old.csv", by_year(YEARS | {("Fife", 2020): 8}))
    assert new.read_text().splitlines()[:2] == ["region,year,patients", "Fife,2019,30"]

    checked = failing_cells(new)
    [differenced] = differencing_findings(new, {"old.csv": old}, THRESHOLD)

    assert checked == {("Fife / 2020", "patients")}
    assert set(differenced.cells) == checked
    assert marked(new, checked) == checked
    table = read_csv_table(new)
    assert table.label_columns == ("region", "year")
    assert table.value_columns == ["patients"]


PEOPLE = {
    (region, board, sex, age): 20
    for region, board in [("Fife", 1), ("Fife", 2), ("Lothian", 1), ("Lothian", 2)]
    for sex in "FM"
    for age in ("old", "young")
} | {("Fife", 2, "M", "young"): 4}
TWO_BY_TWO = records(["region", "hb", "sex", "agegrp"], PEOPLE)


def test_a_crosstab_of_two_index_and_two_column_variables_has_its_cells_found(tmp_path):
    people = TWO_BY_TWO
    path = written(
        tmp_path / "t.csv", pd.crosstab([people.region, people.hb], [people.sex, people.agegrp])
    )
    assert path.read_text().splitlines()[:3] == [
        "sex,,F,F,M,M",
        "agegrp,,old,young,old,young",
        "region,hb,,,,",
    ]

    report = check_file(path)

    assert report.status == "fail"
    [threshold] = report.findings
    assert threshold.cells == (("Fife / 2", "M / young"),)
    table = read_csv_table(path)
    assert table.label_columns == ("region", "hb")
    assert table.value_columns == ["F / old", "F / young", "M / old", "M / young"]
    assert marked(path, set(threshold.cells)) == set(threshold.cells)
    fewer = TWO_BY_TWO.drop(index=TWO_BY_TWO.index[:3])
    old = written(
        tmp_path / "old.csv", pd.crosstab([fewer.region, fewer.hb], [fewer.sex, fewer.agegrp])
    )
    [differenced] = differencing_findings(path, {"old.csv": old}, THRESHOLD)
    assert differenced.cells == (("Fife / 1", "F / old"),)


def test_margins_are_read_as_margins_not_data(tmp_path):
    people = TWO_BY_TWO
    crosstab = pd.crosstab([people.region, people.hb], [people.sex, people.agegrp], margins=True)
    path = written(tmp_path / "margins.csv", crosstab)
    assert path.read_text().splitlines()[0] == "sex,,F,F,M,M,All"
    assert path.read_text().splitlines()[-1].startswith("All,,")

    table = read_csv_table(path)

    assert table.label_columns == ("region", "hb")
    assert table.margin_columns == ("All",)
    assert table.margin_rows.tolist() == [False] * 4 + [True]
    assert table.row_labels()[-1] == "All"
    [threshold] = check_file(path).findings
    assert threshold.cells == (("Fife / 2", "M / young"),)
    assert marked(path, {("All", "All"), ("Fife / 2", "M / young")}) == {
        ("All", "All"),
        ("Fife / 2", "M / young"),
    }
    # One column variable: one header row, and the margin row's blank year is no gap in the
    # column of years, which stays a label rather than a column of counts.
    year = (people.hb + 2018).rename("year")
    single = written(
        tmp_path / "single.csv", pd.crosstab([people.region, year], people.sex, margins=True)
    )
    assert single.read_text().splitlines()[-1] == "All,,160,144,304"
    table = read_csv_table(single)
    assert table.label_columns == ("region", "year")
    assert table.value_columns == ["F", "M", "All"]
    assert table.margin_columns == ("All",)
    assert check_file(single).status == "pass"
    # Board codes 1 and 2 tell the rows apart, so they are labels too; read as counts they
    # would fail, so a person confirms they are labels.
    codes = written(
        tmp_path / "codes.csv", pd.crosstab([people.region, people.hb], people.sex, margins=True)
    )
    assert read_csv_table(codes).label_columns == ("region", "hb")
    [review] = check_file(codes).findings
    assert review.status == "review"
    assert review.message.startswith("'hb' hold ordered whole numbers")


def test_a_maximum_of_whole_numbers_is_not_a_count(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text("region,n,max_cost\nFife,120,4000\nLothian,150,5200\n")

    report = check_file(path)

    assert report.status == "review"
    [finding] = report.findings
    assert "column 'max_cost' is named as a statistic other than a count" in finding.message
    assert "one person's value" in finding.message


def test_a_fully_suppressed_row_stays_a_data_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("region,F,M\nFife,20,30\nLothian,,\nBorders,40,5\n")
    table = read_csv_table(path)
    assert table.column_levels == 1
    assert table.row_labels() == ["Fife", "Lothian", "Borders"]
    assert failing_cells(path) == {("Borders", "M")}


def test_a_column_level_of_small_numbers_goes_to_review(tmp_path):
    # Quintiles under each sex are a column level, but a header row never hides a count that
    # would fail: a person confirms the row of 1, 2, 3 is labels, not a row of data.
    path = tmp_path / "simd.csv"
    path.write_text("sex,F,F,F,M,M,M\nsimd,1,2,3,1,2,3\nregion,,,,,,\nFife,20,30,40,50,60,70\n")
    table = read_csv_table(path)
    assert table.column_levels == 2
    assert table.value_columns[0] == "F / 1"
    [review] = check_file(path).findings
    assert review.status == "review"
    assert review.message.startswith("a column level of numbers (1, 2, 3) would fail as counts")


def test_an_index_named_only_in_part_still_has_its_header_rows_read(tmp_path):
    people = TWO_BY_TWO
    crosstab = pd.crosstab([people.region, people.hb], [people.sex, people.agegrp], margins=True)
    crosstab.index.names = ["region", None]
    path = written(tmp_path / "t.csv", crosstab)
    assert path.read_text().splitlines()[:3] == [
        "sex,,F,F,M,M,All",
        "agegrp,,old,young,old,young,",
        "region,,,,,,",
    ]

    table = read_csv_table(path)

    assert table.column_levels == 2
    assert table.label_columns == ("region", "(column 2)")
    assert table.value_columns == ["F / old", "F / young", "M / old", "M / young", "All"]
    assert table.margin_columns == ("All",)
    assert table.row_labels()[:2] == ["Fife / 1", "Fife / 2"]
    [threshold] = check_file(path).findings
    assert threshold.cells == (("Fife / 2", "M / young"),)
    crosstab.index.names = [None, "hb"]
    other = written(tmp_path / "hb.csv", crosstab)
    assert other.read_text().splitlines()[2] == ",hb,,,,,"
    assert read_csv_table(other).label_columns == ("(column 1)", "hb")
