"""The haven publishes its release key, so anyone can check released outputs without asking."""

import pytest
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


def test_a_haven_that_has_signed_nothing_publishes_no_key_and_makes_none():
    response = Client().get(KEY_URL)
    assert response.status_code == 404
    assert b"has not published a release key yet" in response.content
    assert not signing.signing_key_path().exists()


def test_the_register_links_the_key():
    page = Client().get("/register/").content.decode()
    assert f'href="{KEY_URL}"' in page
    assert "havenkit release verify" in page
