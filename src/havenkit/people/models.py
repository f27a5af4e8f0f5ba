"""Accounts and the roles granted to them."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

from havenkit.core.roles import Role


class IdentityStatus(models.TextChoices):
    AWAITING_CHECK = "awaiting_check", "Awaiting identity check"
    VERIFIED = "verified", "Identity verified"


class User(AbstractUser):
    """One person, one account (SATRE). Roles are rows in :class:`RoleGrant`, read per request."""

    organisation = models.CharField(max_length=200, blank=True)
    job_title = models.CharField("Role in organisation", max_length=200, blank=True)
    phone = models.CharField("Contact telephone", max_length=40, blank=True)
    # Accounts an administrator creates are checked before creation; self-registered accounts
    # wait, inactive, until an administrator has seen evidence of who the person is.
    identity_status = models.CharField(
        max_length=20, choices=IdentityStatus.choices, default=IdentityStatus.VERIFIED
    )
    identity_evidence = models.CharField(
        max_length=300, blank=True, help_text="What the administrator checked, e.g. staff card."
    )
    identity_checked_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    identity_checked_at = models.DateTimeField(null=True, blank=True)
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


class Accreditation(models.Model):
    """A training record that makes a person a safe researcher until it expires.

    The person enters it with evidence; an administrator verifies it against the evidence.
    Only a verified record whose ``expires_on`` has not passed gives access to projects.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="accreditations")
    course = models.CharField(max_length=200)
    provider = models.CharField(max_length=200)
    level = models.CharField(max_length=100)
    passed_on = models.DateField()
    expires_on = models.DateField()
    # Relative to HAVENKIT_HOME, so an instance can be moved as one folder.
    evidence_path = models.CharField(max_length=500)
    evidence_name = models.CharField(max_length=255)
    recorded_at = models.DateTimeField(auto_now_add=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    # Set by the daily ``havenkit people notify-expiring`` so each notice goes out once.
    expiry_notice_sent_on = models.DateField(null=True, blank=True)
    expiry_recorded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-expires_on"]

    def __str__(self) -> str:
        return f"{self.course} ({self.provider}) for {self.user}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class AgreementSignature(models.Model):
    """A person's signature of one version of the haven's user agreement."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agreement_signatures")
    version = models.CharField(max_length=20)
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="one_signature_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.user} signed agreement {self.version}"
