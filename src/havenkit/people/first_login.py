"""First-login setup: choose a password, enrol an authenticator, keep recovery codes.

The step a person is on is worked out from their account every time, never trusted from the
browser, so steps cannot be skipped or taken out of order, and someone who has finished setup
cannot come back to swap in their own authenticator with only a password.

A person an administrator issued a new one-time password who still has their authenticator
gives a code from it before choosing a password, so a one-time password read by someone else
cannot be turned into a password of their choosing.
"""

import secrets
from base64 import b32encode
from dataclasses import dataclass
from enum import StrEnum

import django_otp
import segno
from django.db import transaction
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core import audit
from havenkit.core.models import Outcome
from havenkit.people import accounts
from havenkit.people.models import User
from havenkit.people.signin import (
    RECOVERY_CODE_LENGTH,
    RECOVERY_CODES_DEVICE_NAME,
    SignInRefused,
    code_accepted,
    finish_held_sign_in,
    has_authenticator,
    refuse_while_device_throttled,
)

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_DEVICE_NAME = "authenticator"
# Codes wait in the session between being issued and being shown, and are removed when shown.
RECOVERY_CODES_SESSION_KEY = "havenkit_recovery_codes_to_show"
WRONG_ENROLMENT_CODE = (
    "That code is not right. Check that you added the account shown here and enter the code "
    "your app shows now."
)


class Step(StrEnum):
    PASSWORD = "password"  # noqa: S105 (the name of a step, not a password)
    AUTHENTICATOR = "authenticator"
    RECOVERY_CODES = "recovery_codes"


STEP_TITLES = {
    Step.PASSWORD: "Choose a password",
    Step.AUTHENTICATOR: "Set up your authenticator app",
    Step.RECOVERY_CODES: "Keep your recovery codes",
}


@dataclass(frozen=True)
class StepProgress:
    number: int
    title: str
    state: str  # "done", "current" or "to do"


def current_step(request: HttpRequest) -> Step | None:
    """The one step this person may take now, or None when none is due before their code.

    None means setup is finished, or that the person has an authenticator and must give a code
    from it first (then, if their password is a one-time one, choosing it is due).
    """
    person = request.user
    if person.must_change_password:
        if has_authenticator(person) and not code_accepted(request):
            return None
        return Step.PASSWORD
    if not has_authenticator(person):
        return Step.AUTHENTICATOR
    if RECOVERY_CODES_SESSION_KEY in request.session:
        return Step.RECOVERY_CODES
    return None


def progress(request: HttpRequest, current: Step) -> list[StepProgress]:
    """The step indicator: every step, and whether it is done, current or still to do.

    Empty for a person who has an authenticator and is only replacing a one-time password:
    theirs is one step, not the first of three.
    """
    if current == Step.PASSWORD and has_authenticator(request.user):
        return []
    order = list(Step)
    return [
        StepProgress(
            number=index + 1,
            title=STEP_TITLES[step],
            state="done"
            if index < order.index(current)
            else "current"
            if step == current
            else "to do",
        )
        for index, step in enumerate(order)
    ]


def change_password(request: HttpRequest, new_password: str) -> None:
    """Replace the password the person was given; their session stays signed in.

    A person who gave their code before this step is verified only now.
    """
    accounts.change_own_password(request, new_password, action="setup.password_changed")
    finish_held_sign_in(request)


def authenticator_being_enrolled(person: User) -> TOTPDevice:
    """The unconfirmed authenticator shown to the person, the same one on every reload."""
    device = TOTPDevice.objects.filter(user=person, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(
        user=person, name=AUTHENTICATOR_DEVICE_NAME, confirmed=False
    )


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// URL as an inline SVG QR code, drawn here so the secret never leaves."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, light="#ffffff")
    # segno writes only path data: nothing from the URL appears as text in the markup.
    return mark_safe(svg)  # noqa: S308


def _in_groups_of_four(text: str) -> str:
    """Long codes are copied by hand more reliably in short groups; spaces are ignored on entry."""
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def manual_entry_key(device: TOTPDevice) -> str:
    """The secret in base32, for typing into an app that cannot scan a QR code."""
    return _in_groups_of_four(b32encode(device.bin_key).decode())


def confirm_authenticator(request: HttpRequest, device: TOTPDevice, code: str) -> None:
    """Confirm the enrolled authenticator with a code from it; the session is then verified.

    Recovery codes are issued at the same moment, so nobody ends up with an authenticator and
    no way back in if they lose it.
    """
    person = request.user
    refuse_while_device_throttled(request, device, step="enrolment")
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(
            pk=device.pk, user=person, confirmed=False
        )
        accepted = device.verify_token(code)
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
    if not accepted:
        audit.record("setup.code_failed", request=request, outcome=Outcome.DENIED, obj=device)
        raise SignInRefused(WRONG_ENROLMENT_CODE)
    django_otp.login(request, device)
    request.session.cycle_key()
    audit.record("setup.authenticator_enrolled", request=request, obj=device)
    request.session[RECOVERY_CODES_SESSION_KEY] = issue_recovery_codes(request)


def _new_recovery_code() -> str:
    return f"{secrets.randbelow(10**RECOVERY_CODE_LENGTH):0{RECOVERY_CODE_LENGTH}d}"


@transaction.atomic
def issue_recovery_codes(request: HttpRequest) -> list[str]:
    """Replace the person's recovery codes with new ones and return them, to be shown once."""
    person = request.user
    device, _ = StaticDevice.objects.get_or_create(
        user=person, name=RECOVERY_CODES_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    audit.record(
        "setup.recovery_codes_issued",
        request=request,
        obj=device,
        details={"count": RECOVERY_CODE_COUNT},
    )
    return codes


def take_recovery_codes_to_show(request: HttpRequest) -> list[str]:
    """The codes just issued, removed from the session so they are shown only once."""
    return [_in_groups_of_four(code) for code in request.session.pop(RECOVERY_CODES_SESSION_KEY)]
