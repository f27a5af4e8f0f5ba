"""Changing who is on a project: the PI asks, an approver decides.

A request can be made for someone who is not yet cleared (no accreditation, identity not
checked): it says why they cannot be added yet, and cannot be approved until they can.
Dates are refused outright when they make no sense for the project.
"""

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from havenkit.core import audit
from havenkit.people import accreditation
from havenkit.people.models import User
from havenkit.projects.models import (
    Membership,
    MembershipChange,
    MembershipRequest,
    Project,
    RequestState,
    memberships_in_date,
)
from havenkit.projects.refusals import ProjectRefusal, refuse


class MembershipError(ProjectRefusal):
    """A refused membership request or decision, with the reason to show."""


class UnknownPerson(MembershipError):
    """The username a PI typed belongs to nobody."""


def _refuse(
    action: str,
    reason: str,
    *,
    actor: Any,
    project: Project,
    details: dict,
    error: type[MembershipError] = MembershipError,
) -> None:
    refuse(action, reason, actor=actor, project=project, details=details, error=error)


def person_named(project: Project, username: str, *, requested_by: Any) -> User:
    """The person a PI names by username; a name that matches nobody is refused and audited,
    so a mistyped or guessed name leaves a trace like any other refused request."""
    person = User.objects.filter(username=username).first()
    if person is None:
        _refuse(
            "membership.requested",
            f"There is nobody with the username {username!r}: check the spelling, or ask "
            "the person to register (or an administrator to create their account) first.",
            actor=requested_by,
            project=project,
            details={"username": username},
            error=UnknownPerson,
        )
    return person


def _name(person: Any) -> str:
    return person.get_full_name() or person.username


def date_problems(project: Project, person: Any, ends_on: date | None) -> list[str]:
    """What is wrong with a membership ending on ``ends_on``: empty when nothing is."""
    if ends_on is None:
        return ["Enter the date the membership ends."]
    problems = []
    if ends_on < timezone.localdate():
        problems.append("The membership end date is in the past.")
    if project.end_date and ends_on > project.end_date:
        problems.append(
            f"A membership cannot end after the project does ({project.end_date:%d %B %Y})."
        )
    covered_until = accreditation.accredited_until(person)
    if covered_until and ends_on > covered_until:
        problems.append(
            f"The end date is after {_name(person)}'s accreditation expires "
            f"({covered_until:%d %B %Y}): choose an earlier date, or ask them to renew first."
        )
    return problems


def blockers(request: MembershipRequest) -> list[str]:
    """Why this request cannot be approved today; empty when it can."""
    if request.change == MembershipChange.REMOVE:
        return []
    return accreditation.access_blockers(request.person) + date_problems(
        request.project, request.person, request.ends_on
    )


def request_change(
    project: Project,
    *,
    person: Any,
    change: str,
    ends_on: date | None,
    reason: str,
    requested_by: Any,
) -> MembershipRequest:
    details = {"username": person.username, "change": change}
    is_member = memberships_in_date().filter(project=project, user=person).exists()
    if MembershipRequest.objects.filter(
        project=project, person=person, state=RequestState.PENDING
    ).exists():
        _refuse(
            "membership.requested",
            f"There is already a request about {_name(person)} waiting for an approver.",
            actor=requested_by,
            project=project,
            details=details,
        )
    if change == MembershipChange.ADD:
        if is_member:
            _refuse(
                "membership.requested",
                f"{_name(person)} is already a member of this project.",
                actor=requested_by,
                project=project,
                details=details,
            )
        problems = date_problems(project, person, ends_on)
        if problems:
            _refuse(
                "membership.requested",
                " ".join(problems),
                actor=requested_by,
                project=project,
                details=details,
            )
    else:
        if not is_member:
            _refuse(
                "membership.requested",
                f"{_name(person)} is not a member of this project.",
                actor=requested_by,
                project=project,
                details=details,
            )
        if person.pk == project.pi_id:
            _refuse(
                "membership.requested",
                "The principal investigator cannot be removed from their own project.",
                actor=requested_by,
                project=project,
                details=details,
            )
        ends_on = None
    with transaction.atomic():
        membership_request = MembershipRequest.objects.create(
            project=project,
            person=person,
            change=change,
            ends_on=ends_on,
            reason=reason,
            requested_by=requested_by,
        )
        audit.record(
            "membership.requested",
            actor=requested_by,
            obj=membership_request,
            project=project,
            details=details,
        )
    return membership_request


def decide(
    membership_request: MembershipRequest, *, approve: bool, note: str, decided_by: Any
) -> MembershipRequest:
    """Approve (the change happens now) or refuse, with a note the PI sees."""
    project = membership_request.project
    details = {
        "username": membership_request.person.username,
        "change": membership_request.change,
        "approve": approve,
    }
    if membership_request.state != RequestState.PENDING:
        _refuse(
            "membership.decided",
            f"This request was already {membership_request.get_state_display().lower()}.",
            actor=decided_by,
            project=project,
            details=details,
        )
    if approve and (reasons := blockers(membership_request)):
        _refuse(
            "membership.decided",
            f"{_name(membership_request.person)} cannot be added yet: " + " ".join(reasons),
            actor=decided_by,
            project=project,
            details=details,
        )
    if not approve and not note.strip():
        _refuse(
            "membership.decided",
            "Say why the request is refused: the PI sees your note.",
            actor=decided_by,
            project=project,
            details=details,
        )
    with transaction.atomic():
        if approve:
            _apply(membership_request, decided_by)
        membership_request.state = RequestState.APPROVED if approve else RequestState.REFUSED
        membership_request.decided_by = decided_by
        membership_request.decided_at = timezone.now()
        membership_request.decision_note = note
        membership_request.save()
        audit.record(
            "membership.decided",
            actor=decided_by,
            obj=membership_request,
            project=project,
            details=details,
        )
    return membership_request


def _apply(membership_request: MembershipRequest, decided_by: Any) -> None:
    project, person = membership_request.project, membership_request.person
    today = timezone.localdate()
    if membership_request.change == MembershipChange.ADD:
        Membership.objects.update_or_create(
            project=project,
            user=person,
            defaults={
                "project_role": Membership.ProjectRole.RESEARCHER,
                "starts_on": today,
                "ends_on": membership_request.ends_on,
            },
        )
        action = "membership.added"
    else:
        # Ended yesterday rather than deleted: the membership's history stays on record.
        Membership.objects.filter(project=project, user=person).update(
            ends_on=today - timedelta(days=1)
        )
        action = "membership.removed"
    audit.record(
        action,
        actor=decided_by,
        obj=project,
        project=project,
        details={"username": person.username, "request": membership_request.pk},
    )


def pending_requests() -> QuerySet[MembershipRequest]:
    return MembershipRequest.objects.filter(state=RequestState.PENDING).select_related(
        "project", "person", "requested_by"
    )


def members(project: Project) -> QuerySet[Membership]:
    """Everyone whose membership is in date, cleared today or not, for the PI to see."""
    return memberships_in_date().filter(project=project).select_related("user")
