"""How many sign-in attempts have failed lately, counted from the audit log itself.

The audit log already records every failed password and every wrong code, so it is the one
source of truth: no second counter to drift out of step, and a restart forgets nothing. A
username and an address are each limited, so guessing many passwords for one account and one
password for many accounts are both slowed.

When an administrator issues a new one-time password they have checked who the person is, so
the failures for that username before then stop counting: making the person wait out the window
helps nobody. Failures counted by address still count, as they protect every other account.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from havenkit.core.models import AuditEvent
from havenkit.people.models import User

# A wrong current password given when changing it: someone holding a signed-in session must not
# be able to guess the password behind it any faster than at the sign-in page.
WRONG_CURRENT_PASSWORD = "person.password_change_failed"  # noqa: S105 (an audit action)
# A wrong password (or unknown username), a wrong second-factor code and a wrong current
# password all count.
FAILURE_ACTIONS = ("login.failed", "login.code_failed", WRONG_CURRENT_PASSWORD)
# An administrator checked who the person is and gave them a new password (object: the person).
ONE_TIME_PASSWORD_ISSUED = "person.one_time_password_issued"  # noqa: S105 (an audit action)
# Usernames are stored in audit details as typed, cut to the longest a username can be.
USERNAME_MAX_LENGTH = 150


def typed_username(username: str) -> str:
    """The username as it is recorded in audit details and matched when counting."""
    return username[:USERNAME_MAX_LENGTH]


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _last_issue_id(username: str) -> int | None:
    """The audit id of the latest one-time password issued to the person with this username."""
    person = (
        User.objects.filter(username=typed_username(username))
        .annotate(object_id=Cast("pk", CharField()))
        .values("object_id")
    )
    return (
        AuditEvent.objects.filter(
            action=ONE_TIME_PASSWORD_ISSUED, object_type=User.__name__, object_id__in=person
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def _recent_failure_times(username: str, address: str | None, now: datetime) -> list[datetime]:
    """When failures for this username or from this address happened in the window, newest first.

    Audit ids are sequential, so "after the issuance" is exact even within one clock tick.
    """
    matches = Q(details__username=typed_username(username))
    issued = _last_issue_id(username)
    if issued is not None:
        matches &= Q(id__gt=issued)
    if address:
        matches |= Q(ip_address=address)
    return list(
        AuditEvent.objects.filter(
            matches, action__in=FAILURE_ACTIONS, occurred_at__gte=now - _window()
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[: settings.LOGIN_FAILURE_LIMIT]
    )


def minutes_until_retry(username: str, address: str | None) -> int | None:
    """Whole minutes until this username and address may try again, or None if they may now.

    Tries are refused while LOGIN_FAILURE_LIMIT failures sit inside the window; they may
    resume once the oldest of the latest LOGIN_FAILURE_LIMIT failures falls out of it.
    """
    now = timezone.now()
    failures = _recent_failure_times(username, address, now)
    if len(failures) < settings.LOGIN_FAILURE_LIMIT:
        return None
    free_at = failures[-1] + _window()
    return max(1, math.ceil((free_at - now).total_seconds() / 60))
