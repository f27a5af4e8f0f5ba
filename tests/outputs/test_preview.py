"""The preview of a CSV with several header rows, as pandas and havenkit.sdc write a table with
two or more column variables: header rows as headers, failing cells marked as in any table."""

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from havenkit.outputs import services
from havenkit.outputs.preview import HeaderCell, PreviewCell, table_preview
from havenkit.outputs.services import FileChoice
from havenkit.sdc.csv_tables import header_layout
from havenkit.sdc.session import Session
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

FLAGGED_CELL = (
    '<td class="nhsuk-table__cell hk-flagged"><strong>3</strong> '
    '<span class="nhsuk-tag nhsuk-tag--red">flagged</span></td>'
)


def records(counts: dict[tuple[str, str, str], int]) -> pd.DataFrame:
    """One row per patient, so that each (region, sex, agegrp) group has the count given."""
    keys = list(counts)
    repeats = np.repeat(np.arange(len(keys)), list(counts.values()))
    return pd.DataFrame([keys[i] for i in repeats], columns=["region", "sex", "agegrp"])


PATIENTS = records(
    {
        ("Fife", "F", "65+"): 3,
        ("Fife", "F", "<65"): 20,
        ("Fife", "M", "65+"): 12,
        ("Fife", "M", "<65"): 15,
        ("Lothian", "F", "65+"): 30,
        ("Lothian", "F", "<65"): 40,
        ("Lothian", "M", "65+"): 25,
        ("Lothian", "M", "<65"): 35,
    }
)


def preview_page(haven, make_job, client, files: dict[str, bytes], name: str):
    job = make_job(haven.project, haven.researcher, files)
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(job.pk, name, "Patients by sex and age")]
    )
    release_file = release_request.files.get()
    sign_in(client, haven.researcher)
    page = client.get(reverse("outputs:view_file", args=[release_request.pk, release_file.pk]))
    assert page.status_code == 200
    return release_file, page


def test_a_pandas_crosstab_with_two_column_variables_shows_its_header_rows_and_failing_cell(
    haven, make_job, client
):
    table = pd.crosstab(PATIENTS.region, [PATIENTS.sex, PATIENTS.agegrp])
    release_file, page = preview_page(
        haven, make_job, client, {"by_age.csv": table.to_csv().encode()}, "by_age.csv"
    )
    assert release_file.sdc_status == "fail"
    assert release_file.flagged_cells() == {("Fife", "F / 65+")}

    preview = page.context["preview"].table
    assert preview.header_rows == [
        [HeaderCell("sex", "row"), HeaderCell("F", "colgroup", 2), HeaderCell("M", "colgroup", 2)],
        [HeaderCell("agegrp", "row"), *(HeaderCell(age) for age in ["65+", "<65"] * 2)],
        [HeaderCell("region"), HeaderCell("", "", colspan=4)],
    ]
    assert preview.rows[0] == [
        PreviewCell("Fife", is_label=True),
        PreviewCell("3", flagged=True),
        PreviewCell("20"),
        PreviewCell("12"),
        PreviewCell("15"),
    ]
    assert not any(cell.flagged for cell in preview.rows[1])

    html = page.content.decode()
    assert '<th scope="colgroup" class="nhsuk-table__header" colspan="2">F</th>' in html
    assert '<th scope="row" class="nhsuk-table__header">agegrp</th>' in html
    assert '<th scope="col" class="nhsuk-table__header">&lt;65</th>' in html
    assert '<td class="nhsuk-table__cell" colspan="4"></td>' in html
    assert '<th scope="row" class="nhsuk-table__header">Fife</th>' in html
    assert html.count(FLAGGED_CELL) == 1
    assert '<th scope="col" class="nhsuk-table__header">region</th>' in html


def test_a_library_table_with_margins_marks_the_cells_its_session_flagged(
    haven, make_job, client, tmp_path
):
    session = Session()
    session.crosstab(PATIENTS.region, [PATIENTS.sex, PATIENTS.agegrp], margins=True)
    folder = session.finalise(tmp_path / "sdc")
    files = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    files |= {f"checksums/{p.name}": p.read_bytes() for p in (folder / "checksums").iterdir()}
    release_file, page = preview_page(haven, make_job, client, files, "output_0_0.csv")
    assert release_file.sdc_status == "fail"
    assert ("Fife", "F / 65+") in release_file.flagged_cells()

    preview = page.context["preview"].table
    # The margin column's "All" has only blanks below it, so it spans both header rows.
    assert preview.header_rows[0][-1] == HeaderCell("All", "col", rowspan=2)
    assert len(preview.header_rows[1]) == 1 + 4
    flagged = {
        (row[0].text, preview.header_rows[1][column].text)
        for row in preview.rows
        for column, cell in enumerate(row)
        if cell.flagged
    }
    assert flagged == {("Fife", "65+")}
    assert page.content.decode().count(FLAGGED_CELL) == 1
    assert '<th scope="col" class="nhsuk-table__header" rowspan="2">All</th>' in (
        page.content.decode()
    )


