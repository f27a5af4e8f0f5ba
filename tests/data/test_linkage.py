"""Extracts linking several dataset versions on CHI inside the haven, then pseudonymised."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import keys, services
from havenkit.data.models import Extract
from havenkit.deid.pseudonymise import pseudonymise
from tests.data.test_extracts import new_project

pytestmark = pytest.mark.django_db

# Four people in the cohort, three admissions: two people are in both, one admission has a
# CHI the cohort does not know, one cohort row has no CHI.
COHORT = pa.table(
    {
        "chi": ["0211165794", "0402070763", "0101011237", "1503891235", None],
        "sex": ["M", "F", "M", "F", "F"],
        "postcode": ["EH3 9AA", "G12 8QQ", "AB10 1XX", "EH1 1AA", "G1 1AA"],
    }
)
ADMISSIONS = pa.table(
    {
        "chi": ["0211165794", "0211165794", "0402070763", "3112999990"],
        "icd10": ["I21", "J18", "R07", "K35"],
        "ward": ["A", "B", "C", "D"],
    }
)


@pytest.fixture
def versions(make_person):
    approver = make_person(Role.APPROVER)
    cohort = services.create_dataset_version(
        "Linked cohort", "Five people.", "Controller A", {"people": COHORT}, approver
    )
    admissions = services.create_dataset_version(
        "Linked admissions", "Four stays.", "Controller B", {"admissions": ADMISSIONS}, approver
    )
    return cohort, admissions


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


VARIABLES = {"people": ["chi", "sex"], "admissions": ["chi", "icd10"]}


def test_linked_extract_joins_on_the_project_pseudonym(make_person, steward, versions):
    cohort, admissions = versions
    project = new_project(make_person, "HK-L-1", versions, VARIABLES)
    extract = services.build_linked_extract(project, [cohort, admissions], VARIABLES, steward)
    directory = services.extract_directory(extract)
    people = pq.read_table(directory / "people.parquet")
    stays = pq.read_table(directory / "admissions.parquet")
    # Only approved variables; "postcode" and "ward" were not chosen.
    assert people.column_names == ["pseudonym", "sex"]
    assert stays.column_names == ["pseudonym", "icd10"]
    key = keys.project_key(project.pk)
    assert stays["pseudonym"].to_pylist() == pseudonymise(ADMISSIONS["chi"].to_pylist(), key)
    joined = stays.join(people, "pseudonym", join_type="inner")
    assert sorted(joined["icd10"].to_pylist()) == ["I21", "J18", "R07"]
    assert extract.recipe["sources"] == [
        {
            "dataset": "Linked cohort",
            "dataset_version": cohort.pk,
            "version": 1,
            "tables": ["people"],
        },
        {
            "dataset": "Linked admissions",
            "dataset_version": admissions.pk,
            "version": 1,
            "tables": ["admissions"],
        },
    ]
    assert extract.recipe["linked_on"] == "chi"
    event = AuditEvent.objects.get(action="extract.created")
    assert event.details["dataset_versions"] == [cohort.pk, admissions.pk]


def test_records_that_do_not_link_are_counted_never_listed(make_person, steward, versions):
    cohort, admissions = versions
    project = new_project(make_person, "HK-L-2", versions, VARIABLES)
    extract = services.build_linked_extract(project, [cohort, admissions], VARIABLES, steward)
    by_dataset = {entry["dataset"]: entry for entry in extract.linkage}
    assert by_dataset["Linked cohort"] | {"dataset_version": 0} == {
        "dataset": "Linked cohort",
        "dataset_version": 0,
        "version": 1,
        "records": 5,
        "records_without_chi": 1,
        "records_not_linked": 2,
        "people": 4,
        "people_not_linked": 2,
    }
    stays = by_dataset["Linked admissions"]
    assert (stays["records"], stays["records_not_linked"]) == (4, 1)
    assert (stays["people"], stays["people_not_linked"]) == (3, 1)
    text = str(extract.linkage) + str(extract.recipe)
    assert "3112999990" not in text
    assert "1503891235" not in text


def test_rebuild_reads_every_source_version_again(make_person, steward, versions):
    cohort, admissions = versions
    project = new_project(make_person, "HK-L-3", versions, VARIABLES)
    first = services.build_linked_extract(project, [cohort, admissions], VARIABLES, steward)
    again = services.rebuild_extract(first, steward)
    assert again.version == 2
    assert again.linkage == first.linkage
    for table in VARIABLES:
        assert again.tables[table]["parquet_sha256"] == first.tables[table]["parquet_sha256"]


def test_a_source_without_its_chi_cannot_be_linked(make_person, steward, versions):
    project = new_project(make_person, "HK-L-4", versions, VARIABLES)
    variables = {"people": ["chi", "sex"], "admissions": ["icd10"]}
    with pytest.raises(services.ExtractRequestError, match="include a chi column"):
        services.build_linked_extract(project, list(versions), variables, steward)
    assert not Extract.objects.exists()


def test_two_versions_with_a_table_of_the_same_name_are_refused(make_person, steward, versions):
    cohort, _admissions = versions
    second = services.create_dataset_version(
        "Linked cohort", "Again.", "Controller A", {"people": COHORT}, make_person(Role.APPROVER)
    )
    project = new_project(make_person, "HK-L-5", [cohort], {"people": ["chi"]})
    with pytest.raises(services.ExtractRequestError, match="both have a table 'people'"):
        services.build_linked_extract(project, [cohort, second], {"people": ["chi"]}, steward)


def test_steward_links_two_datasets_in_the_portal(signed_in_client, make_person, versions):
    cohort, admissions = versions
    project = new_project(make_person, "HK-L-6", versions, VARIABLES)
    steward = signed_in_client(Role.DATA_STEWARD)
    page = reverse("data:project_extract", args=[project.pk])
    chosen = {"dataset_version": [cohort.pk, admissions.pk]}
    form = steward.get(page, chosen).content.decode()
    assert "people.sex" in form
    assert "admissions.icd10" in form
    response = steward.post(
        page,
        chosen
        | {
            "k_threshold": 2,
            "include:people.chi": "on",
            "include:people.sex": "on",
            "include:admissions.chi": "on",
            "include:admissions.icd10": "on",
        },
    )
    assert response.status_code == 302
    extract = services.current_extract(project)
    assert [source["dataset_version"] for source in extract.recipe["sources"]] == [
        cohort.pk,
        admissions.pk,
    ]
    html = steward.get(page).content.decode()
    assert "Linkage on CHI" in html
    assert "Linked admissions v1" in html
