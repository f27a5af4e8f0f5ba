"""The administrator's People pages: every account, creating one, roles, deactivation and
second-factor resets; each change with a reason, audited, refused for anyone else."""

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
from havenkit.people.models import IdentityStatus, RoleGrant, User
from tests.conftest import PASSWORD, sign_in
from tests.people.helpers import events, give_password

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {
    "username": "olive",
    "full_name": "Olive Checker",
    "email": "olive@example.org",
    "roles": ["output_checker"],
}


@pytest.fixture
def admin(make_person) -> User:
    return make_person(Role.ADMINISTRATOR, username="ada")


@pytest.fixture
def admin_client(admin) -> Client:
    return sign_in(Client(), admin)


def create(client: Client, **changes):
    return client.post(reverse("people:new_person"), {**NEW_ACCOUNT, **changes})


def one_time_password(response) -> str:
    return re.search(r'id="one-time-password">([^<]+)<', response.content.decode()).group(1)


def act(client: Client, url_name: str, person: User, **data: str):
    return client.post(reverse(f"people:{url_name}", args=[person.pk]), data)


def refusals(action: str) -> list[AuditEvent]:
    return [event for event in events(action) if event.outcome == Outcome.FAILURE]


# The list


def test_the_list_shows_roles_accreditation_second_factor_and_state(admin_client, make_person):
    make_person(Role.PI, Role.RESEARCHER, username="priya")
    accounts.create_account(
        username="newbie",
        full_name="New Bie",
        email="n@example.org",
        roles=["auditor"],
        created_by=None,
    )
    page = admin_client.get(reverse("people:people")).content.decode()
    priya_row = re.search(r"priya</td>.*?</tr>", page, re.S).group(0)
    assert "Principal investigator, Researcher" in priya_row
    assert "Accredited until" in priya_row
    assert "Set up" in priya_row
    assert "Active" in priya_row
    newbie_row = re.search(r"newbie</td>.*?</tr>", page, re.S).group(0)
    assert "No training recorded" in newbie_row
    assert "Not set up" in newbie_row


def test_the_list_searches_names_and_usernames_and_is_paginated(admin_client, make_person):
    for number in range(30):
        make_person(Role.RESEARCHER, username=f"member{number:02d}")
    make_person(Role.RESEARCHER, username="zed")
    User.objects.filter(username="zed").update(first_name="Rosa", last_name="Lind")
    found = admin_client.get(reverse("people:people"), {"q": "rosa lind"}).content.decode()
    assert "zed" in found
    assert "member00" not in found
    first = admin_client.get(reverse("people:people")).content.decode()
    assert "member00" in first
    assert "zed" not in first
    assert "page 2 of 2" in first
    second = admin_client.get(reverse("people:people"), {"page": 2}).content.decode()
    assert "zed" in second
    assert "member00" not in second


# Creating an account


def test_a_created_account_gets_a_one_time_password_shown_once(admin_client, admin):
    response = create(admin_client)
    assert response.status_code == 200
    password = one_time_password(response)
    olive = User.objects.get(username="olive")
    assert olive.role_names() == ["output_checker"]
    assert olive.must_change_password
    assert olive.email == "olive@example.org"
    assert olive.get_full_name() == "Olive Checker"
    assert olive.identity_status == IdentityStatus.VERIFIED
    assert olive.is_active
    assert events("person.created")[-1].actor == admin
    assert events("role.granted")[-1].details["role"] == "output_checker"
    assert password not in str([event.details for event in AuditEvent.objects.all()])
    assert (
        password not in admin_client.get(reverse("people:person", args=[olive.pk])).content.decode()
    )
    newcomer = Client()
    assert give_password(newcomer, "olive", password)["Location"] == "/setup/"
    assert newcomer.get("/setup/")["Location"] == "/setup/password/"


def test_the_one_time_password_can_be_emailed_instead(admin_client):
    response = create(admin_client, send_by_email="on")
    assert "emailed to olive@example.org" in response.content.decode()
    assert 'id="one-time-password"' not in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["olive@example.org"]
    password = re.search(r"One-time password: (\S+)", message.body).group(1)
    assert User.objects.get(username="olive").check_password(password)
    assert events("person.password_emailed")[-1].details == {
        "username": "olive",
        "to": "olive@example.org",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "ADA"}, "The username ADA is taken"),
        ({"email": "ada@example.org"}, "Another account already uses ada@example.org"),
        ({"email": "not-an-email"}, "Enter an email address like name@example.org."),
        ({"roles": ["superuser"]}, "superuser is not a role in this haven"),
        ({"roles": []}, "Choose at least one role."),
        ({"username": "olive smith"}, "A username may hold only letters"),
        ({"full_name": ""}, "Enter the full name."),
    ],
)
def test_bad_input_creates_nothing(admin_client, admin, changes, message):
    User.objects.filter(pk=admin.pk).update(email="ada@example.org")
    before = User.objects.count()
    response = create(admin_client, **changes)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "There is a problem" in response.content.decode()
    assert User.objects.count() == before


