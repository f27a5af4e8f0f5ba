"""Bad input at the airlock: each problem named by row and column, never by its value."""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from havenkit.data import validation
from havenkit.data.validation import ColumnSpec, parse_schema, validate_file

SCHEMA = [
    ColumnSpec("chi", "chi", required=True, key=True),
    ColumnSpec("sex", "string", allowed_values=("F", "M")),
    ColumnSpec("age", "integer"),
    ColumnSpec("admitted", "date"),
]
GOOD_ROWS = "0211165794,M,40,2020-01-01\n0402070763,F,71,2021-06-30\n"


def check(tmp_path: Path, name: str, content: bytes, schema=SCHEMA):
    path = tmp_path / name
    path.write_bytes(content)
    fmt = name.rsplit(".", 1)[1]
    report = validate_file(path, fmt, schema, tmp_path / "staged.parquet")
    return report, [(p.row, p.column, p.problem) for p in report.problems]


def test_a_good_csv_is_staged_with_declared_types(tmp_path):
    report, problems = check(tmp_path, "a.csv", f"chi,sex,age,admitted\n{GOOD_ROWS}".encode())
    assert problems == []
    assert report.rows == 2
    assert report.chi_schemes == {"chi": {"modulus 11": 2, "modulus 10": 0}}
    staged = pq.read_table(tmp_path / "staged.parquet")
    assert staged.schema.types == [pa.string(), pa.string(), pa.int64(), pa.date32()]


def test_wrong_encoding_names_the_row(tmp_path):
    # Saved by a spreadsheet as Windows-1252, where "É" is the single byte 0xC9.
    content = f"chi,sex,age,admitted\n{GOOD_ROWS}0101011237,É,1,\n".encode("cp1252")
    _report, problems = check(tmp_path, "a.csv", content)
    assert len(problems) == 1
    assert problems[0][0] == 3
    assert "not UTF-8" in problems[0][2]


def test_ragged_row_is_named_and_later_rows_keep_their_numbers(tmp_path):
    content = (
        "chi,sex,age,admitted\n0211165794,M,40,2020-01-01\n0402070763,F\n"
        "0101011237,M,forty,2020-01-01\n"
    )
    _report, problems = check(tmp_path, "a.csv", content.encode())
    assert problems == [
        (
            2,
            "",
            "has 2 fields but the header names 4 columns "
            "(a missing or extra comma, or an unclosed quote)",
        ),
        (3, "age", "is not a whole number"),
    ]


def test_wrong_types_bad_dates_codes_and_duplicate_keys(tmp_path):
    content = (
        "chi,sex,age,admitted\n0211165794,M,4.5,2020-02-30\n0402070763,X,,\n"
        "0211165794,M,1,2020-01-01\n"
    )
    _report, problems = check(tmp_path, "a.csv", content.encode())
    assert problems == [
        (1, "age", "is not a whole number"),
        (1, "admitted", "is not a real date written YYYY-MM-DD"),
        (2, "sex", "is not one of the allowed values (F, M)"),
        (3, "chi", "repeats the key of row 1"),
    ]


def test_chi_with_letters_and_sex_mismatch_name_row_and_column_not_value(tmp_path):
    content = "chi,sex,age,admitted\n02111657A4,M,1,\n0211165794,F,1,\n,F,1,\n"
    _report, problems = check(tmp_path, "a.csv", content.encode())
    assert problems == [
        (1, "chi", "is not a valid CHI number: contains characters other than the digits 0-9"),
        (2, "chi", "is not a valid CHI number: its sex digit disagrees with the sex column"),
        (3, "chi", "has no value, but the column is required"),
    ]
    assert not any("02111657A4" in problem for _row, _column, problem in problems)


def test_missing_required_and_undeclared_columns(tmp_path):
    _report, problems = check(tmp_path, "a.csv", b"sex,ward\nM,5\n")
    assert (None, "chi", "is a required column but the file has no such column") in problems
    assert (None, "ward", "is in the file but not in the declared schema") in problems


def test_truncated_parquet_is_refused(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"chi": ["0211165794"] * 100}), good)
    _report, problems = check(tmp_path, "a.parquet", good.read_bytes()[:-40], SCHEMA[:1])
    assert len(problems) == 1
    assert "not a readable Parquet file" in problems[0][2]


def test_stata_file_with_bad_header_is_refused(tmp_path):
    _report, problems = check(tmp_path, "a.dta", b"\x00not stata" * 50, SCHEMA[:1])
    assert len(problems) == 1
    assert "not a readable Stata .dta file: it is damaged or truncated (" in problems[0][2]


def test_parquet_damaged_part_way_names_the_first_row_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "BATCH_ROWS", 1000)
    source = tmp_path / "source.parquet"
    chis = pa.table({"chi": ["0211165794"] * 2000})
    pq.write_table(chis, source, row_group_size=1000, compression="NONE")
    offset = pq.ParquetFile(source).metadata.row_group(1).column(0).data_page_offset
    damaged = bytearray(source.read_bytes())
    damaged[offset : offset + 16] = b"\xff" * 16
    _report, problems = check(tmp_path, "a.parquet", bytes(damaged), SCHEMA[:1])
    assert len(problems) == 1
    assert problems[0][0] == 1001
    assert problems[0][2].startswith("The Parquet file is damaged after row 1,000:")


@pytest.mark.parametrize(
    ("writer", "suffix", "kind"),
    [(pyreadstat.write_dta, "dta", "Stata .dta"), (pyreadstat.write_sav, "sav", "SPSS .sav")],
)
def test_truncated_stata_and_spss_files_are_refused(tmp_path, writer, suffix, kind):
    source = tmp_path / f"source.{suffix}"
    writer(pd.DataFrame({"chi": ["0211165794"] * 1000}), str(source))
    content = source.read_bytes()
    _report, problems = check(tmp_path, f"a.{suffix}", content[: len(content) // 2], SCHEMA[:1])
    assert len(problems) == 1
    assert problems[0][2].startswith(f"This is not a readable {kind} file: it is damaged")


@pytest.mark.parametrize(
    ("writer", "suffix"), [(pyreadstat.write_dta, "dta"), (pyreadstat.write_sav, "sav")]
)
def test_stata_and_spss_files_are_read(tmp_path, writer, suffix):
    source = tmp_path / f"source.{suffix}"
    writer(pd.DataFrame({"chi": ["0211165794", "0402070763"], "age": [40.0, 71.5]}), str(source))
    _report, problems = check(
        tmp_path, f"a.{suffix}", source.read_bytes(), [SCHEMA[0], ColumnSpec("age", "integer")]
    )
    assert problems == [(2, "age", "is not a whole number")]


def test_schema_is_parsed_with_line_numbers_in_errors():
    specs = parse_schema(
        "name,type,required,key,identifier,quasi_identifier,allowed_values,description\n"
        "chi,chi,yes,yes,yes,no,,CHI number\nsex,string,yes,no,no,yes,F|M,Sex\n"
    )
    assert specs[1].allowed_values == ("F", "M")
    assert specs[0].key
    assert specs[1].is_quasi_identifier
    with pytest.raises(ValueError, match="Line 2 of the schema: type must be one of"):
        parse_schema(
            "name,type,required,key,identifier,quasi_identifier,allowed_values,description\n"
            "chi,text\n"
        )
