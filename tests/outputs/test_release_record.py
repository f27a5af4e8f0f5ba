"""The haven's signed release record, and checking a package with it away from the haven."""

import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from havenkit.core.models import AuditEvent
from havenkit.outputs import services
from havenkit.outputs.policies import ReleaseRequestError
from tests.conftest import sign_in
from tests.outputs.test_release_verify import (  # noqa: F401 (package is a fixture)
    package,
    rewritten,
    with_table_changed_to_match,
)
from tests.outputs.test_services import draft

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("release", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def record(package, haven, tmp_path) -> Path:  # noqa: F811
    """The signed record of the package's request, downloaded by a project member."""
    release_request = haven.project.release_requests.get()
    path = tmp_path / "release-record.json"
    path.write_bytes(services.release_record(release_request, haven.researcher))
    return path


@pytest.fixture
def public_key(tmp_path) -> Path:
    status, out, _err = run("public-key")
    assert status == 0
    path = tmp_path / "haven.pem"
    path.write_text(out)
    return path


def test_the_record_states_the_release_as_the_haven_recorded_it(record, haven):
    document = json.loads(record.read_bytes())
    content = document["record"]
    release_request = haven.project.release_requests.get()
    assert content["release_request"] == release_request.pk
    assert content["project"] == haven.project.reference
    assert content["haven"] == settings.OTP_TOTP_ISSUER
    assert content["released_at"] == release_request.released_at.isoformat()
    table = next(f for f in content["files"] if f["name"] == "table.csv")
    stored = release_request.files.get(name="table.csv")
    assert (table["sha256"], table["size_bytes"]) == (stored.sha256, stored.size_bytes)
    assert sorted((r["checker"], r["decision"]) for r in table["reviews"]) == [
        ("checker_a", "approved"),
        ("checker_b", "approved"),
    ]
    assert document["signature"]["algorithm"] == "Ed25519"
    event = AuditEvent.objects.get(action="release.record_downloaded")
    assert event.actor == haven.researcher


def test_an_intact_package_verifies_against_the_record_with_no_database(
    package,  # noqa: F811
    record,
    public_key,
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        status, out, err = run(
            "verify", str(package), "--record", str(record), "--public-key", str(public_key)
        )
    assert (status, err) == (0, "")
    assert "VERIFIED" in out
    assert "2 files" in out


def test_without_a_public_key_the_havens_own_key_checks_the_record(package, record):  # noqa: F811
    status, out, _err = run("verify", str(package), "--record", str(record))
    assert status == 0
    assert "VERIFIED" in out


def test_a_tampered_package_fails(package, record, public_key):  # noqa: F811
    tampered = rewritten(package, {"outputs/table.csv": b"region,patients\n"})
    status, _out, err = run(
        "verify", str(tampered), "--record", str(record), "--public-key", str(public_key)
    )
    assert status == 1
    assert "NOT VERIFIED" in err
    assert "table.csv is 16 bytes" in err


def test_a_package_whose_manifest_was_edited_to_match_fails_against_the_record(
    package,  # noqa: F811
    record,
    public_key,
):
    tampered = with_table_changed_to_match(package)
    status, _out, err = run(
        "verify", str(tampered), "--record", str(record), "--public-key", str(public_key)
    )
    assert status == 1
    assert "table.csv is not the file release-record.json records as released" in err


def test_a_tampered_record_fails(package, record, public_key):  # noqa: F811
    document = json.loads(record.read_bytes())
    document["record"]["files"][0]["reviews"][0]["checker"] = "somebody_else"
    record.write_text(json.dumps(document))
    status, _out, err = run(
        "verify", str(package), "--record", str(record), "--public-key", str(public_key)
    )
    assert status == 1
    assert "release-record.json cannot be trusted" in err
    assert "changed after the haven signed it" in err


def test_a_record_checked_with_another_key_fails(package, record, tmp_path):  # noqa: F811
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    status, _out, err = run(
        "verify", str(package), "--record", str(record), "--public-key", str(other)
    )
    assert status == 1
    assert "not by the public key given" in err


def test_a_record_of_another_release_fails(package, record, public_key, haven):  # noqa: F811
    document = json.loads(record.read_bytes())
    document["record"]["release_request"] += 1
    record.write_text(json.dumps(document))
    status, _out, err = run(
        "verify", str(package), "--record", str(record), "--public-key", str(public_key)
    )
    assert status == 1
    assert "cannot be trusted" in err


def test_a_file_that_is_not_a_public_key_is_named(package, record, tmp_path):  # noqa: F811
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("hello")
    status, _out, err = run(
        "verify", str(package), "--record", str(record), "--public-key", str(not_a_key)
    )
    assert status == 1
    assert "is not a PEM public key" in err


def test_away_from_the_haven_a_public_key_must_be_given(package, record, settings, tmp_path):  # noqa: F811
    settings.HAVENKIT_HOME = tmp_path / "elsewhere"
    status, _out, err = run("verify", str(package), "--record", str(record))
    assert status == 1
    assert "give the haven's public key with --public-key FILE" in err
    assert not (tmp_path / "elsewhere" / "keys").exists()


def test_the_public_key_is_stable_and_the_private_key_private(public_key):
    assert public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert run("public-key")[1] == public_key.read_text()
    key_file = Path(settings.HAVENKIT_HOME) / "keys" / "release-signing.key"
    assert key_file.stat().st_mode & 0o077 == 0


def test_the_record_is_only_for_released_requests(haven):
    with pytest.raises(ReleaseRequestError, match="only after two output checkers"):
        services.release_record(draft(haven, "table.csv"), haven.researcher)
    assert not AuditEvent.objects.filter(action="release.record_downloaded").exists()


def test_members_download_the_record_from_the_request_page(package, haven, client):  # noqa: F811
    release_request = haven.project.release_requests.get()
    sign_in(client, haven.pi)
    page = client.get(reverse("outputs:release_request", args=[release_request.pk]))
    url = reverse("outputs:download_record", args=[release_request.pk])
    assert url in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["record"]["release_request"] == release_request.pk
    assert AuditEvent.objects.get(action="release.record_downloaded").actor == haven.pi
