"""The output-checking rules on release request files: stored results, justification, preview,
images served inline, and differencing against the project's released tables."""

import pytest
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.outputs import services
from havenkit.outputs.models import Decision, RequestState
from havenkit.outputs.policies import ReleaseRequestError
from havenkit.outputs.services import FileChoice
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

SMALL_COUNT_CSV = b"region,patients\nLothian,120\nFife,4\n"
# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def request_with(haven, make_job, files: dict[str, bytes]):
    job = make_job(haven.project, haven.researcher, files)
    choices = [FileChoice(job.pk, name, f"What {name} shows") for name in files]
    return services.create_release_request(haven.project, haven.researcher, choices)


def released_request(haven, make_job, files: dict[str, bytes]):
    release_request = request_with(haven, make_job, files)
    for release_file in release_request.files.all():
        if release_file.needs_justification:
            services.justify_file(release_file, haven.researcher, "Checked by hand.")
    services.submit(release_request, haven.researcher)
    for checker in (haven.checker_a, haven.checker_b):
        for release_file in release_request.files.all():
            services.review_file(release_file, checker, Decision.APPROVED)
    release_request.refresh_from_db()
    assert release_request.state == RequestState.RELEASED
    return release_request


def test_adding_a_file_stores_its_output_checking_result(haven, make_job):
    release_request = request_with(haven, make_job, {"small.csv": SMALL_COUNT_CSV})
    release_file = release_request.files.get()
    assert release_file.sdc_status == "fail"
    assert release_file.flagged_cells() == {("Fife", "patients")}
    threshold = next(f for f in release_file.sdc_findings if f["rule"] == "threshold")
    assert threshold["cells"] == [["Fife", "patients"]]
    added = AuditEvent.objects.get(action="release.file_added")
    assert added.details["sdc_status"] == "fail"


def test_the_pseudonym_column_fails_the_file(haven, make_job):
    csv = b"pseudonym,patients\nab12,20\ncd34,30\n"
    release_file = request_with(haven, make_job, {"rows.csv": csv}).files.get()
    assert release_file.sdc_status == "fail"
    assert any(f["rule"] == "identifier" for f in release_file.sdc_findings)


def test_a_file_the_rules_did_not_pass_needs_a_justification_to_submit(haven, make_job):
    release_request = request_with(haven, make_job, {"small.csv": SMALL_COUNT_CSV})
    with pytest.raises(ReleaseRequestError, match="give a justification"):
        services.submit(release_request, haven.researcher)
    release_request.refresh_from_db()
    assert release_request.state == RequestState.DRAFT

    release_file = release_request.files.get()
    with pytest.raises(ReleaseRequestError, match="Write why"):
        services.justify_file(release_file, haven.researcher, "   ")
    services.justify_file(release_file, haven.researcher, "Fife's 4 is published by PHS.")
    services.submit(release_request, haven.researcher)
    release_request.refresh_from_db()
    assert release_request.state == RequestState.SUBMITTED
    event = AuditEvent.objects.get(action="release.file_justified", outcome="success")
    assert event.details["justification"] == "Fife's 4 is published by PHS."


def test_changing_a_file_clears_its_justification(haven, make_job):
    release_request = request_with(haven, make_job, {"small.csv": SMALL_COUNT_CSV})
    release_file = release_request.files.get()
    services.justify_file(release_file, haven.researcher, "Published elsewhere.")
    services.add_file(
        release_request, FileChoice(release_file.job_id, "small.csv", "Again"), haven.researcher
    )
    release_file.refresh_from_db()
    assert release_file.justification == ""


def test_the_checker_sees_the_result_the_flagged_cell_and_the_justification(
    haven, make_job, client
):
    release_request = request_with(haven, make_job, {"small.csv": SMALL_COUNT_CSV})
    release_file = release_request.files.get()
    services.justify_file(release_file, haven.researcher, "<b>Published</b> by PHS.")
    services.submit(release_request, haven.researcher)
    sign_in(client, haven.checker_a)

    page = client.get(reverse("outputs:release_request", args=[release_request.pk]))
    html = page.content.decode()
    assert "counts below 10" in html
    assert "&lt;b&gt;Published&lt;/b&gt; by PHS." in html

    preview = client.get(reverse("outputs:view_file", args=[release_request.pk, release_file.pk]))
    html = preview.content.decode()
    rows = preview.context["preview"].table.rows
    assert [[cell.flagged for cell in row] for row in rows] == [[False, False], [False, True]]
    assert 'class="nhsuk-table__cell hk-flagged"><strong>4</strong>' in html
    assert "flagged</span>" in html


