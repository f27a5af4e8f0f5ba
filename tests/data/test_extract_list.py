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


def test_more_projects_add_no_query(make_person, signed_in_client, versions):
    """The page asks for what it needs for all projects at once, so four projects, each with
    two approved datasets and an extract, cost the same queries as one."""
    cohort, admissions = versions
    steward = signed_in_client(Role.DATA_STEWARD)
    page = reverse("data:extracts")
    new_project(make_person, "HK-Q-1", [cohort], {"people": ["sex"]})
    steward.get(page)
    with CaptureQueriesContext(connection) as one_project:
        steward.get(page)

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
    with CaptureQueriesContext(connection) as four_projects:
        response = steward.get(page)
    assert len(four_projects) == len(one_project)
    assert "List admissions: 1 variable<" in row_of(response.content.decode(), "HK-Q-4")


def test_approved_variables_of_answers_as_approved_variables_does_for_each(make_person, versions):
    cohort, admissions = versions
    both = new_project(
        make_person, "HK-Q-5", [cohort, admissions], {"people": ["sex"], "admissions": ["icd10"]}
    )
    one = new_project(make_person, "HK-Q-6", [cohort], {"people": ["chi", "sex"]})
    closing = new_project(make_person, "HK-Q-7", [cohort], {"people": ["sex"]})
    set_status(closing, ProjectStatus.CLOSING)
    listed = list(Project.objects.filter(pk__in=[both.pk, one.pk, closing.pk]))

    with CaptureQueriesContext(connection) as asked:
        answers = projects.approved_variables_of(listed)

    assert len(asked) == 1
    assert answers == {project.pk: projects.approved_variables(project) for project in listed}
    assert answers[both.pk] == {
        cohort.dataset_id: {"people.sex"},
        admissions.dataset_id: {"admissions.icd10"},
    }
    assert answers[one.pk] == {cohort.dataset_id: {"people.chi", "people.sex"}}
    assert answers[closing.pk] == {}
