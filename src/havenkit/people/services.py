"""What other apps may ask of people: creating accounts and granting roles."""

from collections.abc import Iterable

from havenkit.core import audit
from havenkit.core.roles import Role
from havenkit.people.models import RoleGrant, User


def create_person(
    username: str,
    password: str,
    *,
    roles: Iterable[Role],
    full_name: str = "",
    email: str = "",
    organisation: str = "",
    must_change_password: bool = True,
    created_by: User | None = None,
) -> User:
    """Create an account with the given roles; every grant is audited."""
    first, _, last = full_name.partition(" ")
    person = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first,
        last_name=last,
        organisation=organisation,
        must_change_password=must_change_password,
    )
    audit.record("person.created", actor=created_by, obj=person, details={"username": username})
    for role in roles:
        grant_role(person, role, granted_by=created_by)
    return person


def grant_role(
    person: User, role: Role, *, granted_by: User | None = None, reason: str = ""
) -> RoleGrant:
    """Give ``person`` the role (once: granting a held role changes nothing and is not audited)."""
    grant, created = RoleGrant.objects.get_or_create(
        user=person, role=role, defaults={"granted_by": granted_by}
    )
    if created:
        details = {"username": person.username, "role": str(role)}
        if reason:
            details["reason"] = reason
        audit.record("role.granted", actor=granted_by, obj=person, details=details)
    return grant
