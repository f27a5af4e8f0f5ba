"""Dataset versions are immutable and checksummed; extracts are minimised and pseudonymised."""

import stat
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.utils import timezone

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import keys, services
from havenkit.data.models import Dataset, DatasetVersion, Extract
from havenkit.deid.pseudonymise import pseudonymise
from havenkit.projects.services import create_active_project

pytestmark = pytest.mark.django_db

PEOPLE = pa.table(
    {
        "chi": ["0211165794", "0402070763", "0101011237"],
        "sex": ["M", "F", "M"],
        "postcode_district": ["EH3", "G12", "AB10"],
    }
)
ADMISSIONS = pa.table({"chi": ["0211165794", "0211165794", "0402070763"], "icd10": ["I21"] * 3})
EVERY_COLUMN = {"people": ["chi", "sex", "postcode_district"], "admissions": ["chi", "icd10"]}


@pytest.fixture
def approver(make_person):
    return make_person(Role.APPROVER)


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


@pytest.fixture
def dataset_version(approver) -> DatasetVersion:
    return services.create_dataset_version(
        "Test cohort",
        "Three people.",
        "A test controller",
        {"people": PEOPLE, "admissions": ADMISSIONS},
        approved_by=approver,
    )


def new_project(
    make_person,
    reference: str,
    versions: Iterable[DatasetVersion] = (),
    variables: dict[str, list[str]] | None = None,
):
    """An active project whose application was approved for ``variables`` (table to columns)
    of the datasets of ``versions``; for nothing when none are given."""
    today = timezone.localdate()
    pi = make_person(Role.RESEARCHER, Role.PI)
    return create_active_project(
        reference=reference,
        title=f"Project {reference}",
        organisation="University of Edinburgh",
        lay_summary="A lay summary.",
        public_benefit="A public benefit.",
        pi=pi,
        researchers=[],
        datasets_used="Test cohort",
        start_date=today,
        end_date=today.replace(year=today.year + 1),
        approved_by=pi,
        datasets=[version.dataset for version in versions],
        variables=[
            f"{table}.{column}"
            for table, columns in (variables or {}).items()
            for column in columns
        ],
    )


def version_file(dataset_version: DatasetVersion, table: str) -> Path:
    return Path(settings.HAVENKIT_HOME) / dataset_version.storage_path / f"{table}.parquet"


def test_dataset_version_is_read_only_checksummed_and_audited(dataset_version, approver):
    path = version_file(dataset_version, "people")
    entry = dataset_version.tables["people"]
    assert dataset_version.storage_path == f"datasets/{dataset_version.dataset_id}/v1"
    assert entry["rows"] == 3
    assert entry["columns"] == ["chi", "sex", "postcode_district"]
    assert entry["sha256"] == services.sha256_of_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o555
    assert pq.read_table(path).equals(PEOPLE)
    event = AuditEvent.objects.get(action="dataset_version.created")
    assert event.actor == approver
    assert event.details["tables"] == {"people": 3, "admissions": 3}


def test_next_version_of_the_same_dataset_is_numbered_on(dataset_version, approver):
    second = services.create_dataset_version(
        "Test cohort", "Three people.", "A test controller", {"people": PEOPLE}, approver
    )
    assert (second.dataset_id, second.version) == (dataset_version.dataset_id, 2)
    assert Dataset.objects.count() == 1


def test_a_failed_version_leaves_no_row_and_no_folder(approver):
    # The first table is written before the second turns out not to be a table.
    tables = {"people": PEOPLE, "admissions": "not a table"}
    with pytest.raises(AttributeError):
        services.create_dataset_version("Broken", "Half.", "A controller", tables, approver)
    assert not DatasetVersion.objects.exists()
    assert not Dataset.objects.exists()
    stored = Path(settings.HAVENKIT_HOME) / "datasets"
    assert [path for path in stored.rglob("*") if path.name == "v1" or path.is_file()] == []


def test_extract_keeps_only_chosen_variables_with_pseudonyms(make_person, steward, dataset_version):
    variables = {"people": ["chi", "sex"], "admissions": ["chi"]}
    project = new_project(make_person, "HK-T-1", [dataset_version], variables)
    extract = services.build_pseudonymised_extract(project, dataset_version, variables, steward)
    directory = services.extract_directory(extract)
    people = pq.read_table(directory / "people.parquet")
    admissions = pq.read_table(directory / "admissions.parquet")
    assert people.column_names == ["pseudonym", "sex"]
    assert admissions.column_names == ["pseudonym"]
    expected = pseudonymise(PEOPLE["chi"].to_pylist(), keys.project_key(project.pk))
    assert people["pseudonym"].to_pylist() == expected
    # The same key across tables: admissions still link to people inside the project.
    assert set(admissions["pseudonym"].to_pylist()) <= set(expected)
    assert extract.recipe["variables"] == {"people": ["chi", "sex"], "admissions": ["chi"]}
    assert extract.recipe["key_version"] == 1
    assert extract.recipe["dataset_version"] == dataset_version.pk


def test_two_projects_cannot_link_their_extracts(make_person, steward, dataset_version):
    pseudonyms = []
    for reference in ("HK-T-1", "HK-T-2"):
        project = new_project(make_person, reference, [dataset_version], {"people": ["chi"]})
        extract = services.build_pseudonymised_extract(
            project, dataset_version, {"people": ["chi"]}, steward
        )
        table = pq.read_table(services.extract_directory(extract) / "people.parquet")
        pseudonyms.append(set(table["pseudonym"].to_pylist()))
    assert pseudonyms[0].isdisjoint(pseudonyms[1])


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"deaths": ["chi"]}, "has no table 'deaths'; it has admissions, people"),
        ({"people": ["chi", "surname"]}, "has no column 'surname'; it has chi, sex"),
        ({"people": []}, "No variables were chosen from table 'people'"),
        ({}, "needs at least one table"),
    ],
)
def test_asking_for_what_is_not_there_is_refused_clearly(
    make_person, steward, dataset_version, variables, message
):
    project = new_project(make_person, "HK-T-1", [dataset_version], EVERY_COLUMN)
    with pytest.raises(services.ExtractRequestError, match=message):
        services.build_pseudonymised_extract(project, dataset_version, variables, steward)
    assert not Extract.objects.exists()


def test_a_changed_dataset_file_is_detected_before_use(make_person, steward, dataset_version):
    project = new_project(make_person, "HK-T-1", [dataset_version], EVERY_COLUMN)
    path = version_file(dataset_version, "people")
    path.parent.chmod(0o755)
    path.chmod(0o644)
    pq.write_table(PEOPLE.slice(0, 1), path)
    with pytest.raises(services.ExtractRequestError, match="no longer matches its recorded"):
        services.build_pseudonymised_extract(project, dataset_version, {"people": ["chi"]}, steward)
    assert not Extract.objects.exists()
