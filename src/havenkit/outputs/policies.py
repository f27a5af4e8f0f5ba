"""What a release request's current state allows, whoever is asking.

Who may act (a member, an output checker who is not the author) is ``core.permissions``'
question. This module answers the other one: what the request and its reviews allow now. It
reads plain attributes through small protocols and never touches the database, files or HTTP,
so every rule can be tested on plain objects. Each rule is a ``check_*`` that raises
:class:`ReleaseRequestError` with a message a person can act on, and a ``can_*`` twin that the
request page uses to show or hide a form.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from havenkit.outputs.models import Decision, RequestState

# Two independent output checkers must approve every file (product brief, journey 6).
APPROVALS_NEEDED = 2

EDITABLE_STATES = (RequestState.DRAFT, RequestState.RETURNED)
UNDER_REVIEW_STATES = (RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED)
CLOSED_STATES = (RequestState.RELEASED, RequestState.REJECTED, RequestState.WITHDRAWN)


class ReleaseRequestError(Exception):
    """A release request action that its current state or content does not allow."""


class Review(Protocol):
    checker_id: int
    decision: str


class DescribedFile(Protocol):
    name: str
    description: str


def _state_label(state: str) -> str:
    return RequestState(state).label.lower()


def _allowed(check: Callable[..., None], *args: object) -> bool:
    try:
        check(*args)
    except ReleaseRequestError:
        return False
    return True


def _approvals(reviews: Iterable[Review]) -> int:
    return sum(1 for review in reviews if review.decision == Decision.APPROVED)


def check_change_files(state: str) -> None:
    if state not in EDITABLE_STATES:
        raise ReleaseRequestError(
            "Files can only be added, changed or removed while a release request is a draft "
            f"or returned; this one is {_state_label(state)}."
        )


def can_change_files(state: str) -> bool:
    return _allowed(check_change_files, state)


def check_distinct_names(names: Sequence[str]) -> None:
    """A request holds one file per name, so the released package has no two files alike."""
    if not names:
        raise ReleaseRequestError("Choose at least one output file.")
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ReleaseRequestError(
            f"You chose more than one file called {', '.join(repeated)}; a release request "
            "holds one file of each name. Choose one of them."
        )


class CheckedFile(Protocol):
    name: str
    sdc_status: str
    justification: str


def check_justification(text: str) -> None:
    if not text.strip():
        raise ReleaseRequestError(
            "Write why this file is safe to release although the output-checking rules "
            "did not pass it."
        )


def check_justified(files: Sequence[CheckedFile]) -> None:
    """A file the rules failed or could not decide goes to checkers only with reasons."""
    unjustified = [
        file.name
        for file in files
        if file.sdc_status in ("fail", "review") and not file.justification.strip()
    ]
    if unjustified:
        raise ReleaseRequestError(
            "The output-checking rules did not pass "
            f"{', '.join(unjustified)}: give a justification for each (why it is safe to "
            "release) or remove it before submitting."
        )


def check_submit(state: str, files: Sequence[tuple[DescribedFile, Sequence[Review]]]) -> None:
    """A request goes to output checkers only complete, described, and with comments acted on."""
    if state not in EDITABLE_STATES:
        raise ReleaseRequestError(
            f"Only a draft or returned release request can be submitted; this one is "
            f"{_state_label(state)}."
        )
    if not files:
        raise ReleaseRequestError("Add at least one file before submitting.")
    undescribed = [file.name for file, _reviews in files if not file.description.strip()]
    if undescribed:
        raise ReleaseRequestError(
            "Describe every file before submitting: say what it shows and how it was made. "
            f"No description yet: {', '.join(undescribed)}."
        )
    refused = [
        file.name
        for file, reviews in files
        if any(review.decision != Decision.APPROVED for review in reviews)
    ]
    if refused:
        raise ReleaseRequestError(
            "An output checker asked for changes to, or rejected, "
            f"{', '.join(refused)}. Change or remove it before submitting again."
        )


def check_withdraw(state: str) -> None:
    if state in CLOSED_STATES:
        raise ReleaseRequestError(
            f"This release request is already {_state_label(state)}, so it cannot be withdrawn."
        )


def can_withdraw(state: str) -> bool:
    return _allowed(check_withdraw, state)


def check_open_to_checkers(state: str) -> None:
    """Output checkers see a request once it has been submitted, not while it is drafted."""
    if state == RequestState.DRAFT:
        raise ReleaseRequestError("This release request has not been submitted for review yet.")


def check_review_file(
    state: str, file_name: str, reviews: Sequence[Review], checker_id: int
) -> None:
    """Whether this checker may add a review of this file now (independent of the decision)."""
    if state not in UNDER_REVIEW_STATES:
        raise ReleaseRequestError(
            f"This release request is not waiting for review: it is {_state_label(state)}."
        )
    if any(review.checker_id == checker_id for review in reviews):
        raise ReleaseRequestError(
            f"You have already reviewed {file_name}; each output checker reviews a file once."
        )
    if _approvals(reviews) >= APPROVALS_NEEDED:
        raise ReleaseRequestError(
            f"{file_name} already has the {APPROVALS_NEEDED} approvals it needs; "
            "another review is not needed."
        )
    if len(reviews) >= APPROVALS_NEEDED:
        raise ReleaseRequestError(
            f"{file_name} already has reviews from {APPROVALS_NEEDED} output checkers."
        )


def can_review_file(state: str, file_name: str, reviews: Sequence[Review], checker_id: int) -> bool:
    return _allowed(check_review_file, state, file_name, reviews, checker_id)


def check_review_comment(decision: str, comment: str) -> None:
    if decision not in Decision.values:
        raise ReleaseRequestError("Choose approve, request changes or reject.")
    if Decision(decision).needs_comment and not comment.strip():
        raise ReleaseRequestError(
            "Say what is wrong with the file, so the researcher can act on it: a comment is "
            "needed when you request changes or reject."
        )


# As long as a checker's comment may be: an answer is read beside it, not as a document.
REPLY_MAX_CHARS = 5000


def check_reply(state: str, comment: str, text: str) -> None:
    """Whether a researcher may answer this comment with this text now.

    Only while the request is returned: checkers review independently what the request held
    when it was submitted, so nothing is added beside their comments while they review.
    """
    if state != RequestState.RETURNED:
        raise ReleaseRequestError(
            "Comments can be answered only while the release request is returned to its "
            f"researchers; this one is {_state_label(state)}."
        )
    if not comment.strip():
        raise ReleaseRequestError("This review has no comment to answer.")
    if not text.strip():
        raise ReleaseRequestError("Write your answer to the output checker's comment.")
    if len(text.strip()) > REPLY_MAX_CHARS:
        raise ReleaseRequestError(
            f"Your answer has {len(text.strip()):,} characters; keep it to {REPLY_MAX_CHARS:,} "
            "and put longer explanations in the file's description or justification."
        )


def can_reply(state: str, comment: str) -> bool:
    """Whether the page offers an answer form under this comment (any text will be checked)."""
    return _allowed(check_reply, state, comment, "answer")


def progress(reviews_per_file: Sequence[Sequence[Review]]) -> RequestState:
    """How far review has gone: submitted, partially reviewed, or reviewed (every file twice)."""
    if not any(reviews_per_file):
        return RequestState.SUBMITTED
    if all(len(reviews) >= APPROVALS_NEEDED for reviews in reviews_per_file):
        return RequestState.REVIEWED
    return RequestState.PARTIALLY_REVIEWED


def outcome(reviews_per_file: Sequence[Sequence[Review]]) -> RequestState:
    """The decision on a reviewed request.

    Approved when every file has two approvals; returned when a checker asked for changes
    (the researcher can still remove a rejected file); otherwise a file was rejected and
    the request is rejected.
    """
    decisions = {review.decision for reviews in reviews_per_file for review in reviews}
    if decisions == {Decision.APPROVED}:
        return RequestState.APPROVED
    if Decision.CHANGES_REQUESTED in decisions:
        return RequestState.RETURNED
    return RequestState.REJECTED


def check_release(state: str) -> None:
    if state != RequestState.APPROVED:
        raise ReleaseRequestError(
            f"Only an approved release request can be released; this one is {_state_label(state)}."
        )


def check_download(state: str) -> None:
    if state != RequestState.RELEASED:
        raise ReleaseRequestError(
            "Files can be downloaded only after two output checkers approved them and they "
            f"were released; this release request is {_state_label(state)}."
        )


def can_download(state: str) -> bool:
    return _allowed(check_download, state)


def can_see_decisions(state: str, reviews: Sequence[Review], viewer_id: int) -> bool:
    """Checkers review independently: while review goes on, a checker sees the other decision
    on a file only after giving their own, and the researcher sees decisions once it ends."""
    if state not in UNDER_REVIEW_STATES:
        return True
    return any(review.checker_id == viewer_id for review in reviews)


def review_summary(reviews: Sequence[Review], *, decisions_visible: bool) -> str:
    """One line on where a file's review stands, for the files table."""
    if not reviews:
        return "Not reviewed yet"
    if not decisions_visible:
        return f"{len(reviews)} of {APPROVALS_NEEDED} reviews"
    decisions = {review.decision for review in reviews}
    if Decision.REJECTED in decisions:
        return "Rejected"
    if Decision.CHANGES_REQUESTED in decisions:
        return "Changes requested"
    return f"{_approvals(reviews)} of {APPROVALS_NEEDED} approvals"