def test_images_are_served_inline_to_checkers_only_and_audited(
    haven, make_job, client, signed_in_client
):
    release_request = request_with(haven, make_job, {"chart.png": PNG, "chart.svg": SVG})
    for release_file in release_request.files.all():
        services.justify_file(release_file, haven.researcher, "A chart of large groups.")
    services.submit(release_request, haven.researcher)
    png = release_request.files.get(name="chart.png")
    svg = release_request.files.get(name="chart.svg")
    image_url = reverse("outputs:view_image", args=[release_request.pk, png.pk])

    outsider = signed_in_client("researcher")
    assert outsider.get(image_url).status_code == 403

    sign_in(client, haven.checker_a)
    preview = client.get(reverse("outputs:view_file", args=[release_request.pk, png.pk]))
    assert f'src="{image_url}"' in preview.content.decode()
    response = client.get(image_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    svg_response = client.get(reverse("outputs:view_image", args=[release_request.pk, svg.pk]))
    assert svg_response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in svg_response["Content-Security-Policy"]
    viewed = AuditEvent.objects.filter(action="release.image_viewed").values_list(
        "details__file", flat=True
    )
    assert sorted(viewed) == ["chart.png", "chart.svg"]


def test_a_text_file_is_not_served_as_an_image(haven, client):
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(haven.job.pk, "table.csv", "Patients")]
    )
    release_file = release_request.files.get()
    sign_in(client, haven.researcher)
    url = reverse("outputs:view_image", args=[release_request.pk, release_file.pk])
    assert client.get(url).status_code == 403


def test_a_table_differing_from_a_released_one_by_a_small_count_goes_to_review(haven, make_job):
    released = released_request(
        haven, make_job, {"regions.csv": b"region,patients\nLothian,120\nFife,85\n"}
    )
    new = request_with(haven, make_job, {"adults.csv": b"region,patients\nLothian,117\nFife,85\n"})
    release_file = new.files.get()
    assert release_file.sdc_status == "review"
    differencing = [f for f in release_file.sdc_findings if f["rule"] == "differencing"]
    assert len(differencing) == 1
    assert f"regions.csv of release request {released.pk}" in differencing[0]["message"]
    assert "(Lothian, patients) = 3" in differencing[0]["message"]
    assert differencing[0]["cells"] == [["Lothian", "patients"]]


def test_a_variable_released_under_another_name_is_differenced_through_the_havens_aliases(
    haven, make_job, settings
):
    released_request(haven, make_job, {"boards.csv": b"hb,patients\nLothian,120\nFife,85\n"})
    renamed = {"adults.csv": b"health_board,patients\nLothian,117\nFife,85\n"}
    assert request_with(haven, make_job, renamed).files.get().sdc_status == "pass"
    (settings.HAVENKIT_HOME / "haven.toml").write_text(
        '[sdc.variable_aliases]\nhb = "health_board"\n'
    )

    release_file = request_with(haven, make_job, renamed).files.get()

    assert release_file.sdc_status == "review"
    [differencing] = [f for f in release_file.sdc_findings if f["rule"] == "differencing"]
    assert "(Lothian, patients) = 3" in differencing["message"]
    assert differencing["cells"] == [["Lothian", "patients"]]


def test_an_empty_justification_is_refused_on_the_page(haven, make_job, client):
    release_request = request_with(haven, make_job, {"small.csv": SMALL_COUNT_CSV})
    release_file = release_request.files.get()
    sign_in(client, haven.researcher)
    response = client.post(
        reverse("outputs:justify_file", args=[release_request.pk, release_file.pk]),
        {f"justify-{release_file.pk}-justification": ""},
    )
    assert response.status_code == 400
    assert "Write why this file is safe to release." in response.content.decode()
    release_file.refresh_from_db()
    assert release_file.justification == ""
