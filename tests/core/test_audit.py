"""The audit log is append-only and hash-chained."""

import pytest
from django.db import DatabaseError, connection, transaction

from havenkit.core import audit
from havenkit.core.models import AuditEvent, AuditLogIsAppendOnly, Outcome

pytestmark = pytest.mark.django_db


def test_each_event_chains_to_the_previous_hash():
    first = audit.record("test.first")
    second = audit.record("test.second", details={"n": 1})
    assert second.previous_hash == first.event_hash
    assert audit.verify_chain() == (2, None)


def test_orm_refuses_update_and_delete():
    event = audit.record("test.event")
    event.action = "test.changed"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()


def _raw_sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _tamper(sql: str, params: list) -> None:
    """Change the log behind the ORM, as someone with a database shell would.

    On PostgreSQL the trigger refuses first; a database owner can still disable it, and the
    hash chain must then expose the edit. (replica mode skips user triggers.)
    """
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw_sql(sql, params)
        _raw_sql("SET session_replication_role = replica")
        try:
            _raw_sql(sql, params)
        finally:
            _raw_sql("SET session_replication_role = origin")
    else:
        _raw_sql(sql, params)


def test_an_edit_made_behind_the_orm_is_named_by_verify():
    audit.record("test.a")
    edited = audit.record("test.b", details={"count": 7})
    audit.record("test.c")
    _tamper("UPDATE core_auditevent SET details = %s WHERE id = %s", ['{"count": 8}', edited.pk])
    checked, broken = audit.verify_chain()
    assert checked == 1
    assert broken.event_id == edited.pk
    assert "changed" in broken.reason


def test_a_removed_event_is_named_by_verify():
    audit.record("test.a")
    removed = audit.record("test.b")
    audit.record("test.c")
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [removed.pk])
    _checked, broken = audit.verify_chain()
    assert broken.event_id == removed.pk + 1
    assert "missing" in broken.reason


def test_denied_outcome_is_recorded_with_details():
    event = audit.record("access.denied", outcome=Outcome.DENIED, details={"path": "/x/"})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.outcome == Outcome.DENIED
    assert stored.details == {"path": "/x/"}
    assert stored.compute_hash() == stored.event_hash
