"""Extracts with generalisation, a disclosure-risk report, and an exact rebuild from the recipe."""

import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.catalogue import VariableDeclaration
from tests.data.test_extracts import new_project

pytestmark = pytest.mark.django_db

# Six people: four men born in 1950 in EH3, two women born in 1980 in G12 (one group of 4,
# one of 2 once dates become years).
PEOPLE = pa.table(
    {
        "chi": ["0211165794", "0402070763", "0101011237", "0101010213", "0202020202", "0303030303"],
        "sex": ["M", "M", "M", "M", "F", "F"],
        "date_of_birth": pa.array(
            [datetime.date(1950, m, 1) for m in (1, 2, 3, 4)]
            + [datetime.date(1980, 5, 5), datetime.date(1980, 9, 9)],
            type=pa.date32(),
        ),
        "postcode": ["EH3 9AB", "EH3 1AA", "EH39XX", "EH3 5ZZ", "G12 8QQ", "G12 0AA"],
    }
)
DECLARATIONS = {
    "people": [
        VariableDeclaration("chi", "chi", is_identifier=True),
        VariableDeclaration("sex", "string", is_quasi_identifier=True),
        VariableDeclaration("date_of_birth", "date", is_quasi_identifier=True),
        VariableDeclaration("postcode", "string", is_quasi_identifier=True),
    ]
}
ALL = {"people": ["chi", "sex", "date_of_birth", "postcode"]}


@pytest.fixture
def dataset_version(make_person):
    return services.create_dataset_version(
        "Recipe cohort",
        "Six people.",
        "A controller",
        {"people": PEOPLE},
        make_person(Role.APPROVER),
        declarations=DECLARATIONS,
    )


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


def read(extract, table="people"):
    return pq.read_table(services.extract_directory(extract) / f"{table}.parquet")


def test_raw_quasi_identifiers_make_every_record_unique(make_person, steward, dataset_version):
    project = new_project(make_person, "HK-R-1", [dataset_version], ALL)
    extract = services.build_pseudonymised_extract(
        project, dataset_version, ALL, steward, k_threshold=3
    )
    risk = extract.tables["people"]["disclosure_risk"]
    assert risk["quasi_identifiers"] == ["sex", "date_of_birth", "postcode"]
    assert (risk["unique_records"], risk["smallest_group"], risk["passes"]) == (6, 1, False)


def test_generalising_raises_k_and_the_report_says_so(make_person, steward, dataset_version):
    project = new_project(make_person, "HK-R-2", [dataset_version], ALL)
    extract = services.build_pseudonymised_extract(
        project,
        dataset_version,
        ALL,
        steward,
        generalisations={"people.date_of_birth": "year", "people.postcode": "district"},
        k_threshold=3,
    )
    people = read(extract)
    assert people["date_of_birth"].to_pylist()[0] == datetime.date(1950, 1, 1)
    assert set(people["postcode"].to_pylist()) == {"EH3", "G12"}
    risk = extract.tables["people"]["disclosure_risk"]
    assert (risk["groups"], risk["smallest_group"], risk["records_below_threshold"]) == (2, 2, 2)
    assert extract.recipe["generalisations"]["people.postcode"] == "district"


def test_rebuild_from_the_recipe_gives_the_same_files(make_person, steward, dataset_version):
    project = new_project(make_person, "HK-R-3", [dataset_version], ALL)
    first = services.build_pseudonymised_extract(
        project, dataset_version, ALL, steward, generalisations={"people.date_of_birth": "month"}
    )
    again = services.rebuild_extract(first, steward)
    assert again.version == first.version + 1
    assert again.recipe == first.recipe
    assert again.tables["people"]["parquet_sha256"] == first.tables["people"]["parquet_sha256"]


def test_a_generalisation_that_does_not_fit_is_refused(make_person, steward, dataset_version):
    project = new_project(make_person, "HK-R-4", [dataset_version], ALL)
    with pytest.raises(services.ExtractRequestError, match=r"people\.sex cannot be generalised"):
        services.build_pseudonymised_extract(
            project, dataset_version, ALL, steward, generalisations={"people.sex": "year"}
        )
    assert services.current_extract(project) is None


def test_an_extract_from_another_pseudonym_scheme_is_not_rebuilt(
    make_person, steward, dataset_version
):
    project = new_project(make_person, "HK-R-5", [dataset_version], ALL)
    extract = services.build_pseudonymised_extract(project, dataset_version, ALL, steward)
    extract.recipe["pseudonym_scheme"] = "HMAC-SHA-256 of the CHI, first 128 bits"
    with pytest.raises(services.ExtractRequestError, match="would change every pseudonym"):
        services.rebuild_extract(extract, steward)
    assert services.current_extract(project) == extract
