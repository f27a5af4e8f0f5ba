"""A release request file that a job's havenkit.sdc session wrote keeps the session's result,
and the portal says where each file's result came from."""

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from havenkit.outputs import services
from havenkit.outputs.services import FileChoice
from havenkit.sdc.session import Session
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

rng = np.random.default_rng(9)
SIMD = pd.DataFrame({"simd": rng.integers(1, 6, 2000), "sex": rng.choice(["F", "M"], 2000)})


def session_files(tmp_path, config=None) -> dict[str, bytes]:
    """Every file a finalised session wrote, as a job would leave them under outputs/sdc/."""
    session = Session(config)
    session.crosstab(SIMD.simd, SIMD.sex)
    folder = session.finalise(tmp_path / "sdc")
    return {
        f"sdc/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def add(haven, make_job, files, name="sdc/output_0_0.csv"):
    job = make_job(haven.project, haven.researcher, files)
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(job.pk, name, "Patients by SIMD quintile")]
    )
    return job, release_request, release_request.files.get()


def source_of(release_file):
    return next(f["message"] for f in release_file.sdc_findings if f["rule"] == "source")


def test_a_library_table_keeps_the_result_recorded_in_its_job(haven, make_job, tmp_path):
    job, _, release_file = add(haven, make_job, session_files(tmp_path))
    assert release_file.sdc_status == "pass"
    assert source_of(release_file) == f"recorded by havenkit.sdc in job {job.pk} (output_0)"
    assert not release_file.needs_justification


def test_without_results_json_the_same_table_is_checked_from_the_file(haven, make_job, tmp_path):
    files = session_files(tmp_path)
    del files["sdc/results.json"]
    _, _, release_file = add(haven, make_job, files)
    assert release_file.sdc_status == "review"  # SIMD 1-5 could be counts, read alone
    assert source_of(release_file) == "checked from the file"


def test_a_table_changed_after_finalise_is_checked_from_the_file(haven, make_job, tmp_path):
    files = session_files(tmp_path)
    files["sdc/output_0_0.csv"] = b"simd,F,M\n1,200,4\n2,200,300\n"
    job, _, release_file = add(haven, make_job, files)
    assert release_file.sdc_status == "fail"
    assert source_of(release_file) == "checked from the file"
    changed = next(
        f
        for f in release_file.sdc_findings
        if f["rule"] == "recorded" and "changed" in f["message"]
    )
    assert f"in job {job.pk}" in changed["message"]


def test_a_haven_stricter_than_the_session_sends_it_to_review(haven, make_job, tmp_path, settings):
    (settings.HAVENKIT_HOME / "haven.toml").write_text("[sdc]\nsafe_threshold = 15\n")
    _, _, release_file = add(haven, make_job, session_files(tmp_path))
    assert release_file.sdc_status == "review"
    configuration = next(f for f in release_file.sdc_findings if f["rule"] == "configuration")
    assert "safe_threshold must be at least 15, not 10" in configuration["message"]


def test_the_request_page_says_where_the_result_came_from(haven, make_job, tmp_path, client):
    job, release_request, _ = add(haven, make_job, session_files(tmp_path))
    sign_in(client, haven.researcher)
    page = client.get(reverse("outputs:release_request", args=[release_request.pk]))
    assert f"(recorded by havenkit.sdc in job {job.pk} (output_0))" in page.content.decode()


def test_cells_the_library_flagged_are_highlighted_in_the_preview(
    haven, make_job, tmp_path, client
):
    records = pd.DataFrame({"region": ["Fife"] * 4 + ["Lothian"] * 30, "sex": ["F"] * 34})
    session = Session()
    session.crosstab(records.region, records.sex)
    folder = session.finalise(tmp_path / "sdc")
    files = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    files |= {f"checksums/{p.name}": p.read_bytes() for p in (folder / "checksums").iterdir()}
    job, release_request, release_file = add(haven, make_job, files, name="output_0_0.csv")
    assert release_file.sdc_status == "fail"
    assert source_of(release_file) == f"recorded by havenkit.sdc in job {job.pk} (output_0)"
    assert release_file.flagged_cells() == {("Fife", "F")}

    sign_in(client, haven.researcher)
    preview = client.get(reverse("outputs:view_file", args=[release_request.pk, release_file.pk]))
    rows = preview.context["preview"].table.rows
    assert [[cell.flagged for cell in row] for row in rows] == [[False, True], [False, False]]
