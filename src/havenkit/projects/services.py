"""What other apps may ask of projects."""

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from havenkit.core import audit
from havenkit.projects.models import (
    REGISTERED_STATUSES,
    Membership,
    Project,
    ProjectStatus,
    Track,
    current_memberships,
    memberships_in_date,
)


def projects_for_member(user: Any) -> QuerySet[Project]:
    """The projects this person is a current member of."""
    member_of = current_memberships().filter(user=user).values("project_id")
    return Project.objects.filter(pk__in=member_of)


def member_user_ids(project: Project) -> set[int]:
    return set(current_memberships().filter(project=project).values_list("user_id", flat=True))


def pis_of_member(user: Any) -> list[Any]:
    """The PIs of every project the person holds an in-date membership of (cleared or not)."""
    project_ids = memberships_in_date().filter(user=user).values("project_id")
    projects = Project.objects.filter(pk__in=project_ids).select_related("pi")
    return [project.pi for project in projects]


def registered_projects() -> QuerySet[Project]:
    """Projects the public transparency register lists."""
    return Project.objects.filter(status__in=REGISTERED_STATUSES).order_by("-approved_at")


@transaction.atomic
def create_active_project(
    *,
    reference: str,
    title: str,
    organisation: str,
    lay_summary: str,
    public_benefit: str,
    pi: Any,
    researchers: list[Any],
    datasets_used: str,
    start_date: date,
    end_date: date,
    approved_by: Any,
) -> Project:
    """Record a project that has been approved and is active, with its PI and researchers.

    The application and triage journey that leads here is its own issue; this is the state
    the rest of the haven needs to exist for a project to be worked on.
    """
    project = Project.objects.create(
        reference=reference,
        title=title,
        organisation=organisation,
        lay_summary=lay_summary,
        public_benefit=public_benefit,
        pi=pi,
        status=ProjectStatus.ACTIVE,
        track=Track.PANEL,
        datasets_used=datasets_used,
        start_date=start_date,
        end_date=end_date,
        approved_at=timezone.now(),
    )
    audit.record("project.approved", actor=approved_by, obj=project, project=project)
    Membership.objects.create(
        project=project, user=pi, project_role=Membership.ProjectRole.PI, ends_on=end_date
    )
    for researcher in researchers:
        Membership.objects.create(
            project=project,
            user=researcher,
            project_role=Membership.ProjectRole.RESEARCHER,
            ends_on=end_date,
        )
    for member in [pi, *researchers]:
        audit.record(
            "membership.added",
            actor=approved_by,
            obj=project,
            project=project,
            details={"username": member.username},
        )
    return project
