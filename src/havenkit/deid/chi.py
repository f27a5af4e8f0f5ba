"""The Community Health Index (CHI) number, Scotland's identifier for every patient.

Ten digits: the date of birth as DDMMYY, two digits, a sex digit (odd male, even female) and a
check digit. The check digit has long been Modulus 11; numbers issued from 2026 may use
Modulus 10 (Luhn) instead, and Public Health Scotland accepts either, so we do too.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def chi_is_valid(value: str | int, *, expected_sex: str | None = None) -> bool:
    """True when ``value`` is a valid CHI number (and agrees with ``expected_sex`` if given)."""
    return validate_chi(value, expected_sex=expected_sex).valid


# Reasons for a column check. They never quote the value: a CHI is personal data, and these
# reasons go into reports that people download.
NOT_DIGITS = "contains characters other than the digits 0-9"
NINE_DIGITS = "has 9 digits: a leading 0 was lost (often in a spreadsheet); store CHI as text"
WRONG_LENGTH = "does not have 10 digits"
NOT_A_DATE = "its first six digits are not a real DDMMYY date"
WRONG_CHECK_DIGIT = "its check digit is wrong under both Modulus 11 and Modulus 10"
SEX_MISMATCH = "its sex digit disagrees with the sex column"

_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# Luhn doubles d1, d3, d5, d7, d9; doubling then subtracting 9 above 9, as a lookup table.
_LUHN_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9])


def _as_arrow(column: object) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    if isinstance(column, pa.Array):
        return column
    return pa.array(column, from_pandas=True)


def _digit_matrix(ten_digit_text: pa.Array) -> np.ndarray:
    """The digits of strings that are all exactly ten ASCII digits, one row per string.

    Such an array's data buffer is the digits end to end, so it is read without a copy per value.
    """
    compact = pa.concat_arrays([ten_digit_text]) if ten_digit_text.offset else ten_digit_text
    offsets = np.frombuffer(compact.buffers()[1], dtype=np.int32)[: len(compact) + 1]
    data = np.frombuffer(compact.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return (data.reshape(-1, 10) - ord("0")).astype(np.int64)


# Codes used while checking a column: small integers are far faster than strings in numpy.
_SCHEMES = [None, MODULUS_11, MODULUS_10]
_REASONS = [
    None,
    NOT_DIGITS,
    NINE_DIGITS,
    WRONG_LENGTH,
    NOT_A_DATE,
    WRONG_CHECK_DIGIT,
    SEX_MISMATCH,
]
_OK, _NOT_DIGITS, _NINE, _LENGTH, _DATE, _CHECK, _SEX = range(len(_REASONS))


def _check_digits(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ten-digit rows: (reason code, scheme code) under the date and check-digit rules."""
    day = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    year = digits[:, 4] * 10 + digits[:, 5]
    month_ok = (month >= 1) & (month <= 12)
    last_day = _DAYS_IN_MONTH[np.where(month_ok, month, 0)]
    # 29 February needs a leap year; 00 is fine as 2000 was one.
    last_day = np.where((month == 2) & (year % 4 != 0), 28, last_day)
    real_date = month_ok & (day >= 1) & (day <= last_day)

    remainder = 11 - (digits[:, :9] @ _MOD11_WEIGHTS) % 11
    mod11 = np.where(remainder == 11, 0, remainder)
    luhn_sum = _LUHN_DOUBLED[digits[:, 0:9:2]].sum(axis=1) + digits[:, 1:9:2].sum(axis=1)
    luhn = (10 - luhn_sum % 10) % 10
    check = digits[:, 9]
    scheme = np.where(check == mod11, 1, np.where(check == luhn, 2, 0)).astype(np.int8)
    reason = np.where(~real_date, _DATE, np.where(scheme == 0, _CHECK, _OK)).astype(np.int8)
    return reason, np.where(reason == _OK, scheme, 0).astype(np.int8)


def _sex_codes(sexes: object) -> np.ndarray:
    """1 for male, 0 for female, -1 where the sex column says neither."""
    first = pc.utf8_slice_codeunits(
        pc.utf8_upper(pc.utf8_trim_whitespace(_as_arrow(sexes).cast(pa.string()))), 0, 1
    )
    male = pc.fill_null(pc.equal(first, "M"), False).to_numpy(zero_copy_only=False)
    female = pc.fill_null(pc.equal(first, "F"), False).to_numpy(zero_copy_only=False)
    return np.where(male, 1, np.where(female, 0, -1))


def chi_check_scheme(column: object, sexes: object = None) -> pa.Table:
    """Check every value of a column as a CHI number, at numpy speed.

    ``column`` is a pyarrow or pandas column (or a list); ``sexes``, if given, a column of
    "M"/"F" beside it. Returns a table with one row per value: ``valid`` (null where the value
    is missing), ``scheme`` (Modulus 11 or Modulus 10 for valid numbers) and ``reason`` (why an
    invalid one is invalid, never quoting it).
    """
    values = _as_arrow(column)
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    text = pc.utf8_trim_whitespace(values).cast(pa.string())
    missing = pc.is_null(text).to_numpy(zero_copy_only=False)
    all_digits = pc.fill_null(pc.ascii_is_decimal(text), False)
    all_digits = all_digits.to_numpy(zero_copy_only=False)
    lengths = pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
    reason = np.select(
        [~all_digits, lengths == 9, lengths != 10], [_NOT_DIGITS, _NINE, _LENGTH], _OK
    ).astype(np.int8)
    scheme = np.zeros(len(text), dtype=np.int8)
    ten = all_digits & (lengths == 10)
    if ten.any():
        digits = _digit_matrix(pc.filter(text, pa.array(ten)))
        reason_ten, scheme_ten = _check_digits(digits)
        if sexes is not None:
            said = _sex_codes(sexes)[ten]
            mismatch = (said >= 0) & (said != digits[:, 8] % 2) & (reason_ten == _OK)
            reason_ten[mismatch], scheme_ten[mismatch] = _SEX, 0
        reason[ten], scheme[ten] = reason_ten, scheme_ten
    reason[missing] = _OK
    return pa.table(
        {
            "valid": pa.array(reason == _OK, mask=missing),
            "scheme": pc.take(pa.array(_SCHEMES, pa.string()), pa.array(scheme)),
            "reason": pc.take(pa.array(_REASONS, pa.string()), pa.array(reason)),
        }
    )


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
