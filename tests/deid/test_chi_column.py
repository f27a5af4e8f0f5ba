"""The vectorised CHI check agrees with the one-value check, and names each reason."""

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havenkit.deid.chi import (
    MODULUS_10,
    MODULUS_11,
    NINE_DIGITS,
    NOT_A_DATE,
    NOT_DIGITS,
    SEX_MISMATCH,
    WRONG_CHECK_DIGIT,
    chi_check_digit_mod11,
    chi_check_scheme,
    chi_is_valid,
    luhn_check_digit,
    validate_chi,
)

property_settings = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_known_numbers_of_both_schemes():
    assert chi_is_valid("0211165794")
    assert chi_is_valid("0402070763", expected_sex="F")
    assert not chi_is_valid("0402070763", expected_sex="M")
    assert not chi_is_valid("0101010000")
    modulus_10 = "010101123" + str(luhn_check_digit("010101123"))
    check = chi_check_scheme(["0211165794", "0101011237", "0101010000"])
    assert check["scheme"].to_pylist() == [MODULUS_11, MODULUS_11, None]
    assert check["valid"].to_pylist() == [True, True, False]
    first9 = "150480123"
    luhn_only = first9 + str(luhn_check_digit(first9))
    assert chi_check_digit_mod11(first9) != luhn_check_digit(first9)
    assert chi_check_scheme([luhn_only])["scheme"].to_pylist() == [MODULUS_10]
    assert chi_is_valid(modulus_10) == validate_chi(modulus_10).valid


def test_each_reason_and_missing_values():
    check = chi_check_scheme(
        pa.array(["02111657A4", "211165794", "3102071234", "0211165795", None]),
    )
    assert check["reason"].to_pylist() == [
        NOT_DIGITS,
        NINE_DIGITS,
        NOT_A_DATE,
        WRONG_CHECK_DIGIT,
        None,
    ]
    assert check["valid"].to_pylist() == [False, False, False, False, None]


def test_sex_column_is_checked_against_the_sex_digit():
    check = chi_check_scheme(pd.Series(["0211165794", "0402070763"]), pd.Series(["F", "F"]))
    assert check["reason"].to_pylist() == [SEX_MISMATCH, None]


def test_reasons_never_quote_the_number():
    check = chi_check_scheme(["0211165795"])
    assert "0211165795" not in check["reason"][0].as_py()


@property_settings
@given(st.text(alphabet="0123456789", min_size=10, max_size=10) | st.text(max_size=12))
def test_column_check_agrees_with_the_one_value_check(value):
    expected = validate_chi(value)
    got = chi_check_scheme([value])
    assert got["valid"][0].as_py() == expected.valid
    assert got["scheme"][0].as_py() == (expected.scheme if expected.valid else None)


@property_settings
@given(
    st.dates().map(lambda d: d.strftime("%d%m%y")),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_every_computed_check_digit_is_accepted_under_its_scheme(ddmmyy, serial):
    first9 = ddmmyy + serial
    mod11 = chi_check_digit_mod11(first9)
    numbers = [first9 + str(luhn_check_digit(first9))]
    if mod11 is not None:
        numbers.append(first9 + str(mod11))
    check = chi_check_scheme(numbers)
    assert all(check["valid"].to_pylist())
    if mod11 is not None:
        assert check["scheme"][1].as_py() == MODULUS_11
