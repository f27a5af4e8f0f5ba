"""The output-checking rules the portal runs on each file of a release request.

The same rules as ``havenkit sdc check`` (one configuration, loaded the same way), plus
differencing against the tables the project already released. The results are stored on the
:class:`ReleaseFile`, so checkers see what the file was checked against when it was added.
"""

from pathlib import Path

from django.conf import settings

from havenkit.data.services import PSEUDONYM_COLUMN
from havenkit.sdc import SdcConfig, load_config
from havenkit.sdc.differencing import differencing_findings
from havenkit.sdc.files import check_file
from havenkit.sdc.findings import FileFinding
from havenkit.sdc.recorded import RecordedSession
from havenkit.sdc.rules import FAIL, PASS, REVIEW, overall

NEEDS_JUSTIFICATION = (FAIL, REVIEW)
# The rule of the finding that says where a file's result came from.
SOURCE = "source"


def haven_config(path: Path | str | None = None) -> SdcConfig:
    """The rules from ``path``, else ``HAVENKIT_HOME/haven.toml`` when it exists, else defaults.

    Raises :class:`havenkit.sdc.ConfigError` when the file cannot be used, saying what to change.
    """
    haven_file = Path(path) if path else Path(settings.HAVENKIT_HOME) / "haven.toml"
    if path is None and not haven_file.exists():
        return SdcConfig()
    return load_config(haven_file)


def findings_as_dicts(findings: list[FileFinding]) -> list[dict]:
    return [
        {
            "status": finding.status,
            "rule": finding.rule,
            "message": finding.message,
            "cells": [list(cell) for cell in finding.cells],
        }
        for finding in findings
    ]


def check_release_file(
    path: Path,
    released: dict[str, Path],
    session_folder: Path | None = None,
    job_id: int | None = None,
) -> tuple[str, list[dict]]:
    """(status, findings) of one stored copy: the file rules, then differencing on a CSV.

    ``released`` maps a name checkers recognise to each CSV the project already released.
    ``session_folder`` is the folder of job ``job_id``'s outputs holding a havenkit.sdc
    session's results.json beside the file: a file that session wrote, unchanged, keeps the
    result the library recorded. The last finding (rule "source") says where the result
    came from, for the portal to show.
    """
    config = haven_config()
    session = RecordedSession.read(session_folder) if session_folder else None
    report = check_file(
        path,
        config,
        identifier_columns=[PSEUDONYM_COLUMN],
        session=session,
        where=f"job {job_id}",
    )
    findings = list(report.findings)
    if path.suffix.lower() == ".csv" and released:
        findings += differencing_findings(
            path, released, config.safe_threshold, config.variable_aliases
        )
    status = overall([finding.status for finding in findings])
    findings.append(FileFinding(PASS, SOURCE, report.source))
    return status, findings_as_dicts(findings)
