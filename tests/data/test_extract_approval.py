"""An extract holds only what the project's approved application asked for, and says so."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.urls import reverse

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.models import Extract
from havenkit.projects.models import Project, ProjectStatus
from havenkit.projects.services import approved_variables
from tests.data import test_linkage
from tests.data.test_extracts import ADMISSIONS, PEOPLE, new_project

pytestmark = pytest.mark.django_db

APPROVED = {"people": ["chi", "sex"], "admissions": ["icd10"]}


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


@pytest.fixture
def cohort(make_person):
    return services.create_dataset_version(
        "Approval cohort",
        "Three people.",
        "A controller",
        {"people": PEOPLE, "admissions": ADMISSIONS},
        make_person(Role.APPROVER),
    )


@pytest.fixture
def project(make_person, cohort):
    return new_project(make_person, "HK-A-1", [cohort], APPROVED)


def extracts_folder() -> Path:
    return Path(settings.HAVENKIT_HOME) / "extracts"


def refusal() -> AuditEvent:
    return AuditEvent.objects.get(action="extract.refused")


def test_the_application_says_which_variables_of_which_dataset(project, cohort):
    assert approved_variables(project) == {
        cohort.dataset_id: {"people.chi", "people.sex", "admissions.icd10"}
    }


def test_only_an_approved_or_active_project_has_approved_variables(project):
    for status in (ProjectStatus.PANEL_REVIEW, ProjectStatus.REJECTED, ProjectStatus.CLOSING):
        project.status = status
        assert approved_variables(project) == {}, status
    project.status = ProjectStatus.APPROVED
    assert approved_variables(project) != {}


def test_an_extract_of_exactly_the_approved_variables_is_built(project, cohort, steward):
    extract = services.build_pseudonymised_extract(project, cohort, APPROVED, steward)
    directory = services.extract_directory(extract)
    assert pq.read_table(directory / "people.parquet").column_names == ["pseudonym", "sex"]
    assert extract.recipe["approved_variables"] == [
        {
            "dataset": "Approval cohort",
            "dataset_id": cohort.dataset_id,
            "variables": ["admissions.icd10", "people.chi", "people.sex"],
        }
    ]
    assert extract.recipe["linkage_keys"] == []


def test_one_variable_more_is_refused_by_name_and_nothing_is_built(project, cohort, steward):
    variables = {"people": ["chi", "sex", "postcode_district"], "admissions": ["icd10"]}
    with pytest.raises(services.ExtractRequestError) as refused:
        services.build_pseudonymised_extract(project, cohort, variables, steward)
    message = str(refused.value)
    assert message.startswith(
        "people.postcode_district is not a variable the application for HK-A-1 was approved "
        "for, so no extract was built."
    )
    assert "Approval cohort: admissions.icd10, people.chi, people.sex" in message
    assert not Extract.objects.exists()
    assert not extracts_folder().exists()
    event = refusal()
    assert (event.outcome, event.actor) == (Outcome.DENIED, steward)
    assert event.details["variables"] == ["people.postcode_district"]


def test_a_project_without_an_approved_application_is_refused(make_person, cohort, steward):
    unapproved = new_project(make_person, "HK-A-2")
    with pytest.raises(services.ExtractRequestError, match="HK-A-2 has no approved application"):
        services.build_pseudonymised_extract(unapproved, cohort, {"people": ["sex"]}, steward)
    assert not Extract.objects.exists()
    assert not extracts_folder().exists()


def test_a_closing_project_gets_no_extract(project, cohort, steward):
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.CLOSING)
    project.refresh_from_db()
    with pytest.raises(services.ExtractRequestError, match=r"\(the project is closing\)"):
        services.build_pseudonymised_extract(project, cohort, APPROVED, steward)
    assert not Extract.objects.exists()


def test_a_dataset_the_application_did_not_ask_for_is_refused(project, make_person, steward):
    other = services.create_dataset_version(
        "Other cohort", "People.", "A controller", {"others": PEOPLE}, make_person(Role.APPROVER)
    )
    with pytest.raises(services.ExtractRequestError) as refused:
        services.build_pseudonymised_extract(project, other, {"others": ["sex"]}, steward)
    assert str(refused.value) == (
        "The application for HK-A-1 did not ask for Other cohort, so it cannot go into its "
        "extract. It was approved for Approval cohort."
    )
    assert not extracts_folder().exists()


def test_a_chi_is_refused_when_neither_asked_for_nor_needed_to_link(make_person, cohort, steward):
    project = new_project(make_person, "HK-A-3", [cohort], {"people": ["sex"]})
    with pytest.raises(services.ExtractRequestError) as refused:
        services.build_pseudonymised_extract(project, cohort, {"people": ["chi", "sex"]}, steward)
    assert str(refused.value).startswith("people.chi is not a variable")
    assert "only when the application asked for the dataset's CHI" in str(refused.value)


def test_asking_for_a_datasets_chi_gives_a_pseudonym_in_each_of_its_tables(
    project, cohort, steward
):
    variables = {"people": ["chi", "sex"], "admissions": ["chi", "icd10"]}
    extract = services.build_pseudonymised_extract(project, cohort, variables, steward)
    admissions = pq.read_table(services.extract_directory(extract) / "admissions.parquet")
    assert admissions.column_names == ["pseudonym", "icd10"]
    assert extract.recipe["linkage_keys"] == ["admissions.chi"]


def test_linking_datasets_allows_their_chi_as_the_key(make_person, steward):
    approver = make_person(Role.APPROVER)
    cohort, admissions = (
        services.create_dataset_version(title, "People.", "A controller", {table: data}, approver)
        for title, table, data in (
            ("Cohort", "people", test_linkage.COHORT),
            ("Stays", "admissions", test_linkage.ADMISSIONS),
        )
    )
    approved = {"people": ["sex"], "admissions": ["icd10"]}
    project = new_project(make_person, "HK-A-4", [cohort, admissions], approved)
    variables = {"people": ["chi", "sex"], "admissions": ["chi", "icd10"]}
    extract = services.build_linked_extract(project, [cohort, admissions], variables, steward)
    assert extract.recipe["linkage_keys"] == ["admissions.chi", "people.chi"]
    # Alone, either dataset's CHI is neither asked for nor needed.
    with pytest.raises(services.ExtractRequestError, match=r"people\.chi is not a variable"):
        services.build_pseudonymised_extract(project, cohort, {"people": ["chi"]}, steward)


def test_a_rebuild_is_checked_against_the_approval_as_it_stands(project, cohort, steward):
    extract = services.build_pseudonymised_extract(project, cohort, APPROVED, steward)
    project.variables = ["people.sex"]
    project.save()
    with pytest.raises(
        services.ExtractRequestError, match=r"people\.chi and admissions\.icd10 are"
    ):
        services.rebuild_extract(extract, steward)
    assert services.current_extract(project) == extract


def test_the_page_lists_the_approved_variables_ticked(signed_in_client, project, cohort):
    steward = signed_in_client(Role.DATA_STEWARD)
    page = reverse("data:project_extract", args=[project.pk])
    html = steward.get(page).content.decode()
    assert "Variables the application for HK-A-1 was approved for" in html
    assert "admissions.icd10, people.chi, people.sex" in html
    # The approved dataset's current version is chosen already: one step to build.
    assert f'name="dataset_version" value="{cohort.pk}">' in html
    # admissions.chi too: the application asked for this dataset's CHI (in people).
    for name in ("people.chi", "people.sex", "admissions.icd10", "admissions.chi"):
        assert f'id="id_include:{name}" name="include:{name}" type="checkbox" checked' in html
    assert 'name="include:people.postcode_district"' not in html
    assert "so not offered: people.postcode_district." in html
    response = steward.post(
        page,
        {
            "dataset_version": cohort.pk,
            "k_threshold": 10,
            "include:people.chi": "on",
            "include:people.sex": "on",
            "include:admissions.icd10": "on",
        },
    )
    assert response.status_code == 302
    assert services.current_extract(project).recipe["variables"] == APPROVED


def test_the_page_refuses_a_dataset_the_application_did_not_ask_for(
    signed_in_client, project, make_person
):
    other = services.create_dataset_version(
        "Other cohort", "People.", "A controller", {"others": PEOPLE}, make_person(Role.APPROVER)
    )
    steward = signed_in_client(Role.DATA_STEWARD)
    page = reverse("data:project_extract", args=[project.pk])
    html = steward.get(page, {"dataset_version": other.pk}).content.decode()
    assert "The application for HK-A-1 did not ask for Other cohort, so" in html
    assert "Build extract</button>" not in html


def test_the_page_says_why_a_project_without_an_approval_gets_no_extract(
    signed_in_client, make_person, cohort
):
    unapproved = new_project(make_person, "HK-A-2")
    steward = signed_in_client(Role.DATA_STEWARD)
    html = steward.get(reverse("data:project_extract", args=[unapproved.pk])).content.decode()
    assert "HK-A-2 has no approved application naming datasets and variables" in html
    assert "Show their variables" not in html
