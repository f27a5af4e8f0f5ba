"""Refusing a change to a project: audit it, then raise it with the reason to show."""

from typing import Any

from havenkit.core import audit
from havenkit.core.models import Outcome


class ProjectRefusal(Exception):
    """A refused change to a project, its members or its application, with the reason."""


def refuse(
    action: str,
    reason: str,
    *,
    actor: Any,
    project: Any,
    details: dict | None = None,
    error: type[ProjectRefusal] = ProjectRefusal,
) -> None:
    """Audit the refusal, then raise it: every refused change leaves a trace.

    Callers check before they open a transaction, so the refusal's audit event is never rolled
    back with the change it refused.
    """
    audit.record(
        action,
        actor=actor,
        obj=project,
        project=project,
        outcome=Outcome.FAILURE,
        details={**(details or {}), "reason": reason},
    )
    raise error(reason)
