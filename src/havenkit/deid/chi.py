"""The Community Health Index (CHI) number, Scotland's identifier for every patient.

Ten digits: the date of birth as DDMMYY, two digits, a sex digit (odd male, even female) and a
check digit. The check digit has long been Modulus 11; numbers issued from 2026 may use
Modulus 10 (Luhn) instead, and Public Health Scotland accepts either, so we do too.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np

MODULUS_11 = "modulus 11"
MODULUS_10 = "modulus 10"

# Weights of the first nine digits in the Modulus 11 sum: 10·d1 + 9·d2 + … + 2·d9.
_MOD11_WEIGHTS = np.arange(10, 1, -1)
_SEX_WORDS = {"M": "male", "F": "female"}


@dataclass(frozen=True)
class ChiCheck:
    """The verdict on one value: whether it is a valid CHI, by which scheme, and if not why."""

    valid: bool
    scheme: str | None = None
    reason: str = ""
    sex: str | None = None


def _digits(first9: str) -> list[int]:
    if len(first9) != 9 or not first9.isascii() or not first9.isdigit():
        raise ValueError("A CHI check digit is computed from exactly nine digits.")
    return [int(d) for d in first9]


def chi_check_digit_mod11(first9: str) -> int | None:
    """The Modulus 11 check digit, or None when no valid number has these nine digits."""
    total = sum(w * d for w, d in zip(_MOD11_WEIGHTS.tolist(), _digits(first9), strict=True))
    check = 11 - total % 11
    if check == 10:
        return None
    return 0 if check == 11 else check


def luhn_check_digit(first9: str) -> int:
    """The Modulus 10 (Luhn) check digit: d1, d3, d5, d7 and d9 are doubled."""
    total = 0
    for position, digit in enumerate(_digits(first9)):
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def _is_real_date(ddmmyy: str) -> bool:
    """True when DDMMYY names a real day in the 1900s or 2000s (29 February needs a leap year)."""
    day, month, year = int(ddmmyy[:2]), int(ddmmyy[2:4]), int(ddmmyy[4:])
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return True
    return False


def _sex_of(chi: str) -> str:
    return "M" if int(chi[8]) % 2 else "F"


def validate_chi(value: str | int, *, expected_sex: str | None = None) -> ChiCheck:
    """Check one value as a CHI number; the reason says what is wrong and what to look at.

    ``expected_sex`` ("M" or "F"), when given, must agree with the sex digit.
    """
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return ChiCheck(False, reason="contains characters other than the digits 0-9")
    if len(text) == 9:
        return ChiCheck(
            False,
            reason="has 9 digits: a 9-digit value lost its leading 0 (often in a spreadsheet); "
            "store CHI numbers as text",
        )
    if len(text) != 10:
        return ChiCheck(False, reason=f"has {len(text)} digits, not 10")
    if not _is_real_date(text[:6]):
        return ChiCheck(
            False, reason=f"its first six digits, {text[:6]}, are not a real DDMMYY date"
        )
    check = int(text[9])
    if chi_check_digit_mod11(text[:9]) == check:
        scheme = MODULUS_11
    elif luhn_check_digit(text[:9]) == check:
        scheme = MODULUS_10
    else:
        return ChiCheck(
            False, reason="its check digit is wrong under both Modulus 11 and Modulus 10"
        )
    sex = _sex_of(text)
    if expected_sex is not None and expected_sex != sex:
        return ChiCheck(
            False,
            scheme=scheme,
            sex=sex,
            reason=f"its sex digit {text[8]} means {_SEX_WORDS[sex]} but the record says "
            f"{_SEX_WORDS.get(expected_sex, repr(expected_sex))}",
        )
    return ChiCheck(True, scheme=scheme, sex=sex)


def _date_digits(dates_of_birth: np.ndarray) -> np.ndarray:
    """The six DDMMYY digits of each date, one row per date."""
    months = dates_of_birth.astype("datetime64[M]")
    day = (dates_of_birth - months).astype(np.int64) + 1
    month = months.astype(np.int64) % 12 + 1
    year = (dates_of_birth.astype("datetime64[Y]").astype(np.int64) + 1970) % 100
    return np.stack([day // 10, day % 10, month // 10, month % 10, year // 10, year % 10], axis=1)


def generate_chis(
    dates_of_birth: np.ndarray, sexes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Distinct, valid Modulus 11 CHI numbers for people with these dates of birth and sexes.

    ``dates_of_birth`` is a ``datetime64[D]`` array and ``sexes`` an array of "M" and "F".
    Serial digits are drawn at random and redrawn, all at once, wherever the prefix has no
    valid check digit or the number repeats another, so the result depends only on ``rng``.
    About 450 numbers exist per date and sex; asking for more raises ``ValueError``.
    """
    dates_of_birth = np.asarray(dates_of_birth, dtype="datetime64[D]")
    male = np.asarray(sexes) == "M"
    digits = np.zeros((len(dates_of_birth), 9), dtype=np.int64)
    digits[:, :6] = _date_digits(dates_of_birth)
    numbers = np.zeros(len(dates_of_birth), dtype=np.int64)
    redraw = np.ones(len(dates_of_birth), dtype=bool)
    for _attempt in range(100):
        count = int(redraw.sum())
        if count == 0:
            return np.char.zfill(numbers.astype(str), 10)
        digits[redraw, 6:8] = rng.integers(0, 10, size=(count, 2))
        digits[redraw, 8] = rng.integers(0, 5, size=count) * 2 + male[redraw]
        remainder = 11 - (digits[redraw] @ _MOD11_WEIGHTS) % 11
        check = np.where(remainder == 11, 0, remainder)
        prefixes = digits[redraw] @ (10 ** np.arange(9, 0, -1))
        numbers[redraw] = np.where(check == 10, -1, prefixes + check)
        first_of_each = np.unique(numbers, return_index=True)[1]
        redraw = np.ones(len(numbers), dtype=bool)
        redraw[first_of_each] = False
        redraw |= numbers == -1
    raise ValueError("Too many people share a date of birth and sex to give each a CHI number.")
