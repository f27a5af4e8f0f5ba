"""Projects and who is a member of them."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


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

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.status == ProjectStatus.ACTIVE and (
            self.end_date is None or self.end_date >= today
        )

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


def current_memberships() -> models.QuerySet[Membership]:
    today = timezone.localdate()
    return Membership.objects.filter(starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
