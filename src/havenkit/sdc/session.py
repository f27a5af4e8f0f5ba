"""A session collects a job's outputs and writes them for output checkers.

``finalise(folder)`` writes what ACRO's ``finalise`` writes, in the same structure, so the
SACRO viewer opens it: one CSV per table, ``results.json`` with each output's status, checks
and flagged cells, ``config.json`` with the parameters used, and a SHA-256 checksum of every
file under ``checksums/``.
"""

import functools
import hashlib
import inspect
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from havenkit.sdc import analyses, tables
from havenkit.sdc.config import SdcConfig, default_config
from havenkit.sdc.output import Output, label

# results.json follows ACRO 1.0.2's layout; its loader (and so the SACRO viewer's) accepts a
# file only when "version" names that layout. The tool that wrote it is named under "tool".
RESULTS_FORMAT_VERSION = "1.0.2"


def _havenkit_version() -> str:
    try:
        return version("havenkit")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _recorded(function: Callable[..., Output]) -> Callable[..., Output]:
    """A session method: call ``function`` with the session's parameters and keep the output."""
    takes_config = "config" in inspect.signature(function).parameters

    @functools.wraps(function)
    def method(self: "Session", *args: Any, **kwargs: Any) -> Output:
        if takes_config:
            kwargs.setdefault("config", self.config)
        return self.add(function(*args, **kwargs))

    return method


class Session:
    """The outputs of one piece of analysis, each checked as it is made.

    >>> session = Session()
    >>> table = session.crosstab(df.region, df.diag)   # doctest: +SKIP
    >>> session.finalise("outputs")                     # doctest: +SKIP
    """

    def __init__(self, config: SdcConfig | None = None) -> None:
        """``config`` defaults to the haven's rules inside a job (see ``default_config``)."""
        self.config = config or default_config()
        self.outputs: dict[str, Output] = {}
        self._timestamps: dict[str, str] = {}

    def add(self, output: Output) -> Output:
        uid = f"output_{len(self.outputs)}"
        self.outputs[uid] = output
        self._timestamps[uid] = datetime.now(UTC).isoformat()
        return output

    crosstab = _recorded(tables.crosstab)
    pivot_table = _recorded(tables.pivot_table)
    hist = _recorded(analyses.hist)
    survival_table = _recorded(analyses.survival_table)
    ols = _recorded(analyses.ols)
    olsr = _recorded(analyses.olsr)
    logit = _recorded(analyses.logit)
    logitr = _recorded(analyses.logitr)
    probit = _recorded(analyses.probit)
    probitr = _recorded(analyses.probitr)
    custom_output = _recorded(analyses.custom_output)

    def add_exception(self, uid: str, reason: str) -> None:
        """The researcher's case for releasing an output that does not pass, for the checker."""
        if uid not in self.outputs:
            raise KeyError(f"No output {uid}; this session has {', '.join(self.outputs)}.")
        self.outputs[uid].exception = reason

    def _write_files(self, uid: str, output: Output, folder: Path) -> list[str]:
        if output.kind == "custom":
            names = []
            for path in output.files:
                if (folder / path.name).exists():
                    raise FileExistsError(
                        f"Two outputs are called {path.name}; rename one before finalising."
                    )
                shutil.copy2(path, folder / path.name)
                names.append(path.name)
            return names
        name = f"{uid}_0.csv"
        output.table.to_csv(folder / name)
        return [name]

    def finalise(self, folder: Path | str) -> Path:
        """Write every output, results.json, config.json and checksums into a new folder."""
        folder = Path(folder)
        if folder.exists() and any(folder.iterdir()):
            raise FileExistsError(f"{folder} is not empty; finalise into a new folder.")
        folder.mkdir(parents=True, exist_ok=True)
        results = {}
        for uid, output in self.outputs.items():
            sdc = output.sdc()
            results[uid] = {
                "uid": uid,
                "status": output.status,
                "type": output.kind,
                "properties": output.properties,
                "files": [
                    {"name": name, "sdc": sdc} for name in self._write_files(uid, output, folder)
                ],
                "outcome": json.loads(output.outcome().to_json()),
                "command": output.command,
                "summary": output.summary,
                "timestamp": self._timestamps[uid],
                "comments": output.comments,
                "exception": output.exception,
                "fair": {"check_status": {check.name: check.status for check in output.checks}},
                # Beyond ACRO's layout (its loader ignores it): each check's reason and cells by
                # their labels, so the portal shows a checker what the library found, and where.
                "checks": [
                    {
                        "name": check.name,
                        "status": check.status,
                        "reason": check.reason,
                        "cells": [[label(row), label(column)] for row, column in check.cells],
                    }
                    for check in output.checks
                ],
            }
        document = {
            "version": RESULTS_FORMAT_VERSION,
            "tool": {
                "@type": "SoftwareApplication",
                "name": "havenkit",
                "version": _havenkit_version(),
            },
            "results": results,
        }
        (folder / "results.json").write_text(json.dumps(document, indent=4), encoding="utf-8")
        (folder / "config.json").write_text(
            json.dumps(self.config.as_dict(), indent=4), encoding="utf-8"
        )
        checksums = folder / "checksums"
        checksums.mkdir()
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            (checksums / f"{path.name}.txt").write_text(digest, encoding="utf-8")
        return folder
