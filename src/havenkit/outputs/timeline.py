"""A release request's timeline: every step, in order, with who and when.

Built from the audit events of the request (each carries the request's id in its details, see
``services._record``), not from a table of its own: the audit log already holds every step,
hash-chained, including reviews that a later change of the file superseded. This module turns
events into lines a researcher reads and hides what output checkers must not see yet; it reads
plain attributes and never touches the database, so it is tested on plain objects.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from havenkit.outputs.models import Decision

# What each step is called on the timeline. Reads of files (file_viewed, image_viewed), the
# review-progress states and refused actions are in the audit log but are not steps of the
# request a researcher acts on, so they are left out.
_WHAT = {
    "release.created": "Created the request",
    "release.file_added": "Added a file",
    "release.file_changed": "Replaced a file; its reviews start again",
    "release.file_justified": "Justified a file the rules did not pass",
    "release.file_removed": "Removed a file",
    "release.submitted": "Submitted for output checking",
    "release.file_reviewed": "Reviewed a file",
    "release.review_replied": "Answered a comment",
    "release.returned": "Returned to the researcher",
    "release.approved": "Approved: every file has two approvals",
    "release.rejected": "Rejected",
    "release.released": "Released",
    "release.downloaded": "Downloaded",
    "release.record_downloaded": "Downloaded the haven's release record",
    "release.withdrawn": "Withdrawn",
}
ACTIONS = tuple(_WHAT)


class Event(Protocol):
    id: int
    action: str
    occurred_at: datetime
    actor_username: str
    details: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    by: str
    what: str
    file: str = ""
    note: str = ""


def _decision_label(decision: str) -> str:
    labels = {
        Decision.APPROVED: "Approved",
        Decision.CHANGES_REQUESTED: "Requested changes",
        Decision.REJECTED: "Rejected",
    }
    return labels.get(decision, "Reviewed")


def _entry(event: Event, *, resubmitted: bool, decision_hidden: bool) -> Entry:
    details = event.details
    what = _WHAT[event.action]
    note = ""
    if event.action == "release.submitted" and resubmitted:
        what = "Resubmitted for output checking"
    elif event.action == "release.file_reviewed":
        if decision_hidden:
            note = "Researchers see the decision once review ends; checkers, once they review."
        else:
            what = _decision_label(details.get("decision", ""))
            note = details.get("comment", "")
    elif event.action == "release.review_replied":
        what = f"Answered {details.get('checker', 'an output checker')}'s comment"
        note = details.get("reply", "")
    elif event.action == "release.file_justified":
        note = details.get("justification", "")
    elif event.action in ("release.file_added", "release.file_changed"):
        note = f"Output-checking rules: {details.get('sdc_status') or 'not checked'}"
    elif event.action == "release.downloaded" and details.get("package"):
        note = "All released files, as one package"
    return Entry(
        at=event.occurred_at,
        by=event.actor_username or "havenkit",
        what=what,
        file=details.get("file", ""),
        note=note,
    )


def entries(events: Iterable[Event], *, hidden_files: set[str] = frozenset()) -> list[Entry]:
    """The timeline of one request's events, oldest first.

    ``hidden_files`` names the files whose decisions in the current round of review the viewer
    may not see yet (``policies.can_see_decisions``): checkers review independently. Decisions
    of earlier rounds ended with the request's return, so everybody may see them.
    """
    ordered = sorted((e for e in events if e.action in _WHAT), key=lambda event: event.id)
    submissions = [event.id for event in ordered if event.action == "release.submitted"]
    current_round_from = submissions[-1] if submissions else 0
    lines = []
    for event in ordered:
        decision_hidden = (
            event.action == "release.file_reviewed"
            and event.id > current_round_from
            and event.details.get("file") in hidden_files
        )
        resubmitted = bool(submissions) and event.id != submissions[0]
        lines.append(_entry(event, resubmitted=resubmitted, decision_hidden=decision_hidden))
    return lines
