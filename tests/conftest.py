"""Fixtures shared by every test: people with roles, and clients signed in with both factors."""

from collections.abc import Callable, Iterable
from datetime import date, timedelta

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core.roles import Role
from havenkit.people import accreditation
from havenkit.people import services as people
from havenkit.people.models import User

PASSWORD = "correct horse battery staple"

pytest_plugins = ["tests.haven"]


@pytest.fixture(autouse=True)
def _isolated_havenkit_home(settings, tmp_path):
    """Each test gets its own HAVENKIT_HOME so files never leak between tests."""
    home = tmp_path / "havenkit-home"
    home.mkdir()
    settings.HAVENKIT_HOME = home
    return home


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many people; hashing their passwords at full strength is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_person(db) -> Callable[..., User]:
    """Create a person with the given roles, through first-login setup and cleared for access."""
    counter = iter(range(1, 10_000))

    def make(*roles: Role, username: str | None = None, roles_list: Iterable[Role] = ()) -> User:
        name = username or f"person{next(counter)}"
        person = people.create_person(
            name,
            PASSWORD,
            roles=[*roles, *roles_list],
            full_name=f"Test {name.title()}",
            must_change_password=False,
        )
        TOTPDevice.objects.create(user=person, name="authenticator", confirmed=True)
        # Cleared for project access (verified training, agreement signed) for a year.
        accreditation.record_checked_training(
            person, expires_on=date.today() + timedelta(days=365), checked_by=None
        )
        return person

    return make


def sign_in(client: Client, person: User) -> Client:
    """Sign ``client`` in as ``person`` with a verified second factor, as after a real login."""
    client.force_login(person)
    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def signed_in_client(make_person) -> Callable[..., Client]:
    """A test client signed in (both factors) as a new person with the given roles."""

    def make(*roles: Role, person: User | None = None) -> Client:
        return sign_in(Client(), person or make_person(*roles))

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser journeys under tests/e2e/ carry the e2e marker, so `-m "not e2e"` leaves them out."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)
