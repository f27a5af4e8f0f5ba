"""Release requests: the files a project asks to take out of the haven, and their reviews.

A file's provenance (job, code file and version, extract) is copied onto :class:`ReleaseFile`
when it is added, with the file itself, so what checkers reviewed is exactly what is released
even if the workspace changes afterwards.
"""

from django.conf import settings
from django.db import models


class RequestState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    PARTIALLY_REVIEWED = "partially_reviewed", "Partially reviewed"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    RETURNED = "returned", "Returned"
    REJECTED = "rejected", "Rejected"
    RELEASED = "released", "Released"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @property
    def explanation(self) -> str:
        """What this state means for the people involved, as the request page says it."""
        return _STATE_EXPLANATIONS[self]


_STATE_EXPLANATIONS = {
    RequestState.DRAFT: (
        "The researcher is choosing files and describing them. Nobody reviews it yet."
    ),
    RequestState.SUBMITTED: "Waiting for two output checkers to review every file.",
    RequestState.PARTIALLY_REVIEWED: "Some reviews are in; every file still needs two reviews.",
    RequestState.REVIEWED: "Every file has two reviews; the outcome is being decided.",
    RequestState.APPROVED: "Every file has two approvals; the files are being released.",
    RequestState.RETURNED: (
        "An output checker asked for changes. Change or remove the files they commented on, "
        "then submit the request again."
    ),
    RequestState.REJECTED: "An output checker rejected a file. This request is closed.",
    RequestState.RELEASED: "Every file was approved by two output checkers and released.",
    RequestState.WITHDRAWN: "The researcher withdrew this request. It is closed.",
}


class Decision(models.TextChoices):
    APPROVED = "approved", "Approve"
    CHANGES_REQUESTED = "changes_requested", "Request changes"
    REJECTED = "rejected", "Reject"

    @property
    def needs_comment(self) -> bool:
        """A researcher can only act on a refusal that says what was wrong."""
        return self != Decision.APPROVED


class ReleaseRequest(models.Model):
    """One project's request to take a set of output files out of the haven."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="release_requests"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=20, choices=RequestState.choices, default=RequestState.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Release request {self.pk} ({self.get_state_display()})"

    @property
    def state_explanation(self) -> str:
        return RequestState(self.state).explanation


class ReleaseFile(models.Model):
    """One output file in a release request, with its provenance and its own stored copy."""

    release_request = models.ForeignKey(
        ReleaseRequest, on_delete=models.CASCADE, related_name="files"
    )
    job_id = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    code_file_name = models.CharField(max_length=100)
    code_version_number = models.PositiveIntegerField()
    extract_id = models.PositiveIntegerField(null=True, blank=True)
    # Relative to HAVENKIT_HOME: releases/<request id>/<job id>/<name>.
    stored_path = models.CharField(max_length=500)
    # When the file was last added or changed; a change resets its reviews.
    added_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    # The output-checking rules' verdict on the stored copy when it was added: "pass", "fail"
    # or "review", and each finding as {status, rule, message, cells: [[row, column], ...]}.
    sdc_status = models.CharField(max_length=10, blank=True)
    sdc_findings = models.JSONField(default=list, blank=True)
    # Why the researcher asks for an exception to a "fail" or "review" verdict; checkers read it.
    justification = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release_request", "name"], name="one_release_file_per_name"
            )
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (job {self.job_id})"

    @property
    def needs_justification(self) -> bool:
        """A file the rules did not pass goes to checkers only with the researcher's reasons."""
        return self.sdc_status in ("fail", "review")

    @property
    def sdc_summary(self) -> str:
        """One line on the rules' result, for a checker triaging a queue."""
        concerns = [f for f in self.sdc_findings if f.get("status") in ("fail", "review")]
        if not concerns:
            return "Every rule passed" if self.sdc_status == "pass" else "Not checked"
        more = f" (and {len(concerns) - 1} more)" if len(concerns) > 1 else ""
        return f"{concerns[0].get('message', '')}{more}"

    def flagged_cells(self) -> set[tuple[str, str]]:
        """(row label, column) of every cell a finding names, for highlighting in the preview."""
        return {
            (str(row), str(column))
            for finding in self.sdc_findings
            for row, column in finding.get("cells", [])
        }


class CurrentReviews(models.Manager):
    """Reviews that still count: those of the file as it is now, not superseded by a change."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(superseded_at__isnull=True)


class FileReview(models.Model):
    """One output checker's decision on one file; each checker reviews a file at most once.

    Changing the file supersedes its reviews rather than deleting them, so the comments, and
    the researcher's replies to them, stay beside the file for the next round of review.
    ``objects`` (the default manager, so ``release_file.reviews`` too) holds only the reviews
    that count; ``history`` holds every one.
    """

    release_file = models.ForeignKey(ReleaseFile, on_delete=models.CASCADE, related_name="reviews")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    history = models.Manager()
    objects = CurrentReviews()

    class Meta:
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["release_file", "checker"],
                condition=models.Q(superseded_at__isnull=True),
                name="one_current_review_per_file_and_checker",
            )
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.release_file} by {self.checker}"


class ReviewReply(models.Model):
    """A project member's answer to an output checker's comment, shown beside the comment."""

    review = models.ForeignKey(FileReview, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Reply by {self.author} to {self.review}"
