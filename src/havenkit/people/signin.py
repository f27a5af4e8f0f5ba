"""Signing in: a password, then a code from the person's authenticator or a recovery code.

Every attempt is audited, and the failures in the audit log are what the rate limit counts, so a
stolen password cannot be used to guess codes either. Messages never say which of username and
password was wrong, and no code or password ever reaches the audit log.

A person signing in with a one-time password who already has an authenticator gives their code
next, but the session is verified only once they have chosen their own password: until then
the haven's gate keeps every other page shut, and the one-time password alone changes nothing.
"""

import math
from dataclasses import dataclass

import django_otp
from django.contrib import auth
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core import audit
from havenkit.core.models import Outcome
from havenkit.people import login_throttle
from havenkit.people.models import User

UNRECOGNISED_SIGN_IN = "Your username or password is not right."
WRONG_CODE = (
    "That code is not right. Enter the code your authenticator app shows now, "
    "or one of your recovery codes."
)
# Rate-limit refusals; each page words its own, and {wait} becomes "N minute(s)".
TOO_MANY_SIGN_INS = "Too many failed sign-in attempts. Try again in {wait}."
RECOVERY_CODES_DEVICE_NAME = "recovery codes"
TOTP_CODE_LENGTH = 6
RECOVERY_CODE_LENGTH = 12
# The device whose code was accepted from a person who must still choose a new password.
CODE_ACCEPTED_SESSION_KEY = "havenkit_code_accepted_before_new_password"


class SignInRefused(Exception):
    """A sign-in step was refused; the message is what the person is told."""


def refuse_while_rate_limited(
    request: HttpRequest, username: str, step: str, refusal: str = TOO_MANY_SIGN_INS
) -> None:
    """Refuse, audited, while too many recent failures for this username or address stand.

    ``refusal`` is what the person is told, with ``{wait}`` for how long they must wait.
    """
    minutes = login_throttle.minutes_until_retry(username, audit.client_address(request))
    if minutes is None:
        return
    audit.record(
        "login.rate_limited",
        request=request,
        outcome=Outcome.DENIED,
        details={"username": login_throttle.typed_username(username), "step": step},
    )
    raise SignInRefused(refusal.format(wait=f"{minutes} minute{pluralize(minutes)}"))


def sign_in_with_password(request: HttpRequest, username: str, password: str) -> User:
    """Sign the person in with their password alone; they still need a code to go further.

    Inactive accounts fail like a wrong password (Django's backend refuses them), so the
    message tells an attacker nothing about which accounts exist.
    """
    refuse_while_rate_limited(request, username, step="password")
    person = auth.authenticate(request, username=username, password=password)
    if person is None:
        audit.record(
            "login.failed",
            request=request,
            outcome=Outcome.DENIED,
            details={"username": login_throttle.typed_username(username)},
        )
        raise SignInRefused(UNRECOGNISED_SIGN_IN)
    auth.login(request, person)
    audit.record("login.password_accepted", request=request, actor=person)
    return person


def has_authenticator(person: User) -> bool:
    return TOTPDevice.objects.devices_for_user(person, confirmed=True).exists()


def _device_for(person: User, code: str) -> tuple[str, Device | None]:
    """Which of the person's devices could have produced this code, and how it is named."""
    if len(code) == TOTP_CODE_LENGTH:
        devices = TOTPDevice.objects.devices_for_user(person, confirmed=True)
        return "totp", devices.order_by("pk").first()
    devices = StaticDevice.objects.devices_for_user(person, confirmed=True)
    return "recovery_code", devices.filter(name=RECOVERY_CODES_DEVICE_NAME).first()


def refuse_while_device_throttled(request: HttpRequest, device: Device, step: str) -> None:
    """django-otp makes each wrong code wait longer for the next; say so rather than 'wrong'.

    The code is not checked at all while the device waits, so this refusal tells an attacker
    nothing and is not counted as a failure.
    """
    allowed, data = device.verify_is_allowed()
    if allowed:
        return
    seconds = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    audit.record(
        "login.rate_limited",
        request=request,
        outcome=Outcome.DENIED,
        obj=device,
        details={"username": request.user.username, "step": step, "wait_seconds": seconds},
    )
    raise SignInRefused(
        f"A wrong code was entered a moment ago. Wait {seconds} second{pluralize(seconds)}, "
        "then enter the code your authenticator app shows."
    )


@dataclass(frozen=True)
class CodeAccepted:
    method: str
    recovery_codes_left: int | None


def verify_code(request: HttpRequest, code: str) -> CodeAccepted:
    """Complete sign-in with a TOTP code or a recovery code (each recovery code works once).

    django-otp refuses a TOTP code from a time step at or before the last one it accepted, so a
    code seen over someone's shoulder cannot be replayed.
    """
    person = request.user
    refuse_while_rate_limited(request, person.username, step="code")
    method, device = _device_for(person, code)
    if device is not None:
        refuse_while_device_throttled(request, device, step="code")
    verified_by = device and django_otp.verify_token(person, device.persistent_id, code)
    if verified_by is None:
        audit.record(
            "login.code_failed",
            request=request,
            outcome=Outcome.DENIED,
            details={"username": person.username, "method": method},
        )
        raise SignInRefused(WRONG_CODE)
    request.session.cycle_key()
    if person.must_change_password:
        request.session[CODE_ACCEPTED_SESSION_KEY] = verified_by.persistent_id
        audit.record("login.code_accepted", request=request, details={"method": method})
    else:
        django_otp.login(request, verified_by)
        audit.record("login.succeeded", request=request, details={"method": method})
    left = verified_by.token_set.count() if isinstance(verified_by, StaticDevice) else None
    return CodeAccepted(method=method, recovery_codes_left=left)


def code_accepted(request: HttpRequest) -> bool:
    """True once a person who must choose a new password has given a right code."""
    return CODE_ACCEPTED_SESSION_KEY in request.session


def finish_held_sign_in(request: HttpRequest) -> None:
    """Verify the session with the device whose code was accepted before the new password.

    Only the signed-in person's own device counts, so a device id left in a session by someone
    else verifies nothing.
    """
    persistent_id = request.session.pop(CODE_ACCEPTED_SESSION_KEY, None)
    device = persistent_id and Device.from_persistent_id(persistent_id)
    if not device or device.user_id != request.user.pk:
        return
    django_otp.login(request, device)
    method = "recovery_code" if isinstance(device, StaticDevice) else "totp"
    audit.record(
        "login.succeeded", request=request, details={"method": method, "after": "new password"}
    )


def sign_out(request: HttpRequest) -> None:
    if request.user.is_authenticated:
        audit.record("login.logout", request=request)
    auth.logout(request)
