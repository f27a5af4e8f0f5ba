"""Safe people, the account side: self-registration, then an identity check by an administrator.

A self-registered account is created inactive, so it cannot sign in or hold any role, until an
administrator has seen evidence of who the person is and activates it.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from havenkit.core import audit
from havenkit.core.roles import Role
from havenkit.people.models import IdentityStatus, User
from havenkit.people.services import grant_role


class AccountError(Exception):
    """A refused change to an account, with the reason to show."""


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
