"""The release request state machine, stored copies, release and download, without a browser."""

import pytest
from django.conf import settings

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.permissions import Denied
from havenkit.core.roles import Role
from havenkit.outputs import services
from havenkit.outputs.models import (
    Decision,
    FileReview,
    ReleaseFile,
    ReleaseRequest,
    RequestState,
)
from havenkit.outputs.policies import ReleaseRequestError
from havenkit.outputs.services import FileChoice, StoredCopyChanged
from havenkit.workspaces import services as workspaces
from tests.haven import TABLE_CSV

pytestmark = pytest.mark.django_db


def draft(haven, *names: str) -> ReleaseRequest:
    choices = [
        FileChoice(job_id=haven.job.pk, name=name, description=f"What {name} shows")
        for name in names or ("table.csv",)
    ]
    release_request = services.create_release_request(haven.project, haven.researcher, choices)
    justify_all(release_request, haven.researcher)
    return release_request


def justify_all(release_request, researcher) -> None:
    """Give each file the rules did not pass (summary.txt is "review") its justification."""
    for release_file in release_request.files.all():
        if release_file.needs_justification:
            services.justify_file(release_file, researcher, "Aggregate text, no small numbers.")


def submitted(haven, *names: str) -> ReleaseRequest:
    return services.submit(draft(haven, *names), haven.researcher)


def review_all(release_request, checker, decision=Decision.APPROVED, comment=""):
    for release_file in release_request.files.all():
        release_request = services.review_file(release_file, checker, decision, comment)
    return release_request


def actions(release_request) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            action__startswith="release.", project_id=str(release_request.project_id)
        )
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_two_checkers_approving_every_file_release_it(haven):
    release_request = submitted(haven, "table.csv", "summary.txt")
    release_request = review_all(release_request, haven.checker_a)
    assert release_request.state == RequestState.PARTIALLY_REVIEWED
    release_request = review_all(release_request, haven.checker_b)

    release_request.refresh_from_db()
    assert release_request.state == RequestState.RELEASED
    assert release_request.released_at is not None
    assert not release_request.files.filter(released_at__isnull=True).exists()
    assert actions(release_request)[-3:] == [
        "release.reviewed",
        "release.approved",
        "release.released",
    ]
    released = AuditEvent.objects.get(action="release.released")
    manifest_files = {f["name"]: f for f in released.details["manifest"]["files"]}
    assert manifest_files["table.csv"]["job_id"] == haven.job.pk
    assert manifest_files["table.csv"]["code_file"] == "analysis.py"
    assert [(r["checker"], r["decision"]) for r in manifest_files["table.csv"]["reviews"]] == [
        ("checker_a", "approved"),
        ("checker_b", "approved"),
    ]
    table = release_request.files.get(name="table.csv")
    path = services.open_released_file(table, haven.researcher)
    assert path.read_bytes() == TABLE_CSV
    assert AuditEvent.objects.filter(
        action="release.downloaded", project_id=str(haven.project.pk)
    ).exists()


def test_the_file_is_copied_into_the_requests_own_store(haven):
    release_request = draft(haven)
    release_file = release_request.files.get()
    expected = settings.HAVENKIT_HOME / "releases" / str(release_request.pk) / str(haven.job.pk)
    assert services.stored_copy(release_file) == expected / "table.csv"
    assert services.stored_copy(release_file).read_bytes() == TABLE_CSV
    assert release_file.sha256 == workspaces.finished_outputs(haven.project)[1].sha256


def test_one_approval_is_not_enough(haven):
    release_request = review_all(submitted(haven), haven.checker_a)
    assert release_request.state == RequestState.PARTIALLY_REVIEWED
    with pytest.raises(ReleaseRequestError, match="only after two output checkers"):
        services.open_released_file(release_request.files.get(), haven.researcher)


def test_the_author_cannot_review_their_own_request(haven, make_person):
    haven.researcher.role_grants.create(role=Role.OUTPUT_CHECKER)
    release_request = submitted(haven)
    with pytest.raises(Denied, match="your own release request"):
        services.review_file(release_request.files.get(), haven.researcher, Decision.APPROVED)
    assert not FileReview.objects.exists()


