"""CHI numbers: the check-digit schemes, the reasons a value is refused, and generated numbers."""

from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havenkit.deid.chi import (
    MODULUS_10,
    MODULUS_11,
    chi_check_digit_mod11,
    generate_chis,
    luhn_check_digit,
    validate_chi,
)

# The autouse HAVENKIT_HOME fixture is function-scoped; these pure tests never touch it.
property_settings = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_published_examples_agree_with_references():
    male = validate_chi("0211165794")
    female = validate_chi("0402070763")
    assert (male.valid, male.scheme, male.sex) == (True, MODULUS_11, "M")
    assert (female.valid, female.scheme, female.sex) == (True, MODULUS_11, "F")
    assert not validate_chi("0101010000").valid


def test_a_number_can_pass_both_schemes():
    assert chi_check_digit_mod11("010101123") == 7
    assert luhn_check_digit("010101123") == 7
    assert validate_chi("0101011237").valid


def test_modulus_10_numbers_are_accepted_and_named():
    # 010101125: Modulus 11 gives 3, Luhn gives 2, so only the newer scheme accepts ...2.
    assert chi_check_digit_mod11("010101125") == 3
    assert luhn_check_digit("010101125") == 2
    check = validate_chi("0101011252")
    assert (check.valid, check.scheme) == (True, MODULUS_10)


def test_no_modulus_11_number_exists_when_the_check_would_be_10():
    # 10·0 + 9·1 + 8·0 + 7·1 + 6·0 + 5·1 + 4·0 + 3·0 + 2·1 = 23; 11 - 23 mod 11 = 10.
    assert chi_check_digit_mod11("010101001") is None


def test_a_check_of_11_becomes_0():
    # 9·1 + 7·1 + 5·1 + 4·3 = 33, a multiple of 11: 11 - 0 = 11, written as 0.
    assert chi_check_digit_mod11("010101300") == 0
    assert validate_chi("0101013000").valid


def test_lost_leading_zero_is_explained():
    for value in ("211165794", 211165794):
        check = validate_chi(value)
        assert not check.valid
        assert "lost its leading 0" in check.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("02111657944", "has 11 digits, not 10"),
        ("0211-65794", "characters other than the digits"),
        ("3002901234", "not a real DDMMYY date"),
        ("0101010000", "check digit is wrong"),
    ],
)
def test_invalid_values_say_why(value, reason):
    check = validate_chi(value)
    assert not check.valid
    assert reason in check.reason


def test_29_february_is_a_real_date_only_in_a_leap_year():
    # 29/02/00 exists (2000 was a leap year); 29/02/01 existed in neither 1901 nor 2001.
    assert chi_check_digit_mod11("290200001") == 4
    assert validate_chi("2902000014").valid
    assert "not a real DDMMYY date" in validate_chi("2902010000").reason


def test_sex_disagreeing_with_the_record_is_a_reason():
    check = validate_chi("0211165794", expected_sex="F")
    assert not check.valid
    assert check.reason == "its sex digit 9 means male but the record says female"
    assert validate_chi("0211165794", expected_sex="M").valid


people = st.lists(
    st.tuples(st.dates(date(1920, 1, 1), date(2020, 12, 31)), st.sampled_from(["M", "F"])),
    min_size=1,
    max_size=200,
)


@property_settings
@given(people=people, seed=st.integers(0, 2**32 - 1))
def test_generated_numbers_are_valid_distinct_and_match_the_person(people, seed):
    dates = np.array([born for born, _sex in people], dtype="datetime64[D]")
    sexes = np.array([sex for _born, sex in people])
    chis = generate_chis(dates, sexes, np.random.default_rng(seed))
    assert len(set(chis.tolist())) == len(people)
    for chi, (born, sex) in zip(chis.tolist(), people, strict=True):
        check = validate_chi(chi, expected_sex=sex)
        assert check.valid, check.reason
        assert check.scheme == MODULUS_11
        assert chi[:6] == born.strftime("%d%m%y")


@property_settings
@given(first9=st.from_regex(r"\A[0-9]{9}\Z"))
def test_luhn_check_digit_makes_the_luhn_sum_a_multiple_of_ten(first9):
    digits = [int(d) for d in f"{first9}{luhn_check_digit(first9)}"]
    # Standard Luhn from the right: double every second digit, starting left of the check digit.
    total = sum(
        (2 * d - 9 if 2 * d > 9 else 2 * d) if i % 2 else d for i, d in enumerate(reversed(digits))
    )
    assert total % 10 == 0


def test_many_people_sharing_one_birthday_still_get_distinct_numbers():
    dates = np.full(400, np.datetime64("1970-06-15"))
    chis = generate_chis(dates, np.array(["F"] * 400), np.random.default_rng(1))
    assert len(set(chis.tolist())) == 400
    assert all(validate_chi(chi, expected_sex="F").valid for chi in chis.tolist())


def test_more_people_than_numbers_for_a_birthday_is_refused():
    dates = np.full(600, np.datetime64("1970-06-15"))
    with pytest.raises(ValueError, match="share a date of birth"):
        generate_chis(dates, np.array(["M"] * 600), np.random.default_rng(1))
