"""Differencing: the shapes havenkit detects, and the ones it honestly leaves alone."""

from pathlib import Path

import pandas as pd

from havenkit.sdc import Session
from havenkit.sdc.differencing import (
    Comparison,
    band,
    compare,
    differencing_findings,
    read_count_table,
    read_table,
)

THRESHOLD = 10


def table(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def comparison(tmp_path: Path, new: str, old: str) -> Comparison:
    new_table = read_table(table(tmp_path, "new.csv", new))
    old_table = read_table(table(tmp_path, "old.csv", old))
    return compare(new_table, old_table, THRESHOLD)


def recovered(tmp_path: Path, new: str, old: str) -> list[tuple[str, str, int]]:
    """(row, column, count) of each small count that subtracting ``old`` from ``new`` reveals."""
    return [(c.row, c.column, c.people) for c in comparison(tmp_path, new, old).counts]


# Same variables, and a margin.


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


def test_a_margin_gives_back_a_suppressed_cell_and_names_it(tmp_path):
    # region x sex with one suppressed cell; a later table of region alone.
    old = "region,sex,patients\nLothian,F,60\nLothian,M,\nFife,F,40\nFife,M,45\n"
    new = "region,patients\nLothian,64\nFife,85\n"
    assert recovered(tmp_path, new, old) == [("Lothian / M", "patients", 4)]
    # The same whichever table came first.
    assert recovered(tmp_path, old, new) == [("Lothian / M", "patients", 4)]


def test_two_suppressed_cells_in_a_group_are_named_by_the_group(tmp_path):
    old = "region,sex,patients\nLothian,F,\nLothian,M,\nFife,F,40\nFife,M,45\n"
    new = "region,patients\nLothian,7\nFife,85\n"
    assert recovered(tmp_path, new, old) == [("Lothian", "patients", 7)]


def test_total_rows_of_a_variable_summed_over_are_left_out(tmp_path):
    old = "region,sex,patients\nLothian,F,60\nLothian,M,\nLothian,Total,64\nFife,F,40\n"
    new = "region,patients\nLothian,64\nFife,40\n"
    assert recovered(tmp_path, new, old) == [("Lothian / M", "patients", 4)]


def test_several_label_columns_and_count_columns(tmp_path):
    old = "region,agegrp,F,M\nLothian,0-17,30,31\nLothian,18+,50,52\n"
    new = "region,agegrp,F,M\nLothian,0-17,30,29\nLothian,18+,50,52\n"
    assert recovered(tmp_path, new, old) == [("Lothian / 0-17", "M", 2)]


# 1. Partly overlapping variables.


def test_partly_overlapping_variables_compare_on_the_shared_margin(tmp_path):
    # region x sex (new) against region x agegroup (released): the region margins must agree.
    released = (
        "region,agegroup,patients\nLothian,<18,40\nLothian,18+,80\nFife,<18,30\nFife,18+,55\n"
    )
    new = "region,sex,patients\nLothian,F,58\nLothian,M,59\nFife,F,40\nFife,M,45\n"
    assert recovered(tmp_path, new, released) == [("Lothian", "patients", 3)]


def test_a_finer_table_with_extra_variables_collapses_onto_the_coarser_one(tmp_path):
    # region x sex (new) against region x sex x agegroup (released), one cell suppressed.
    released = (
        "region,sex,agegroup,patients\n"
        "Lothian,F,<18,20\nLothian,F,18+,40\nLothian,M,<18,\nLothian,M,18+,50\n"
    )
    new = "region,sex,patients\nLothian,F,60\nLothian,M,58\n"
    assert recovered(tmp_path, new, released) == [("Lothian / M / <18", "patients", 8)]


def test_a_suppressed_cell_of_the_new_table_comes_back_from_a_released_margin(tmp_path):
    # The new table suppressed Fife / M; the released region x agegroup gives Fife's total.
    released = (
        "region,agegroup,patients\nLothian,<18,40\nLothian,18+,80\nFife,<18,30\nFife,18+,55\n"
    )
    new = "region,sex,patients\nLothian,F,60\nLothian,M,60\nFife,F,80\nFife,M,\n"
    assert recovered(tmp_path, new, released) == [("Fife / M", "patients", 5)]


def test_tables_without_shared_variables_or_columns_are_not_compared(tmp_path):
    by_region = "region,patients\nLothian,120\n"
    assert recovered(tmp_path, "sex,patients\nF,118\n", by_region) == []
    assert recovered(tmp_path, "region,admissions\nLothian,118\n", by_region) == []


# 2. Recoded categories.


def test_band_labels_read_as_whole_number_intervals():
    inf = float("inf")
    assert band("16-64") == (16, 65)
    assert band("16 to 64") == (16, 65)
    assert band("65+") == (65, inf)
    assert band("65 and over") == (65, inf)
    assert band(">64") == (65, inf)
    assert band("<16") == (-inf, 16)
    assert band("under 16") == (-inf, 16)
    assert band("<=15") == (-inf, 16)
    # A band from 0 starts at the bottom, like "<16".
    assert band("0-15") == band("<16")
    assert band("Lothian") is None
    assert band("64-16") is None


def test_crossing_age_bands_recover_the_slice_between_the_cut_points(tmp_path):
    # 0-15 / 16-64 / 65+ against 0-17 / 18-64 / 65+: 0-17 minus 0-15 is the 16-17s.
    released = "age,patients\n0-15,200\n16-64,700\n65+,100\n"
    new = "age,patients\n0-17,207\n18-64,693\n65+,100\n"
    assert recovered(tmp_path, new, released) == [("16-17", "patients", 7)]


def test_crossing_bands_inside_groups_of_another_variable(tmp_path):
    released = "region,age,patients\nLothian,<16,200\nLothian,16+,800\nFife,<16,100\nFife,16+,300\n"
    new = "region,age,patients\nLothian,<18,230\nLothian,18+,770\nFife,<18,104\nFife,18+,296\n"
    assert recovered(tmp_path, new, released) == [("Fife / 16-17", "patients", 4)]


def test_crossing_bands_over_a_suppressed_band_use_the_other_end(tmp_path):
    # The released table suppressed the under-16s, so counts from the top give 16-17.
    released = "age,patients\n<16,\n16-64,700\n65+,100\n"
    new = "age,patients\n0-17,207\n18-64,692\n65+,100\n"
    assert recovered(tmp_path, new, released) == [("16-17", "patients", 8)]


def test_crossing_bands_that_share_only_their_top_end_count_from_the_top(tmp_path):
    # 10-17 / 18-64 / 65+ starts higher than <16 / 16-64 / 65+: 16-64 minus 18-64 is 16-17.
    released = "age,patients\n10-17,95\n18-64,693\n65+,100\n"
    new = "age,patients\n<16,300\n16-64,700\n65+,100\n"
    assert recovered(tmp_path, new, released) == [("16-17", "patients", 7)]


def test_nested_bands_compare_on_the_coarser_bands(tmp_path):
    # 0-15 / 16-64 nest in <65; the suppressed 0-15 comes back from the coarser table.
    released = "age,patients\n0-15,\n16-64,700\n65+,100\n"
    new = "age,patients\n<65,704\n65+,100\n"
    assert recovered(tmp_path, new, released) == [("0-15", "patients", 4)]


def test_a_category_merged_into_a_named_other_category(tmp_path):
    released = "region,patients\nLothian,120\nFife,85\nBorders,\nHighland,40\n"
    new = "region,patients\nLothian,120\nFife,85\nOther,46\n"
    assert recovered(tmp_path, new, released) == [("Borders", "patients", 6)]


def test_two_other_categories_nest_when_one_names_more_labels(tmp_path):
    released = "region,patients\nLothian,120\nFife,85\nOther regions,49\n"
    new = "region,patients\nLothian,120\nOther,131\n"
    assert recovered(tmp_path, new, released) == [("Other", "patients", 3)]


def test_codes_that_cannot_be_lined_up_go_to_review_with_the_reason(tmp_path):
    gap = comparison(
        tmp_path, "age,patients\n0-15,200\n18-64,700\n", "age,patients\n0-17,207\n18-64,693\n"
    )
    assert gap.counts == []
    assert gap.unaligned == ["the bands of 'age' in this table (<16, 18-64) leave a gap"]
    others = comparison(
        tmp_path,
        "region,patients\nLothian,120\nOther,90\n",
        "region,patients\nFife,85\nOther,125\n",
    )
    assert "over different labels (Fife, Lothian in only one of them)" in others.unaligned[0]
    missing = comparison(
        tmp_path,
        "region,patients\nLothian,120\nOther,90\n",
        "region,patients\nFife,85\nBorders,125\n",
    )
    assert "Lothian are not in the other table" in missing.unaligned[0]
    ranges = comparison(
        tmp_path, "age,patients\n20-29,5\n30-39,6\n", "age,patients\n25-34,5\n35-44,6\n"
    )
    assert "cover different ranges (20-39 and 25-44)" in ranges.unaligned[0]


def test_an_unaligned_variable_is_summed_over_and_the_rest_still_compared(tmp_path):
    released = "region,age,patients\nLothian,0-15,40\nLothian,18-64,80\n"
    new = "region,age,patients\nLothian,0-17,41\nLothian,18-64,76\n"
    found = comparison(tmp_path, new, released)
    assert [(c.row, c.people) for c in found.counts] == [("Lothian", 3)]
    assert "leave a gap" in found.unaligned[0]


# 3. Sums and means.


def test_a_sum_over_one_fewer_person_reveals_that_persons_value(tmp_path):
    released = "region,n,total_cost\nLothian,120,48000\nFife,85,31000\n"
    new = "region,n,total_cost\nLothian,119,47200\nFife,85,31000\n"
    found = comparison(tmp_path, new, released)
    assert [(c.row, c.column, c.people) for c in found.magnitudes] == [("Lothian", "total_cost", 1)]


def test_means_with_counts_in_the_same_table_are_differenced_as_sums(tmp_path):
    released = "region,patients,mean_cost\nLothian,120,400.0\nFife,85,364.71\n"
    new = "region,sex,patients,mean_cost\nLothian,F,60,410.5\nLothian,M,57,380.25\n"
    found = comparison(tmp_path, new, released)
    assert [(c.row, c.column, c.people) for c in found.magnitudes] == [("Lothian", "mean_cost", 3)]
    # The counts themselves differ by 3 too, which the count check reports.
    assert [(c.row, c.people) for c in found.counts] == [("Lothian", 3)]


def test_a_sum_difference_over_many_people_is_not_flagged(tmp_path):
    released = "region,n,total_cost\nLothian,120,48000\n"
    new = "region,n,total_cost\nLothian,100,40000\n"
    assert comparison(tmp_path, new, released).magnitudes == []


def test_means_take_their_counts_from_a_count_table_over_the_same_rows(tmp_path):
    # The release holds counts by region and mean cost by region; the new table has both.
    counts = table(tmp_path, "counts.csv", "region,patients\nLothian,120\nFife,85\n")
    means = table(tmp_path, "means.csv", "region,mean_cost\nLothian,400.0\nFife,364.71\n")
    new = table(tmp_path, "new.csv", "region,n,mean_cost\nLothian,119,399.5\nFife,85,364.71\n")
    released = {"counts.csv of release request 1": counts, "means.csv of release request 1": means}
    findings = differencing_findings(new, released, THRESHOLD)
    [sums] = [f for f in findings if "sum of fewer than" in f.message]
    assert "means.csv of release request 1" in sums.message
    assert sums.cells == (("Lothian", "mean_cost"),)


def test_a_mean_with_no_count_anywhere_is_not_differenced(tmp_path):
    means = table(tmp_path, "means.csv", "region,mean_cost\nLothian,12.5\n")
    other = table(tmp_path, "other.csv", "region,mean_cost\nLothian,12.0\n")
    assert read_table(means).sums.empty
    assert list(read_table(means).unpaired.columns) == ["cost"]
    assert differencing_findings(means, {"other": other}, THRESHOLD) == []


def test_columns_are_read_by_their_names(tmp_path):
    read = read_table(
        table(tmp_path, "t.csv", "region,n,mean_cost,total_days,Total\nLothian,10,1.5,30,10\n")
    )
    assert list(read.counts.columns) == ["n", "Total"]
    assert dict(read.sum_columns) == {"cost": "mean_cost", "days": "total_days"}
    assert read.sums.loc[0].to_dict() == {"cost": 15.0, "days": 30.0}
    assert read.people.loc[0].to_dict() == {"cost": 10, "days": 10}
    assert read_count_table(table(tmp_path, "c.csv", "region,n\nLothian,10\n")) is not None
    assert read_count_table(table(tmp_path, "t2.csv", "region,n,mean_cost\nA,10,1.5\n")) is None


# Tables havenkit.sdc writes with several header rows (a list of aggfuncs, several column
# variables): pandas writes one header row per column level.

PEOPLE = {"Lothian": 40, "Fife": 30}


def records(people: dict[str, int]) -> pd.DataFrame:
    """Records of ``people[region]`` people per region, each of either sex, with whole ages."""
    rows = [
        {"region": region, "sex": "FM"[person % 2], "age": 20 + person % 50, "cost": 100 + person}
        for region, count in people.items()
        for person in range(count)
    ]
    return pd.DataFrame(rows)


def written(session: Session, folder: Path) -> Path:
    """The one table of ``session``, as the CSV it wrote when finalised into ``folder``."""
    [path] = session.finalise(folder).glob("*.csv")
    return path


def pivot_table(folder: Path, people: dict[str, int] = PEOPLE, **options: object) -> Path:
    """A pivot_table of ``records(people)`` by region, as a finalised session wrote it."""
    session = Session()
    session.pivot_table(records(people), index="region", **options)
    return written(session, folder)


COUNTS_AND_MEANS = {"values": "cost", "aggfunc": ["count", "mean"]}


def test_a_table_with_a_list_of_aggfuncs_is_read_under_flattened_names(tmp_path):
    path = pivot_table(tmp_path / "out", **COUNTS_AND_MEANS)
    assert path.read_text().splitlines()[:3] == [",count,mean", ",cost,cost", "region,,"]

    read = read_table(path)

    assert read.label_columns == ["region"]
    assert list(read.counts.columns) == ["count cost"]
    assert dict(read.kinds) == {"cost": "mean"}
    assert dict(read.sum_columns) == {"cost": "mean cost"}
    assert read.people["cost"].tolist() == [30, 40]
    assert read.sums["cost"].tolist() == [sum(range(100, 130)), sum(range(100, 140))]


def test_releasing_a_list_of_aggfuncs_over_fewer_people_is_differenced(tmp_path):
    old = pivot_table(tmp_path / "old", **COUNTS_AND_MEANS)
    new = pivot_table(tmp_path / "new", {"Lothian": 38, "Fife": 30}, **COUNTS_AND_MEANS)

    findings = differencing_findings(new, {"costs of release request 1": old}, THRESHOLD)

    assert [finding.cells for finding in findings] == [
        (("Lothian", "count cost"),),
        (("Lothian", "mean cost"),),
    ]
    assert "(Lothian, count cost) = 2" in findings[0].message
    assert "(Lothian, mean cost) over 2 people" in findings[1].message


def test_each_column_variable_and_margin_gets_its_own_count_and_mean(tmp_path):
    path = pivot_table(tmp_path / "out", columns="sex", margins=True, **COUNTS_AND_MEANS)

    read = read_table(path)

    assert list(read.counts.columns) == ["count F", "count M", "count All"]
    assert dict(read.sum_columns) == {"f": "mean F", "m": "mean M", "all": "mean All"}
    assert read.row_labels() == ["Fife", "Lothian", "All"]
    assert read.people.loc[2].tolist() == [35, 35, 70]


def test_other_statistics_of_whole_numbers_are_not_counts(tmp_path):
    path = pivot_table(tmp_path / "out", values="age", aggfunc=["count", "median", "max"])

    read = read_table(path)

    assert list(read.counts.columns) == ["count age"]
    assert read.magnitude_columns == ("median age", "max age")


def test_two_column_variables_of_counts_are_read_as_one_count_column_each(tmp_path):
    data = records(PEOPLE).assign(band=lambda d: d.age.lt(40).map({True: "<40", False: "40+"}))
    session = Session()
    session.crosstab(data.region, [data.sex, data.band])

    read = read_table(written(session, tmp_path / "out"))

    assert read.label_columns == ["region"]
    assert list(read.counts.columns) == ["F 40+", "F <40", "M 40+", "M <40"]
    assert int(read.counts.sum().sum()) == 70


def test_a_suppressed_row_below_one_header_row_is_data_not_a_header(tmp_path):
    read = read_table(
        table(tmp_path, "t.csv", "region,F,M\nLothian,30,40\nFife,,\nBorders,50,60\n")
    )
    assert read.row_labels() == ["Lothian", "Fife", "Borders"]
    assert list(read.counts.columns) == ["F", "M"]


# Findings.


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
    assert "(Lothian, patients) = 3" in finding.message
    assert finding.cells == (("Lothian", "patients"),)


def test_a_magnitude_finding_gives_the_number_of_people_never_the_value(tmp_path):
    new = table(tmp_path, "new.csv", "region,n,total_cost\nLothian,119,47200\nFife,85,31000\n")
    old = table(tmp_path, "old.csv", "region,n,total_cost\nLothian,120,48000\nFife,85,31000\n")
    findings = differencing_findings(new, {"costs.csv of release request 2": old}, THRESHOLD)
    [sums] = [f for f in findings if "sum of fewer than" in f.message]
    assert sums.status == "review"
    assert "costs.csv of release request 2" in sums.message
    assert "(Lothian, total_cost) over 1 person; a sum over 1 person is that" in sums.message
    assert "800" not in sums.message
    assert sums.cells == (("Lothian", "total_cost"),)


def test_an_unaligned_variable_is_a_review_finding_naming_the_other_table(tmp_path):
    new = table(tmp_path, "new.csv", "age,patients\n0-15,200\n18-64,700\n")
    old = table(tmp_path, "old.csv", "age,patients\n0-17,207\n18-64,693\n")
    [finding] = differencing_findings(new, {"ages.csv of release request 5": old}, THRESHOLD)
    assert finding.status == "review"
    assert "ages.csv of release request 5" in finding.message
    assert "leave a gap" in finding.message
