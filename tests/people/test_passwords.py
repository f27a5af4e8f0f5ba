"""Changing a password: an administrator issues a new one-time password to a person who forgot
theirs (password, then code, then a new password), and anyone signed in changes their own."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role
from havenkit.people import accounts
from havenkit.people.models import User
from tests.conftest import PASSWORD, sign_in
from tests.people.helpers import (
    authenticator_of,
    code_from,
    events,
    give_code,
    give_password,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db

OWN_PASSWORD = "a passphrase of my own 31"


@pytest.fixture
def admin(make_person) -> User:
    return make_person(Role.ADMINISTRATOR, username="ada")


@pytest.fixture
def admin_client(admin) -> Client:
    return sign_in(Client(), admin)


@pytest.fixture
def priya(make_person) -> User:
    return make_person(Role.RESEARCHER, username="priya")


def issue(client: Client, person: User, reason: str = "Forgot it, ticket 42", **more: str):
    url = reverse("people:issue_one_time_password", args=[person.pk])
    return client.post(url, {"password-reason": reason, **more})


def shown_password(response) -> str:
    return re.search(r'id="one-time-password">([^<]+)<', response.content.decode()).group(1)


def no_secret_in_audit_log(*secrets: str) -> bool:
    logged = [str(event.details) for event in AuditEvent.objects.all()]
    return not any(secret in details for secret in secrets for details in logged)


def choose_password(client: Client, password: str = OWN_PASSWORD, again: str | None = None):
    return client.post(
        "/setup/password/", {"new_password": password, "new_password_again": again or password}
    )


# An administrator issues a new one-time password


def test_issuing_shows_a_one_time_password_once_and_ends_the_persons_sessions(
    admin_client, admin, priya
):
    priya_client = sign_in(Client(), priya)
    response = issue(admin_client, priya)
    assert response.status_code == 200
    page = response.content.decode()
    assert "New one-time password for priya" in page
    assert "a code from their authenticator app" in page
    password = shown_password(response)
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    priya.refresh_from_db()
    assert priya.must_change_password
    assert priya.check_password(password)
    assert not priya.check_password(PASSWORD)
    assert authenticator_of(priya)
    assert priya_client.get("/")["Location"].startswith("/login/")
    [issued] = events("person.one_time_password_issued")
    assert issued.actor == admin
    assert issued.details == {"username": "priya", "reason": "Forgot it, ticket 42", "sessions": 1}
    assert no_secret_in_audit_log(password)
    # Shown once: the person's page does not show it again.
    person_page = admin_client.get(reverse("people:person", args=[priya.pk])).content.decode()
    assert password not in person_page
    assert "One-time password: they choose their own" in person_page


def test_the_one_time_password_can_be_emailed_instead(admin_client, priya):
    priya.email = "priya@example.org"
    priya.save()
    response = issue(admin_client, priya, **{"password-send_by_email": "on"})
    assert 'id="one-time-password"' not in response.content.decode()
    assert "emailed to priya@example.org" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["priya@example.org"]
    assert "issued you a new one-time password" in message.body
    assert "enter a code from your authenticator app, then choose your own password" in (
        message.body
    )
    password = re.search(r"One-time password: (\S+)", message.body).group(1)
    priya.refresh_from_db()
    assert priya.check_password(password)
    assert events("person.password_emailed")[-1].details["to"] == "priya@example.org"
    assert no_secret_in_audit_log(password)


@pytest.mark.parametrize("reason", ["", "   "])
def test_issuing_needs_a_reason_and_changes_nothing_without_one(admin_client, priya, reason):
    priya_client = sign_in(Client(), priya)
    response = issue(admin_client, priya, reason=reason)
    assert response.status_code == 400
    assert "Give a reason: it is written to the audit log." in response.content.decode()
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
    assert not priya.must_change_password
    assert priya_client.get("/").status_code == 200
    assert not events("person.one_time_password_issued")


def test_an_inactive_account_is_not_given_a_one_time_password(admin_client, admin, priya):
    accounts.deactivate(priya, by=admin, reason="Left")
    response = issue(admin_client, priya)
    assert response.status_code == 400
    assert "priya&#x27;s account is not active, so it cannot sign in" in (response.content.decode())
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
    [refused] = events("person.one_time_password_issued")
    assert refused.outcome == Outcome.FAILURE


def test_an_administrator_cannot_issue_themselves_one(admin_client, admin):
    response = issue(admin_client, admin)
    assert response.status_code == 403
    assert "use Change your password instead" in response.content.decode()
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)
    page = admin_client.get(reverse("people:person", args=[admin.pk])).content.decode()
    assert "Issue a new one-time password" not in page
    assert 'href="/account/password/"' in page


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMINISTRATOR])
def test_every_other_role_is_refused_and_audited(signed_in_client, priya, role):
    response = issue(signed_in_client(role), priya)
    assert response.status_code == 403
    assert "This needs the administrator role." in response.content.decode()
    assert (
        events("access.denied")[-1]
        .details["path"]
        .endswith(reverse("people:issue_one_time_password", args=[priya.pk]))
    )
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
    assert not priya.must_change_password


# Signing in with it: password, then code, then a new password


def test_the_person_gives_the_one_time_password_then_a_code_then_a_new_password(
    admin_client, priya
):
    password = shown_password(issue(admin_client, priya))
    client = Client()
    assert give_password(client, "priya", PASSWORD).status_code == 200  # the old one is gone
    assert give_password(client, "priya", password)["Location"] == "/login/verify/"
    # Nothing but the code step opens: not setup, not any page of the haven.
    assert client.get("/setup/password/")["Location"] == "/login/verify/"
    assert client.get("/setup/authenticator/")["Location"] == "/login/verify/"
    assert client.get("/account/password/")["Location"] == "/login/verify/"

    assert give_code(client, code_from(authenticator_of(priya)))["Location"] == "/setup/password/"
    assert [event.details["method"] for event in events("login.code_accepted")] == ["totp"]
    assert not events("login.succeeded")
    # The code is right, but until the new password is chosen every other page stays shut.
    for path in ("/", "/account/accreditation/", "/account/password/", "/people/"):
        assert client.get(path)["Location"] == "/login/verify/", path
    assert client.get("/login/verify/")["Location"] == "/setup/"
    assert client.get("/setup/")["Location"] == "/setup/password/"
    assert client.get("/setup/authenticator/")["Location"] == "/setup/password/"
    assert client.get("/api/projects/").status_code == 401

    assert choose_password(client)["Location"] == "/"
    assert client.get("/").status_code == 200
    [succeeded] = events("login.succeeded")
    assert succeeded.details == {"method": "totp", "after": "new password"}
    priya.refresh_from_db()
    assert not priya.must_change_password
    assert priya.check_password(OWN_PASSWORD)
    assert not priya.check_password(password)
    assert TOTPDevice.objects.filter(user=priya).count() == 1
    assert no_secret_in_audit_log(password, OWN_PASSWORD)

    later = Client()
    assert give_password(later, "priya", OWN_PASSWORD)["Location"] == "/login/verify/"
    assert give_code(later, code_from(authenticator_of(priya), steps_ahead=1))["Location"] == "/"


def test_a_wrong_code_after_the_one_time_password_opens_nothing(admin_client, priya):
    password = shown_password(issue(admin_client, priya))
    client = Client()
    give_password(client, "priya", password)
    response = give_code(client, wrong_code_for(authenticator_of(priya)))
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/setup/password/")["Location"] == "/login/verify/"
    assert choose_password(client)["Location"] == "/login/verify/"
    priya.refresh_from_db()
    assert priya.must_change_password
    assert priya.check_password(password)
    assert events("login.code_failed")[-1].outcome == Outcome.DENIED


def test_a_recovery_code_may_stand_in_for_the_authenticator(admin_client, priya):
    recovery_codes = StaticDevice.objects.create(user=priya, name="recovery codes")
    recovery_codes.token_set.create(token="123456789012")
    password = shown_password(issue(admin_client, priya))
    client = Client()
    give_password(client, "priya", password)
    assert give_code(client, "1234 5678 9012")["Location"] == "/setup/password/"
    assert "You have 0 left" in client.get("/setup/password/").content.decode()
    assert choose_password(client)["Location"] == "/"
    assert events("login.succeeded")[-1].details["method"] == "recovery_code"


def test_a_held_session_is_never_verified_by_another_persons_device(
    admin_client, priya, make_person
):
    """The device remembered in the session must be the signed-in person's own."""
    other = make_person(Role.RESEARCHER, username="other")
    password = shown_password(issue(admin_client, priya))
    client = Client()
    give_password(client, "priya", password)
    session = client.session
    session["havenkit_code_accepted_before_new_password"] = authenticator_of(other).persistent_id
    session.save()
    assert choose_password(client)["Location"] == "/login/verify/"
    assert client.get("/")["Location"] == "/login/verify/"
    assert not events("login.succeeded")


