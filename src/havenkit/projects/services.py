"""What other apps may ask of projects."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from havenkit.core import audit
from havenkit.projects import variables as picked
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


# States in which a project's application stands approved, so data may be prepared for it.
DATA_APPROVED_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.ACTIVE)


def approved_variables(project: Project) -> dict[int, set[str]]:
    """The variables the project's approved application picked, as "table.column" names per
    dataset id: all an extract for it may hold.

    Empty unless the application is approved or the project active, so nothing is prepared for
    a draft, a rejected or a closing project. A variable counts for the dataset it was picked
    from only, even when another chosen dataset has a table of the same name.
    """
    return approved_variables_of([project])[project.pk]


def approved_variables_of(projects: Iterable[Project]) -> dict[int, dict[int, set[str]]]:
    """:func:`approved_variables` of each project, by project id, in one query however many
    projects there are (none when no project stands approved), so a list of projects costs
    no more to show than one."""
    listed = list(projects)
    approved = [project for project in listed if project.status in DATA_APPROVED_STATUSES]
    chosen: dict[int, set[int]] = {}
    if approved:
        links = Project.datasets.through.objects.filter(project__in=approved)
        for project_id, dataset_id in links.values_list("project_id", "dataset_id"):
            chosen.setdefault(project_id, set()).add(dataset_id)
    result: dict[int, dict[int, set[str]]] = {project.pk: {} for project in listed}
    for project in approved:
        of_project = chosen.get(project.pk, set())
        result[project.pk] = {
            dataset_id: set(names)
            for dataset_id, names in picked.by_dataset(project.variables).items()
            if dataset_id in of_project
        }
    return result


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
    datasets: Iterable[Any] = (),
    variables: Iterable[str] = (),
) -> Project:
    """Record a project that has been approved and is active, with its PI and researchers,
    and the ``datasets`` and ``variables`` its application was approved for: each
    "<dataset id>:table.column", or a bare "table.column" meaning that column of every one of
    ``datasets`` with the table.

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
    project.datasets.set(datasets)
    project.variables = picked.qualify_for(variables, project.datasets.all())
    project.save()
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
