"""The haven publishes its release key, so anyone can check released outputs without asking."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from havenkit.core.models import AuditEvent
from havenkit.outputs import signing

pytestmark = pytest.mark.django_db

KEY_URL = "/register/release-key.pem"


def test_anyone_downloads_the_key_that_checks_the_havens_records(tmp_path):
    signed = signing.sign({"request": 1, "files": []})
    before = AuditEvent.objects.count()
    response = Client().get(KEY_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    key_file = tmp_path / "havenkit-release-key.pem"
    key_file.write_bytes(response.content)
    assert signing.verify(signed, signing.load_public_key(key_file)) == {"request": 1, "files": []}
    assert AuditEvent.objects.count() == before, "a public key is no access to audit"


def test_a_haven_that_has_released_nothing_publishes_its_key_already(tmp_path):
    """A data controller or journal may fetch the key before the first release."""
    assert not signing.signing_key_path().exists()
    response = Client().get(KEY_URL)
    assert response.status_code == 200
    assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert signing.signing_key_path().stat().st_mode & 0o077 == 0
    assert Client().get(KEY_URL).content == response.content, "the key is made once"
    key_file = tmp_path / "havenkit-release-key.pem"
    key_file.write_bytes(response.content)
    signed = signing.sign({"request": 2, "files": []})
    assert signing.verify(signed, signing.load_public_key(key_file)) == {"request": 2, "files": []}


def test_the_page_publishes_the_key_the_command_prints():
    out = io.StringIO()
    call_command("release", "public-key", stdout=out)
    assert Client().get(KEY_URL).content.decode() == out.getvalue()


def test_the_register_links_the_key():
    page = Client().get("/register/").content.decode()
    assert f'href="{KEY_URL}"' in page
    assert "havenkit release verify" in page
