"""Pseudonyms: keyed, per project, stable within a project, blind to how a CHI was written."""

import hashlib
import hmac

import pyarrow as pa
import pytest

from havenkit.deid.pseudonymise import (
    PSEUDONYM_HEX_CHARS,
    derive_project_key,
    hmac_key_text,
    normalise_chi,
    pseudonymise,
    pseudonymise_column,
)

MASTER = bytes(range(32))
CHIS = ["0211165794", "0402070763", "0101011237"]


def test_same_project_same_pseudonyms():
    key = derive_project_key(MASTER, 7)
    assert pseudonymise(CHIS, key) == pseudonymise(CHIS, derive_project_key(MASTER, 7))


def test_two_projects_never_share_a_pseudonym():
    first = pseudonymise(CHIS, derive_project_key(MASTER, 1))
    second = pseudonymise(CHIS, derive_project_key(MASTER, 2))
    assert set(first).isdisjoint(second)


def test_key_version_and_master_key_both_change_the_key():
    key = derive_project_key(MASTER, 1, version=1)
    assert derive_project_key(MASTER, 1, version=2) != key
    assert derive_project_key(bytes(32), 1, version=1) != key
    assert len(key) == 32


def test_short_master_key_is_refused():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        derive_project_key(b"too short", 1)


def test_how_a_chi_was_written_does_not_matter():
    key = derive_project_key(MASTER, 1)
    written = ["0211165794", "211165794", 211165794, " 021116 5794 ", "021-116-5794"]
    assert len(set(pseudonymise(written, key))) == 1


def test_pseudonym_is_128_bits_of_hex_and_not_an_unkeyed_hash():
    [pseudonym] = pseudonymise(["0211165794"], derive_project_key(MASTER, 1))
    assert len(pseudonym) == PSEUDONYM_HEX_CHARS
    int(pseudonym, 16)
    assert pseudonym != hashlib.sha256(b"0211165794").hexdigest()[:PSEUDONYM_HEX_CHARS]


def test_missing_values_stay_missing():
    assert pseudonymise([None], derive_project_key(MASTER, 1)) == [None]


def test_values_that_cannot_be_a_chi_are_refused_by_row_without_echoing_them():
    with pytest.raises(ValueError, match="Row 3 has 11 digits") as raised:
        normalise_chi("02111657941", row=3)
    assert "02111657941" not in str(raised.value)
    with pytest.raises(ValueError, match="Row 0 has no digits"):
        normalise_chi("n/a")


def test_column_version_matches_the_list_version():
    key = derive_project_key(MASTER, 1)
    values = [*CHIS, "211165794", None, CHIS[0]]
    column = pa.chunked_array([values[:3], values[3:]])
    assert pseudonymise_column(column, key).to_pylist() == pseudonymise(values, key)


def test_integer_column_gets_its_leading_zero_back():
    key = derive_project_key(MASTER, 1)
    as_numbers = pseudonymise_column(pa.array([211165794, 402070763]), key)
    assert as_numbers.to_pylist() == pseudonymise(["0211165794", "0402070763"], key)


def test_column_error_names_the_row():
    with pytest.raises(ValueError, match="Row 2 has 12 digits"):
        pseudonymise_column(pa.array(["0211165794", None, "021116579412"]), bytes(32))


def test_pseudonym_is_the_stdlib_hmac_under_the_hex_key():
    key = derive_project_key(MASTER, 1)
    expected = hmac.new(hmac_key_text(key).encode(), b"0211165794", hashlib.sha256).hexdigest()
    assert pseudonymise(["0211165794"], key) == [expected[:PSEUDONYM_HEX_CHARS]]


def test_ten_bytes_of_non_ascii_digits_are_not_taken_as_a_chi():
    # Five Arabic-Indic digits are ten bytes and Unicode digits, but no CHI: the fast path
    # must not hash them as written; normalisation finds no ASCII digits and refuses the row.
    with pytest.raises(ValueError, match="Row 1 has no digits"):
        pseudonymise_column(pa.array(["0211165794", "\u0661\u0662\u0663\u0664\u0665"]), bytes(32))
