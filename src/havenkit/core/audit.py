"""Recording and verifying audit events.

Every app records what happens through :func:`record`; nothing else writes ``AuditEvent``.
Appends are serialised (an advisory lock on PostgreSQL, an IMMEDIATE transaction on SQLite)
so that two writers can never both chain onto the same previous event.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from havenkit.core.models import GENESIS_HASH, AuditEvent, Outcome

# An arbitrary constant naming the audit log's advisory lock on PostgreSQL.
_AUDIT_LOCK_KEY = 7_310_442_901


def client_address(request: HttpRequest | None) -> str | None:
    """The address a request came from (the socket peer; havenkit does not trust proxy headers)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _object_fields(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return type(obj).__name__, str(getattr(obj, "pk", obj))


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    obj: Any = None,
    project: Any = None,
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log and return it.

    ``actor`` defaults to the request's authenticated user; ``obj`` and ``project`` may be
    model instances or plain identifiers. ``details`` must be JSON-serialisable and must never
    hold secrets (passwords, codes, keys).
    """
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    object_type, object_id = _object_fields(obj)
    project_id = "" if project is None else str(getattr(project, "pk", project))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values("id", "event_hash").first()
        event = AuditEvent(
            id=(last["id"] + 1) if last else 1,
            occurred_at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_username=getattr(actor, "username", "") or "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            project_id=project_id,
            ip_address=client_address(request),
            outcome=outcome,
            details=details or {},
            previous_hash=last["event_hash"] if last else GENESIS_HASH,
        )
        event.event_hash = event.compute_hash()
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainBreak:
    """The first event at which the hash chain no longer holds, and why."""

    event_id: int
    reason: str


def _events_in_order(batch_size: int = 5000) -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size)


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Walk the whole log; return how many events were checked and the first break, if any."""
    expected_previous = GENESIS_HASH
    expected_id = 1
    checked = 0
    for event in _events_in_order():
        if event.pk != expected_id:
            return checked, ChainBreak(
                event.pk, f"event #{expected_id} is missing: the log jumps to #{event.pk}"
            )
        if event.previous_hash != expected_previous:
            return checked, ChainBreak(
                event.pk, "previous_hash does not match the hash of the event before it"
            )
        if event.compute_hash() != event.event_hash:
            return checked, ChainBreak(
                event.pk, "its content no longer matches its hash: it was changed after recording"
            )
        expected_previous = event.event_hash
        expected_id += 1
        checked += 1
    return checked, None
