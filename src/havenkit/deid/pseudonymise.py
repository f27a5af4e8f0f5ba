"""Per-project pseudonyms: HMAC-SHA-256 of the identifier under a key only that project has.

Why keyed: there are only about 33 million valid CHI numbers, so an unkeyed (or public-salt)
hash is reversed by hashing them all in seconds. Why per project: two projects' extracts must
not be linkable with each other, so each project's key is derived from the haven's master key
with the project and key version in the HKDF ``info``. We keep 128 bits (32 hex characters).

Why polars-hash: a Python ``hmac`` loop manages about a million values a second; the HMAC
routine of polars-hash (compiled Rust, SHA-NI where the CPU has it) runs over a whole column
at four to five million a second on one core, close to OpenSSL's own limit. It takes its key
as text, so the HMAC key is the project key written as 64 hex characters (256 bits still).
"""

from collections.abc import Sequence

import polars as pl
import polars_hash  # noqa: F401  (registers the ``chash`` namespace on polars expressions)
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PSEUDONYM_SCHEME = (
    "HMAC-SHA-256 keyed with the project key as 64 hex characters, of the CHI as 10 digits; "
    "the first 128 bits as 32 hex characters"
)
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


def hmac_key_text(key: bytes) -> str:
    """The key as polars-hash takes it; ``hmac.new(hmac_key_text(k).encode(), ...)`` agrees."""
    return key.hex()


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


def _all_ten_digits(text: pl.Series) -> bool:
    """Whether every value is already ten ASCII digits (missing values aside).

    Arrow's ``ascii_is_decimal`` over the same buffers is four times faster than a regex,
    which matters when the whole column costs two seconds; Unicode digits (two bytes each)
    are not ASCII decimals, so five of them cannot pass as ten digits.
    """
    if not (text.str.len_bytes() == CHI_DIGITS).fill_null(True).all():
        return False
    digits = pc.all(pc.ascii_is_decimal(text.to_arrow()), skip_nulls=True).as_py()
    return digits is not False


def _normalised(column: pl.Series) -> pl.Series:
    """Ten-digit text for every value; the regex pass runs only if some value needs it."""
    text = column.cast(pl.String)
    if not _all_ten_digits(text):
        text = text.str.replace_all(r"[^0-9]", "")
        lengths = text.str.len_bytes()
        bad = ((lengths == 0) | (lengths > CHI_DIGITS)).fill_null(False)
        if bad.any():
            row = int(bad.arg_max())
            _check_normalised(text[row], row)
        text = text.str.zfill(CHI_DIGITS)
    return text


def pseudonymise_column(column: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """The pseudonym of each identifier in an Arrow column; a missing value stays missing.

    Integer columns are accepted: a CHI read as a number has lost its leading 0, which
    normalisation puts back, as it drops spaces and dashes.
    """
    series = pl.Series("chi", column)
    pseudonyms = (
        _normalised(series)
        .to_frame()
        .select(
            pl.col("chi").chash.hmac_sha256(key=hmac_key_text(key)).str.head(PSEUDONYM_HEX_CHARS)
        )
        .to_series()
    )
    # polars hands over Arrow's string_view without copying; plain strings are what every
    # Arrow kernel and Parquet writer takes.
    return pc.cast(pseudonyms.to_arrow(compat_level=pl.CompatLevel.newest()), pa.string())


def pseudonymise(values: Sequence[str | int | None], key: bytes) -> list[str | None]:
    """:func:`pseudonymise_column` for a plain list of values, written as text or numbers."""
    text = [None if value is None else str(value) for value in values]
    return pseudonymise_column(pa.array(text, type=pa.string()), key).to_pylist()
