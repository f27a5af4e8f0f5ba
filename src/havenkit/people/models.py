"""Accounts and the roles granted to them."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from havenkit.core.roles import Role


class User(AbstractUser):
    """One person, one account (SATRE). Roles are rows in :class:`RoleGrant`, read per request."""

    organisation = models.CharField(max_length=200, blank=True)
    # Set when an administrator creates the account or resets it: the first login must choose a
    # new password and enrol a TOTP device before anything else.
    must_change_password = models.BooleanField(default=True)

    def has_role(self, role: Role | str) -> bool:
        if not self.is_active:
            return False
        return self.role_grants.filter(role=role).exists()

    def role_names(self) -> list[str]:
        return sorted(self.role_grants.values_list("role", flat=True))


class RoleGrant(models.Model):
    """A role held by a person, who granted it and when."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=30, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_grant_per_role")]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()}"
