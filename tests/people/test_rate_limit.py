"""Failed sign-ins are counted from the audit log, per username and per address."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from havenkit.core.models import Outcome
from havenkit.core.roles import Role
from havenkit.people import accounts, login_throttle
from tests.people.helpers import (
    authenticator_of,
    code_from,
    events,
    give_code,
    give_password,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed sign-in attempts. Try again in 15 minutes."


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 15


def fail_password(username: str, times: int, address: str) -> None:
    for _ in range(times):
        give_password(Client(), username, "a wrong guess", REMOTE_ADDR=address)


def test_the_limit_refuses_even_the_right_password_and_is_audited(client, make_person):
    person = make_person(Role.AUDITOR)
    fail_password(person.username, 2, "10.0.0.1")
    assert give_password(client, person.username, REMOTE_ADDR="10.0.0.1").status_code == 302
    client.logout()

    fail_password(person.username, 1, "10.0.0.1")
    response = give_password(client, person.username, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session
    [limited] = events("login.rate_limited")
    assert limited.outcome == Outcome.DENIED
    assert limited.details == {"username": person.username, "step": "password"}


def test_failures_count_per_username_from_any_address(make_person):
    person = make_person(Role.AUDITOR)
    fail_password(person.username, 3, "10.0.0.1")
    response = give_password(Client(), person.username, REMOTE_ADDR="10.0.0.2")
    assert TOO_MANY in response.content.decode()


def test_failures_count_per_address_for_any_username(make_person):
    person = make_person(Role.AUDITOR)
    for guess in ("alice", "bob", "carol"):
        give_password(Client(), guess, "a wrong guess", REMOTE_ADDR="10.0.0.1")
    from_same_address = give_password(Client(), person.username, REMOTE_ADDR="10.0.0.1")
    assert TOO_MANY in from_same_address.content.decode()
    from_elsewhere = give_password(Client(), person.username, REMOTE_ADDR="10.0.0.2")
    assert from_elsewhere.status_code == 302


def test_wrong_codes_count_against_the_username(settings, client, make_person):
    # django-otp's own back-off would make each next code wait; it has its own test.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    person = make_person(Role.AUDITOR)
    device = authenticator_of(person)
    give_password(client, person.username)
    for _ in range(3):
        assert (
            "That code is not right" in give_code(client, wrong_code_for(device)).content.decode()
        )

    response = give_code(client, code_from(device))
    assert TOO_MANY in response.content.decode()
    assert client.get("/audit/").status_code == 302
    assert events("login.rate_limited")[-1].details["step"] == "code"
    refused = give_password(Client(), person.username, REMOTE_ADDR="10.9.9.9")
    assert TOO_MANY in refused.content.decode()


def test_no_failures_means_no_wait():
    assert login_throttle.minutes_until_retry("someone", "10.0.0.1") is None


def test_the_wait_counts_down_and_ends_when_the_failures_leave_the_window(monkeypatch):
    fail_password("someone", 3, "10.0.0.1")
    assert login_throttle.minutes_until_retry("someone", "10.0.0.1") == 15
    now = timezone.now()
    monkeypatch.setattr(login_throttle.timezone, "now", lambda: now + timedelta(minutes=10))
    assert login_throttle.minutes_until_retry("someone", "10.0.0.1") == 5
    monkeypatch.setattr(
        login_throttle.timezone, "now", lambda: now + timedelta(minutes=15, seconds=1)
    )
    assert login_throttle.minutes_until_retry("someone", "10.0.0.1") is None


# A new one-time password: the administrator has checked who the person is


def test_a_new_one_time_password_clears_the_usernames_earlier_failures(make_person):
    person = make_person(Role.RESEARCHER)
    admin = make_person(Role.ADMINISTRATOR)
    fail_password(person.username, 3, "10.0.0.1")
    assert (
        TOO_MANY
        in give_password(Client(), person.username, REMOTE_ADDR="10.0.0.2").content.decode()
    )

    password = accounts.issue_one_time_password(person, by=admin, reason="Forgot it, ticket 7")
    assert login_throttle.minutes_until_retry(person.username, "10.0.0.2") is None
    signed_in = give_password(Client(), person.username, password, REMOTE_ADDR="10.0.0.2")
    assert signed_in["Location"] == "/login/verify/"


def test_failures_after_the_new_password_count_again(make_person):
    person = make_person(Role.RESEARCHER)
    fail_password(person.username, 3, "10.0.0.1")
    accounts.issue_one_time_password(
        person, by=make_person(Role.ADMINISTRATOR), reason="Forgot it, ticket 7"
    )
    fail_password(person.username, 2, "10.0.0.2")
    assert login_throttle.minutes_until_retry(person.username, "10.0.0.3") is None
    fail_password(person.username, 1, "10.0.0.2")
    assert login_throttle.minutes_until_retry(person.username, "10.0.0.3") == 15


def test_failures_from_an_address_still_hold_it_after_a_new_password(make_person):
    person = make_person(Role.RESEARCHER)
    fail_password(person.username, 3, "10.0.0.1")
    password = accounts.issue_one_time_password(
        person, by=make_person(Role.ADMINISTRATOR), reason="Forgot it, ticket 7"
    )
    refused = give_password(Client(), person.username, password, REMOTE_ADDR="10.0.0.1")
    assert TOO_MANY in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_a_new_password_for_someone_else_clears_nothing(make_person):
    person, other = make_person(Role.RESEARCHER), make_person(Role.RESEARCHER)
    fail_password(person.username, 3, "10.0.0.1")
    accounts.issue_one_time_password(
        other, by=make_person(Role.ADMINISTRATOR), reason="Forgot it, ticket 7"
    )
    assert login_throttle.minutes_until_retry(person.username, "10.0.0.2") == 15