def test_a_checker_who_is_a_project_member_cannot_review(haven):
    haven.pi.role_grants.create(role=Role.OUTPUT_CHECKER)
    release_request = submitted(haven)
    with pytest.raises(Denied, match="members of"):
        services.review_file(release_request.files.get(), haven.pi, Decision.APPROVED)


def test_a_checker_cannot_review_the_same_file_twice(haven):
    release_request = submitted(haven)
    release_file = release_request.files.get()
    services.review_file(release_file, haven.checker_a, Decision.APPROVED)
    with pytest.raises(ReleaseRequestError, match=r"already reviewed table\.csv"):
        services.review_file(release_file, haven.checker_a, Decision.REJECTED, "Small cells")
    assert FileReview.objects.count() == 1
    failure = AuditEvent.objects.get(action="release.file_reviewed", outcome=Outcome.FAILURE)
    assert failure.project_id == str(haven.project.pk)


def test_a_third_approval_is_refused_as_not_needed(haven, make_person):
    release_request = submitted(haven, "table.csv", "summary.txt")
    table = release_request.files.get(name="table.csv")
    services.review_file(table, haven.checker_a, Decision.APPROVED)
    services.review_file(table, haven.checker_b, Decision.APPROVED)
    third = make_person(Role.OUTPUT_CHECKER)
    with pytest.raises(ReleaseRequestError, match="not needed"):
        services.review_file(table, third, Decision.APPROVED)


def test_changes_requested_returns_the_request_and_a_changed_file_starts_review_again(
    haven, make_job
):
    release_request = submitted(haven, "table.csv", "summary.txt")
    release_request = review_all(release_request, haven.checker_a)
    table = release_request.files.get(name="table.csv")
    services.review_file(table, haven.checker_b, Decision.CHANGES_REQUESTED, "Round to 5")
    summary = release_request.files.get(name="summary.txt")
    release_request = services.review_file(summary, haven.checker_b, Decision.APPROVED)
    assert release_request.state == RequestState.RETURNED

    with pytest.raises(ReleaseRequestError, match=r"table\.csv\. Change or remove it"):
        services.submit(release_request, haven.researcher)

    rounded = make_job(
        haven.project, haven.researcher, {"table.csv": b"region,patients\nLothian,120\nFife,85\n\n"}
    )
    services.add_file(
        release_request, FileChoice(rounded.pk, "table.csv", "Rounded to 5"), haven.researcher
    )
    table.refresh_from_db()
    assert table.job_id == rounded.pk
    assert not table.reviews.exists()
    assert summary.reviews.count() == 2
    reset = AuditEvent.objects.get(action="release.reviews_reset")
    assert {r["checker"] for r in reset.details["reviews"]} == {"checker_a", "checker_b"}

    release_request = services.submit(release_request, haven.researcher)
    assert release_request.state == RequestState.PARTIALLY_REVIEWED
    services.review_file(table, haven.checker_a, Decision.APPROVED)
    release_request = services.review_file(table, haven.checker_b, Decision.APPROVED)
    assert release_request.state == RequestState.RELEASED


def test_a_rejected_request_is_final(haven):
    release_request = review_all(submitted(haven), haven.checker_a)
    release_request = review_all(release_request, haven.checker_b, Decision.REJECTED, "Disclosive")
    assert release_request.state == RequestState.REJECTED
    with pytest.raises(ReleaseRequestError, match="this one is rejected"):
        services.submit(release_request, haven.researcher)
    with pytest.raises(ReleaseRequestError, match="already rejected"):
        services.withdraw(release_request, haven.researcher)


def test_the_author_may_withdraw_before_release(haven):
    release_request = services.withdraw(submitted(haven), haven.researcher)
    assert release_request.state == RequestState.WITHDRAWN
    assert "release.withdrawn" in actions(release_request)


