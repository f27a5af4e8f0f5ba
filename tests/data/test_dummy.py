"""Dummy data: the extract's schema exactly, plausible values, real missingness, no real row."""

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from havenkit.core.roles import Role
from havenkit.data import services
from havenkit.data.management.commands.demo import COHORT_VARIABLES, EXTRACT_VARIABLES
from havenkit.data.synthetic import generate_cohort
from tests.data.test_extracts import new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def extract(make_person):
    cohort = generate_cohort(n_people=400, seed=7)
    people = cohort["people"]
    # A third of postcodes missing, to check the dummy keeps the rate.
    missing = pa.array(np.arange(people.num_rows) % 3 == 0)
    cohort["people"] = people.set_column(
        3, "postcode_district", pc.if_else(missing, None, people["postcode_district"])
    )
    version = services.create_dataset_version(
        "Dummy cohort",
        "Synthetic.",
        "A controller",
        cohort,
        make_person(Role.APPROVER),
        declarations=COHORT_VARIABLES,
    )
    return services.build_pseudonymised_extract(
        new_project(make_person, "HK-D-1", [version], EXTRACT_VARIABLES),
        version,
        EXTRACT_VARIABLES,
        make_person(Role.DATA_STEWARD),
    )


def tables(directory) -> dict[str, pa.Table]:
    return {path.stem: pq.read_table(path) for path in directory.glob("*.parquet")}


def test_dummy_has_the_real_schema_and_no_real_record(extract):
    real = tables(services.extract_directory(extract))
    dummy = tables(services.dummy_extract_directory(extract))
    assert sorted(dummy) == sorted(real)
    for name, table in real.items():
        assert dummy[name].schema.equals(table.schema), name
        real_rows = {tuple(row.values()) for row in table.to_pylist()}
        assert not real_rows & {tuple(row.values()) for row in dummy[name].to_pylist()}
    real_pseudonyms = set(real["people"]["pseudonym"].to_pylist())
    fake = dummy["people"]["pseudonym"].to_pylist()
    assert not real_pseudonyms & set(fake)
    assert all(re.fullmatch("[0-9a-f]{32}", value) for value in fake)


def test_dummy_values_follow_the_catalogue_and_the_missingness(extract):
    people = tables(services.dummy_extract_directory(extract))["people"]
    assert set(pc.drop_null(people["sex"]).to_pylist()) <= {"F", "M"}
    assert set(pc.drop_null(people["simd_quintile"]).to_pylist()) <= {1, 2, 3, 4, 5}
    assert people["postcode_district"].null_count / people.num_rows == pytest.approx(
        1 / 3, abs=0.08
    )
    assert people["sex"].null_count == 0


def test_dummy_tables_still_join_on_pseudonym(extract):
    dummy = tables(services.dummy_extract_directory(extract))
    people = set(dummy["people"]["pseudonym"].to_pylist())
    assert people & set(dummy["admissions"]["pseudonym"].to_pylist())


def test_dummy_is_made_once_and_the_same_each_time(extract):
    first = services.dummy_extract_directory(extract)
    digest = services.sha256_of_file(first / "people.parquet")
    assert services.dummy_extract_directory(extract) == first
    assert services.sha256_of_file(first / "people.parquet") == digest
    assert (first / "people.csv").is_file()
