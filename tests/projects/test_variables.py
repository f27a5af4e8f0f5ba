"""Variables are picked from the catalogue per dataset, so an approval covers the columns of the
dataset they were picked from, even where two datasets share a table name."""

import importlib

import pyarrow as pa
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.data import services as data
from havenkit.data.models import Extract, Variable
from havenkit.projects import applications, services
from havenkit.projects.models import Project, ProjectStatus
from havenkit.projects.variables import variable_id
from tests.data.test_extracts import PEOPLE, new_project
from tests.projects.test_applications import (
    CONTROLLER,
    add_dataset,
    applicant,
    fill,
    precedent,
    refusals,
)

__all__ = ["applicant"]

pytestmark = pytest.mark.django_db

# Two datasets with a table of the same name.
PEOPLE_COLUMNS = ["chi", "sex", "ethnic_group"]


@pytest.fixture
def cohort_a():
    return add_dataset("Cohort A", {"people": PEOPLE_COLUMNS})


@pytest.fixture
def cohort_b():
    return add_dataset("Cohort B", {"people": PEOPLE_COLUMNS, "visits": ["chi", "seen_on"]})


def step_2(project: Project) -> str:
    return f"/applications/{project.pk}/step/2/"


def approved(project: Project) -> Project:
    """The approval journey is tested in test_applications; here only its outcome matters."""
    project.status = ProjectStatus.APPROVED
    project.save()
    return project


# Approval is per dataset.


