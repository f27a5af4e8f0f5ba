"""Release requests through the browser's eyes: pages, forms, refusals and downloads."""

import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.outputs import services
from havenkit.outputs.models import FileReview, ReleaseRequest, RequestState
from havenkit.outputs.services import FileChoice
from tests.conftest import sign_in
from tests.haven import SUMMARY_TXT, TABLE_CSV
from tests.outputs.test_services import justify_all

pytestmark = pytest.mark.django_db


def request_url(release_request) -> str:
    return reverse("outputs:release_request", args=[release_request.pk])


def file_url(name: str, release_request, release_file) -> str:
    return reverse(f"outputs:{name}", args=[release_request.pk, release_file.pk])


def submitted(haven) -> ReleaseRequest:
    release_request = services.create_release_request(
        haven.project,
        haven.researcher,
        [FileChoice(haven.job.pk, "table.csv", "Patients by region")],
    )
    return services.submit(release_request, haven.researcher)


def released(haven) -> ReleaseRequest:
    release_request = submitted(haven)
    for checker in (haven.checker_a, haven.checker_b):
        services.review_file(release_request.files.get(), checker, "approved")
    release_request.refresh_from_db()
    return release_request


def approve(client, release_request, release_file):
    prefix = f"file-{release_file.pk}"
    return client.post(
        file_url("review_file", release_request, release_file),
        {f"{prefix}-decision": "approved", f"{prefix}-comment": ""},
    )


def test_the_whole_two_checker_flow_to_release_and_download(haven, client):
    sign_in(client, haven.researcher)
    new_url = reverse("outputs:new_request", args=[haven.project.pk])
    page = client.get(new_url)
    assert page.status_code == 200
    fields = {
        output.name: (include, describe)
        for output, include, describe in page.context["form"].rows()
    }
    response = client.post(
        new_url,
        {
            fields["table.csv"][0].html_name: "on",
            fields["table.csv"][1].html_name: "Patients by health board",
            fields["summary.txt"][0].html_name: "on",
            fields["summary.txt"][1].html_name: "Mean age",
        },
    )
    release_request = ReleaseRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == request_url(release_request)
    summary = release_request.files.get(name="summary.txt")
    client.post(
        file_url("justify_file", release_request, summary),
        {f"justify-{summary.pk}-justification": "A mean over 205 people."},
    )
    client.post(reverse("outputs:submit", args=[release_request.pk]))
    release_request.refresh_from_db()
    assert release_request.state == RequestState.SUBMITTED

    for checker in (haven.checker_a, haven.checker_b):
        checker_client = sign_in(type(client)(), checker)
        page = checker_client.get(request_url(release_request))
        assert page.status_code == 200
        assert "Your review of table.csv" in page.content.decode()
        for release_file in release_request.files.all():
            assert approve(checker_client, release_request, release_file).status_code == 302

    release_request.refresh_from_db()
    assert release_request.state == RequestState.RELEASED
    table = release_request.files.get(name="table.csv")
    download = client.get(file_url("download_file", release_request, table))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == TABLE_CSV
    event = AuditEvent.objects.filter(action="release.downloaded").last()
    assert event.actor_username == "researcher"
    assert event.project_id == str(haven.project.pk)


def test_the_package_holds_every_released_file_with_manifest_and_checksums(haven, client):
    release_request = services.create_release_request(
        haven.project,
        haven.researcher,
        [
            FileChoice(haven.job.pk, "table.csv", "Patients by region"),
            FileChoice(haven.job.pk, "summary.txt", "Mean age"),
        ],
    )
    justify_all(release_request, haven.researcher)
    services.submit(release_request, haven.researcher)
    for checker in (haven.checker_a, haven.checker_b):
        for release_file in release_request.files.all():
            services.review_file(release_file, checker, "approved")

    response = sign_in(client, haven.pi).get(
        reverse("outputs:download_package", args=[release_request.pk])
    )
    assert response.status_code == 200
    package = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(package.namelist()) == [
        "SHA256SUMS",
        "manifest.json",
        "outputs/summary.txt",
        "outputs/table.csv",
        "ro-crate-metadata.json",
    ]
    assert package.read("outputs/table.csv") == TABLE_CSV
    assert package.read("outputs/summary.txt") == SUMMARY_TXT
    sums = dict(
        reversed(line.split("  ")) for line in package.read("SHA256SUMS").decode().splitlines()
    )
    for name, digest in sums.items():
        assert hashlib.sha256(package.read(name)).hexdigest() == digest
    manifest = json.loads(package.read("manifest.json"))
    table = next(f for f in manifest["files"] if f["name"] == "table.csv")
    assert table["sha256"] == hashlib.sha256(TABLE_CSV).hexdigest()
    assert table["size_bytes"] == len(TABLE_CSV)
    assert table["job_id"] == haven.job.pk
    assert (table["code_file"], table["code_version"], table["extract_id"]) == (
        "analysis.py",
        1,
        None,
    )
    assert {(r["checker"], r["decision"]) for r in table["reviews"]} == {
        ("checker_a", "approved"),
        ("checker_b", "approved"),
    }
    assert all(r["reviewed_at"] for r in table["reviews"])
    assert table["dataset_versions"] == []
    crate = json.loads(package.read("ro-crate-metadata.json"))
    described = {item["@id"]: item for item in crate["@graph"]}
    assert described["outputs/table.csv"]["sha256"] == table["sha256"]
    assert "manifest.json" in described


