"""The synthetic cohort: valid, consistent, reproducible, and with the demo's finding in it."""

import io
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from havenkit.data.synthetic import DIAGNOSES, DRUGS, POSTCODE_DISTRICTS, generate_cohort
from havenkit.deid.chi import validate_chi

END = pa.scalar(date(2026, 6, 30), pa.date32())


@pytest.fixture(scope="module")
def cohort() -> dict[str, pa.Table]:
    return generate_cohort(n_people=5000, seed=7)


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_every_chi_is_valid_unique_and_matches_sex_and_birth(cohort):
    people = cohort["people"].to_pylist()
    assert len(people) == 5000
    assert len({person["chi"] for person in people}) == 5000
    for person in people:
        check = validate_chi(person["chi"], expected_sex=person["sex"])
        assert check.valid, check.reason
        assert person["chi"][:6] == person["date_of_birth"].strftime("%d%m%y")
        assert 1920 <= person["date_of_birth"].year <= 2020


def test_people_have_known_districts_and_quintiles(cohort):
    people = cohort["people"]
    assert set(people["postcode_district"].to_pylist()) <= set(POSTCODE_DISTRICTS)
    assert set(people["simd_quintile"].to_pylist()) == {1, 2, 3, 4, 5}
    assert set(people["sex"].to_pylist()) == {"M", "F"}


def test_events_per_person_are_about_the_stated_means(cohort):
    assert 2.3 < cohort["admissions"].num_rows / 5000 < 2.7
    assert 4.7 < cohort["prescriptions"].num_rows / 5000 < 5.3


def test_admissions_happen_after_birth_and_before_the_end_of_the_data(cohort):
    people = cohort["people"].select(["chi", "date_of_birth"])
    admissions = cohort["admissions"].join(people, "chi")
    assert admissions.num_rows == cohort["admissions"].num_rows
    assert pc.all(pc.greater(admissions["admission_date"], admissions["date_of_birth"])).as_py()
    assert pc.all(pc.less(admissions["admission_date"], END)).as_py()
    assert pc.all(
        pc.greater_equal(admissions["discharge_date"], admissions["admission_date"])
    ).as_py()
    codes = {"I21", *(code for code, _specialty, _weight in DIAGNOSES)}
    assert set(admissions["icd10"].to_pylist()) <= codes


def test_prescriptions_belong_to_people_and_use_known_drugs(cohort):
    people = cohort["people"].select(["chi", "date_of_birth"])
    prescriptions = cohort["prescriptions"].join(people, "chi")
    assert prescriptions.num_rows == cohort["prescriptions"].num_rows
    assert pc.all(
        pc.greater(prescriptions["prescribed_date"], prescriptions["date_of_birth"])
    ).as_py()
    assert set(prescriptions["drug"].to_pylist()) <= {name for name, *_rest in DRUGS}
    assert pc.min(prescriptions["quantity"]).as_py() > 0


def test_heart_attacks_are_commoner_in_the_most_deprived_quintile(cohort):
    heart_attacks = cohort["admissions"].filter(pc.equal(cohort["admissions"]["icd10"], "I21"))
    by_quintile = (
        heart_attacks.join(cohort["people"].select(["chi", "simd_quintile"]), "chi")
        .group_by("simd_quintile")
        .aggregate([("chi", "count")])
        .to_pydict()
    )
    counts = dict(zip(by_quintile["simd_quintile"], by_quintile["chi_count"], strict=True))
    assert counts[1] > counts[5]


def test_same_seed_gives_byte_identical_tables_and_another_seed_does_not():
    first = generate_cohort(n_people=500, seed=3)
    again = generate_cohort(n_people=500, seed=3)
    other = generate_cohort(n_people=500, seed=4)
    for name in ("people", "admissions", "prescriptions"):
        assert parquet_bytes(first[name]) == parquet_bytes(again[name])
    assert first["people"]["chi"] != other["people"]["chi"]


def test_an_empty_cohort_is_refused():
    with pytest.raises(ValueError, match="at least one person"):
        generate_cohort(n_people=0)
