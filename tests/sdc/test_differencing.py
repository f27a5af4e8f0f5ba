"""Differencing: the shapes havenkit detects, and the ones it honestly leaves alone."""

from pathlib import Path

from havenkit.sdc.differencing import differencing_findings, read_count_table, recovered_cells

THRESHOLD = 10


def table(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def recovered(tmp_path: Path, new: str, old: str) -> list[tuple[str, str, int]]:
    new_table = read_count_table(table(tmp_path, "new.csv", new))
    old_table = read_count_table(table(tmp_path, "old.csv", old))
    return recovered_cells(new_table, old_table, THRESHOLD)


def test_same_variables_different_population_reveals_the_difference(tmp_path):
    old = "region,patients\nLothian,120\nFife,85\n"
    new = "region,patients\nLothian,117\nFife,85\n"
    assert recovered(tmp_path, new, old) == [("Lothian", "patients", 3)]


def test_a_large_difference_is_not_flagged(tmp_path):
    old = "region,patients\nLothian,120\nFife,85\n"
    new = "region,patients\nLothian,100\nFife,85\n"
    assert recovered(tmp_path, new, old) == []


def test_a_category_removed_inside_a_total_row_reveals_it(tmp_path):
    # The old table suppressed Borders (blank); the new one leaves Borders out of its total.
    old = "region,patients\nLothian,120\nFife,85\nBorders,\nTotal,211\n"
    new = "region,patients\nLothian,120\nFife,85\nTotal,205\n"
    assert recovered(tmp_path, new, old) == [("Total", "patients", 6)]


def test_a_margin_gives_back_a_suppressed_cell(tmp_path):
    # region x sex with one suppressed cell; a later table of region alone.
    old = "region,sex,patients\nLothian,F,60\nLothian,M,\nFife,F,40\nFife,M,45\n"
    new = "region,patients\nLothian,64\nFife,85\n"
    assert recovered(tmp_path, new, old) == [("Lothian", "patients", 4)]
    # The same whichever table came first.
    assert recovered(tmp_path, old, new) == [("Lothian", "patients", 4)]


def test_several_label_columns_and_count_columns(tmp_path):
    old = "region,agegrp,F,M\nLothian,0-17,30,31\nLothian,18+,50,52\n"
    new = "region,agegrp,F,M\nLothian,0-17,30,29\nLothian,18+,50,52\n"
    assert recovered(tmp_path, new, old) == [("Lothian / 0-17", "M", 2)]


def test_tables_without_shared_variables_or_columns_are_not_compared(tmp_path):
    by_region = "region,patients\nLothian,120\n"
    assert recovered(tmp_path, "sex,patients\nF,118\n", by_region) == []
    assert recovered(tmp_path, "region,admissions\nLothian,118\n", by_region) == []
    # Partly overlapping variables are a shape this module does not claim to detect.
    assert (
        recovered(
            tmp_path,
            "region,sex,patients\nLothian,F,118\n",
            "region,agegrp,patients\nLothian,18+,120\n",
        )
        == []
    )


def test_findings_name_the_other_table_and_the_cells(tmp_path):
    new = table(tmp_path, "new.csv", "region,patients\nLothian,117\nFife,85\n")
    released = {
        "regions.csv of release request 3": table(
            tmp_path, "a.csv", "region,patients\nLothian,120\nFife,85\n"
        ),
        "notes.csv of release request 4": table(tmp_path, "b.csv", "note\nhello\n"),
    }
    [finding] = differencing_findings(new, released, THRESHOLD)
    assert finding.status == "review"
    assert finding.rule == "differencing"
    assert "regions.csv of release request 3" in finding.message
    assert finding.cells == (("Lothian", "patients"),)


def test_a_file_that_is_not_a_count_table_gets_no_finding(tmp_path):
    means = table(tmp_path, "means.csv", "region,mean_cost\nLothian,12.5\n")
    other = table(tmp_path, "other.csv", "region,mean_cost\nLothian,12.0\n")
    assert read_count_table(means) is None
    assert differencing_findings(means, {"other": other}, THRESHOLD) == []
