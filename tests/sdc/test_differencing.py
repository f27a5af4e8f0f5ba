"""Differencing: the shapes havenkit detects, and the ones it honestly leaves alone."""

import io
from pathlib import Path

import pandas as pd

from havenkit.sdc import Session
from havenkit.sdc.differencing import (
    Comparison,
    band,
    compare,
    differencing_findings,
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
    assert list(read.counts.columns) == ["count / cost"]
    assert dict(read.kinds) == {"cost": "mean"}
    assert dict(read.sum_columns) == {"cost": "mean / cost"}
    assert read.people["cost"].tolist() == [30, 40]
    assert read.sums["cost"].tolist() == [sum(range(100, 130)), sum(range(100, 140))]


def test_releasing_a_list_of_aggfuncs_over_fewer_people_is_differenced(tmp_path):
    old = pivot_table(tmp_path / "old", **COUNTS_AND_MEANS)
    new = pivot_table(tmp_path / "new", {"Lothian": 38, "Fife": 30}, **COUNTS_AND_MEANS)

    findings = differencing_findings(new, {"costs of release request 1": old}, THRESHOLD)

    assert [finding.cells for finding in findings] == [
        (("Lothian", "count / cost"),),
        (("Lothian", "mean / cost"),),
    ]
    assert "(Lothian, count / cost) = 2" in findings[0].message
    assert "(Lothian, mean / cost) over 2 people" in findings[1].message


def test_each_column_variable_and_margin_gets_its_own_count_and_mean(tmp_path):
    path = pivot_table(tmp_path / "out", columns="sex", margins=True, **COUNTS_AND_MEANS)

    read = read_table(path)

    assert list(read.counts.columns) == ["count / F", "count / M", "count / All"]
    assert dict(read.sum_columns) == {"f": "mean / F", "m": "mean / M", "all": "mean / All"}
    assert read.row_labels() == ["Fife", "Lothian", "All"]
    assert read.people.loc[2].tolist() == [35, 35, 70]


def test_other_statistics_of_whole_numbers_are_not_counts(tmp_path):
    path = pivot_table(tmp_path / "out", values="age", aggfunc=["count", "median", "max"])

    read = read_table(path)

    assert list(read.counts.columns) == ["count / age"]
    assert read.magnitude_columns == ("median / age", "max / age")


def test_medians_minimums_and_maximums_are_deliberately_not_differenced(tmp_path):
    # Subtracting reveals nothing of a median, and a minimum or maximum is reviewed by its own
    # rule (it is one person's value): only the counts beside them are compared.
    options = {"values": "cost", "aggfunc": ["count", "median", "min", "max"]}
    old = pivot_table(tmp_path / "old", **options)
    new = pivot_table(tmp_path / "new", {"Lothian": 39, "Fife": 30}, **options)
    assert read_table(new).magnitude_columns == ("median / cost", "min / cost", "max / cost")
    # Lothian's one leaver had the highest cost: the maximum dropped from 139 to 138.
    assert "Lothian,39.0,119.0,100.0,138.0" in new.read_text()

    findings = differencing_findings(new, {"costs.csv": old}, THRESHOLD)

    assert [finding.cells for finding in findings] == [(("Lothian", "count / cost"),)]
    medians_only = {"values": "cost", "aggfunc": ["median", "max"]}
    old = pivot_table(tmp_path / "old2", **medians_only)
    new = pivot_table(tmp_path / "new2", {"Lothian": 39, "Fife": 30}, **medians_only)
    assert differencing_findings(new, {"costs.csv": old}, THRESHOLD) == []


def test_two_column_variables_of_counts_are_read_as_one_count_column_each(tmp_path):
    data = records(PEOPLE).assign(band=lambda d: d.age.lt(40).map({True: "<40", False: "40+"}))
    session = Session()
    session.crosstab(data.region, [data.sex, data.band])

    read = read_table(written(session, tmp_path / "out"))

    assert read.label_columns == ["region"]
    assert list(read.counts.columns) == ["F / 40+", "F / <40", "M / 40+", "M / <40"]
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


# Numeric labels: years, quintiles and codes, however pandas wrote them.

YEARS = {("Lothian", 2019): 40, ("Lothian", 2020): 45, ("Fife", 2019): 30, ("Fife", 2020): 35}


def year_records(fewer: dict[tuple[str, int], int] | None = None) -> pd.DataFrame:
    """One row per person: region, year of admission, sex, and a health board code."""
    fewer = fewer or {}
    rows = [
        {"region": region, "year": year, "sex": "FM"[person % 2], "hb": 1 + (region == "Fife")}
        for (region, year), count in YEARS.items()
        for person in range(count - fewer.get((region, year), 0))
    ]
    return pd.DataFrame(rows)


def released_and_new(tmp_path: Path, old: pd.DataFrame, new: pd.DataFrame) -> list:
    """The findings for ``new`` against ``old``, each written by pandas' to_csv."""
    old.to_csv(tmp_path / "old.csv")
    new.to_csv(tmp_path / "new.csv")
    return differencing_findings(tmp_path / "new.csv", {"old.csv": tmp_path / "old.csv"}, 10)


def test_year_columns_written_as_text_line_up_with_years_read_back_as_floats(tmp_path):
    old = year_records()
    new = year_records({("Lothian", 2019): 3})
    # A year column with a gap goes through floats: pandas writes its headers "2019.0".
    findings = released_and_new(
        tmp_path,
        pd.crosstab(old.region, old.year.astype(str)),
        pd.crosstab(new.region, new.year.astype(float)),
    )
    assert (tmp_path / "new.csv").read_text().splitlines()[0] == "region,2019.0,2020.0"
    assert [finding.cells for finding in findings] == [(("Lothian", "2019.0"),)]
    assert "(Lothian, 2019.0) = 3" in findings[0].message


def test_years_as_a_column_level_under_another_variable_are_header_rows(tmp_path):
    old = year_records()
    new = year_records({("Fife", 2020): 4})
    findings = released_and_new(
        tmp_path,
        pd.crosstab(old.region, [old.sex, old.year.astype(str)]),
        pd.crosstab(new.region, [new.sex, new.year]),
    )
    assert (tmp_path / "new.csv").read_text().splitlines()[:3] == [
        "sex,F,F,M,M",
        "year,2019,2020,2019,2020",
        "region,,,,",
    ]
    assert list(read_table(tmp_path / "new.csv").counts.columns) == [
        "F / 2019",
        "F / 2020",
        "M / 2019",
        "M / 2020",
    ]
    assert [finding.cells for finding in findings] == [(("Fife", "F / 2020"), ("Fife", "M / 2020"))]


def test_a_table_of_numbers_alone_reads_its_sorted_leading_column_as_labels(tmp_path):
    old = year_records()
    new = year_records({("Fife", 2020): 2})
    findings = released_and_new(
        tmp_path, pd.crosstab(old.year, old.sex), pd.crosstab(new.year.astype(str), new.sex)
    )
    assert read_table(tmp_path / "old.csv").label_columns == ["year"]
    assert [finding.cells for finding in findings] == [(("2020", "F"), ("2020", "M"))]


def test_a_number_column_that_tells_repeated_labels_apart_is_a_label(tmp_path):
    # "hb" (a health board code) is not a label word; "sex" alone repeats, "hb" and "sex" do not.
    old = year_records().groupby(["hb", "sex"]).size().rename("patients")
    fewer = year_records({("Fife", 2019): 1})
    new = fewer.assign(hb=fewer.hb.map("{:02d}".format)).groupby(["hb", "sex"]).size()
    findings = released_and_new(tmp_path, old, new.rename("patients"))
    assert (tmp_path / "new.csv").read_text().splitlines()[1] == "01,F,43"
    assert read_table(tmp_path / "new.csv").label_columns == ["hb", "sex"]
    # Fife is board 2: written "2" in the released table and "02" in the new one, which the
    # finding names as the new file shows it.
    assert [finding.cells for finding in findings] == [(("02 / M", "patients"),)]


def test_years_are_labels_not_counts_so_two_years_are_not_subtracted(tmp_path):
    # The same regions in 2019 and in 2020: before years were read as labels, the year
    # columns differed by 1 and were flagged as a count of 1.
    records = year_records()
    by_year = {
        year: records[records.year == year].groupby(["region", "year"]).size().rename("patients")
        for year in (2019, 2020)
    }
    assert released_and_new(tmp_path, by_year[2019], by_year[2020]) == []
    assert read_table(tmp_path / "new.csv").label_columns == ["region", "year"]


# Three or more tables: a cover minus the parts released beside it.


def released_files(tmp_path: Path, tables: dict[str, str]) -> dict[str, Path]:
    return {name: table(tmp_path, name, text) for name, text in tables.items()}


def test_a_total_minus_a_released_part_and_the_new_part_reveals_the_rest(tmp_path):
    # All patients, then the under-18s, then (new) the 18-64s: each pair differs by many, but
    # the total minus both is Lothian's over-65s, 4 people nobody released.
    released = released_files(
        tmp_path,
        {
            "all.csv": "region,patients\nLothian,300\nFife,200\n",
            "young.csv": "region,patients\nLothian,100\nFife,60\n",
        },
    )
    new = table(tmp_path, "new.csv", "region,patients\nLothian,196\nFife,120\n")
    [finding] = differencing_findings(new, released, THRESHOLD)
    assert finding.status == "review"
    assert finding.message.startswith(
        "subtracting this table and young.csv from all.csv reveals 1 count below 10, which no "
        "two of these tables reveal: (Lothian, patients) = 4"
    )
    assert "these 3 tables may all be out" in finding.message
    assert finding.cells == (("Lothian", "patients"),)


def test_a_new_total_minus_two_released_parts(tmp_path):
    # The young by region and sex, the middle-aged by region, and (new) everybody by region:
    # Fife's 187 - 60 - 120 = 7 are the old; Lothian's 300 - 100 - 190 = 10 are not few.
    released = released_files(
        tmp_path,
        {
            "young.csv": "region,sex,patients\nLothian,F,50\nLothian,M,50\nFife,F,30\nFife,M,30\n",
            "middle.csv": "region,patients\nLothian,190\nFife,120\n",
        },
    )
    new = table(tmp_path, "new.csv", "region,patients\nLothian,300\nFife,187\n")
    [finding] = differencing_findings(new, released, THRESHOLD)
    assert "subtracting young.csv and middle.csv from this table reveals" in finding.message
    assert finding.cells == (("Fife", "patients"),)
    assert "(Fife, patients) = 7" in finding.message


def test_a_total_minus_every_part_that_fits_in_it(tmp_path):
    # Four age groups: the total, two groups and (new) a third are out; the total minus the
    # three is the fourth group, which no pair or triple of these tables gives back.
    released = released_files(
        tmp_path,
        {
            "all.csv": "region,patients\nLothian,1000\nFife,800\n",
            "children.csv": "region,patients\nLothian,150\nFife,150\n",
            "adults.csv": "region,patients\nLothian,600\nFife,400\n",
        },
    )
    new = table(tmp_path, "new.csv", "region,patients\nLothian,248\nFife,200\n")
    [finding] = differencing_findings(new, released, THRESHOLD)
    assert finding.message.startswith(
        "subtracting this table, children.csv and adults.csv from all.csv reveals 1 count "
        "below 10, which no two of these tables reveal: (Lothian, patients) = 2"
    )
    assert "these 4 tables may all be out" in finding.message


def test_tables_that_are_not_a_cover_and_its_parts_are_not_combined(tmp_path):
    # Fife's 300 - 100 - 195 = 5 would look revealing, but Lothian has more people in the
    # parts than in the "cover": these are not one population cut into pieces.
    released = released_files(
        tmp_path,
        {
            "a.csv": "region,patients\nLothian,300\nFife,300\n",
            "b.csv": "region,patients\nLothian,150\nFife,100\n",
        },
    )
    new = table(tmp_path, "new.csv", "region,patients\nLothian,200\nFife,195\n")
    assert differencing_findings(new, released, THRESHOLD) == []


def test_a_cell_a_pair_already_reveals_is_not_named_again(tmp_path):
    released = released_files(
        tmp_path,
        {
            "all.csv": "region,patients\nLothian,300\nFife,200\n",
            "young.csv": "region,patients\nLothian,100\nFife,60\n",
        },
    )
    # Lothian: the total minus this table is 3 (a pair); Fife: 200 - 60 - 135 = 5 (a triple).
    new = table(tmp_path, "new.csv", "region,patients\nLothian,297\nFife,135\n")
    findings = differencing_findings(new, released, THRESHOLD)
    assert [finding.cells for finding in findings] == [(("Lothian", "patients"),)]


# Renamed variables.


def test_a_variable_released_under_another_name_is_compared_through_aliases(tmp_path):
    old = table(tmp_path, "old.csv", "hb,patients\nLothian,120\nFife,85\n")
    new = table(tmp_path, "new.csv", "health_board,patients\nLothian,117\nFife,85\n")
    released = {"boards.csv": old}
    assert differencing_findings(new, released, THRESHOLD) == []
    [finding] = differencing_findings(new, released, THRESHOLD, {"hb": "health_board"})
    assert finding.cells == (("Lothian", "patients"),)
    assert "(Lothian, patients) = 3" in finding.message


def test_an_alias_does_not_rename_over_a_column_the_table_already_has():
    read = read_table(io.StringIO("hb,health_board,patients\nA,Lothian,120\n"))
    assert read.with_aliases({"hb": "health_board"}).label_columns == ["hb", "health_board"]
    assert read.with_aliases({"health_board": "board"}).label_columns == ["hb", "board"]
