"""Who may do what: the one place that answers every permission question.

Each rule is a ``check`` function that raises :class:`Denied` with a reason a person can act
on. Views call :func:`check`; templates call :func:`can` (through the ``can`` tag) to decide
whether to show a button. Neither decides for itself.

Rules here are about *who*: the person's roles and their relation to the object (member,
author). What an object's current state allows (a request already approved, a job already
finished) is the business of each app's services.

Objects are duck-typed so this module imports no app's models: a project answers
``has_member(user)`` (cleared today), ``lists_member(user)`` (on the list, cleared or
not) and ``is_active``; a release request has ``project`` and ``author_id``.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

from havenkit.core.roles import Role


class Denied(PermissionDenied):
    """A refused action, carrying the reason shown to the person and written to the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _require_role(user: Any, role: Role) -> None:
    if not user.is_authenticated or not user.has_role(role):
        raise Denied(f"This needs the {role.label.lower()} role.")


def _require_any_role(user: Any, roles: tuple[Role, ...]) -> None:
    if not user.is_authenticated or not any(user.has_role(role) for role in roles):
        names = ", ".join(role.label.lower() for role in roles)
        raise Denied(f"This needs one of these roles: {names}.")


def _require_membership(user: Any, project: Any) -> None:
    if not project.has_member(user):
        if project.lists_member(user):
            raise Denied(
                "You are a member of this project but cannot enter it today: you need a "
                "verified, unexpired accreditation and the current user agreement signed. "
                "See Your accreditation."
            )
        raise Denied("Only members of this project can see its workspace.")


def _require_active(project: Any) -> None:
    if not project.is_active:
        raise Denied("This project is not active, so its workspace is read-only.")


def _signed_in(user: Any, obj: Any = None) -> None:
    if not user.is_authenticated:
        raise Denied("Sign in first.")


def _view_audit_log(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.AUDITOR)


def _view_workspace(user: Any, project: Any) -> None:
    _require_role(user, Role.RESEARCHER)
    _require_membership(user, project)


def _work_in_workspace(user: Any, project: Any) -> None:
    _view_workspace(user, project)
    _require_active(project)


def _use_real_extract(user: Any, project: Any) -> None:
    """Real record-level data: a cleared member of an active project (dummy data needs less)."""
    _work_in_workspace(user, project)


def _view_release_request(user: Any, release_request: Any) -> None:
    if user.is_authenticated and release_request.project.has_member(user):
        _require_role(user, Role.RESEARCHER)
        return
    _review_release_request(user, release_request)


def _edit_release_request(user: Any, release_request: Any) -> None:
    _work_in_workspace(user, release_request.project)
    if release_request.author_id != user.pk:
        raise Denied("Only the author of a release request can change, submit or withdraw it.")


def _review_release_request(user: Any, release_request: Any) -> None:
    _require_role(user, Role.OUTPUT_CHECKER)
    if release_request.author_id == user.pk:
        raise Denied("You cannot review your own release request.")
    if release_request.project.lists_member(user):
        raise Denied("Output checkers cannot review requests from projects they are members of.")


def _view_review_queue(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.OUTPUT_CHECKER)


def _download_release(user: Any, release_request: Any) -> None:
    _view_workspace(user, release_request.project)


def _manage_people(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.ADMINISTRATOR)


def _verify_accreditation(user: Any, accreditation: Any) -> None:
    _manage_people(user)
    if accreditation.user_id == user.pk:
        raise Denied("You cannot verify your own training record: ask another administrator.")


def _request_membership_change(user: Any, project: Any) -> None:
    _require_role(user, Role.PI)
    if project.pi_id != user.pk:
        raise Denied("Only this project's principal investigator can ask to change its members.")


def _view_membership_requests(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.APPROVER)


def _decide_membership_request(user: Any, membership_request: Any) -> None:
    _view_membership_requests(user)
    if user.pk in (membership_request.requested_by_id, membership_request.person_id):
        raise Denied("You cannot decide a membership request you made or that is about you.")


def _upload_ingress(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.DATA_STEWARD)


def _view_ingress(user: Any, obj: Any = None) -> None:
    _require_any_role(user, (Role.DATA_STEWARD, Role.APPROVER))


def _review_ingress(user: Any, upload: Any) -> None:
    _view_ingress(user)
    if upload.uploader_id == user.pk:
        raise Denied(
            "You cannot approve your own upload: another data steward or an approver must."
        )


def _build_extract(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.DATA_STEWARD)


def _withdraw_dataset_version(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.APPROVER)


def _apply_for_project(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.PI)


def _edit_application(user: Any, project: Any) -> None:
    _apply_for_project(user)
    if project.pi_id != user.pk:
        raise Denied(
            "Only the applicant can change, submit or answer questions on this application."
        )


def _view_applications(user: Any, obj: Any = None) -> None:
    _require_role(user, Role.APPROVER)


def _view_application(user: Any, project: Any) -> None:
    _signed_in(user)
    if project.is_on_team(user) or project.has_panel_seat(user):
        return
    _view_applications(user)


