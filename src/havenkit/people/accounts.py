"""Safe people, the account side: accounts an administrator creates and looks after, and
self-registration followed by an identity check.

A self-registered account is created inactive, so it cannot sign in or hold any role, until an
administrator has seen evidence of who the person is and activates it. An account an
administrator creates is identity-checked already and starts with a one-time password that its
owner replaces at first sign-in, before enrolling an authenticator.

Every change an administrator makes carries a reason, which goes into the audit log with it.
The haven never loses its last active administrator, and nobody removes their own.

A person who forgot their password is issued a new one-time password by an administrator; a
person who knows theirs changes it themselves, giving the current one. Either way the other
sessions signed in as them end, and no password ever reaches the audit log.
"""

import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, update_session_auth_hash
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from havenkit.core import audit
from havenkit.core.models import Outcome
from havenkit.core.roles import Role
from havenkit.people import login_throttle
from havenkit.people.models import IdentityStatus, RoleGrant, User
from havenkit.people.services import create_person, grant_role
from havenkit.people.signin import has_authenticator

# No 0/o, 1/l/i: the password is read off a screen or an e-mail and typed by hand.
ONE_TIME_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (an alphabet)
ONE_TIME_PASSWORD_GROUPS = 4


class AccountError(Exception):
    """A refused change to an account, with the reason to show and the field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def new_one_time_password() -> str:
    """Sixteen random characters in groups of four (about 79 bits), such as ``k7qm-3xzt-...``."""
    groups = (
        "".join(secrets.choice(ONE_TIME_PASSWORD_ALPHABET) for _ in range(4))
        for _ in range(ONE_TIME_PASSWORD_GROUPS)
    )
    return "-".join(groups)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise AccountError(f"{value!r} is not a role in this haven.", field="role") from None


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise AccountError("Give a reason: it is written to the audit log.", field="reason")
    return reason


@transaction.atomic
def create_account(
    *,
    username: str,
    full_name: str,
    email: str,
    roles: Iterable[str],
    created_by: User | None,
) -> tuple[User, str]:
    """Create an identity-checked account with a one-time password, and return both.

    The password is returned, never stored or logged in clear: the caller shows it once or
    e-mails it. Its owner must replace it and enrol an authenticator at first sign-in.
    """
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"The username {username} is taken: choose another.", field="username")
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError(
            f"{email!r} is not an email address: enter one like name@example.org.", field="email"
        ) from None
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(f"Another account already uses {email}.", field="email")
    granted = [_role(value) for value in roles]
    if not granted:
        raise AccountError("Choose at least one role.", field="roles")
    password = new_one_time_password()
    person = create_person(
        username,
        password,
        roles=granted,
        full_name=full_name.strip(),
        email=email,
        must_change_password=True,
        created_by=created_by,
    )
    return person, password


def email_one_time_password(
    person: User, password: str, *, sent_by: User | None, new_account: bool = True
) -> None:
    """Send the one-time password to the person by the haven's configured e-mail backend.

    The message says what comes next at sign-in: a person who kept their authenticator gives a
    code from it before choosing a password; anyone else chooses one, then sets up an app.
    """
    if new_account:
        opening = "An administrator has created a havenkit account for you."
    else:
        opening = "An administrator has issued you a new one-time password for havenkit."
    if has_authenticator(person):
        next_steps = (
            "When you sign in with it you will enter a code from your authenticator app, then "
            "choose your own password."
        )
    else:
        next_steps = (
            "When you sign in with it you will choose your own password and set up an "
            "authenticator app."
        )
    send_mail(
        subject="Your havenkit account",
        message=(
            f"{opening}\n\n"
            f"Username: {person.username}\nOne-time password: {password}\n\n"
            f"{next_steps} The one-time password works only until then."
        ),
        from_email=None,
        recipient_list=[person.email],
    )
    audit.record(
        "person.password_emailed",
        actor=sent_by,
        obj=person,
        details={"username": person.username, "to": person.email},
    )


def people_matching(search: str = "") -> QuerySet[User]:
    """Every account, or those whose username or name contains each word searched for."""
    people = User.objects.all()
    for word in search.split():
        in_any_name = Q(username__icontains=word) | Q(first_name__icontains=word)
        people = people.filter(in_any_name | Q(last_name__icontains=word))
    authenticator = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (
        people.annotate(has_authenticator=Exists(authenticator))
        .prefetch_related("role_grants", "accreditations")
        .order_by("username")
    )


def _active_administrators() -> QuerySet[RoleGrant]:
    return RoleGrant.objects.select_for_update().filter(
        role=Role.ADMINISTRATOR, user__is_active=True
    )


def _refuse_losing_last_administrator(person: User) -> None:
    holds = _active_administrators().filter(user=person).exists()
    if holds and _active_administrators().exclude(user=person).count() == 0:
        raise AccountError(
            f"{person.username} is the haven's last active administrator: make someone else "
            "an administrator first.",
            field="reason",
        )


def _end_sessions(person: User, *, keep: str | None = None) -> int:
    """Delete every session signed in as ``person`` but ``keep``, so their next click is refused.

    Django also re-reads the account on every request and treats an inactive one as signed out;
    deleting the sessions makes the same true for a second factor that was removed.
    """
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(session_key=keep):
        if session.get_decoded().get(SESSION_KEY) == str(person.pk):
            session.delete()
            ended += 1
    return ended


def _details(person: User, reason: str, **more: object) -> dict[str, object]:
    return {"username": person.username, "reason": reason, **more}


@transaction.atomic
def grant(person: User, role: str, *, by: User, reason: str) -> RoleGrant:
    """Give ``person`` another role, with the reason, from their next click."""
    role, reason = _role(role), _require_reason(reason)
    if person.role_grants.filter(role=role).exists():
        raise AccountError(f"{person.username} already has the {role.label} role.", field="role")
    return grant_role(person, role, granted_by=by, reason=reason)


@transaction.atomic
def revoke(person: User, role: str, *, by: User, reason: str) -> None:
    """Take a role away, from the person's next click; never an administrator's own."""
    role, reason = _role(role), _require_reason(reason)
    held = person.role_grants.filter(role=role)
    if not held.exists():
        raise AccountError(f"{person.username} does not have the {role.label} role.", field="role")
    if role == Role.ADMINISTRATOR:
        if person.pk == by.pk:
            raise AccountError(
                "You cannot remove your own administrator role: ask another administrator.",
                field="role",
            )
        _refuse_losing_last_administrator(person)
    held.delete()
    audit.record(
        "role.revoked", actor=by, obj=person, details=_details(person, reason, role=str(role))
    )


@transaction.atomic
def deactivate(person: User, *, by: User, reason: str) -> None:
    """Stop the account: it cannot sign in, and its open sessions end now."""
    reason = _require_reason(reason)
    if not person.is_active:
        raise AccountError(f"{person.username}'s account is already inactive.", field="reason")
    _refuse_losing_last_administrator(person)
    person.is_active = False
    person.save(update_fields=["is_active"])
    ended = _end_sessions(person)
    audit.record(
        "person.deactivated", actor=by, obj=person, details=_details(person, reason, sessions=ended)
    )


@transaction.atomic
def reactivate(person: User, *, by: User, reason: str) -> None:
    """Let a deactivated account sign in again, with the roles and records it had."""
    reason = _require_reason(reason)
    if person.is_active:
        raise AccountError(f"{person.username}'s account is already active.", field="reason")
    if person.identity_status != IdentityStatus.VERIFIED:
        raise AccountError(
            f"{person.username}'s identity has not been checked: verify it under People checks, "
            "which also activates the account.",
            field="reason",
        )
    person.is_active = True
    person.save(update_fields=["is_active"])
    audit.record("person.reactivated", actor=by, obj=person, details=_details(person, reason))


@transaction.atomic
def reset_second_factor(person: User, *, by: User, reason: str) -> None:
    """Remove the person's authenticator and recovery codes; they keep their password.

    At their next sign-in the password is followed by enrolling an authenticator again, and
    their open sessions end now, since those were verified with the device that is gone.
    """
    reason = _require_reason(reason)
    authenticators = TOTPDevice.objects.filter(user=person)
    recovery_codes = StaticDevice.objects.filter(user=person)
    if not authenticators.exists() and not recovery_codes.exists():
        raise AccountError(
            f"{person.username} has no authenticator or recovery codes to reset.", field="reason"
        )
    authenticators.delete()
    recovery_codes.delete()
    ended = _end_sessions(person)
    audit.record(
        "person.second_factor_reset",
        actor=by,
        obj=person,
        details=_details(person, reason, sessions=ended),
    )


@transaction.atomic
def issue_one_time_password(person: User, *, by: User, reason: str) -> str:
    """Replace a forgotten password with a new one-time password, and return it to show once.

    The person keeps their authenticator: at sign-in they give the one-time password, then a
    code, then choose their own password, and nothing else opens before that. Their open
    sessions end now. (``permissions`` keeps an administrator from doing this to themselves.)
    """
    reason = _require_reason(reason)
    if not person.is_active:
        raise AccountError(
            f"{person.username}'s account is not active, so it cannot sign in: activate it first.",
            field="reason",
        )
    password = new_one_time_password()
    person.set_password(password)
    person.must_change_password = True
    person.save(update_fields=["password", "must_change_password"])
    ended = _end_sessions(person)
    audit.record(
        "person.one_time_password_issued",
        actor=by,
        obj=person,
        details=_details(person, reason, sessions=ended),
    )
    return password


def change_own_password(request: HttpRequest, new_password: str, *, action: str) -> None:
    """Set the signed-in person's password; this session stays signed in, every other one ends.

    Shared by first-login setup (``action`` says which) and by a person changing a password
    they know: either way, whoever else was signed in with the old password is signed out.
    """
    person = request.user
    person.set_password(new_password)
    person.must_change_password = False
    person.save(update_fields=["password", "must_change_password"])
    ended = _end_sessions(person, keep=request.session.session_key)
    update_session_auth_hash(request, person)
    audit.record(action, request=request, obj=person, details={"other_sessions_ended": ended})


def email_password_changed(person: User) -> None:
    """Tell the person their password was changed, so that a change they did not make, from a
    session someone else held, does not go unnoticed. Nothing is sent to an account with no
    address; the e-mail never contains the password."""
    if not person.email:
        return
    send_mail(
        subject=f"Your {settings.HAVEN_NAME} password was changed",
        message=(
            f"The password of your {settings.HAVEN_NAME} account {person.username} was changed "
            f"on {timezone.localtime():%d %B %Y at %H:%M}, and you were signed out everywhere "
            "else.\n\nIf you did not change it, contact the haven's administrators at once: "
            "they can issue you a new one-time password and check the account's audit log."
        ),
        from_email=None,
        recipient_list=[person.email],
    )


def record_wrong_current_password(request: HttpRequest) -> None:
    """Audit a wrong current password; the sign-in rate limit counts these as failures too."""
    audit.record(
        login_throttle.WRONG_CURRENT_PASSWORD,
        request=request,
        obj=request.user,
        outcome=Outcome.DENIED,
        details={"username": request.user.username},
    )


@transaction.atomic
def register(
    *,
    username: str,
    password: str,
    full_name: str,
    email: str,
    organisation: str,
    job_title: str,
    phone: str,
) -> User:
    """Create an account that waits, inactive, for an identity check."""
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError("That username is taken: choose another.")
    first, _, last = full_name.partition(" ")
    person = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first,
        last_name=last,
        organisation=organisation,
        job_title=job_title,
        phone=phone,
        is_active=False,
        identity_status=IdentityStatus.AWAITING_CHECK,
        must_change_password=False,
    )
    audit.record("person.registered", actor=person, obj=person, details={"username": username})
    return person


def awaiting_identity_check() -> QuerySet[User]:
    return User.objects.filter(identity_status=IdentityStatus.AWAITING_CHECK).order_by(
        "date_joined"
    )


@transaction.atomic
def verify_identity(person: User, *, evidence: str, checked_by: User) -> User:
    """Record the evidence seen, activate the account and give it the researcher role."""
    if person.identity_status == IdentityStatus.VERIFIED:
        raise AccountError(f"{person.username}'s identity has already been verified.")
    if person.pk == checked_by.pk:
        raise AccountError("You cannot verify your own identity: ask another administrator.")
    person.identity_status = IdentityStatus.VERIFIED
    person.identity_evidence = evidence
    person.identity_checked_by = checked_by
    person.identity_checked_at = timezone.now()
    person.is_active = True
    person.save()
    audit.record(
        "person.identity_verified",
        actor=checked_by,
        obj=person,
        details={"username": person.username, "evidence": evidence},
    )
    grant_role(person, Role.RESEARCHER, granted_by=checked_by)
    return person
