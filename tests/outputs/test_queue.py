"""The output checker's queue: every waiting request and file on one screen, in a few queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from havenkit.outputs import services
from havenkit.outputs.models import Decision
from tests.conftest import sign_in
from tests.outputs.test_services import submitted

pytestmark = pytest.mark.django_db

QUEUE = reverse("outputs:review_queue")


def rows_of(page) -> dict[str, services.QueuedFile]:
    (entry,) = page.context["queue"]
    return {queued.file.name: queued for queued in entry.files}


def test_each_file_shows_its_rules_result_your_review_and_the_reviews_so_far(haven, client):
    release_request = submitted(haven, "table.csv", "summary.txt")
    table = release_request.files.get(name="table.csv")
    services.review_file(table, haven.checker_a, Decision.APPROVED)

    page = sign_in(client, haven.checker_a).get(QUEUE)
    rows = rows_of(page)
    assert rows["table.csv"].file.sdc_status == "pass"
    assert rows["table.csv"].file.sdc_summary == "Every rule passed"
    assert rows["table.csv"].your_review.decision == Decision.APPROVED
    assert rows["table.csv"].reviews == "1 of 2 approvals"
    assert rows["summary.txt"].file.sdc_status == "review"
    assert rows["summary.txt"].your_review is None
    assert rows["summary.txt"].reviews == "Not reviewed yet"
    content = page.content.decode()
    assert rows["summary.txt"].file.sdc_summary in content
    assert "Not yet" in content


def test_another_checkers_decision_is_counted_only_after_your_own(haven, client):
    release_request = submitted(haven, "table.csv")
    services.review_file(release_request.files.get(), haven.checker_a, Decision.APPROVED)

    rows = rows_of(sign_in(client, haven.checker_b).get(QUEUE))

    assert rows["table.csv"].reviews == "1 of 2 reviews"
    assert rows["table.csv"].your_review is None


def test_the_queue_costs_the_same_queries_however_long_it_is(
    haven, client, django_assert_max_num_queries
):
    release_request = submitted(haven, "table.csv", "summary.txt")
    services.review_file(
        release_request.files.get(name="table.csv"), haven.checker_b, Decision.APPROVED
    )
    sign_in(client, haven.checker_a)
    with CaptureQueriesContext(connection) as one_request:
        assert client.get(QUEUE).status_code == 200

    for _ in range(4):
        more = submitted(haven, "table.csv", "summary.txt")
        services.review_file(more.files.get(name="summary.txt"), haven.checker_b, Decision.APPROVED)

    with django_assert_max_num_queries(len(one_request)):
        page = client.get(QUEUE)
    assert len(page.context["queue"]) == 5