def _decide_application(user: Any, project: Any) -> None:
    _view_applications(user)
    if project.is_on_team(user):
        raise Denied("You cannot decide an application you made or are on the team of.")


def _vote_on_application(user: Any, project: Any) -> None:
    if not project.has_panel_seat(user):
        raise Denied("Only members assigned to this application's panel can vote on it.")
    if project.is_on_team(user):
        raise Denied("You cannot vote on an application you made or are on the team of.")


def _chair_panel(user: Any, project: Any) -> None:
    if not project.is_panel_chair(user):
        raise Denied("Only the chair of this application's panel can record its outcome.")


def _view_access_report(user: Any, obj: Any = None) -> None:
    _require_any_role(user, (Role.AUDITOR, Role.DATA_STEWARD))


def _view_haven_report(user: Any, obj: Any = None) -> None:
    _require_any_role(user, (Role.AUDITOR, Role.DATA_STEWARD, Role.ADMINISTRATOR, Role.APPROVER))


def _view_project_import(user: Any, project_import: Any) -> None:
    """The project's members follow their imports; stewards and approvers review them."""
    if user.is_authenticated and project_import.project.has_member(user):
        _require_role(user, Role.RESEARCHER)
        return
    _view_ingress(user)


def _review_project_import(user: Any, project_import: Any) -> None:
    _view_ingress(user)
    if project_import.uploader_id == user.pk:
        raise Denied(
            "You cannot approve a file you brought in yourself: another data steward or an "
            "approver must."
        )


def _follow_applications(user: Any, obj: Any = None) -> None:
    """Applicants, approvers and panel members (``user.panel_seats``) have applications to
    follow, so the menu offers them the Applications page."""
    if user.is_authenticated and (
        user.has_role(Role.PI) or user.has_role(Role.APPROVER) or user.panel_seats.exists()
    ):
        return
    raise Denied("Only applicants, approvers and panel members have applications to follow.")


def _deactivate_account(user: Any, person: Any) -> None:
    _manage_people(user)
    if person.pk == user.pk:
        raise Denied("You cannot deactivate your own account: ask another administrator.")


def _reset_second_factor(user: Any, person: Any) -> None:
    _manage_people(user)
    if person.pk == user.pk:
        raise Denied("You cannot reset your own second factor: ask another administrator.")


def _issue_one_time_password(user: Any, person: Any) -> None:
    _manage_people(user)
    if person.pk == user.pk:
        raise Denied(
            "You cannot issue yourself a one-time password: use Change your password instead."
        )


RULES: dict[str, Callable[[Any, Any], None]] = {
    "view_home": _signed_in,
    "view_audit_log": _view_audit_log,
    "view_workspace": _view_workspace,
    "edit_code": _work_in_workspace,
    "run_job": _work_in_workspace,
    "use_real_extract": _use_real_extract,
    "cancel_job": _work_in_workspace,
    "create_release_request": _work_in_workspace,
    "edit_release_request": _edit_release_request,
    "view_release_request": _view_release_request,
    "review_release_request": _review_release_request,
    "view_review_queue": _view_review_queue,
    "download_release": _download_release,
    "reply_to_release_review": _work_in_workspace,
    "upload_ingress": _upload_ingress,
    "view_ingress": _view_ingress,
    "review_ingress": _review_ingress,
    "import_to_project": _work_in_workspace,
    "view_project_imports": _view_workspace,
    "view_project_import": _view_project_import,
    "review_project_import": _review_project_import,
    "build_extract": _build_extract,
    "withdraw_dataset_version": _withdraw_dataset_version,
    "manage_people": _manage_people,
    "verify_accreditation": _verify_accreditation,
    "deactivate_account": _deactivate_account,
    "reset_second_factor": _reset_second_factor,
    "issue_one_time_password": _issue_one_time_password,
    "change_own_password": _signed_in,
    "request_membership_change": _request_membership_change,
    "view_membership_requests": _view_membership_requests,
    "decide_membership_request": _decide_membership_request,
    "apply_for_project": _apply_for_project,
    "edit_application": _edit_application,
    "view_applications": _view_applications,
    "view_application": _view_application,
    "decide_application": _decide_application,
    "vote_on_application": _vote_on_application,
    "chair_panel": _chair_panel,
    "follow_applications": _follow_applications,
    "view_access_report": _view_access_report,
    "view_haven_report": _view_haven_report,
}


def check(user: Any, action: str, obj: Any = None) -> None:
    """Raise :class:`Denied` unless ``user`` may do ``action`` (on ``obj``)."""
    try:
        rule = RULES[action]
    except KeyError:
        raise Denied(f"Unknown action {action!r}.") from None
    rule(user, obj)


def can(user: Any, action: str, obj: Any = None) -> bool:
    """True when :func:`check` would allow the action; for templates and menus."""
    try:
        check(user, action, obj)
    except Denied:
        return False
    return True