def test_a_variable_picked_in_one_dataset_is_approved_there_only(
    applicant, cohort_a, cohort_b, signed_in_client
):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    response = client.post(
        step_2(project),
        {
            "datasets": [cohort_a.pk, cohort_b.pk],
            "variables": [variable_id(cohort_a.pk, "people.sex")],
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert services.approved_variables(approved(project)) == {cohort_a.pk: {"people.sex"}}


def test_the_extract_service_refuses_the_same_column_of_the_other_dataset(make_person):
    approver, steward = make_person(Role.APPROVER), make_person(Role.DATA_STEWARD)
    version_a = data.create_dataset_version("Cohort A", "-", "PHS", {"people": PEOPLE}, approver)
    version_b = data.create_dataset_version("Cohort B", "-", "PHS", {"people": PEOPLE}, approver)
    project = new_project(make_person, "HK-V-1", [version_a, version_b])
    project.variables = [
        variable_id(version_a.dataset_id, "people.sex"),
        variable_id(version_b.dataset_id, "people.postcode_district"),
    ]
    project.save()
    with pytest.raises(data.ExtractRequestError, match=r"^people\.sex is not a variable"):
        data.build_pseudonymised_extract(project, version_b, {"people": ["sex"]}, steward)
    assert not Extract.objects.exists()
    assert AuditEvent.objects.get(action="extract.refused").details["variables"] == ["people.sex"]
    extract = data.build_pseudonymised_extract(project, version_a, {"people": ["sex"]}, steward)
    assert extract.tables["people"]["columns"] == ["sex"]


# The step's page: ticking variables, without JavaScript and with htmx.


def test_variables_are_listed_by_dataset_and_table_with_their_flags(
    applicant, cohort_a, cohort_b, signed_in_client
):
    version = cohort_b.versions.get()
    Variable.objects.create(
        dataset_version=version,
        table="people",
        name="ethnic_group",
        type="string",
        description="Ethnic group as recorded",
        is_quasi_identifier=True,
    )
    project = applications.start(applicant)
    project.datasets.set([cohort_a, cohort_b])
    page = signed_in_client(person=applicant).get(step_2(project)).content.decode()
    assert "Cohort A, table <code>people</code></legend>" in page
    assert "Cohort B, table <code>visits</code></legend>" in page
    assert f'value="{cohort_b.pk}:people.ethnic_group"' in page
    assert '<strong class="nhsuk-tag nhsuk-tag--orange">quasi-identifier</strong> Ethnic' in page
    assert page.count("quasi-identifier</strong>") == 1, "flagged in Cohort B only"


def test_without_javascript_show_their_variables_saves_the_datasets_and_lists_them(
    applicant, cohort_a, cohort_b, signed_in_client
):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    project.datasets.set([cohort_a])
    project.variables = [variable_id(cohort_a.pk, "people.sex")]
    project.save()
    response = client.post(
        step_2(project),
        {
            "datasets": [cohort_b.pk],
            "variables": [variable_id(cohort_a.pk, "people.sex")],
            "show_variables": "1",
        },
    )
    assert response.url == step_2(project) + "#variables"
    project.refresh_from_db()
    assert list(project.datasets.all()) == [cohort_b]
    assert project.variables == [], "the unticked dataset's variables went with it"
    page = client.get(response.url).content.decode()
    assert f'value="{cohort_b.pk}:visits.seen_on"' in page
    assert f'value="{cohort_a.pk}:' not in page


def test_show_their_variables_with_none_ticked_leaves_the_data_step_not_done(
    applicant, cohort_a, signed_in_client
):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    project.steps_done = 2
    project.save()
    response = client.post(step_2(project), {"datasets": [cohort_a.pk], "show_variables": "1"})
    assert response.url == step_2(project) + "#variables"
    project.refresh_from_db()
    assert list(project.datasets.all()) == [cohort_a], "the draft is saved"
    assert project.steps_done == 1, "a data step with no variables is not done"
    page = client.get(f"/applications/{project.pk}/check/").content.decode()
    assert "Step 2 (Data): give the variables you need." in page


def test_show_their_variables_with_variables_ticked_marks_the_data_step_done(
    applicant, cohort_a, signed_in_client
):
    project = applications.start(applicant)
    signed_in_client(person=applicant).post(
        step_2(project),
        {
            "datasets": [cohort_a.pk],
            "variables": [variable_id(cohort_a.pk, "people.sex")],
            "show_variables": "1",
        },
    )
    project.refresh_from_db()
    assert project.steps_done == 2
    assert "Step 2" not in " ".join(applications.missing(project))


def test_save_and_continue_without_variables_asks_for_them(applicant, cohort_a, signed_in_client):
    project = applications.start(applicant)
    response = signed_in_client(person=applicant).post(step_2(project), {"datasets": [cohort_a.pk]})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<a href="#id_variables_0">Tick the variables you need' in page
    assert 'id="id_variables_0"' in page, "the error summary's link has somewhere to go"


def test_htmx_lists_the_variables_of_the_ticked_datasets_and_saves_nothing(
    applicant, cohort_a, cohort_b, signed_in_client
):
    project = applications.start(applicant)
    ticked = variable_id(cohort_b.pk, "people.sex")
    response = signed_in_client(person=applicant).get(
        step_2(project),
        {"datasets": [cohort_b.pk, "not-a-dataset"], "variables": [ticked]},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert page.strip().startswith('<div id="variables">')
    assert "<html" not in page
    assert f'value="{ticked}" checked' in page
    assert "Cohort A" not in page
    project.refresh_from_db()
    assert not project.datasets.exists()
    assert project.variables == []


# Bad input.


@pytest.mark.parametrize("tampered", ["{b}:people.sex", "{a}:people.no_such_column", "people.sex"])
def test_a_variable_not_in_the_chosen_datasets_is_refused_and_the_draft_kept(
    applicant, cohort_a, cohort_b, signed_in_client, tampered
):
    client = signed_in_client(person=applicant)
    project = applications.start(applicant)
    kept = [variable_id(cohort_a.pk, "people.chi")]
    client.post(step_2(project), {"datasets": [cohort_a.pk], "variables": kept})
    value = tampered.format(a=cohort_a.pk, b=cohort_b.pk)
    response = client.post(step_2(project), {"datasets": [cohort_a.pk], "variables": [value]})
    assert response.status_code == 400
    assert f"These variables are not in the chosen datasets: {value}." in response.content.decode()
    project.refresh_from_db()
    assert (list(project.datasets.all()), project.variables) == ([cohort_a], kept)


# Triage.


def test_triage_flags_the_identifiers_of_the_picked_dataset_only(
    applicant, make_person, cohort_a, cohort_b
):
    Variable.objects.create(
        dataset_version=cohort_b.versions.get(),
        table="people",
        name="ethnic_group",
        type="string",
        is_identifier=True,
    )
    from_a = fill(applications.start(applicant), applicant, [cohort_a], ["people.ethnic_group"])
    applications.submit(from_a, by=applicant)
    from_a.refresh_from_db()
    assert not any("identifying" in reason for reason in from_a.risk_reasons)

    from_b = fill(applications.start(applicant), applicant, [cohort_b], ["people.ethnic_group"])
    applications.submit(from_b, by=applicant)
    from_b.refresh_from_db()
    assert "+2: Cohort B: people.ethnic_group is classed as identifying." in from_b.risk_reasons


# Pages show variables by dataset.


def test_the_application_lists_its_variables_under_each_dataset(
    applicant, cohort_a, cohort_b, signed_in_client
):
    project = applications.start(applicant)
    project.datasets.set([cohort_a, cohort_b])
    project.variables = [
        variable_id(cohort_b.pk, "visits.seen_on"),
        variable_id(cohort_a.pk, "people.sex"),
        variable_id(cohort_b.pk, "people.sex"),
    ]
    project.save()
    page = signed_in_client(person=applicant).get(f"/applications/{project.pk}/check/")
    assert (
        '<ul class="nhsuk-list"><li><strong>Cohort A</strong>: people.sex</li>'
        "<li><strong>Cohort B</strong>: visits.seen_on, people.sex</li></ul>"
    ) in page.content.decode()


# Applications saved before variables were picked per dataset.


def test_a_bare_name_means_what_it_meant_before(cohort_a, cohort_b, applicant):
    project = applications.start(applicant)
    project.datasets.set([cohort_a, cohort_b])
    project.variables = ["people.sex", "visits.seen_on"]
    project.save()
    assert project.variables == [
        variable_id(cohort_a.pk, "people.sex"),
        variable_id(cohort_b.pk, "people.sex"),
        variable_id(cohort_b.pk, "visits.seen_on"),
    ]


def test_the_migration_names_each_stored_variable_with_its_dataset(cohort_a, cohort_b, applicant):
    name = "0007_variables_picked_per_dataset"
    migration = importlib.import_module(f"havenkit.projects.migrations.{name}")
    # The models as the migration sees them, without today's Project.save().
    historical = MigrationExecutor(connection).loader.project_state(("projects", name)).apps
    project = applications.start(applicant)
    project.datasets.set([cohort_a, cohort_b])
    # As a row stood before the migration (save() would already qualify the names).
    Project.objects.filter(pk=project.pk).update(variables=["people.chi", "visits.seen_on"])
    migration.name_each_variable_with_its_dataset(historical, None)
    project.refresh_from_db()
    assert project.variables == [
        variable_id(cohort_a.pk, "people.chi"),
        variable_id(cohort_b.pk, "people.chi"),
        variable_id(cohort_b.pk, "visits.seen_on"),
    ]
    migration.back_to_bare_names(historical, None)
    project.refresh_from_db()
    assert project.variables == ["people.chi", "visits.seen_on"]


# A column a new version of its dataset dropped is refused at submission and at approval.


@pytest.fixture
def smr01_with_ward(make_person):
    """SMR01 stored for real with a ``ward`` column, then ``drop_ward`` stores a version
    without it."""
    steward = make_person(Role.APPROVER)
    admissions = pa.table({"chi": ["0211165794", "0402070763"], "ward": ["4A", "7B"]})
    version = data.create_dataset_version(
        "SMR01", "-", CONTROLLER, {"admissions": admissions}, steward
    )

    def drop_ward() -> None:
        data.create_dataset_version(
            "SMR01", "-", CONTROLLER, {"admissions": admissions.drop(["ward"])}, steward
        )

    return version.dataset, drop_ward


def test_a_variable_dropped_by_a_new_version_is_refused_at_submission(applicant, smr01_with_ward):
    smr01, drop_ward = smr01_with_ward
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.ward"])
    drop_ward()
    with pytest.raises(applications.ApplicationError) as refusal:
        applications.submit(project, by=applicant)
    assert str(refusal.value) == (
        "admissions.ward is no longer in SMR01: untick it or ask the data steward."
    )
    project.refresh_from_db()
    assert (project.status, project.submitted_at) == (ProjectStatus.DRAFT, None)
    event = AuditEvent.objects.get(action="application.submitted")
    assert (event.outcome, event.details["variables"]) == (
        Outcome.FAILURE,
        ["SMR01: admissions.ward"],
    )


def test_a_variable_dropped_after_submission_is_refused_at_fast_track_approval(
    applicant, make_person, smr01_with_ward, signed_in_client
):
    smr01, drop_ward = smr01_with_ward
    precedent(make_person, [smr01], ["admissions.chi", "admissions.ward"])
    project = fill(
        applications.start(applicant), applicant, [smr01], ["admissions.chi", "admissions.ward"]
    )
    applications.submit(project, by=applicant)
    assert project.status == ProjectStatus.FAST_TRACK
    drop_ward()
    response = signed_in_client(Role.APPROVER).post(
        f"/applications/{project.pk}/decide", {"decision": "approve", "note": ""}, follow=True
    )
    assert (
        "admissions.ward is no longer in SMR01: return the application so the applicant can "
        "untick it, or ask the data steward."
    ) in response.content.decode()
    project.refresh_from_db()
    assert (project.status, project.approved_at) == (ProjectStatus.FAST_TRACK, None)
    [event] = refusals("application.decided")
    assert event.details["variables"] == ["SMR01: admissions.ward"]


def test_a_variable_dropped_after_submission_is_refused_at_the_panel_outcome(
    applicant, make_person, smr01_with_ward, settings
):
    settings.HAVENKIT_PANEL_QUORUM = 1
    smr01, drop_ward = smr01_with_ward
    project = fill(applications.start(applicant), applicant, [smr01], ["admissions.ward"])
    applications.submit(project, by=applicant)
    chair = make_person(Role.APPROVER)
    applications.assign_panel(project, [chair], chair, by=make_person(Role.APPROVER))
    applications.vote(project, choice="approve", comment="Fine", by=chair)
    drop_ward()
    with pytest.raises(applications.ApplicationError, match=r"^admissions\.ward is no longer"):
        applications.record_panel_outcome(
            project, outcome="approve", note="", questions=[], by=chair
        )
    project.refresh_from_db()
    assert project.status == ProjectStatus.PANEL_REVIEW
    assert [e.details["variables"] for e in refusals("application.decided")] == [
        ["SMR01: admissions.ward"]
    ]
