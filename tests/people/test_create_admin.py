"""``havenkit people create-admin``: the first administrator of a new haven."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from havenkit.core.roles import Role
from havenkit.people.models import User
from tests.people.helpers import events, give_password

pytestmark = pytest.mark.django_db


def create_admin(*args: str) -> str:
    out = StringIO()
    call_command("people", "create-admin", *args, stdout=out)
    return out.getvalue()


def test_it_prints_a_one_time_password_for_a_new_administrator():
    output = create_admin("ada", "--name", "Ada Fraser", "--email", "ada@example.org")
    password = re.search(r"One-time password: (\S+)", output).group(1)
    ada = User.objects.get(username="ada")
    assert ada.role_names() == [Role.ADMINISTRATOR]
    assert ada.must_change_password
    assert ada.get_full_name() == "Ada Fraser"
    assert events("role.granted")[-1].details["role"] == "administrator"
    assert give_password(Client(), "ada", password)["Location"] == "/setup/"


def test_running_it_again_refuses_and_changes_nothing():
    create_admin("ada", "--name", "Ada Fraser", "--email", "ada@example.org")
    password_hash = User.objects.get(username="ada").password
    with pytest.raises(CommandError, match=r"The username ada is taken.*Nothing was changed"):
        create_admin("ada", "--name", "Ada Fraser", "--email", "ada@example.org")
    assert User.objects.get(username="ada").password == password_hash
    assert len(events("person.created")) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bob", "--name", "Bob", "--email", "ada@example.org"), "already uses ada@example.org"),
        (("bob", "--name", "Bob", "--email", "bob-at-example"), "is not an email address"),
    ],
)
def test_bad_input_is_refused(args, message):
    create_admin("ada", "--name", "Ada Fraser", "--email", "ada@example.org")
    with pytest.raises(CommandError, match=message):
        create_admin(*args)
    assert not User.objects.filter(username="bob").exists()


def test_notify_expiring_still_runs():
    out = StringIO()
    call_command("people", "notify-expiring", stdout=out)
    assert "Expiry notices sent: 0. Expiries recorded: 0." in out.getvalue()
