"""An extract's files and its row are made together: a build that fails part-way leaves
neither, and does not stop the next build."""

import pytest

from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.models import Extract
from tests.data.test_extracts import PEOPLE, new_project

pytestmark = pytest.mark.django_db

CHOSEN = {"people": ["chi", "sex"]}


@pytest.fixture
def setting(make_person):
    version = services.create_dataset_version(
        "Storage cohort",
        "Three people.",
        "A controller",
        {"people": PEOPLE},
        make_person(Role.APPROVER),
    )
    project = new_project(make_person, "HK-S-1", [version], CHOSEN)
    return project, version, make_person(Role.DATA_STEWARD)


def test_a_folder_left_by_a_crashed_build_does_not_block_the_next(setting):
    project, version, steward = setting
    # A build killed once its files were in place, before its row was committed.
    left = services.project_extracts_folder(project) / "v1"
    left.mkdir(parents=True)
    (left / "people.parquet").write_bytes(b"half a file")

    extract = services.build_pseudonymised_extract(project, version, CHOSEN, steward)

    assert extract.version == 1
    assert sorted(path.name for path in left.iterdir()) == ["people.csv", "people.parquet"]
    assert extract.tables["people"]["parquet_sha256"] == services.sha256_of_file(
        left / "people.parquet"
    )


def test_a_build_that_fails_part_way_leaves_no_files_and_no_row(setting):
    project, version, steward = setting
    services.build_pseudonymised_extract(project, version, CHOSEN, steward)
    folder = services.project_extracts_folder(project)
    # The first table is written before the second turns out not to be a table.
    tables = {"people": PEOPLE, "admissions": "not a table"}

    with pytest.raises(AttributeError):
        services.create_extract(project, version, tables, recipe={}, created_by=steward)

    assert sorted(path.name for path in folder.iterdir()) == ["v1"]
    assert list(Extract.objects.values_list("version", flat=True)) == [1]
    assert services.build_pseudonymised_extract(project, version, CHOSEN, steward).version == 2
