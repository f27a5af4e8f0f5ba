"""The steward's list of project extracts: what each project may have, what it has, and what
can be done for it now."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.projects import services as projects
from havenkit.projects.models import Project, ProjectStatus
from tests.data.test_extracts import ADMISSIONS, PEOPLE, new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(make_person):
    """Two datasets: one with people and admissions, one with people only."""
    approver = make_person(Role.APPROVER)
    cohort = services.create_dataset_version(
        "List cohort", "Three people.", "A controller", {"people": PEOPLE}, approver
    )
    admissions = services.create_dataset_version(
        "List admissions", "Their admissions.", "A controller", {"admissions": ADMISSIONS}, approver
    )
    return cohort, admissions


def set_status(project: Project, status: ProjectStatus) -> None:
    Project.objects.filter(pk=project.pk).update(status=status)


def row_of(html: str, reference: str) -> str:
    """The table row of the project with this reference."""
    start = html.index(f"{reference}: ")
    return html[start : html.index("</tr>", start)]


def test_each_project_shows_its_approved_datasets_and_extract_state(
    make_person, signed_in_client, versions
):
    cohort, admissions = versions
    ready = new_project(
        make_person,
        "HK-L-1",
        [cohort, admissions],
        {"people": ["chi", "sex"], "admissions": ["chi", "icd10"]},
    )
    services.build_linked_extract(
        ready,
        [cohort, admissions],
        {"people": ["chi", "sex"], "admissions": ["chi"]},
        make_person(Role.DATA_STEWARD),
    )
    new_project(make_person, "HK-L-2", [cohort], {"people": ["sex"]})
    closing = new_project(make_person, "HK-L-3", [cohort], {"people": ["sex"]})
    set_status(closing, ProjectStatus.CLOSING)
    closing_with_extract = new_project(make_person, "HK-L-6", [cohort], {"people": ["sex"]})
    services.build_pseudonymised_extract(
        closing_with_extract, cohort, {"people": ["sex"]}, make_person(Role.DATA_STEWARD)
    )
    set_status(closing_with_extract, ProjectStatus.CLOSING)
    new_project(make_person, "HK-L-4")
    closed = new_project(make_person, "HK-L-5", [cohort], {"people": ["sex"]})
    set_status(closed, ProjectStatus.CLOSED)

    html = signed_in_client(Role.DATA_STEWARD).get(reverse("data:extracts")).content.decode()

    first = row_of(html, "HK-L-1")
    assert "List admissions: 2 variables" in first
    assert "List cohort: 2 variables" in first
    assert "Extract 1 ready" in first
    second = row_of(html, "HK-L-2")
    assert "List cohort: 1 variable<" in second
    assert "No extract yet" in second
    assert "Project closing: no new extract<" in row_of(html, "HK-L-3")
    assert "Project closing: no new extract after extract 1" in row_of(html, "HK-L-6")
    assert "No approved variables: no extract can be built" in row_of(html, "HK-L-4")
    assert "HK-L-5" not in html


def test_the_current_extract_is_the_newest_version(make_person, signed_in_client, versions):
    cohort, _admissions = versions
    project = new_project(make_person, "HK-L-7", [cohort], {"people": ["sex"]})
    steward = make_person(Role.DATA_STEWARD)
    first = services.build_pseudonymised_extract(project, cohort, {"people": ["sex"]}, steward)
    services.rebuild_extract(first, steward)

    assert services.current_extracts([project])[project.pk].version == 2
    html = signed_in_client(Role.DATA_STEWARD).get(reverse("data:extracts")).content.decode()
    assert "Extract 2 ready" in row_of(html, "HK-L-7")


def test_more_projects_add_no_query_beyond_their_approved_variables(
    make_person, signed_in_client, versions
):
    """The page asks ``approved_variables`` once per project; everything else it needs for
    all projects at once."""
    cohort, admissions = versions
    steward = signed_in_client(Role.DATA_STEWARD)
    page = reverse("data:extracts")
    new_project(make_person, "HK-Q-1", [cohort], {"people": ["sex"]})
    steward.get(page)
    with CaptureQueriesContext(connection) as one_project:
        steward.get(page)

    added = []
    for number in range(2, 5):
        project = new_project(
            make_person,
            f"HK-Q-{number}",
            [cohort, admissions],
            {"people": ["sex"], "admissions": ["icd10"]},
        )
        services.build_pseudonymised_extract(
            project, cohort, {"people": ["sex"]}, make_person(Role.DATA_STEWARD)
        )
        added.append(project)
    with CaptureQueriesContext(connection) as approving:
        for project in added:
            projects.approved_variables(project)
    with CaptureQueriesContext(connection) as four_projects:
        steward.get(page)
    assert len(four_projects) == len(one_project) + len(approving)
