"""What every call returns: the table, its status, the checks that ran and a readable summary."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from havenkit.sdc.rules import FAIL, PASS, REVIEW, overall


@dataclass
class Check:
    """One check on one output: its status, why, and the cells it flagged.

    ``cells`` name each flagged cell by its row and column labels, as a checker reads the
    table; ``positions`` give the same cells as (row, column) numbers, as ACRO's results.json
    and the SACRO viewer expect.
    """

    name: str
    status: str
    reason: str
    cells: list[tuple[Any, Any]] = field(default_factory=list)
    positions: list[tuple[int, int]] = field(default_factory=list)

    def describe(self) -> str:
        if self.status == PASS:
            return f"{self.name}: pass"
        where = f" in {len(self.cells)} cell{'s' if len(self.cells) != 1 else ''}"
        return f"{self.name}: {self.status}{where if self.cells else ''} ({self.reason})"


@dataclass
class Output:
    """One output of a job, checked.

    ``kind`` is ACRO's output type ("table", "regression", "histogram", "survival", "custom");
    ``exception`` is the automatic note a mitigation leaves for the output checker.
    """

    kind: str
    method: str
    table: pd.DataFrame
    checks: list[Check]
    command: str
    mitigation: str = "none"
    exception: str = ""
    files: list[Path] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Any failing check fails the output; anything else a check flagged goes to review.

        A mitigation that changed a cell leaves that check at "review" (see the tables), so a
        person looks at what was done; asking for one on a table with no failing cell changes
        nothing a person needs to see, and the table passes (ACRO 1.0.2 says "review").
        """
        status = overall([check.status for check in self.checks])
        return REVIEW if self.kind == "custom" else status

    @property
    def summary(self) -> str:
        """One line a checker can read: the status, then every check that did not pass."""
        concerns = [check.describe() for check in self.checks if check.status != PASS]
        if self.exception:
            concerns.append(self.exception)
        if self.kind == "custom":
            concerns.append("not a table or model havenkit can check: an output checker decides")
        return "; ".join([self.status, *concerns])

    def outcome(self) -> pd.DataFrame:
        """The table's shape with, in each cell, the checks that flagged it or "ok"."""
        if self.table.empty or not any(check.positions for check in self.checks):
            return pd.DataFrame()
        notes = [["" for _ in self.table.columns] for _ in self.table.index]
        for check in self.checks:
            for row, column in check.positions:
                notes[row][column] += f"{check.name}; "
        return pd.DataFrame(
            [[note or "ok" for note in row] for row in notes],
            index=[label(row) for row in self.table.index],
            columns=[label(column) for column in self.table.columns],
        )

    def sdc(self) -> dict[str, Any]:
        """ACRO's per-file ``sdc`` record: how many cells each check flagged, and where."""
        return {
            "summary": {check.name: len(check.positions) for check in self.checks},
            "cells": {
                check.name: [[row, column] for row, column in check.positions]
                for check in self.checks
            },
        }


def label(value: Any) -> str:
    """A flat text label for a row or column, as a CSV header or a JSON key."""
    if isinstance(value, tuple):
        return " / ".join(str(part) for part in value if part != "")
    return str(value)


__all__ = ["FAIL", "PASS", "REVIEW", "Check", "Output"]