def test_two_index_columns_and_an_unnamed_level_are_laid_out(tmp_path):
    table = pd.pivot_table(
        PATIENTS.assign(patients=1),
        values="patients",
        index=["region", "agegrp"],
        columns="sex",
        aggfunc=["count"],
    )
    text = table.to_csv()
    assert text.startswith(",,count,count\nsex,,F,M\nregion,agegrp,,\n")
    assert header_layout([row.split(",") for row in text.splitlines()]) == (2, 2)
    path = tmp_path / "by_age.csv"
    path.write_text(text)
    preview = table_preview(path, text, {("Fife / 65+", "count / F")}, 500)
    assert preview.header_rows == [
        [HeaderCell("", "", colspan=2), HeaderCell("count", "colgroup", 2)],
        [HeaderCell("sex", "row", colspan=2), HeaderCell("F"), HeaderCell("M")],
        [HeaderCell("region"), HeaderCell("agegrp"), HeaderCell("", "", colspan=2)],
    ]
    assert [[cell.flagged for cell in row] for row in preview.rows] == [
        [False, False, True, False],
        *([[False] * 4] * 3),
    ]


def test_a_column_variable_of_numbers_is_a_header_row_when_the_top_row_groups_columns():
    text = "sex,F,F,M,M\nyear,2024,2025,2024,2025\nregion,,,,\nFife,20,30,40,50\n"
    assert header_layout([row.split(",") for row in text.splitlines()]) == (2, 1)


def test_a_fully_suppressed_row_does_not_turn_the_rows_above_into_headers(tmp_path):
    text = "region,F,M\nFife,20,30\nLothian,,\nBorders,40,50\n"
    path = tmp_path / "suppressed.csv"
    path.write_text(text)
    assert header_layout([row.split(",") for row in text.splitlines()]) is None
    preview = table_preview(path, text, {("Borders", "M")}, 500)
    assert preview.header_rows == [[HeaderCell("region"), HeaderCell("F"), HeaderCell("M")]]
    assert [cell.text for cell in preview.rows[1]] == ["Lothian", "", ""]
    assert preview.rows[2] == [
        PreviewCell("Borders", is_label=True),
        PreviewCell("40"),
        PreviewCell("50", flagged=True),
    ]


def test_only_the_first_rows_are_shown_under_the_header_rows(tmp_path):
    text = "sex,F,F\nagegrp,65+,<65\nregion,,\n" + "".join(f"r{i},20,30\n" for i in range(5))
    path = tmp_path / "long.csv"
    path.write_text(text)
    preview = table_preview(path, text, set(), 3)
    assert [row[0].text for row in preview.rows] == ["r0", "r1", "r2"]
    assert preview.more_rows


def test_a_table_with_a_year_label_marks_the_cell_the_file_check_flagged(haven, make_job, client):
    # The file check names rows "Fife / 2020" (the year is a label, not a count): the preview
    # labels its rows the same way, so the failing cell is marked.
    people = pd.DataFrame(
        [("Fife", 2019)] * 30 + [("Fife", 2020)] * 3 + [("Lothian", 2019)] * 40,
        columns=["region", "year"],
    )
    table = people.groupby(["region", "year"]).size().rename("patients")
    release_file, page = preview_page(
        haven, make_job, client, {"by_year.csv": table.to_csv().encode()}, "by_year.csv"
    )
    assert release_file.sdc_status == "fail"
    assert release_file.flagged_cells() == {("Fife / 2020", "patients")}

    preview = page.context["preview"].table
    assert preview.rows[1] == [
        PreviewCell("Fife", is_label=True),
        PreviewCell("2020", is_label=True),
        PreviewCell("3", flagged=True),
    ]
    assert page.content.decode().count(FLAGGED_CELL) == 1