# Roles


def test_granting_a_role_takes_a_reason_and_is_audited(admin_client, admin, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    response = act(
        admin_client, "grant_role", priya, **{"grant-role": "pi", "grant-reason": "PI of T-7"}
    )
    assert response.status_code == 302
    assert "pi" in priya.role_names()
    event = events("role.granted")[-1]
    assert (event.actor, event.details["reason"], event.details["role"]) == (
        admin,
        "PI of T-7",
        "pi",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grant-role": "pi", "grant-reason": "  "}, "Give a reason"),
        ({"grant-role": "wizard", "grant-reason": "x"}, "wizard is not a role in this haven"),
        ({"grant-role": "researcher", "grant-reason": "x"}, "already has the Researcher role"),
    ],
)
def test_a_refused_grant_changes_nothing(admin_client, make_person, data, message):
    priya = make_person(Role.RESEARCHER, username="priya")
    response = act(admin_client, "grant_role", priya, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert priya.role_names() == ["researcher"]


def test_a_service_refusal_is_audited(admin_client, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    act(admin_client, "grant_role", priya, **{"grant-role": "researcher", "grant-reason": "x"})
    assert refusals("role.granted")[-1].details["refused"].startswith("priya already has")


def test_revoking_a_role_takes_effect_and_is_audited(admin_client, make_person):
    priya = make_person(Role.RESEARCHER, Role.PI, username="priya")
    response = act(
        admin_client, "revoke_role", priya, **{"revoke-role": "pi", "revoke-reason": "Project over"}
    )
    assert response.status_code == 302
    assert priya.role_names() == ["researcher"]
    assert events("role.revoked")[-1].details == {
        "username": "priya",
        "reason": "Project over",
        "role": "pi",
    }


def test_revoking_a_role_not_held_is_refused(admin_client, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    response = act(
        admin_client, "revoke_role", priya, **{"revoke-role": "pi", "revoke-reason": "x"}
    )
    assert response.status_code == 400
    assert "priya does not have the Principal investigator role" in response.content.decode()


def test_an_administrator_cannot_remove_their_own_administrator_role(
    admin_client, admin, make_person
):
    make_person(Role.ADMINISTRATOR, username="second")
    response = act(
        admin_client, "revoke_role", admin, **{"revoke-role": "administrator", "revoke-reason": "x"}
    )
    assert response.status_code == 400
    assert "You cannot remove your own administrator role" in response.content.decode()
    assert admin.has_role(Role.ADMINISTRATOR)


def test_another_administrator_can_remove_an_administrator_role(admin_client, make_person):
    second = make_person(Role.ADMINISTRATOR, username="second")
    act(
        admin_client,
        "revoke_role",
        second,
        **{"revoke-role": "administrator", "revoke-reason": "Left"},
    )
    assert not second.has_role(Role.ADMINISTRATOR)


def test_the_last_active_administrator_is_never_removed_or_deactivated(admin, make_person):
    helper = make_person(Role.RESEARCHER)
    with pytest.raises(accounts.AccountError, match="last active administrator"):
        accounts.revoke(admin, "administrator", by=helper, reason="x")
    with pytest.raises(accounts.AccountError, match="last active administrator"):
        accounts.deactivate(admin, by=helper, reason="x")
    admin.refresh_from_db()
    assert admin.is_active
    assert admin.has_role(Role.ADMINISTRATOR)


def test_a_deactivated_administrator_does_not_count_as_another(admin, make_person):
    second = make_person(Role.ADMINISTRATOR, username="second")
    accounts.deactivate(second, by=admin, reason="On leave")
    with pytest.raises(accounts.AccountError, match="last active administrator"):
        accounts.revoke(admin, "administrator", by=second, reason="x")


# Deactivating and reactivating


def test_deactivating_ends_the_persons_sessions_at_once(admin_client, admin, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    priya_client = sign_in(Client(), priya)
    assert priya_client.get("/").status_code == 200
    response = act(admin_client, "deactivate", priya, **{"status-reason": "Left the university"})
    assert response.status_code == 302
    priya.refresh_from_db()
    assert not priya.is_active
    assert priya_client.get("/")["Location"].startswith("/login/")
    assert events("person.deactivated")[-1].details == {
        "username": "priya",
        "reason": "Left the university",
        "sessions": 1,
    }
    assert Session.objects.count() == 1, "the administrator's own session stays"
    give_password(Client(), "priya")
    assert events("login.failed")


def test_a_deactivated_persons_session_is_refused_even_if_not_deleted(make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    priya_client = sign_in(Client(), priya)
    User.objects.filter(pk=priya.pk).update(is_active=False)
    assert priya_client.get("/")["Location"].startswith("/login/")


def test_deactivation_needs_a_reason(admin_client, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    response = act(admin_client, "deactivate", priya, **{"status-reason": ""})
    assert response.status_code == 400
    assert "Give a reason: it is written to the audit log." in response.content.decode()
    priya.refresh_from_db()
    assert priya.is_active


def test_an_administrator_cannot_deactivate_themselves(admin_client, admin):
    response = act(admin_client, "deactivate", admin, **{"status-reason": "x"})
    assert response.status_code == 403
    assert "You cannot deactivate your own account" in response.content.decode()
    assert events("access.denied")[-1].actor == admin
    admin.refresh_from_db()
    assert admin.is_active


def test_reactivating_restores_the_account_with_its_roles(admin_client, admin, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    accounts.deactivate(priya, by=admin, reason="Leave")
    response = act(admin_client, "reactivate", priya, **{"status-reason": "Back from leave"})
    assert response.status_code == 302
    priya.refresh_from_db()
    assert priya.is_active
    assert priya.has_role(Role.RESEARCHER)
    assert events("person.reactivated")[-1].details["reason"] == "Back from leave"


def test_reactivating_cannot_skip_an_identity_check(admin_client):
    waiting = accounts.register(
        username="walt",
        password=PASSWORD,
        full_name="Walt Waiting",
        email="w@example.org",
        organisation="",
        job_title="",
        phone="",
    )
    response = act(admin_client, "reactivate", waiting, **{"status-reason": "x"})
    assert response.status_code == 400
    assert "identity has not been checked" in response.content.decode()
    waiting.refresh_from_db()
    assert not waiting.is_active
    assert refusals("person.reactivated")


def test_reactivating_an_active_account_is_refused(admin_client, make_person):
    priya = make_person(Role.RESEARCHER, username="priya")
    response = act(admin_client, "reactivate", priya, **{"status-reason": "x"})
    assert "already active" in response.content.decode()


# Resetting the second factor


def test_resetting_the_second_factor_keeps_the_password_and_asks_for_a_new_authenticator(
    admin_client, admin, make_person
):
    priya = make_person(Role.RESEARCHER, username="priya")
    StaticDevice.objects.create(user=priya, name="recovery codes", confirmed=True)
    priya_client = sign_in(Client(), priya)
    response = act(admin_client, "reset_second_factor", priya, **{"reset-reason": "Lost phone"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=priya).exists()
    assert not StaticDevice.objects.filter(user=priya).exists()
    assert priya_client.get("/")["Location"].startswith("/login/")
    assert events("person.second_factor_reset")[-1].details["reason"] == "Lost phone"
    fresh = Client()
    assert give_password(fresh, "priya")["Location"] == "/setup/"
    assert fresh.get("/setup/")["Location"] == "/setup/authenticator/"


def test_an_administrator_cannot_reset_their_own_second_factor(admin_client, admin):
    response = act(admin_client, "reset_second_factor", admin, **{"reset-reason": "x"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=admin).exists()


def test_resetting_a_person_with_no_second_factor_is_refused(admin_client):
    person, _ = accounts.create_account(
        username="newbie",
        full_name="New Bie",
        email="n@example.org",
        roles=["auditor"],
        created_by=None,
    )
    response = act(admin_client, "reset_second_factor", person, **{"reset-reason": "x"})
    assert response.status_code == 400
    assert "has no authenticator or recovery codes to reset" in response.content.decode()


# Only administrators


@pytest.mark.parametrize("role", [role for role in Role if role != Role.ADMINISTRATOR])
@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("grant_role", {"grant-role": "administrator", "grant-reason": "x"}),
        ("revoke_role", {"revoke-role": "researcher", "revoke-reason": "x"}),
        ("deactivate", {"status-reason": "x"}),
        ("reset_second_factor", {"reset-reason": "x"}),
    ],
)
def test_every_other_role_is_refused_and_audited(
    signed_in_client, make_person, role, url_name, data
):
    client = signed_in_client(role)
    target = make_person(Role.RESEARCHER, username="target")
    response = act(client, url_name, target, **data)
    assert response.status_code == 403
    assert "This needs the administrator role." in response.content.decode()
    assert (
        events("access.denied")[-1]
        .details["path"]
        .endswith(reverse(f"people:{url_name}", args=[target.pk]))
    )
    target.refresh_from_db()
    assert target.is_active
    assert target.role_names() == ["researcher"]
    assert TOTPDevice.objects.filter(user=target).exists()


def test_others_cannot_create_accounts(signed_in_client):
    client = signed_in_client(Role.APPROVER)
    assert create(client).status_code == 403
    assert not User.objects.filter(username="olive").exists()
    assert RoleGrant.objects.filter(role=Role.OUTPUT_CHECKER).count() == 0
