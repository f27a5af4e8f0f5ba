"""The researcher's timeline of a release request, built from its audit events."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from havenkit.outputs import services, timeline
from havenkit.outputs.models import Decision
from havenkit.outputs.services import FileChoice
from tests.conftest import sign_in
from tests.outputs.test_services import draft, review_all

pytestmark = pytest.mark.django_db


def page_timeline(client, person, release_request) -> list[timeline.Entry]:
    response = sign_in(client, person).get(
        reverse("outputs:release_request", args=[release_request.pk])
    )
    assert response.status_code == 200
    return response.context["timeline"]


def test_every_step_is_on_the_timeline_in_order_with_who(haven, client):
    release_request = services.submit(draft(haven, "table.csv"), haven.researcher)
    table = release_request.files.get()
    services.review_file(table, haven.checker_a, Decision.APPROVED)
    services.review_file(table, haven.checker_b, Decision.CHANGES_REQUESTED, "Round to 5")
    services.add_file(
        release_request, FileChoice(haven.job.pk, "table.csv", "Rounded"), haven.researcher
    )
    services.submit(release_request, haven.researcher)
    review_all(release_request, haven.checker_a)
    review_all(release_request, haven.checker_b)
    release_request.refresh_from_db()
    services.released_package(release_request, haven.researcher)

    lines = page_timeline(client, haven.researcher, release_request)

    assert [(line.what, line.file, line.by) for line in lines] == [
        ("Created the request", "", "researcher"),
        ("Added a file", "table.csv", "researcher"),
        ("Submitted for output checking", "", "researcher"),
        ("Approved", "table.csv", "checker_a"),
        ("Requested changes", "table.csv", "checker_b"),
        ("Returned to the researcher", "", "checker_b"),
        ("Replaced a file; its reviews start again", "table.csv", "researcher"),
        ("Resubmitted for output checking", "", "researcher"),
        ("Approved", "table.csv", "checker_a"),
        ("Approved", "table.csv", "checker_b"),
        ("Approved: every file has two approvals", "", "checker_b"),
        ("Released", "", "checker_b"),
        ("Downloaded", "", "researcher"),
    ]
    assert lines[4].note == "Round to 5"
    assert lines[-1].note == "All released files, as one package"
    assert all(earlier.at <= later.at for earlier, later in itertools.pairwise(lines))


def test_removed_files_and_withdrawal_stay_on_the_timeline(haven, client):
    release_request = draft(haven, "table.csv", "summary.txt")
    services.remove_file(release_request.files.get(name="summary.txt"), haven.researcher)
    services.withdraw(release_request, haven.researcher)

    whats = [(line.what, line.file) for line in page_timeline(client, haven.pi, release_request)]

    assert ("Justified a file the rules did not pass", "summary.txt") in whats
    assert ("Removed a file", "summary.txt") in whats
    assert whats[-1] == ("Withdrawn", "")


def test_a_request_shows_only_its_own_steps(haven, client):
    release_request = draft(haven, "table.csv")
    other = draft(haven, "summary.txt")
    services.withdraw(other, haven.researcher)

    files = {line.file for line in page_timeline(client, haven.researcher, release_request)}

    assert files == {"", "table.csv"}


def test_checkers_do_not_see_each_others_decision_before_their_own(haven, client):
    release_request = services.submit(draft(haven, "table.csv"), haven.researcher)
    services.review_file(
        release_request.files.get(), haven.checker_a, Decision.CHANGES_REQUESTED, "Round to 5"
    )

    for person in (haven.checker_b, haven.researcher):
        reviewed = [
            line
            for line in page_timeline(client, person, release_request)
            if line.file == "table.csv" and line.by == "checker_a"
        ]
        assert [line.what for line in reviewed] == ["Reviewed a file"]
        assert "Round to 5" not in reviewed[0].note
        client.logout()

    services.review_file(release_request.files.get(), haven.checker_b, Decision.APPROVED)
    notes = [line.note for line in page_timeline(client, haven.researcher, release_request)]
    assert "Round to 5" in notes


@dataclass
class FakeEvent:
    id: int
    action: str
    details: dict = field(default_factory=dict)
    actor_username: str = "someone"
    occurred_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)


def test_decisions_of_an_earlier_round_stay_visible_in_a_new_round():
    events = [
        FakeEvent(1, "release.submitted"),
        FakeEvent(
            2,
            "release.file_reviewed",
            {"file": "t.csv", "decision": "changes_requested", "comment": "Round"},
        ),
        FakeEvent(3, "release.submitted"),
        FakeEvent(4, "release.file_reviewed", {"file": "t.csv", "decision": "approved"}),
        FakeEvent(5, "release.file_viewed", {"file": "t.csv"}),
    ]

    lines = timeline.entries(events, hidden_files={"t.csv"})

    assert [line.what for line in lines] == [
        "Submitted for output checking",
        "Requested changes",
        "Resubmitted for output checking",
        "Reviewed a file",
    ]
    assert lines[1].note == "Round"
