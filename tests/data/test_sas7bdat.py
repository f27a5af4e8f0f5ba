"""SAS .sas7bdat files through the ingress airlock, made by a real writer.

pyreadstat cannot write .sas7bdat, so each file is written by R's haven (Debian's
r-cran-haven), which writes through ReadStat, the same library that reads it back here.
"""

import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from havenkit.core.roles import Role
from havenkit.data import airlock, services
from havenkit.data.models import IngressState
from havenkit.data.validation import ColumnSpec

pytestmark = pytest.mark.django_db

SCHEMA = [
    ColumnSpec("chi", "chi", required=True, key=True, description="CHI number"),
    ColumnSpec("sex", "string", allowed_values=("F", "M"), is_quasi_identifier=True),
    ColumnSpec("age", "integer"),
    ColumnSpec("weight", "number"),
    ColumnSpec("admitted", "date"),
]
# R code: read a CSV of text columns and write it as SAS, with age a number and admitted a date.
WRITE_SAS = """
args <- commandArgs(trailingOnly = TRUE)
people <- read.csv(args[1], colClasses = "character", na.strings = "")
people$age <- as.numeric(people$age)
people$weight <- as.numeric(people$weight)
people$admitted <- as.Date(people$admitted)
haven::write_sas(people, args[2])
"""
HEADER = "chi,sex,age,weight,admitted\n"
GOOD = "0211165794,M,40,70.5,2024-01-02\n0402070763,F,71,,2024-03-04\n0101011237,M,18,62.25,\n"


def write_sas7bdat(folder: Path, csv_text: str) -> Path:
    source, target = folder / "people.csv", folder / "people.sas7bdat"
    source.write_text(HEADER + csv_text)
    subprocess.run(
        ["Rscript", "--vanilla", "-e", WRITE_SAS, str(source), str(target)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


def receive(steward, content: bytes):
    return airlock.receive_upload(
        filename="people.sas7bdat",
        chunks=[content[:1000], content[1000:]],
        dataset_title="Cohort",
        dataset_description="People.",
        data_controller="PHS",
        table_name="people",
        schema=SCHEMA,
        uploaded_by=steward,
    )


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


def test_a_sas_file_is_validated_typed_and_becomes_a_dataset_version(
    tmp_path, steward, make_person
):
    upload = receive(steward, write_sas7bdat(tmp_path, GOOD).read_bytes())
    assert upload.state == IngressState.AWAITING_REVIEW, upload.report
    assert upload.rows == 3
    assert upload.report["chi_schemes"]["chi"] == {"modulus 11": 3, "modulus 10": 0}

    upload = airlock.approve(upload, make_person(Role.APPROVER))
    table = pq.read_table(services.table_path(upload.dataset_version, "people"))
    assert table.schema.field("age").type == pa.int64()
    assert table.schema.field("weight").type == pa.float64()
    assert table.schema.field("admitted").type == pa.date32()
    assert table.column("age").to_pylist() == [40, 71, 18]
    assert table.column("weight").to_pylist() == [70.5, None, 62.25]
    assert str(table.column("admitted")[1]) == "2024-03-04"
    assert table.column("chi").to_pylist()[2] == "0101011237"


def test_a_sas_file_with_a_bad_chi_and_a_fractional_age_names_row_and_column(tmp_path, steward):
    bad = "0211165794,M,40,70.5,2024-01-02\n02111657A4,F,71.5,,2024-03-04\n"
    upload = receive(steward, write_sas7bdat(tmp_path, bad).read_bytes())
    assert upload.state == IngressState.INVALID
    problems = {(p["row"], p["column"]) for p in upload.report["problems"]}
    assert problems == {(2, "chi"), (2, "age")}
    assert not (airlock.upload_directory(upload) / airlock.STAGED_FILE).exists()


def test_a_truncated_sas_file_is_refused_with_a_clear_message(tmp_path, steward):
    content = write_sas7bdat(tmp_path, GOOD * 200).read_bytes()
    upload = receive(steward, content[: len(content) // 2])
    assert upload.state == IngressState.INVALID
    [problem] = upload.report["problems"]
    assert problem["problem"].startswith(
        "This is not a readable SAS .sas7bdat file: it is damaged or truncated"
    )
    assert "Export it again" in problem["problem"]
    assert [path.name for path in airlock.upload_directory(upload).iterdir()] == [
        airlock.PROBLEMS_FILE
    ]
