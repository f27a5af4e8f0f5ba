"""Signing in: password, then a TOTP code or a recovery code; every failure audited."""

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from havenkit.core.models import Outcome
from havenkit.core.roles import Role
from tests.conftest import PASSWORD
from tests.people.helpers import (
    authenticator_of,
    code_from,
    events,
    give_code,
    give_password,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db

WRONG_PASSWORD_MESSAGE = "Your username or password is not right."


def reaches_audit_log(client: Client) -> bool:
    """Only a session with both factors gets past the gate to an auditor's page."""
    return client.get("/audit/").status_code == 200


def test_login_page_has_the_labelled_fields_and_button(client):
    page = client.get("/login/").content.decode()
    assert '<label class="nhsuk-label" for="id_username">Username</label>' in page
    assert '<label class="nhsuk-label" for="id_password">Password</label>' in page
    assert 'autocomplete="current-password"' in page
    assert ">Sign in</button>" in page


def test_password_then_code_signs_in_and_lands_on_the_page_asked_for(client, make_person):
    person = make_person(Role.AUDITOR)
    response = client.post(
        "/login/?next=/audit/",
        {"username": person.username, "password": PASSWORD, "next": "/audit/"},
    )
    assert response["Location"] == "/login/verify/?next=%2Faudit%2F"
    assert client.get("/audit/")["Location"] == "/login/verify/"

    page = client.get("/login/verify/?next=/audit/").content.decode()
    assert '<label class="nhsuk-label" for="id_code">Code</label>' in page
    assert 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page
    assert '<input type="hidden" name="next" value="/audit/">' in page
    assert ">Continue</button>" in page
    key_before = client.session.session_key

    response = client.post(
        "/login/verify/", {"code": code_from(authenticator_of(person)), "next": "/audit/"}
    )
    assert response["Location"] == "/audit/"
    assert client.session.session_key != key_before
    assert reaches_audit_log(client)
    [succeeded] = events("login.succeeded")
    assert succeeded.actor == person
    assert succeeded.details == {"method": "totp"}


def test_code_step_without_next_lands_on_home(client, make_person):
    person = make_person(Role.RESEARCHER)
    assert give_password(client, person.username)["Location"] == "/login/verify/"
    assert give_code(client, code_from(authenticator_of(person)))["Location"] == "/"


def test_wrong_password_is_refused_with_a_generic_message_and_audited(client, make_person):
    person = make_person(Role.AUDITOR)
    response = give_password(client, person.username, "not the password at all")
    assert response.status_code == 200
    page = response.content.decode()
    assert WRONG_PASSWORD_MESSAGE in page
    assert "nhsuk-error-summary" in page
    assert "_auth_user_id" not in client.session
    [failed] = events("login.failed")
    assert failed.outcome == Outcome.DENIED
    assert failed.details == {"username": person.username}
    assert "not the password at all" not in str(failed.details)


def test_unknown_username_gets_the_same_message_and_is_audited_as_typed(client):
    typed = "nobody-" + "x" * 200
    page = give_password(client, typed, "whatever it is").content.decode()
    assert WRONG_PASSWORD_MESSAGE in page
    [failed] = events("login.failed")
    assert failed.details == {"username": typed[:150]}
    assert failed.actor is None


def test_inactive_account_cannot_sign_in_even_with_the_right_password(client, make_person):
    person = make_person(Role.AUDITOR)
    person.is_active = False
    person.save()
    page = give_password(client, person.username).content.decode()
    assert WRONG_PASSWORD_MESSAGE in page
    assert "_auth_user_id" not in client.session
    assert len(events("login.failed")) == 1


def test_wrong_code_is_refused_with_a_clear_error_and_audited(client, make_person):
    person = make_person(Role.AUDITOR)
    give_password(client, person.username)
    wrong = wrong_code_for(authenticator_of(person))
    response = give_code(client, wrong)
    assert response.status_code == 200
    page = response.content.decode()
    assert "That code is not right" in page
    assert "nhsuk-error-summary" in page
    assert 'id="id_code-error"' in page
    assert 'aria-describedby="id_code-hint id_code-error"' in page
    assert not reaches_audit_log(client)
    [failed] = events("login.code_failed")
    assert failed.outcome == Outcome.DENIED
    assert failed.actor == person
    assert wrong not in str(failed.details)


def test_code_of_the_wrong_shape_is_explained_not_counted(client, make_person):
    person = make_person(Role.AUDITOR)
    give_password(client, person.username)
    page = give_code(client, "12ab").content.decode()
    assert "Enter the 6-digit code from your authenticator app" in page
    assert events("login.code_failed") == []


def test_a_code_that_was_used_once_is_refused_the_second_time(make_person):
    person = make_person(Role.AUDITOR)
    code = code_from(authenticator_of(person))
    first, second = Client(), Client()
    give_password(first, person.username)
    assert give_code(first, code)["Location"] == "/"
    give_password(second, person.username)
    assert "That code is not right" in give_code(second, code).content.decode()
    assert not reaches_audit_log(second)
    assert len(events("login.code_failed")) == 1


def test_next_time_step_code_signs_in_again_after_a_first_login(make_person):
    person = make_person(Role.AUDITOR)
    first, second = Client(), Client()
    give_password(first, person.username)
    give_code(first, code_from(authenticator_of(person)))
    give_password(second, person.username)
    give_code(second, code_from(authenticator_of(person), steps_ahead=1))
    assert reaches_audit_log(second)


def test_recovery_code_signs_in_once(make_person):
    person = make_person(Role.AUDITOR)
    device = StaticDevice.objects.create(user=person, name="recovery codes", confirmed=True)
    StaticToken.objects.create(device=device, token="123456789012")
    StaticToken.objects.create(device=device, token="210987654321")

    first = Client()
    give_password(first, person.username)
    assert give_code(first, "1234 5678 9012")["Location"] == "/"
    landing = first.get("/audit/")
    assert landing.status_code == 200
    assert "You have 1 left" in landing.content.decode()
    assert events("login.succeeded")[-1].details == {"method": "recovery_code"}

    second = Client()
    give_password(second, person.username)
    assert "That code is not right" in give_code(second, "123456789012").content.decode()
    assert not reaches_audit_log(second)
    assert events("login.code_failed")[-1].details["method"] == "recovery_code"


def test_a_second_wrong_code_at_once_is_told_to_wait(client, make_person):
    """django-otp's own throttling: each wrong code makes the next wait longer."""
    person = make_person(Role.AUDITOR)
    give_password(client, person.username)
    give_code(client, wrong_code_for(authenticator_of(person)))
    page = give_code(client, code_from(authenticator_of(person))).content.decode()
    assert "Wait 1 second" in page
    assert not reaches_audit_log(client)
    assert events("login.rate_limited")[-1].details["step"] == "code"


def test_logout_is_post_only_and_audited(make_person, signed_in_client):
    person = make_person(Role.AUDITOR)
    client = signed_in_client(person=person)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    [logout] = events("login.logout")
    assert logout.actor == person


def test_signed_in_person_visiting_login_goes_on_to_the_page(make_person, signed_in_client):
    client = signed_in_client(Role.AUDITOR)
    assert client.get("/login/?next=/audit/")["Location"] == "/audit/"
