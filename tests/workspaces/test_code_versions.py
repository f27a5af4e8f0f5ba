"""Each saved version of a code file has its own page: the code as it was, who saved it, what
it changed from the version before, and the jobs that ran it.

So the code any job ran can be read as it ran, long after the file has moved on.
"""

from datetime import date

import pytest
from django.urls import reverse

from havenkit.core.roles import Role
from havenkit.projects import services as projects
from havenkit.workspaces import services

pytestmark = pytest.mark.django_db

FIRST = "total = 0\nfor n in range(3):\n    total += n\nprint(total)\n"
SECOND = "total = 0\nfor n in range(10):\n    total += n\nprint(total)\n"


@pytest.fixture
def client(signed_in_client, researcher):
    return signed_in_client(person=researcher)


def _page(client, version) -> str:
    url = reverse(
        "workspaces:code_version",
        args=[version.code_file.project_id, version.code_file_id, version.number],
    )
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_version_shows_its_own_code_and_what_it_changed(client, project, researcher):
    first = services.save_code_file(project, "count.py", FIRST, researcher)
    second = services.save_code_file(project, "count.py", SECOND, researcher)
    services.save_code_file(project, "count.py", SECOND + "print('three')\n", researcher)

    page = _page(client, first)
    assert "count.py, version 1</h1>" in page
    assert 'range</span><span class="p">(</span><span class="mi">3</span>' in page
    assert "This is the first version of count.py." in page
    assert first.sha256 in page

    page = _page(client, second)
    assert '<span class="mi">10</span>' in page, "version 2's own code, not the latest"
    assert "three" not in page
    assert "-for n in range(3):\n+for n in range(10):" in page
    assert "Changes from version 1 to version 2" in page


def test_a_version_lists_the_jobs_that_ran_it(client, project, researcher):
    first = services.save_code_file(project, "count.py", FIRST, researcher)
    ran_first = services.submit_job(project, first, researcher)
    second = services.save_code_file(project, "count.py", SECOND, researcher)
    ran_second = services.submit_job(project, second, researcher)
    page = _page(client, first)
    job_url = reverse("workspaces:job", args=[project.pk, ran_first.pk])
    assert f'href="{job_url}">Job {ran_first.pk}</a>' in page
    assert f">Job {ran_second.pk}</a>" not in page
    workspace = client.get(reverse("workspaces:workspace", args=[project.pk])).content.decode()
    second_url = reverse("workspaces:code_version", args=[project.pk, second.code_file_id, 2])
    assert f'<a href="{second_url}">count.py v2</a>' in workspace, "the job list links it"
    assert "No job has run this version" in _page(
        client, services.save_code_file(project, "count.py", FIRST, researcher)
    )


def test_the_history_links_each_version(client, project, researcher):
    version = services.save_code_file(project, "count.py", FIRST, researcher)
    history = client.get(
        reverse("workspaces:code_file", args=[project.pk, version.code_file_id])
    ).content.decode()
    url = reverse("workspaces:code_version", args=[project.pk, version.code_file_id, 1])
    assert f'<a href="{url}">Version 1</a>' in history


def test_a_version_that_does_not_exist_or_is_under_another_project_is_not_found(
    client, project, researcher, make_person
):
    version = services.save_code_file(project, "count.py", FIRST, researcher)
    missing = reverse("workspaces:code_version", args=[project.pk, version.code_file_id, 2])
    assert client.get(missing).status_code == 404
    other = projects.create_active_project(
        reference="HK-0002",
        title="Another project of Rosa's",
        organisation="University of Edinburgh",
        lay_summary="Something else.",
        public_benefit="Other care.",
        pi=make_person(Role.RESEARCHER, Role.PI),
        researchers=[researcher],
        datasets_used="SMR01",
        start_date=date(2025, 1, 1),
        end_date=date(2099, 12, 31),
        approved_by=make_person(Role.APPROVER),
    )
    # Rosa may see both workspaces, but a code file is found only under its own project.
    elsewhere = reverse("workspaces:code_version", args=[other.pk, version.code_file_id, 1])
    assert client.get(elsewhere).status_code == 404


def test_only_members_read_a_version(signed_in_client, project, researcher):
    version = services.save_code_file(project, "count.py", FIRST, researcher)
    url = reverse("workspaces:code_version", args=[project.pk, version.code_file_id, 1])
    assert signed_in_client(Role.OUTPUT_CHECKER).get(url).status_code == 403
