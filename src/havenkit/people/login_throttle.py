"""How many sign-in attempts have failed lately, counted from the audit log itself.

The audit log already records every failed password and every wrong code, so it is the one
source of truth: no second counter to drift out of step, and a restart forgets nothing. A
username and an address are each limited, so guessing many passwords for one account and one
password for many accounts are both slowed.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from havenkit.core.models import AuditEvent

# A wrong current password given when changing it: someone holding a signed-in session must not
# be able to guess the password behind it any faster than at the sign-in page.
WRONG_CURRENT_PASSWORD = "person.password_change_failed"  # noqa: S105 (an audit action)
# A wrong password (or unknown username), a wrong second-factor code and a wrong current
# password all count.
FAILURE_ACTIONS = ("login.failed", "login.code_failed", WRONG_CURRENT_PASSWORD)
# Usernames are stored in audit details as typed, cut to the longest a username can be.
USERNAME_MAX_LENGTH = 150


def typed_username(username: str) -> str:
    """The username as it is recorded in audit details and matched when counting."""
    return username[:USERNAME_MAX_LENGTH]


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


def _recent_failure_times(username: str, address: str | None, now: datetime) -> list[datetime]:
    """When failures for this username or from this address happened in the window, newest first."""
    matches = Q(details__username=typed_username(username))
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