def test_a_file_that_is_not_an_output_of_the_project_creates_nothing(haven):
    choices = [
        FileChoice(haven.job.pk, "table.csv", "Counts"),
        FileChoice(haven.job.pk, "patients.csv", "All the rows"),
    ]
    with pytest.raises(ReleaseRequestError, match=r"no output file called 'patients\.csv'"):
        services.create_release_request(haven.project, haven.researcher, choices)
    assert not ReleaseRequest.objects.exists()
    assert not ReleaseFile.objects.exists()
    assert not (settings.HAVENKIT_HOME / "releases").exists() or not any(
        (settings.HAVENKIT_HOME / "releases").iterdir()
    )
    failure = AuditEvent.objects.get(action="release.created")
    assert failure.outcome == Outcome.FAILURE
    assert failure.project_id == str(haven.project.pk)


def test_an_output_of_another_project_is_not_found(haven, make_project, make_job):
    other = make_project(haven.pi, [])
    other_job = make_job(other, haven.pi, {"secret.csv": b"a\n1\n"})
    with pytest.raises(ReleaseRequestError, match="no output file"):
        services.create_release_request(
            haven.project, haven.researcher, [FileChoice(other_job.pk, "secret.csv", "x")]
        )
    assert not ReleaseRequest.objects.exists()


def test_submit_needs_every_file_described(haven):
    release_request = services.create_release_request(
        haven.project, haven.researcher, [FileChoice(haven.job.pk, "table.csv")]
    )
    with pytest.raises(ReleaseRequestError, match="Describe every file"):
        services.submit(release_request, haven.researcher)
    release_request.refresh_from_db()
    assert release_request.state == RequestState.DRAFT


def test_a_changed_stored_copy_is_never_released_or_downloaded(haven):
    release_request = review_all(submitted(haven), haven.checker_a)
    copy = services.stored_copy(release_request.files.get())
    copy.chmod(0o600)
    copy.write_bytes(b"region,patients\nFife,3\n")
    with pytest.raises(StoredCopyChanged, match="no longer matches"):
        review_all(release_request, haven.checker_b)
    release_request.refresh_from_db()
    assert release_request.state == RequestState.APPROVED
    failure = AuditEvent.objects.get(action="release.integrity_failed")
    assert failure.details["during"] == "release"
    assert failure.project_id == str(haven.project.pk)


def test_a_copy_changed_after_release_is_not_downloaded(haven):
    release_request = review_all(review_all(submitted(haven), haven.checker_a), haven.checker_b)
    release_file = release_request.files.get()
    services.stored_copy(release_file).unlink()
    with pytest.raises(StoredCopyChanged):
        services.open_released_file(release_file, haven.researcher)
    assert not AuditEvent.objects.filter(action="release.downloaded").exists()
    assert AuditEvent.objects.filter(action="release.integrity_failed").exists()


def test_requests_awaiting_review_are_those_this_checker_may_and_still_needs_to_review(
    haven, make_person
):
    waiting = submitted(haven)
    reviewed_by_a = submitted(haven)
    review_all(reviewed_by_a, haven.checker_a)
    draft(haven)
    member_checker = make_person(Role.OUTPUT_CHECKER)
    haven.project.memberships.create(user=member_checker, project_role="researcher")

    assert services.requests_awaiting_review(haven.checker_a) == [waiting]
    assert services.requests_awaiting_review(haven.checker_b) == [waiting, reviewed_by_a]
    assert services.requests_awaiting_review(member_checker) == []
    assert services.requests_awaiting_review(haven.researcher) == []


def test_a_file_is_removed_with_its_copy_only_while_the_request_can_change(haven):
    release_request = draft(haven, "table.csv", "summary.txt")
    summary = release_request.files.get(name="summary.txt")
    copy = services.stored_copy(summary)
    services.remove_file(summary, haven.researcher)
    assert not copy.exists()
    assert list(release_request.files.values_list("name", flat=True)) == ["table.csv"]

    services.submit(release_request, haven.researcher)
    table = release_request.files.get()
    with pytest.raises(ReleaseRequestError, match="this one is submitted"):
        services.remove_file(table, haven.researcher)
    assert services.stored_copy(table).exists()
