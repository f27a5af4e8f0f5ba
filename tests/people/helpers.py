"""Sign-in test helpers: real TOTP codes from a device key, audit events, form posts."""

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core.models import AuditEvent
from havenkit.people.models import User
from tests.conftest import PASSWORD


def code_from(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app holding this device's key shows now (or a step later).

    django-otp accepts one step either side of now, so the next step's code lets a test sign
    in twice without waiting 30 seconds for a fresh code.
    """
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=steps_ahead):06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    """A six-digit code the device would refuse: none of the codes for the steps it accepts."""
    accepted = {code_from(device, steps_ahead) for steps_ahead in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)


def authenticator_of(person: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=person, confirmed=True)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def give_password(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def give_code(client: Client, code: str, **extra):
    return client.post("/login/verify/", {"code": code}, **extra)
