"""Per-project pseudonyms: HMAC-SHA-256 of the identifier under a key only that project has.

Why keyed: there are only about 33 million valid CHI numbers, so an unkeyed (or public-salt)
hash is reversed by hashing them all in seconds. Why per project: two projects' extracts must
not be linkable with each other, so each project's key is derived from the haven's master key
with the project and key version in the HKDF ``info``. We keep 128 bits (32 hex characters).
"""

import hashlib
import hmac
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PSEUDONYM_SCHEME = "HMAC-SHA-256 of the CHI as 10 digits, first 128 bits as 32 hex characters"
PSEUDONYM_HEX_CHARS = 32
KEY_BYTES = 32
CHI_DIGITS = 10


def derive_project_key(master_key: bytes, project_id: int | str, version: int = 1) -> bytes:
    """The pseudonym key of one project at one key version, derived from the master key."""
    if len(master_key) < KEY_BYTES:
        raise ValueError(f"The master key must be at least {KEY_BYTES} bytes.")
    info = f"havenkit project pseudonym key|project={project_id}|version={version}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(
        master_key
    )


def _check_normalised(digits: str, row: int) -> None:
    # The identifier itself is personal data, so errors name the row, never the value.
    if not digits:
        raise ValueError(f"Row {row} has no digits: it is not a CHI number.")
    if len(digits) > CHI_DIGITS:
        raise ValueError(f"Row {row} has {len(digits)} digits: a CHI number has {CHI_DIGITS}.")


def normalise_chi(value: str | int, row: int = 0) -> str:
    """The CHI as exactly ten digits: separators dropped, a lost leading 0 put back."""
    digits = "".join(ch for ch in str(value) if "0" <= ch <= "9")
    _check_normalised(digits, row)
    return digits.zfill(CHI_DIGITS)


def _pseudonyms_of_normalised(normalised: Iterable[str | None], key: bytes) -> list[str | None]:
    """The HMAC loop itself: one pre-keyed object, copied per value, is the fast stdlib path."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    pseudonyms: list[str | None] = []
    for value in normalised:
        if value is None:
            pseudonyms.append(None)
            continue
        mac = keyed.copy()
        mac.update(value.encode("ascii"))
        pseudonyms.append(mac.hexdigest()[:PSEUDONYM_HEX_CHARS])
    return pseudonyms


def pseudonymise(values: Sequence[str | int | None], key: bytes) -> list[str | None]:
    """The pseudonym of each identifier under ``key``; a missing value stays missing."""
    return _pseudonyms_of_normalised(
        (None if v is None else normalise_chi(v, row) for row, v in enumerate(values)), key
    )


def pseudonymise_column(column: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """:func:`pseudonymise` for an Arrow column, hashing each distinct identifier once.

    Normalisation runs as Arrow compute kernels, so the only per-value Python is the HMAC.
    Integer columns are accepted: a CHI read as a number has lost its leading 0, which
    normalisation puts back.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    digits = pc.replace_substring_regex(
        pc.cast(column, pa.string()), pattern="[^0-9]", replacement=""
    )
    lengths = pc.utf8_length(digits)
    bad = pc.or_(pc.equal(lengths, 0), pc.greater(lengths, CHI_DIGITS))
    if pc.any(bad).as_py():
        row = pc.index(bad, True).as_py()
        _check_normalised(digits[row].as_py(), row)
    encoded = pc.dictionary_encode(pc.utf8_lpad(digits, width=CHI_DIGITS, padding="0"))
    pseudonyms = pa.array(
        _pseudonyms_of_normalised(encoded.dictionary.to_pylist(), key), type=pa.string()
    )
    return pc.take(pseudonyms, encoded.indices)