def test_a_project_member_who_is_a_checker_is_refused_and_audited(haven, client):
    haven.pi.role_grants.create(role=Role.OUTPUT_CHECKER)
    release_request = submitted(haven)
    page = sign_in(client, haven.pi).get(request_url(release_request))
    assert "Your review of" not in page.content.decode()
    response = approve(client, release_request, release_request.files.get())
    assert response.status_code == 403
    assert not FileReview.objects.exists()
    denied = AuditEvent.objects.get(action="access.denied")
    assert denied.outcome == Outcome.DENIED
    assert denied.actor_username == "pi"
    assert "members of" in denied.details["reason"]


def test_the_author_sees_no_review_form_and_cannot_review(haven, client):
    haven.researcher.role_grants.create(role=Role.OUTPUT_CHECKER)
    release_request = submitted(haven)
    response = approve(
        sign_in(client, haven.researcher), release_request, release_request.files.get()
    )
    assert response.status_code == 403
    assert "your own release request" in response.content.decode()


def test_a_researcher_outside_the_project_cannot_see_the_request(haven, signed_in_client):
    release_request = submitted(haven)
    outsider = signed_in_client(Role.RESEARCHER)
    assert outsider.get(request_url(release_request)).status_code == 403
    project_list = reverse("outputs:project_requests", args=[haven.project.pk])
    assert outsider.get(project_list).status_code == 403


def test_checkers_do_not_see_drafts(haven, client):
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(haven.job.pk, "table.csv", "Counts")]
    )
    response = sign_in(client, haven.checker_a).get(request_url(release_request))
    assert response.status_code == 403
    assert "not been submitted" in response.content.decode()


def test_nobody_downloads_before_release(haven, client):
    release_request = submitted(haven)
    services.review_file(release_request.files.get(), haven.checker_a, "approved")
    url = file_url("download_file", release_request, release_request.files.get())
    assert sign_in(client, haven.researcher).get(url).status_code == 403
    package_url = reverse("outputs:download_package", args=[release_request.pk])
    assert client.get(package_url).status_code == 403
    assert not AuditEvent.objects.filter(action="release.downloaded").exists()


def test_checkers_never_download_even_released_files(haven, client):
    release_request = released(haven)
    url = file_url("download_file", release_request, release_request.files.get())
    assert sign_in(client, haven.checker_a).get(url).status_code == 403


def test_checkers_read_files_inline_escaped(haven, client):
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(haven.job.pk, "summary.txt", "Mean age")]
    )
    justify_all(release_request, haven.researcher)
    services.submit(release_request, haven.researcher)
    url = file_url("view_file", release_request, release_request.files.get())
    page = sign_in(client, haven.checker_a).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "attachment" not in page.get("Content-Disposition", "")


def test_a_csv_is_shown_as_a_table(haven, client):
    release_request = submitted(haven)
    url = file_url("view_file", release_request, release_request.files.get())
    html = sign_in(client, haven.checker_a).get(url).content.decode()
    assert '<th scope="col" class="nhsuk-table__header">patients</th>' in html
    assert '<th scope="row" class="nhsuk-table__header">Lothian</th>' in html


