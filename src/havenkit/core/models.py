"""The audit log: append-only, hash-chained events of everything that matters in the haven."""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import models


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit event."""


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILURE = "failure", "Failure"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("audit events cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    # bulk_update goes through update(); bulk_create would skip the chain.
    def bulk_create(self, *args: Any, **kwargs: Any) -> list:
        raise AuditLogIsAppendOnly("audit events are appended one at a time by core.audit.record")


GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One thing that happened: who did what to which object, from where, and how it ended.

    ``event_hash`` is SHA-256 over the previous event's hash followed by this event's canonical
    JSON, so changing, removing or reordering any event breaks every hash after it.
    """

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The username is kept as text too, so the event reads the same if an account is renamed.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=80, blank=True)
    project_id = models.CharField(max_length=80, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    details = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    event_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_username or 'anonymous'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    def canonical_json(self) -> str:
        """The event's content as JSON with sorted keys and no whitespace: what the hash covers."""
        return json.dumps(
            {
                "id": self.pk,
                "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
                "actor_username": self.actor_username,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "project_id": self.project_id,
                "ip_address": self.ip_address,
                "outcome": self.outcome,
                "details": self.details,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def compute_hash(self) -> str:
        payload = (self.previous_hash + self.canonical_json()).encode()
        return hashlib.sha256(payload).hexdigest()