def test_a_new_password_that_will_not_do_keeps_the_session_held(admin_client, priya):
    password = shown_password(issue(admin_client, priya))
    client = Client()
    give_password(client, "priya", password)
    give_code(client, code_from(authenticator_of(priya)))
    response = choose_password(client, "short")
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    response = choose_password(client, OWN_PASSWORD, "a different passphrase 5")
    assert "The two passwords are not the same." in response.content.decode()
    assert client.get("/")["Location"] == "/login/verify/"
    priya.refresh_from_db()
    assert priya.check_password(password)


def test_without_an_authenticator_the_person_sets_one_up_after_the_new_password(
    admin_client, admin, priya
):
    accounts.reset_second_factor(priya, by=admin, reason="Lost phone")
    response = issue(admin_client, priya)
    assert "choose their own password, then set up an authenticator app" in (
        response.content.decode()
    )
    client = Client()
    assert give_password(client, "priya", shown_password(response))["Location"] == "/setup/"
    assert client.get("/setup/")["Location"] == "/setup/password/"
    assert "step 1 of 3" in client.get("/setup/password/").content.decode()
    assert choose_password(client)["Location"] == "/setup/authenticator/"


# Changing your own password


@pytest.fixture
def priya_client(priya) -> Client:
    return sign_in(Client(), priya)


