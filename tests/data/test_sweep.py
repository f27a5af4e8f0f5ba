"""Uploads a killed process left receiving or validating are swept: failed, files deleted; so
are the folders a killed researcher's import was being received into."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import airlock, imports
from havenkit.data.models import IngressState, IngressUpload
from havenkit.data.validation import schema_as_json
from tests.data.test_airlock import GOOD, SCHEMA, files_of, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def steward(make_person):
    return make_person(Role.DATA_STEWARD)


def left_behind(steward, state: str, age: timedelta, files: dict[str, bytes]) -> IngressUpload:
    """What a process killed mid-upload leaves: the record in ``state`` and partial files."""
    upload = IngressUpload.objects.create(
        dataset_title="Cohort",
        table_name="people",
        original_name="people.csv",
        file_format="csv",
        schema=schema_as_json(SCHEMA),
        state=state,
        uploaded_by=steward,
    )
    IngressUpload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - age)
    directory = airlock.upload_directory(upload)
    directory.mkdir(parents=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return upload


def test_stale_uploads_are_failed_their_files_deleted_and_audited(steward):
    receiving = left_behind(
        steward, IngressState.RECEIVING, timedelta(hours=7), {"upload.csv": GOOD[:12]}
    )
    validating = left_behind(
        steward,
        IngressState.VALIDATING,
        timedelta(hours=9),
        {"upload.csv": GOOD, "staged.parquet": b"PAR1 half"},
    )
    swept = airlock.sweep_stale_uploads(timedelta(hours=6))
    assert {upload.pk for upload in swept} == {receiving.pk, validating.pk}
    for upload in (receiving, validating):
        upload.refresh_from_db()
        assert upload.state == IngressState.FAILED
        assert "the process handling it stopped" in upload.failure_reason
        assert not airlock.upload_directory(upload).exists()
    assert "still validating 9 hours" in validating.failure_reason
    event = AuditEvent.objects.get(action="ingress.swept", object_id=str(validating.pk))
    assert event.outcome == "failure"
    assert event.details["left_in"] == "validating"
    assert event.details["deleted"] == [
        {"file": "staged.parquet", "bytes": 9},
        {"file": "upload.csv", "bytes": len(GOOD)},
    ]


def test_recent_and_finished_uploads_are_left_alone(steward):
    live = left_behind(
        steward, IngressState.RECEIVING, timedelta(minutes=5), {"upload.csv": GOOD[:12]}
    )
    finished = receive(steward)
    IngressUpload.objects.filter(pk=finished.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert airlock.sweep_stale_uploads(timedelta(hours=6)) == []
    live.refresh_from_db()
    finished.refresh_from_db()
    assert live.state == IngressState.RECEIVING
    assert files_of(live) == ["upload.csv"]
    assert finished.state == IngressState.AWAITING_REVIEW
    assert files_of(finished) == ["problems.csv", "staged.parquet"]
    assert not AuditEvent.objects.filter(action="ingress.swept").exists()


def test_sweep_command_uses_its_threshold(steward, capsys):
    upload = left_behind(steward, IngressState.RECEIVING, timedelta(minutes=45), {})
    call_command("data", "sweep")
    assert IngressUpload.objects.get(pk=upload.pk).state == IngressState.RECEIVING
    call_command("data", "sweep", "--older-than", "30")
    assert IngressUpload.objects.get(pk=upload.pk).state == IngressState.FAILED
    output = capsys.readouterr().out
    assert "0 stale upload(s) swept." in output
    assert f"Upload {upload.pk} (people.csv): marked failed." in output


def left_by_a_killed_import(age: timedelta, partial: bytes) -> Path:
    """What a process killed while receiving a researcher's import leaves: the folder the file
    was being written into, with part of it, before the import had a record."""
    folder = imports.new_incoming_directory()
    folder.mkdir(parents=True)
    pending = folder / imports.PENDING_FILE
    pending.write_bytes(partial)
    then = (timezone.now() - age).timestamp()
    for path in (pending, folder):
        os.utime(path, (then, then))
    return folder


def test_folders_of_killed_imports_are_deleted_and_audited(steward):
    stale = left_by_a_killed_import(timedelta(hours=8), b"import pandas as")
    in_progress = left_by_a_killed_import(timedelta(hours=8), b"code,chapter\n")
    # A live import is still writing its file, which keeps the folder recent.
    (in_progress / imports.PENDING_FILE).write_bytes(b"code,chapter\nI21,Circulatory\n")

    assert airlock.sweep_stale_uploads(timedelta(hours=6)) == []

    assert not stale.exists()
    assert (in_progress / imports.PENDING_FILE).is_file()
    event = AuditEvent.objects.get(action="ingress.swept")
    assert event.outcome == "failure"
    assert event.details["folder"] == f"ingress/imports/{stale.name}"
    assert event.details["unchanged_for"] == "8 hours"
    assert event.details["deleted"] == [{"file": "pending", "bytes": 16}]


def test_the_sweep_command_deletes_folders_of_killed_imports(capsys):
    stale = left_by_a_killed_import(timedelta(minutes=45), b"x = 1\n")
    call_command("data", "sweep")
    assert stale.is_dir()
    call_command("data", "sweep", "--older-than", "30")
    assert not stale.exists()
    assert AuditEvent.objects.filter(action="ingress.swept").count() == 1
