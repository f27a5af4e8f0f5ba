"""Withdrawing a dataset version deletes its files and leaves a deletion record."""

from pathlib import Path

import pyarrow as pa
import pytest
from django.conf import settings
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.core.roles import Role
from havenkit.data import catalogue, services
from tests.data.test_extracts import new_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(make_person):
    return make_person(Role.APPROVER)


def make_version(approver, rows: int):
    return services.create_dataset_version(
        "Withdrawn cohort",
        "People.",
        "A controller",
        {"people": pa.table({"chi": ["0211165794"] * rows})},
        approver,
    )


def test_withdrawal_deletes_files_and_records_what_when_who_and_checksums(approver):
    first = make_version(approver, 1)
    second = make_version(approver, 2)
    directory = Path(settings.HAVENKIT_HOME) / second.storage_path
    approved_sha = second.tables["people"]["sha256"]

    services.withdraw_dataset_version(second, approver, "Controller withdrew consent.")

    assert not directory.exists()
    second.refresh_from_db()
    assert second.withdrawn_by == approver
    assert second.withdrawn_at is not None
    event = AuditEvent.objects.get(action="dataset_version.deleted")
    assert event.actor == approver
    assert event.details["approved_by"] == approver.username
    assert event.details["reason"] == "Controller withdrew consent."
    assert event.details["files"] == [
        {
            "table": "people",
            "file": f"{second.storage_path}/people.parquet",
            "approved_sha256": approved_sha,
            "sha256_at_deletion": approved_sha,
            "rows": 2,
        }
    ]
    assert catalogue.current_version(second.dataset) == first


def test_withdrawal_needs_a_reason_and_happens_once(approver):
    version = make_version(approver, 1)
    with pytest.raises(services.WithdrawalError, match="Say why"):
        services.withdraw_dataset_version(version, approver, " ")
    assert (Path(settings.HAVENKIT_HOME) / version.storage_path).is_dir()
    services.withdraw_dataset_version(version, approver, "Superseded.")
    with pytest.raises(services.WithdrawalError, match="already withdrawn"):
        services.withdraw_dataset_version(version, approver, "Again.")
    assert AuditEvent.objects.filter(action="dataset_version.deleted").count() == 1


def test_a_withdrawn_version_cannot_feed_an_extract(approver, make_person):
    version = make_version(approver, 1)
    services.withdraw_dataset_version(version, approver, "Superseded.")
    version.refresh_from_db()
    with pytest.raises(services.ExtractRequestError, match="has been withdrawn"):
        services.build_pseudonymised_extract(
            new_project(make_person, "HK-W-1", [version], {"people": ["chi"]}),
            version,
            {"people": ["chi"]},
            make_person(Role.DATA_STEWARD),
        )


def test_an_approver_withdraws_in_the_portal_and_a_steward_cannot(signed_in_client, approver):
    version = make_version(approver, 1)
    page = reverse("data:withdraw_dataset_version", args=[version.pk])
    assert signed_in_client(Role.DATA_STEWARD).post(page, {"reason": "No."}).status_code == 403
    client = signed_in_client(Role.APPROVER)
    refused = client.post(page, {"reason": ""})
    assert "This field is required." in refused.content.decode()
    client.post(page, {"reason": "Controller withdrew consent."})
    version.refresh_from_db()
    assert version.withdrawn_at is not None
    assert "Its files are deleted." in client.get(page).content.decode()