def change(client: Client, current: str = PASSWORD, new: str = OWN_PASSWORD, again=None):
    return client.post(
        reverse("people:change_password"),
        {"old_password": current, "new_password1": new, "new_password2": again or new},
    )


def test_the_page_is_linked_from_the_account_area(priya_client):
    home = priya_client.get("/").content.decode()
    assert 'href="/account/password/">Change your password</a>' in home
    page = priya_client.get(reverse("people:change_password"))
    assert page.status_code == 200
    assert '<label class="nhsuk-label" for="id_old_password">Current password</label>' in (
        page.content.decode()
    )


def test_changing_your_password_keeps_this_session_and_ends_the_others(priya_client, priya):
    elsewhere = sign_in(Client(), priya)
    response = change(priya_client)
    assert response["Location"] == reverse("people:my_accreditation")
    confirmation = priya_client.get(response["Location"]).content.decode()
    assert "Your password is changed." in confirmation
    assert priya_client.get("/").status_code == 200
    assert elsewhere.get("/")["Location"].startswith("/login/")
    assert Session.objects.count() == 1
    priya.refresh_from_db()
    assert priya.check_password(OWN_PASSWORD)
    [changed] = events("person.password_changed")
    assert changed.actor == priya
    assert changed.details == {"other_sessions_ended": 1}
    assert no_secret_in_audit_log(PASSWORD, OWN_PASSWORD)
    assert give_password(Client(), "priya", OWN_PASSWORD)["Location"] == "/login/verify/"


