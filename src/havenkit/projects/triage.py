"""Risk-based triage of a submitted application: fast track on a precedent, else the panel.

The rules are plain data the haven can change (``settings.HAVENKIT_TRIAGE``, merged over
:data:`DEFAULT_RULES`), and this module is plain Python over plain data, so every rule is
tested without a database. Each decision names the rule that fired and the reasons behind the
risk score, for the approver to read and the audit log to keep.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RULES: dict[str, Any] = {
    # A precedent (same or more datasets, no new linkage, no new identifying variable, same data
    # controller) sends an application to the fast track, unless its risk is above this.
    "fast_track_max_risk": 3,
    # Points added to the risk score, each with the reason shown to the approver.
    "risk_points": {
        "linkage": 3,
        "identifying_variable": 2,
        "per_dataset": 1,
        "no_ethics_reference": 1,
    },
    # Column names the haven classes as identifying wherever they appear, on top of the
    # variables the catalogue flags as identifiers or quasi-identifiers.
    "identifying_variables": ["chi", "postcode", "date_of_birth", "name", "address"],
}


@dataclass(frozen=True)
class Case:
    """What triage needs to know about an application or a precedent."""

    reference: str
    datasets: frozenset[str]
    variables: frozenset[str]
    linkage_wanted: bool
    data_controller: str
    ethics_reference: str = ""
    # Columns of the chosen datasets the catalogue flags as identifiers or quasi-identifiers.
    flagged: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    track: str  # "fast" or "panel"
    rule: str
    risk_score: int
    reasons: list[str] = field(default_factory=list)


def rules_from(overrides: dict[str, Any] | None) -> dict[str, Any]:
    rules = {**DEFAULT_RULES, **(overrides or {})}
    rules["risk_points"] = {**DEFAULT_RULES["risk_points"], **rules.get("risk_points", {})}
    return rules


def identifying(case: Case, rules: dict[str, Any]) -> set[str]:
    """The chosen variables the catalogue flags, or whose column name the haven's rules class
    as identifying (for data the catalogue does not describe)."""
    names = {name.lower() for name in rules["identifying_variables"]}
    return {
        variable
        for variable in case.variables
        if variable in case.flagged or variable.rsplit(".", 1)[-1].lower() in names
    }


def risk(case: Case, rules: dict[str, Any]) -> tuple[int, list[str]]:
    points = rules["risk_points"]
    score, reasons = 0, []
    if case.linkage_wanted:
        score += points["linkage"]
        reasons.append(f"+{points['linkage']}: asks for linkage to other data.")
    for variable in sorted(identifying(case, rules)):
        score += points["identifying_variable"]
        reasons.append(f"+{points['identifying_variable']}: {variable} is classed as identifying.")
    if case.datasets:
        score += points["per_dataset"] * len(case.datasets)
        reasons.append(
            f"+{points['per_dataset'] * len(case.datasets)}: "
            f"{len(case.datasets)} dataset(s) requested."
        )
    if not case.ethics_reference:
        score += points["no_ethics_reference"]
        reasons.append(f"+{points['no_ethics_reference']}: no ethics reference given.")
    return score, reasons


def is_precedent(precedent: Case, case: Case, rules: dict[str, Any]) -> bool:
    """An approved project this application may follow: same or more datasets, same data
    controller, and nothing new that raises the risk (linkage, identifying variables)."""
    new_identifying = identifying(case, rules) - identifying(precedent, rules)
    return (
        case.datasets <= precedent.datasets
        and not case.linkage_wanted
        and not new_identifying
        and case.data_controller.strip().lower() == precedent.data_controller.strip().lower()
    )


def triage(case: Case, precedents: Iterable[Case], rules: dict[str, Any]) -> Decision:
    score, reasons = risk(case, rules)
    match = next((p for p in precedents if is_precedent(p, case, rules)), None)
    if match is None:
        return Decision("panel", "no precedent: panel review", score, reasons)
    if score > rules["fast_track_max_risk"]:
        return Decision(
            "panel",
            f"precedent {match.reference}, but risk {score} is above "
            f"{rules['fast_track_max_risk']}: panel review",
            score,
            reasons,
        )
    return Decision("fast", f"precedent {match.reference}: fast track", score, reasons)
