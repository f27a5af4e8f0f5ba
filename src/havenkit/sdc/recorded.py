"""Results a job's ``havenkit.sdc`` session recorded, read back so a file keeps its own checks.

A session that was finalised leaves ``results.json`` (ACRO's layout), ``config.json`` and a
SHA-256 of every file under ``checksums/``. The library checked each table against the records
behind it, which a CSV alone cannot show (contributors, dominance, what was suppressed), so a
file that session wrote is judged by what it recorded, on three conditions:

- the file is byte for byte what the session wrote (its checksum), else the file is checked on
  its own and the report says why;
- the thresholds the session used are at least as strict as the haven's, else "review";
- the recorded status agrees with the recorded checks (recomputed, never taken on trust).
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from havenkit.sdc.config import SdcConfig, looser_settings
from havenkit.sdc.rules import FAIL, PASS, REVIEW, overall

RESULTS = "results.json"
CONFIG = "config.json"
# Methods whose CSV holds only counts when their aggfunc is "count": the file then shows every
# cell the threshold rule applies to, so a recorded "pass" can be checked against the file.
_COUNT_METHODS = ("crosstab", "pivot_table")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class RecordedOutput:
    """One output of a session as results.json holds it, for the file of that output."""

    uid: str
    record: dict[str, Any]
    checksum: str | None

    @property
    def is_count_table(self) -> bool:
        """Whether the file holds counts only, so its cells can be checked against the rules."""
        properties = self.record.get("properties") or {}
        return (
            self.record.get("type") == "table"
            and properties.get("method") in _COUNT_METHODS
            and properties.get("aggfunc") == ["count"]
        )

    def checks(self) -> list[dict[str, Any]]:
        """Each check with its status, reason and flagged cells (labels), as the session wrote."""
        checks = self.record.get("checks")
        if isinstance(checks, list):
            return [check for check in checks if isinstance(check, dict)]
        statuses = (self.record.get("fair") or {}).get("check_status") or {}
        return [{"name": name, "status": status, "reason": ""} for name, status in statuses.items()]

    @property
    def status(self) -> str:
        """The recorded status, made no better than its own checks say."""
        statuses = [str(self.record.get("status", REVIEW))]
        statuses += [str(check.get("status", REVIEW)) for check in self.checks()]
        if self.record.get("type") == "custom":
            statuses.append(REVIEW)
        known = [status if status in (PASS, FAIL, REVIEW) else REVIEW for status in statuses]
        return overall(known)


@dataclass(frozen=True)
class RecordedSession:
    """A finalised session's folder: its results, its configuration and its checksums."""

    folder: Path
    results: dict[str, Any]
    config: dict[str, Any] | None

    @classmethod
    def read(cls, folder: Path | str) -> "RecordedSession | None":
        """The session finalised into ``folder``, or None when havenkit.sdc wrote no results.

        A results.json that is not havenkit's (ACRO's own, or not JSON) is no recorded result:
        its files are checked on their own.
        """
        folder = Path(folder)
        try:
            document = json.loads((folder / RESULTS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(document, dict) or (document.get("tool") or {}).get("name") != (
            "havenkit"
        ):
            return None
        results = document.get("results")
        if not isinstance(results, dict):
            return None
        try:
            config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = None
        return cls(folder, results, config if isinstance(config, dict) else None)

    def _checksum(self, name: str) -> str | None:
        try:
            return (self.folder / "checksums" / f"{name}.txt").read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def output_for(self, name: str) -> RecordedOutput | None:
        """The output whose files include ``name`` (a file name within the session's folder)."""
        for uid, record in self.results.items():
            if not isinstance(record, dict):
                continue
            names = [f.get("name") for f in record.get("files", []) if isinstance(f, dict)]
            if name in names:
                return RecordedOutput(uid, record, self._checksum(name))
        return None

    def config_unchanged(self) -> bool:
        """Whether config.json is what the session wrote (its checksum)."""
        path = self.folder / CONFIG
        return path.is_file() and self._checksum(CONFIG) == sha256_of(path)

    def laxer_than(self, haven: SdcConfig) -> list[str]:
        """Every threshold the session used that is looser than the haven's, said plainly."""
        if self.config is None or not self.config_unchanged():
            return [
                "the session's config.json is missing or changed, so its thresholds are unknown"
            ]
        return looser_settings(self.config, haven)
