"""Repeated keys are found on disk in bounded memory: every repeat counted, the first listed."""

from pathlib import Path

from havenkit.data import validation
from havenkit.data.validation import ColumnSpec, validate_file

SCHEMA = [ColumnSpec("ward", "string", key=True), ColumnSpec("bed", "integer", key=True)]


def validate(folder: Path, content: str):
    folder.mkdir()
    path = folder / "beds.csv"
    path.write_text(content)
    report = validate_file(path, "csv", SCHEMA, folder / "staged.parquet")
    return report, [(p.row, p.column, p.problem) for p in report.problems]


def test_a_repeated_compound_key_and_a_repeated_missing_key(tmp_path):
    content = "ward,bed\nA,1\nA,2\nB,1\nA,1\n,3\n,3\nA,1\n"
    report, problems = validate(tmp_path / "upload", content)
    assert problems == [
        (4, "ward+bed", "repeats the key of row 1"),
        (6, "ward+bed", "repeats the key of row 5"),
        (7, "ward+bed", "repeats the key of row 1"),
    ]
    assert report.problem_count == 3
    # DuckDB's spill folder beside the staged file does not outlive the check.
    files = sorted(path.name for path in (tmp_path / "upload").iterdir())
    assert files == ["beds.csv", "staged.parquet"]


def test_repeats_beyond_those_listed_are_still_counted(tmp_path):
    extra = 25
    content = "ward,bed\n" + "A,1\n" * (validation.MAX_PROBLEMS_KEPT + 1 + extra)
    report, problems = validate(tmp_path / "upload", content)
    assert len(problems) == validation.MAX_PROBLEMS_KEPT
    assert problems[0] == (2, "ward+bed", "repeats the key of row 1")
    assert report.problem_count == validation.MAX_PROBLEMS_KEPT + extra
