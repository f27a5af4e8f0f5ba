"""The haven's release-signing key, and signed records that anyone can check without a secret.

A release record (``release-record.json``) states what the haven released: the request, each
file's SHA-256 and size, who reviewed it and how, when, and the haven's name. The haven signs it
with an Ed25519 key, so a journal, a data controller or the researcher's own institution can
check a package away from the haven with only the haven's public key
(``havenkit release public-key`` prints it).

The private key is 32 random bytes in ``HAVENKIT_HOME/keys/release-signing.key``, made on first
use and readable by havenkit's own user only, like the master key (``havenkit.data.keys``). It
signs nothing but release records; losing it means new records carry a new key, while records
signed before still verify with the old public key.
"""

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from havenkit.core.keyfiles import read_or_create_key

ALGORITHM = "Ed25519"
_KEY_BYTES = 32


class SignatureProblem(Exception):
    """A record or key that cannot be trusted, said so a person can act on it."""


def signing_key_path() -> Path:
    return Path(settings.HAVENKIT_HOME) / "keys" / "release-signing.key"


def _private_key(*, create: bool) -> Ed25519PrivateKey:
    path = signing_key_path()
    if create:
        raw = read_or_create_key(path, _KEY_BYTES)
    elif path.exists():
        raw = path.read_bytes()
    else:
        raise SignatureProblem(
            f"this haven has no release-signing key ({path}); give the haven's public key "
            "with --public-key FILE (the haven prints it with `havenkit release public-key`)"
        )
    if len(raw) != _KEY_BYTES:
        raise SignatureProblem(
            f"{path} holds {len(raw)} bytes, not {_KEY_BYTES}: restore it from the haven's key "
            "backup"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def haven_public_key(*, create: bool = True) -> Ed25519PublicKey:
    """This haven's public key; ``create=False`` when only checking, never making a key."""
    return _private_key(create=create).public_key()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(path: Path | str) -> Ed25519PublicKey:
    """A public key from a PEM file as ``havenkit release public-key`` prints it."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as error:
        raise SignatureProblem(f"cannot read the public key {path}: {error.strerror}") from None
    except ValueError:
        raise SignatureProblem(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureProblem(f"{path} is not an {ALGORITHM} public key")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint naming a key in messages: the SHA-256 of its raw bytes, 16 hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _canonical(record: dict[str, Any]) -> bytes:
    """The exact bytes signed: the same record always gives the same bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(record: dict[str, Any]) -> dict[str, Any]:
    """The record with this haven's signature over it, as ``release-record.json`` holds it."""
    private_key = _private_key(create=True)
    return {
        "record": record,
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": key_id(private_key.public_key()),
            "value": base64.b64encode(private_key.sign(_canonical(record))).decode(),
        },
    }


def verify(document: Any, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The signed record, once its signature checks out with ``public_key``."""
    try:
        record, signature = document["record"], document["signature"]
        algorithm, signer, value = signature["algorithm"], signature["key_id"], signature["value"]
    except (KeyError, TypeError):
        raise SignatureProblem(
            "it is not a havenkit release record (record and signature)"
        ) from None
    if algorithm != ALGORITHM:
        raise SignatureProblem(f"it is signed with {algorithm!r}; havenkit signs with {ALGORITHM}")
    if signer != key_id(public_key):
        raise SignatureProblem(
            f"it was signed by the key {signer}, not by the public key given "
            f"({key_id(public_key)}): check you have this haven's public key"
        )
    try:
        public_key.verify(base64.b64decode(value, validate=True), _canonical(record))
    except (InvalidSignature, ValueError):
        raise SignatureProblem(
            "its signature does not match its content: it was changed after the haven signed it"
        ) from None
    return record
