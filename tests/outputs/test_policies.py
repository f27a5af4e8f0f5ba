"""What a release request's state allows, checked on plain objects without the database."""

from types import SimpleNamespace

import pytest

from havenkit.outputs import policies
from havenkit.outputs.models import Decision, RequestState
from havenkit.outputs.policies import ReleaseRequestError


def review(checker_id: int, decision: str = Decision.APPROVED) -> SimpleNamespace:
    return SimpleNamespace(checker_id=checker_id, decision=decision)


def described(name: str, description: str = "Counts by region") -> SimpleNamespace:
    return SimpleNamespace(name=name, description=description)


def test_progress_moves_from_submitted_to_reviewed_as_every_file_gets_two_reviews():
    assert policies.progress([[], []]) == RequestState.SUBMITTED
    assert policies.progress([[review(1)], []]) == RequestState.PARTIALLY_REVIEWED
    assert policies.progress([[review(1), review(2)], [review(1)]]) == (
        RequestState.PARTIALLY_REVIEWED
    )
    assert policies.progress([[review(1), review(2)], [review(1), review(2)]]) == (
        RequestState.REVIEWED
    )


def test_outcome_needs_two_approvals_on_every_file():
    approved = [review(1), review(2)]
    assert policies.outcome([approved, approved]) == RequestState.APPROVED
    changes = [review(1), review(2, Decision.CHANGES_REQUESTED)]
    assert policies.outcome([approved, changes]) == RequestState.RETURNED
    rejected = [review(1), review(2, Decision.REJECTED)]
    assert policies.outcome([approved, rejected]) == RequestState.REJECTED
    assert policies.outcome([changes, rejected]) == RequestState.RETURNED


def test_a_third_approval_is_refused_as_not_needed():
    with pytest.raises(ReleaseRequestError, match="approvals it needs"):
        policies.check_review_file(
            RequestState.PARTIALLY_REVIEWED, "table.csv", [review(1), review(2)], 3
        )


def test_a_checker_reviews_a_file_once():
    with pytest.raises(ReleaseRequestError, match=r"already reviewed table\.csv"):
        policies.check_review_file(RequestState.PARTIALLY_REVIEWED, "table.csv", [review(1)], 1)
    assert policies.can_review_file(RequestState.PARTIALLY_REVIEWED, "table.csv", [review(1)], 2)


@pytest.mark.parametrize(
    "state", [RequestState.DRAFT, RequestState.RETURNED, RequestState.RELEASED]
)
def test_only_submitted_requests_are_reviewed(state):
    assert not policies.can_review_file(state, "table.csv", [], 1)


def test_refusing_a_file_needs_a_comment():
    with pytest.raises(ReleaseRequestError, match="comment is needed"):
        policies.check_review_comment(Decision.CHANGES_REQUESTED, "  ")
    policies.check_review_comment(Decision.REJECTED, "Cell of 3 in Fife")
    policies.check_review_comment(Decision.APPROVED, "")


def test_submit_needs_a_description_of_every_file():
    files = [(described("table.csv"), []), (described("plot.png", " "), [])]
    with pytest.raises(ReleaseRequestError, match=r"No description yet: plot\.png"):
        policies.check_submit(RequestState.DRAFT, files)


def test_submit_again_needs_the_refused_files_changed_first():
    files = [(described("table.csv"), [review(1), review(2, Decision.CHANGES_REQUESTED)])]
    with pytest.raises(ReleaseRequestError, match=r"Change or remove it"):
        policies.check_submit(RequestState.RETURNED, files)
    policies.check_submit(RequestState.RETURNED, [(described("table.csv"), [review(1)])])


def test_submit_needs_files_and_an_editable_state():
    with pytest.raises(ReleaseRequestError, match="at least one file"):
        policies.check_submit(RequestState.DRAFT, [])
    with pytest.raises(ReleaseRequestError, match="this one is submitted"):
        policies.check_submit(RequestState.SUBMITTED, [(described("table.csv"), [])])


def test_one_file_per_name():
    with pytest.raises(ReleaseRequestError, match=r"more than one file called table\.csv"):
        policies.check_distinct_names(["table.csv", "plot.png", "table.csv"])


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (RequestState.DRAFT, True),
        (RequestState.PARTIALLY_REVIEWED, True),
        (RequestState.RETURNED, True),
        (RequestState.RELEASED, False),
        (RequestState.REJECTED, False),
        (RequestState.WITHDRAWN, False),
    ],
)
def test_withdraw_before_the_request_is_closed(state, allowed):
    assert policies.can_withdraw(state) is allowed


def test_downloads_only_after_release():
    assert policies.can_download(RequestState.RELEASED)
    assert not policies.can_download(RequestState.APPROVED)


def test_checkers_see_each_others_decisions_only_after_their_own():
    reviews = [review(1, Decision.CHANGES_REQUESTED)]
    assert not policies.can_see_decisions(RequestState.PARTIALLY_REVIEWED, reviews, 2)
    assert policies.can_see_decisions(RequestState.PARTIALLY_REVIEWED, reviews, 1)
    assert policies.can_see_decisions(RequestState.RETURNED, reviews, 2)
    assert policies.review_summary(reviews, decisions_visible=False) == "1 of 2 reviews"
    assert policies.review_summary(reviews, decisions_visible=True) == "Changes requested"
