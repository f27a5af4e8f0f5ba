"""Fixtures for safe people: a clock tests can move, and people cleared for project access.

Imported by the conftest of tests/people and tests/projects."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from havenkit.people import accreditation
from havenkit.people.models import Accreditation, User


class Clock:
    """Stands in for ``django.utils.timezone.now``: every date havenkit reads comes from it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def today(self) -> date:
        return timezone.localdate(self.now)

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def clear(make_person) -> Callable[..., Accreditation]:
    """Give a person a verified accreditation expiring after ``days`` and a signed agreement."""

    def make(person: User, days: int = 365) -> Accreditation:
        return accreditation.record_checked_training(
            person,
            expires_on=timezone.localdate() + timedelta(days=days),
            checked_by=None,
        )

    return make


def unclear(person: User) -> User:
    """Take away whatever clearance a fixture gave this person: no training, no signature."""
    person.accreditations.all().delete()
    person.agreement_signatures.all().delete()
    return person
