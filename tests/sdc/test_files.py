"""Checking files: the file rules, count tables found in CSVs, and ``havenkit sdc check``."""

import json

import pytest
from django.core.management import call_command

from havenkit.sdc import SdcConfig
from havenkit.sdc.files import check_file, exit_status


def write(path, text):
    path.write_text(text)
    return path


def test_a_count_table_with_large_counts_passes(tmp_path):
    report = check_file(write(tmp_path / "t.csv", "region,F,M\nA,40,35\nB,12,20\n"))
    assert report.status == "pass"
    assert "count table: 4 counts, none below 10 or zero" in report.findings[0].message


def test_small_and_zero_counts_fail_naming_the_cells(tmp_path):
    report = check_file(write(tmp_path / "t.csv", "region,sex,n\nA,F,40\nA,M,3\nB,F,0\nB,M,\n"))
    assert report.status == "fail"
    threshold, zeros = report.findings
    assert threshold.cells == (("A / M", "n"), ("B / F", "n"))
    assert zeros.cells == (("B / F", "n"),)
    assert "a blank or a marker such as * is read as suppressed" in threshold.message


def test_a_magnitude_table_goes_to_review_with_the_reason(tmp_path):
    report = check_file(write(tmp_path / "t.csv", "region,mean_cost\nA,1204.5\nB,998.1\n"))
    assert report.status == "review"
    assert "column 'mean_cost' holds decimals" in report.findings[0].message


def test_identifier_columns_fail(tmp_path):
    chi = write(tmp_path / "chi.csv", "ref,n\n0211165794,12\n")
    assert "a valid CHI number (row 2)" in check_file(chi).findings[0].message
    named = write(tmp_path / "named.csv", "Pseudonym,n\nab12,12\n")
    assert check_file(named).findings[0].message.startswith("column 'Pseudonym' is an identifier")
    project = write(tmp_path / "project.csv", "study_key,n\nab12,12\n")
    assert check_file(project).status == "pass"
    assert check_file(project, identifier_columns=["study_key"]).status == "fail"


def test_a_chi_number_in_a_text_file_fails(tmp_path):
    report = check_file(write(tmp_path / "notes.md", "# Notes\nPatient 0402070763 was odd.\n"))
    assert report.status == "fail"
    assert report.findings[0].message.startswith("line 2 holds a valid CHI number")
    assert "0402070763" not in report.findings[0].message
    assert check_file(write(tmp_path / "ok.md", "Counts over 1234567890.\n")).status == "review"


def test_file_type_size_and_row_limits(tmp_path):
    assert (
        "type .exe may not leave" in check_file(write(tmp_path / "a.exe", "x")).findings[0].message
    )
    small = SdcConfig(max_file_bytes=10)
    big = write(tmp_path / "big.txt", "x" * 11)
    assert "11 bytes, more than the 10 allowed" in check_file(big, small).findings[0].message
    rows = "region,n\n" + "".join(f"r{i},20\n" for i in range(5001))
    report = check_file(write(tmp_path / "long.csv", rows))
    assert report.status == "fail"
    assert "5,001 rows, more than the 5,000 allowed" in report.findings[0].message
    assert check_file(tmp_path / "missing.csv").findings[0].message == "no such file"


def test_images_and_text_go_to_review(tmp_path):
    report = check_file(write(tmp_path / "plot.png", "not really a png"))
    assert report.status == "review"
    assert "cannot be checked automatically" in report.findings[0].message


def test_exit_status_is_the_worst_file(tmp_path):
    passing = check_file(write(tmp_path / "t.csv", "region,n\nA,40\n"))
    review = check_file(write(tmp_path / "n.txt", "hello"))
    failing = check_file(write(tmp_path / "a.exe", "x"))
    assert exit_status([passing]) == 0
    assert exit_status([passing, review]) == 2
    assert exit_status([passing, review, failing]) == 1


def run_check(*args, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("sdc", "check", *map(str, args))
    return exited.value.code, capsys.readouterr().out


def test_the_command_reports_text_and_exits_with_the_status(tmp_path, capsys):
    table = write(tmp_path / "t.csv", "region,n\nA,3\n")
    code, out = run_check(table, capsys=capsys)
    assert code == 1
    assert out.startswith(f"FAIL   {table}")
    assert "1 file: 0 pass, 0 review, 1 fail" in out


def test_the_command_reports_json(tmp_path, capsys):
    notes = write(tmp_path / "n.txt", "hello")
    code, out = run_check("--json", notes, capsys=capsys)
    assert code == 2
    report = json.loads(out)
    assert report["status"] == "review"
    assert report["files"][0]["findings"][0]["rule"] == "content"


def test_the_command_uses_the_haven_config(tmp_path, capsys, settings):
    table = write(tmp_path / "t.csv", "region,n\nA,15\n")
    assert run_check(table, capsys=capsys)[0] == 0
    write(settings.HAVENKIT_HOME / "haven.toml", "[sdc]\nsafe_threshold = 20\n")
    assert run_check(table, capsys=capsys)[0] == 1
    loose = write(tmp_path / "loose.toml", "[sdc]\nsafe_threshold = 5\n")
    with pytest.raises(Exception, match="must be at least 10, not 5"):
        call_command("sdc", "check", "--config", str(loose), str(table))
