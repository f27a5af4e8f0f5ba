"""Auditors browse, filter and export the audit log."""

import csv
import io

import pytest

from havenkit.core import audit
from havenkit.core.models import AuditEvent, Outcome
from havenkit.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(signed_in_client):
    audit.record("job.submitted", project=7, details={"code": "a.py"})
    audit.record("login.failed", outcome=Outcome.DENIED, details={"username": "eve"})
    audit.record("job.finished", project=8)
    return signed_in_client(Role.AUDITOR)


def test_filters_narrow_the_log(auditor_client):
    page = auditor_client.get("/audit/", {"action": "job.", "project": "7"})
    assert page.status_code == 200
    events = list(page.context["page"])
    assert [event.action for event in events] == ["job.submitted"]


def test_outcome_filter_finds_security_events(auditor_client):
    page = auditor_client.get("/audit/", {"outcome": "denied"})
    assert {event.action for event in page.context["page"]} == {"login.failed"}


def test_an_impossible_date_range_is_explained_not_ignored(auditor_client):
    page = auditor_client.get("/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert page.status_code == 200
    assert b"on or before" in page.content
    assert list(page.context["page"]) == []


def test_csv_export_holds_the_filtered_events_with_their_hashes(auditor_client):
    response = auditor_client.get("/audit/export.csv", {"action": "job."})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == ["job.finished", "job.submitted"]
    assert all(len(row["event_hash"]) == 64 for row in rows)
    assert rows[1]["details"] == '{"code": "a.py"}'


def test_exporting_is_itself_audited(auditor_client):
    auditor_client.get("/audit/export.csv")
    assert audit.verify_chain()[1] is None
    assert AuditEvent.objects.filter(action="audit.exported").count() == 1
