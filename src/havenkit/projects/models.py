"""Projects and who is a member of them."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from havenkit.people import accreditation
from havenkit.projects import variables as picked


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_TRIAGE = "in_triage", "In triage"
    FAST_TRACK = "fast_track", "Fast track"
    PANEL_REVIEW = "panel_review", "Panel review"
    RETURNED = "returned", "Returned"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ACTIVE = "active", "Active"
    CLOSING = "closing", "Closing"
    CLOSED = "closed", "Closed"


class Track(models.TextChoices):
    FAST = "fast", "Fast track"
    PANEL = "panel", "Panel"


# States in which a project appears on the public register.
REGISTERED_STATUSES = (
    ProjectStatus.APPROVED,
    ProjectStatus.ACTIVE,
    ProjectStatus.CLOSING,
    ProjectStatus.CLOSED,
)


class Project(models.Model):
    reference = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=300)
    organisation = models.CharField(max_length=200)
    lay_summary = models.TextField()
    public_benefit = models.TextField()
    pi = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
    )
    track = models.CharField(max_length=10, choices=Track.choices, blank=True)
    datasets_used = models.CharField(
        max_length=500, blank=True, help_text="Dataset titles, as the register shows them."
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The application, filled in over several steps and saved as a draft after each.
    purpose = models.TextField(blank=True)
    datasets = models.ManyToManyField("data.Dataset", blank=True, related_name="+")
    variables = models.JSONField(
        default=list,
        blank=True,
        help_text='Chosen variables, each as "<dataset id>:<table>.<column>".',
    )
    linkage_wanted = models.TextField(
        blank=True, help_text="Linkage to data outside the chosen datasets; empty for none."
    )
    outputs_expected = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=300, blank=True)
    ethics_reference = models.CharField(max_length=100, blank=True)
    data_controller = models.CharField(max_length=200, blank=True)
    funder = models.CharField(max_length=200, blank=True)
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    steps_done = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # What triage found: the rule that fired, and the risk score with a reason per point.
    triage_rule = models.CharField(max_length=100, blank=True)
    risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    risk_reasons = models.JSONField(default=list, blank=True)
    # Set when the retention period after closure ended and the workspace files were deleted.
    workspace_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Store every variable with its dataset: a bare "table.column" written by code that
        predates per-dataset variables is read as it always was (see ``picked.qualify``),
        so what is stored, and so approved, is always per dataset."""
        if self.pk and not all(map(picked.parse, self.variables)):
            self.variables = picked.qualify_for(self.variables, self.datasets.all())
        super().save(*args, **kwargs)

    def variables_by_dataset(self) -> list[tuple[str, list[str]]]:
        """The chosen variables as (dataset title, "table.column" names), for pages."""
        return picked.labelled(self.variables)

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.status == ProjectStatus.ACTIVE and (
            self.end_date is None or self.end_date >= today
        )

    def has_panel_seat(self, user: Any) -> bool:
        return self.panel_seats.filter(member_id=getattr(user, "pk", None)).exists()

    def is_panel_chair(self, user: Any) -> bool:
        return self.panel_seats.filter(member_id=getattr(user, "pk", None), is_chair=True).exists()

    def is_on_team(self, user: Any) -> bool:
        """The applicant or a named team member: people who must not judge this application."""
        user_id = getattr(user, "pk", None)
        return self.pi_id == user_id or self.team.filter(pk=user_id).exists()

    def lists_member(self, user: Any) -> bool:
        """True when ``user`` is on this project's membership list today, cleared or not.

        Separation of duties asks this, not :meth:`has_member`: a member whose accreditation
        lapsed is still no independent checker of the project's outputs.
        """
        if not getattr(user, "is_authenticated", False):
            return False
        return memberships_in_date().filter(project=self, user=user).exists()

    def has_member(self, user: Any) -> bool:
        """True when ``user`` holds a current membership of this project."""
        if not getattr(user, "is_authenticated", False):
            return False
        return current_memberships().filter(project=self, user=user).exists()


class Membership(models.Model):
    """A person's place on a project, with an end date no later than the project's."""

    class ProjectRole(models.TextChoices):
        PI = "pi", "Principal investigator"
        RESEARCHER = "researcher", "Researcher"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    project_role = models.CharField(max_length=20, choices=ProjectRole.choices)
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.project.reference}"


def memberships_in_date() -> models.QuerySet[Membership]:
    """Memberships whose dates cover today, whether or not the person is cleared today."""
    today = timezone.localdate()
    return Membership.objects.filter(starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def current_memberships() -> models.QuerySet[Membership]:
    """Memberships that give access today: in date, and the person cleared today.

    Clearance (identity checked, a verified unexpired accreditation, the current agreement
    signed) is asked of the database on every call, so access stops on the day an
    accreditation expires and returns when a renewal is verified, with nothing to switch.
    """
    return memberships_in_date().filter(user__in=accreditation.cleared_people())


class MembershipChange(models.TextChoices):
    ADD = "add", "Add"
    REMOVE = "remove", "Remove"


class RequestState(models.TextChoices):
    PENDING = "pending", "Waiting for an approver"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class MembershipRequest(models.Model):
    """A PI's request to add someone to a project or remove them, decided by an approver."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="member_requests")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    change = models.CharField(max_length=10, choices=MembershipChange.choices)
    ends_on = models.DateField(null=True, blank=True)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=10, choices=RequestState.choices, default=RequestState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "person"],
                condition=Q(state="pending"),
                name="one_pending_request_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_change_display()} {self.person} on {self.project.reference}"


class TimelineEntry(models.Model):
    """One step of an application's journey: what state it entered, when, who moved it, and who
    must act next. The applicant's timeline and the median times per track are read from here."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="timeline")
    status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.CharField(max_length=100, help_text="Who must act next, in words.")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.project.reference} {self.get_status_display()} at {self.at:%Y-%m-%d}"


class Question(models.Model):
    """A question sent back with a returned application, answered in place by the applicant."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    text = models.TextField()
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return f"Question {self.pk} on {self.project.reference}"


class PanelSeat(models.Model):
    """A member of the panel assigned to review one application; one seat is the chair's."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="panel_seats")
    # A person's seats, so the menu can offer Applications to a panel member with no other role.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_seats"
    )
    is_chair = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "member"], name="one_seat_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member} on the panel for {self.project.reference}"


class Vote(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    RETURN = "return", "Return with questions"


class PanelVote(models.Model):
    """One panel member's vote and comment in one round (a round per submission)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="panel_votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField()
    vote = models.CharField(max_length=10, choices=Vote.choices)
    comment = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "member", "round"], name="one_vote_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} votes {self.vote} on {self.project.reference}"