def test_the_person_is_told_by_email_that_their_password_changed(
    priya_client, priya, mailoutbox, settings
):
    settings.HAVEN_NAME = "Lothian Safe Haven"
    priya.email = "priya@example.ac.uk"
    priya.save(update_fields=["email"])
    change(priya_client)
    [notice] = mailoutbox
    assert notice.to == ["priya@example.ac.uk"]
    assert notice.subject == "Your Lothian Safe Haven password was changed"
    assert "If you did not change it, contact the haven's administrators" in notice.body
    assert OWN_PASSWORD not in notice.body
    assert PASSWORD not in notice.body


def test_no_email_is_sent_for_a_refused_change_or_to_an_account_without_address(
    priya_client, priya, mailoutbox
):
    priya.email = "priya@example.ac.uk"
    priya.save(update_fields=["email"])
    change(priya_client, current="not my password")
    assert mailoutbox == []
    priya.email = ""
    priya.save(update_fields=["email"])
    change(priya_client)
    assert mailoutbox == []
    priya.refresh_from_db()
    assert priya.check_password(OWN_PASSWORD)


def test_a_wrong_current_password_changes_nothing_and_is_audited(priya_client, priya):
    response = change(priya_client, current="not my password")
    assert response.status_code == 400
    assert "Your current password is not right. Nothing was changed." in (response.content.decode())
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
    [failed] = events("person.password_change_failed")
    assert failed.outcome == Outcome.DENIED
    assert failed.details == {"username": "priya"}
    assert not events("person.password_changed")
    assert no_secret_in_audit_log("not my password", OWN_PASSWORD)


@pytest.mark.parametrize(
    ("new", "again", "message"),
    [
        (OWN_PASSWORD, "a different passphrase 5", "The two new passwords are not the same."),
        ("short1", None, "This password is too short. It must contain at least 12 characters."),
        ("password1234", None, "This password is too common."),
        ("priya12", None, "The password is too similar to the username."),
        (PASSWORD, None, "Choose a new password, not the one you have now."),
        ("", "", "Enter a new password."),
    ],
)
def test_a_new_password_that_will_not_do_is_explained(priya_client, priya, new, again, message):
    response = change(priya_client, new=new, again=again)
    assert response.status_code == 400
    assert message in response.content.decode()
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
    assert not events("person.password_changed")
    assert not events("person.password_change_failed")


def test_an_empty_form_says_what_is_missing(priya_client):
    response = priya_client.post(reverse("people:change_password"), {})
    page = response.content.decode()
    assert response.status_code == 400
    for message in ("Enter your current password.", "Enter your new password again."):
        assert message in page


def test_wrong_current_passwords_count_towards_the_sign_in_rate_limit(
    priya_client, priya, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 15
    for _ in range(3):
        change(priya_client, current="a wrong guess")
    response = change(priya_client)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Too many wrong passwords lately: try again in 15 minutes. Nothing was changed." in page
    assert "sign-in attempts" not in page
    assert events("login.rate_limited")[-1].details == {
        "username": "priya",
        "step": "password_change",
    }
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
    # The same failures hold the sign-in page shut for this person too.
    refused = give_password(Client(), "priya", PASSWORD)
    assert "Too many failed sign-in attempts." in refused.content.decode()


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_change_their_own_password(signed_in_client, make_person, role):
    person = make_person(role)
    response = change(signed_in_client(person=person))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(OWN_PASSWORD)


def test_signing_in_is_needed_first(client, priya):
    assert client.get(reverse("people:change_password"))["Location"].startswith("/login/")
    assert change(client)["Location"].startswith("/login/")
    priya.refresh_from_db()
    assert priya.check_password(PASSWORD)