def test_refusing_without_a_comment_is_explained_and_changes_nothing(haven, client):
    release_request = submitted(haven)
    release_file = release_request.files.get()
    prefix = f"file-{release_file.pk}"
    response = sign_in(client, haven.checker_a).post(
        file_url("review_file", release_request, release_file),
        {f"{prefix}-decision": "changes_requested", f"{prefix}-comment": ""},
    )
    assert response.status_code == 400
    assert "a comment is needed" in response.content.decode()
    assert not FileReview.objects.exists()


def test_a_review_without_a_decision_says_so_beside_the_question(haven, client):
    release_request = submitted(haven)
    release_file = release_request.files.get()
    prefix = f"id_file-{release_file.pk}-decision"
    response = sign_in(client, haven.checker_a).post(
        file_url("review_file", release_request, release_file),
        {f"file-{release_file.pk}-comment": "Looks fine"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">' in html
    assert "Your decision on table.csv</legend>" in html
    assert f'<fieldset class="nhsuk-fieldset" aria-describedby="{prefix}-error">' in html
    assert f'<a href="#{prefix}_0">Choose approve, request changes or reject.</a>' in html
    assert f'<span class="nhsuk-error-message" id="{prefix}-error">' in html
    assert f'<input class="nhsuk-radios__input" id="{prefix}_0"' in html
    assert "Looks fine</textarea>" in html, "the comment typed is kept"
    assert not FileReview.objects.exists()


def test_reviewing_twice_gets_a_message(haven, client):
    release_request = submitted(haven)
    release_file = release_request.files.get()
    sign_in(client, haven.checker_a)
    approve(client, release_request, release_file)
    response = approve(client, release_request, release_file)
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "You have already reviewed table.csv" in page.content.decode()
    assert FileReview.objects.count() == 1


def test_submitting_without_descriptions_gets_a_message(haven, client):
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(haven.job.pk, "table.csv")]
    )
    sign_in(client, haven.researcher)
    response = client.post(reverse("outputs:submit", args=[release_request.pk]), follow=True)
    assert "Describe every file before submitting" in response.content.decode()
    release_request.refresh_from_db()
    assert release_request.state == RequestState.DRAFT


def test_a_stale_output_choice_creates_nothing(haven, client):
    sign_in(client, haven.researcher)
    new_url = reverse("outputs:new_request", args=[haven.project.pk])
    rows = client.get(new_url).context["form"].rows()
    include, describe = next((i, d) for output, i, d in rows if output.name == "table.csv")
    (services.workspaces.outputs_directory(haven.job) / "table.csv").write_bytes(b"changed\n")
    response = client.post(new_url, {include.html_name: "on", describe.html_name: "Counts"})
    assert response.status_code == 400
    assert "missing or changed" in response.content.decode()
    assert not ReleaseRequest.objects.exists()


def test_returned_request_lets_the_researcher_change_a_file_and_resubmit(haven, client):
    release_request = submitted(haven)
    release_file = release_request.files.get()
    services.review_file(release_file, haven.checker_a, "approved")
    services.review_file(
        release_file, haven.checker_b, "changes_requested", "Describe the rounding"
    )
    sign_in(client, haven.researcher)
    page = client.get(request_url(release_request)).content.decode()
    assert "Describe the rounding" in page
    response = client.post(
        reverse("outputs:add_file", args=[release_request.pk]),
        {"output": f"{haven.job.pk}/table.csv", "description": "Counts rounded to 5"},
    )
    assert response.status_code == 302
    assert not FileReview.objects.exists()
    client.post(reverse("outputs:submit", args=[release_request.pk]))
    release_request.refresh_from_db()
    assert release_request.state == RequestState.SUBMITTED


def test_the_review_queue_lists_what_this_checker_still_has_to_review(haven, client):
    release_request = submitted(haven)
    page = sign_in(client, haven.checker_a).get(reverse("outputs:review_queue"))
    assert page.status_code == 200
    assert [entry.release_request for entry in page.context["queue"]] == [release_request]
    approve(client, release_request, release_request.files.get())
    page = client.get(reverse("outputs:review_queue"))
    assert page.context["queue"] == []
    assert "No release requests are waiting for you." in page.content.decode()


def test_the_project_list_shows_its_requests(haven, client):
    release_request = submitted(haven)
    page = sign_in(client, haven.pi).get(
        reverse("outputs:project_requests", args=[haven.project.pk])
    )
    assert page.status_code == 200
    assert f"Release request {release_request.pk}" in page.content.decode()
