"""First login, one guided flow: own password, authenticator, recovery codes; in that order."""

import re

import pytest
import segno
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core.roles import Role
from havenkit.people import services as people
from tests.people.helpers import (
    authenticator_of,
    code_from,
    events,
    give_code,
    give_password,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db

GIVEN_PASSWORD = "given by the administrator 42"
OWN_PASSWORD = "my own long passphrase 7"
NEXT = "?next=%2Faudit%2F"


@pytest.fixture
def newcomer():
    return people.create_person("newcomer", GIVEN_PASSWORD, roles=[Role.AUDITOR])


def choose_password(client: Client, password: str, again: str | None = None):
    return client.post(
        "/setup/password/",
        {"new_password": password, "new_password_again": again or password, "next": "/audit/"},
    )


def enrolling_device(person) -> TOTPDevice:
    return TOTPDevice.objects.get(user=person, confirmed=False)


def test_first_login_from_password_to_recovery_codes(client, newcomer, settings):
    response = client.post(
        "/login/",
        {"username": "newcomer", "password": GIVEN_PASSWORD, "next": "/audit/"},
    )
    assert response["Location"] == "/setup/" + NEXT
    assert client.get("/setup/" + NEXT)["Location"] == "/setup/password/" + NEXT
    page = client.get("/setup/password/" + NEXT).content.decode()
    assert "step 1 of 3" in page
    assert 'aria-current="step"' in page

    assert choose_password(client, OWN_PASSWORD)["Location"] == "/setup/authenticator/" + NEXT
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password
    assert newcomer.check_password(OWN_PASSWORD)
    assert len(events("setup.password_changed")) == 1

    page = client.get("/setup/authenticator/" + NEXT).content.decode()
    device = enrolling_device(newcomer)
    assert f"issuer={settings.OTP_TOTP_ISSUER}" in device.config_url
    expected_qr = segno.make(device.config_url, error="m").svg_inline(scale=4, light="#ffffff")
    assert expected_qr in page
    secret = re.search(r'<code id="manual-entry-key">([A-Z2-7 ]+)</code>', page).group(1)
    assert secret.replace(" ", "") == device.config_url.split("secret=")[1].split("&")[0]
    assert client.get("/audit/")["Location"] == "/login/verify/"

    response = client.post("/setup/authenticator/", {"code": code_from(device), "next": "/audit/"})
    assert response["Location"] == "/setup/recovery-codes/" + NEXT
    device.refresh_from_db()
    assert device.confirmed
    assert len(events("setup.authenticator_enrolled")) == 1

    page = client.get("/setup/recovery-codes/" + NEXT).content.decode()
    shown = re.findall(r"<li><code>(\d{4} \d{4} \d{4})</code></li>", page)
    assert len(shown) == 10
    stored = set(StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True))
    assert {code.replace(" ", "") for code in shown} == stored
    assert 'href="/audit/"' in page
    assert events("setup.recovery_codes_issued")[0].details == {"count": 10}
    assert client.get("/audit/").status_code == 200

    # The codes are shown once; setup is finished and cannot be entered again.
    assert client.get("/setup/recovery-codes/")["Location"] == "/"
    assert client.get("/setup/authenticator/")["Location"] == "/"
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1

    later = Client()
    assert give_password(later, "newcomer", OWN_PASSWORD)["Location"] == "/login/verify/"
    assert give_code(later, shown[0])["Location"] == "/"


def test_steps_cannot_be_skipped(client, newcomer):
    give_password(client, "newcomer", GIVEN_PASSWORD)
    assert client.get("/setup/authenticator/")["Location"] == "/setup/password/"
    assert client.get("/setup/recovery-codes/")["Location"] == "/setup/password/"
    assert client.get("/login/verify/")["Location"] == "/setup/"
    assert not TOTPDevice.objects.filter(user=newcomer).exists()


def test_setup_needs_a_password_first(client):
    assert client.get("/setup/password/")["Location"] == "/login/"
    assert client.get("/setup/")["Location"] == "/login/"


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        (GIVEN_PASSWORD, GIVEN_PASSWORD, "must be different from the one you were given"),
        (OWN_PASSWORD, OWN_PASSWORD + "x", "The two passwords are not the same."),
        ("short1", "short1", "at least 12 characters"),
    ],
)
def test_a_password_that_will_not_do_is_explained(client, newcomer, password, again, message):
    give_password(client, "newcomer", GIVEN_PASSWORD)
    response = choose_password(client, password, again)
    assert response.status_code == 200
    assert message in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.must_change_password
    assert newcomer.check_password(GIVEN_PASSWORD)


def test_wrong_enrolment_code_leaves_the_authenticator_unconfirmed(client, newcomer):
    give_password(client, "newcomer", GIVEN_PASSWORD)
    choose_password(client, OWN_PASSWORD)
    client.get("/setup/authenticator/")
    device = enrolling_device(newcomer)
    response = client.post("/setup/authenticator/", {"code": wrong_code_for(device)})
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert len(events("setup.code_failed")) == 1
    assert client.get("/audit/")["Location"] == "/login/verify/"


def test_the_same_authenticator_is_shown_on_every_visit(client, newcomer):
    give_password(client, "newcomer", GIVEN_PASSWORD)
    choose_password(client, OWN_PASSWORD)
    client.get("/setup/authenticator/")
    client.get("/setup/authenticator/")
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1


def test_reset_password_with_an_authenticator_asks_for_the_code_before_the_new_password(
    client, make_person
):
    """An administrator's reset asks for a new password, but never lets the device be replaced,
    and the one-time password alone cannot choose the new one: the code comes first."""
    person = make_person(Role.AUDITOR)
    person.must_change_password = True
    person.save()
    assert give_password(client, person.username)["Location"] == "/login/verify/"
    assert client.get("/setup/password/")["Location"] == "/login/verify/"
    assert client.get("/setup/authenticator/")["Location"] == "/login/verify/"
    response = client.post("/login/verify/", {"code": code_from(authenticator_of(person))})
    assert response["Location"] == "/setup/password/"
    page = client.get("/setup/password/").content.decode()
    assert "step 1 of 3" not in page
    assert choose_password(client, OWN_PASSWORD)["Location"] == "/audit/"
    assert client.get("/setup/authenticator/")["Location"] == "/"
    assert TOTPDevice.objects.filter(user=person).count() == 1
