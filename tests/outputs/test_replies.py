"""Answering an output checker's comment in place, on the release request page."""

import pytest
from django.urls import reverse

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.permissions import Denied
from havenkit.outputs import policies, services
from havenkit.outputs.models import Decision, FileReview, ReviewReply
from havenkit.outputs.policies import ReleaseRequestError
from havenkit.outputs.services import FileChoice
from tests.conftest import sign_in
from tests.outputs.test_services import draft

pytestmark = pytest.mark.django_db


def returned(haven):
    """A one-file request that checker_b returned with a comment; checker_a approved it."""
    release_request = services.submit(draft(haven, "table.csv"), haven.researcher)
    table = release_request.files.get()
    services.review_file(table, haven.checker_a, Decision.APPROVED)
    services.review_file(table, haven.checker_b, Decision.CHANGES_REQUESTED, "Round to base 5")
    release_request.refresh_from_db()
    return release_request, FileReview.objects.get(checker=haven.checker_b)


def reply_url(release_request, review) -> str:
    return reverse("outputs:reply_to_review", args=[release_request.pk, review.pk])


def request_url(release_request) -> str:
    return reverse("outputs:release_request", args=[release_request.pk])


def test_a_reply_is_kept_beside_the_comment_and_audited(haven):
    _release_request, review = returned(haven)

    reply = services.reply_to_review(review, haven.researcher, "  Rounded in v2.  ")

    assert list(review.replies.values_list("text", "author")) == [
        ("Rounded in v2.", haven.researcher.pk)
    ]
    event = AuditEvent.objects.get(action="release.review_replied")
    assert event.details["reply"] == reply.text
    assert event.details["comment"] == "Round to base 5"
    assert event.details["checker"] == "checker_b"


def test_any_member_may_reply_but_nobody_else(haven, make_person):
    _release_request, review = returned(haven)
    services.reply_to_review(review, haven.pi, "The PI agrees.")
    for outsider in (haven.checker_a, make_person(username="stranger")):
        with pytest.raises(Denied):
            services.reply_to_review(review, outsider, "Not mine to answer")
    assert ReviewReply.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Write your answer"),
        ("x" * (policies.REPLY_MAX_CHARS + 1), "keep it to 5,000"),
    ],
)
def test_an_empty_or_too_long_reply_changes_nothing(haven, text, message):
    _release_request, review = returned(haven)
    with pytest.raises(ReleaseRequestError, match=message):
        services.reply_to_review(review, haven.researcher, text)
    assert not ReviewReply.objects.exists()
    assert AuditEvent.objects.get(action="release.review_replied").outcome == Outcome.FAILURE


def test_replies_wait_until_the_request_is_returned(haven):
    release_request = services.submit(draft(haven, "table.csv"), haven.researcher)
    services.review_file(
        release_request.files.get(), haven.checker_a, Decision.CHANGES_REQUESTED, "Why 7?"
    )
    review = FileReview.objects.get()
    with pytest.raises(ReleaseRequestError, match="only while the release request is returned"):
        services.reply_to_review(review, haven.researcher, "Because.")
    assert not ReviewReply.objects.exists()


def test_changing_the_file_keeps_the_comment_and_its_answer_for_the_next_round(haven):
    release_request, review = returned(haven)
    services.reply_to_review(review, haven.researcher, "Now rounded.")
    services.add_file(
        release_request, FileChoice(haven.job.pk, "table.csv", "Rounded to 5"), haven.researcher
    )

    assert not FileReview.objects.exists()
    review.refresh_from_db()
    assert review.superseded_at is not None
    services.submit(release_request, haven.researcher)
    # checker_b reviews again: the superseded review no longer counts against them.
    services.review_file(release_request.files.get(), haven.checker_b, Decision.APPROVED)
    assert FileReview.objects.count() == 1
    assert FileReview.history.count() == 3


def test_the_researcher_answers_on_the_page_and_the_checker_sees_it(haven, client):
    release_request, review = returned(haven)
    sign_in(client, haven.researcher)
    prefix = f"reply-{review.pk}"
    page = client.get(request_url(release_request)).content.decode()
    assert "Round to base 5" in page
    assert f'name="{prefix}-text"' in page

    response = client.post(reply_url(release_request, review), {f"{prefix}-text": "Rounded."})
    assert response.status_code == 302
    client.post(
        reverse("outputs:add_file", args=[release_request.pk]),
        {"output": f"{haven.job.pk}/table.csv", "description": "Counts rounded to 5"},
    )
    client.post(reverse("outputs:submit", args=[release_request.pk]))

    checker_page = sign_in(client, haven.checker_b).get(request_url(release_request))
    content = checker_page.content.decode()
    assert "Round to base 5" in content
    assert "Answer from researcher" in content
    assert "Rounded." in content
    assert f'name="{prefix}-text"' not in content
    whats = [line.what for line in checker_page.context["timeline"]]
    assert "Answered checker_b's comment" in whats
    assert whats[-1] == "Resubmitted for output checking"


def test_an_empty_reply_on_the_page_is_explained(haven, client):
    release_request, review = returned(haven)
    prefix = f"reply-{review.pk}"
    response = sign_in(client, haven.researcher).post(
        reply_url(release_request, review), {f"{prefix}-text": "  "}
    )
    assert response.status_code == 400
    assert "Write your answer to the output checker" in response.content.decode()
    assert not ReviewReply.objects.exists()


def test_a_reply_to_a_review_of_another_request_is_not_found(haven, client):
    release_request, review = returned(haven)
    other = draft(haven, "summary.txt")
    response = sign_in(client, haven.researcher).post(
        reply_url(other, review), {f"reply-{review.pk}-text": "Hello"}
    )
    assert response.status_code == 404
    assert not ReviewReply.objects.exists()
    assert release_request.pk != other.pk


def test_an_approval_without_a_comment_has_nothing_to_answer(haven):
    release_request, _review = returned(haven)
    approval = FileReview.objects.get(checker=haven.checker_a)
    with pytest.raises(ReleaseRequestError, match="no comment to answer"):
        services.reply_to_review(approval, haven.researcher, "Thanks")
    page_forms = policies.can_reply(release_request.state, approval.comment)
    assert page_forms is False
