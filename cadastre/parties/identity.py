"""Identity documents of parties, checked without a database: the citizen identity number
(CCCD, 12 digits) against the stated birth year and sex, the legacy identity card (CMND, 9
digits), passports with the holder's nationality (ISO 3166-1), and organisations' tax or
enterprise codes (mã số thuế / mã số doanh nghiệp).

A CCCD (Thông tư 07/2016/TT-BCA, then 59/2021/TT-BCA) is::

    0 0 1   0   9 0   1 2 3 4 5 6
    ^^^^^   ^   ^^^   ^^^^^^^^^^^
    |       |   |     a random serial
    |       |   the birth year's last two digits
    |       century and sex: 0/1 1900s male/female, 2/3 2000s, 4/5 2100s, 6/7 2200s, 8/9 2300s
    the province where the birth was registered (0 + its two-digit code, cadastre.parties.provinces)

A number that disagrees with the stated birth year or sex is refused naming the digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from iso3166 import countries
from stdnum.exceptions import ValidationError
from stdnum.vn import mst

from cadastre.errors import InvalidInput
from cadastre.parties.provinces import birth_registration_provinces

#: The first year digit 4 of a CCCD can encode (0/1: 1900-1999).
FIRST_CENTURY = 1900
#: Digit 4 has five centuries, two sexes each (8/9: 2300-2399).
CENTURIES = 5
GENDERS = ("male", "female")

_DIGITS = re.compile(r"[0-9]+")
#: A tax or enterprise code: 10 digits, or 10 digits, a hyphen and a 3-digit branch suffix
#: (mã số đơn vị phụ thuộc, chi nhánh); Thông tư 105/2020/TT-BTC, art. 5.
_TAX_CODE = re.compile(r"[0-9]{10}(-[0-9]{3})?")
#: A passport number (ICAO Doc 9303: up to 9 characters in the machine-readable zone; some
#: states print longer numbers): letters and digits only.
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")


class InvalidIdentity(InvalidInput):
    """An identity number that is malformed or disagrees with the party's stated facts."""

    code = "invalid-identity"


@dataclass(frozen=True, slots=True)
class CccdFacts:
    """What a CCCD number itself says."""

    province_code: str
    province: str
    gender: str
    century_start: int
    #: The birth year it encodes (its century from digit 4, the rest from digits 5-6).
    birth_year: int


def read_cccd(number: str) -> CccdFacts:
    """The facts a 12-digit CCCD encodes; InvalidIdentity naming the digit that cannot be
    right (a wrong length, a province code no province had)."""
    if len(number) != 12 or not _DIGITS.fullmatch(number):
        raise InvalidIdentity(
            f"a CCCD number has 12 digits, not {_length(number)}",
            hint="a 9-digit number is a legacy CMND card: give id_kind 'cmnd'")
    provinces = birth_registration_provinces()
    code = number[:3]
    if code not in provinces:
        raise InvalidIdentity(
            f"CCCD digits 1-3 ({code!r}) name no province of birth registration",
            hint="they are 0 and the province's two-digit code, e.g. 001 Hà Nội, 079 Hồ Chí "
            "Minh City")
    digit = int(number[3])
    century = FIRST_CENTURY + 100 * (digit // 2)
    return CccdFacts(code, provinces[code], GENDERS[digit % 2], century,
                     century + int(number[4:6]))


def check_cccd(number: str, *, birth_year: int | None = None, gender: str | None = None,
               today: date | None = None) -> CccdFacts:
    """``number`` as a CCCD of someone born in ``birth_year`` of sex ``gender`` (either may
    be unknown). InvalidIdentity naming the digit that disagrees."""
    facts = read_cccd(number)
    if gender is not None and gender != facts.gender:
        raise InvalidIdentity(
            f"CCCD digit 4 ({number[3]!r}) encodes a {facts.gender} holder, the stated sex "
            f"is {gender}", hint="even digits are men, odd digits women")
    if birth_year is not None:
        if not FIRST_CENTURY <= birth_year < FIRST_CENTURY + 100 * CENTURIES:
            raise InvalidIdentity(
                f"CCCD digit 4 encodes births from {FIRST_CENTURY} to "
                f"{FIRST_CENTURY + 100 * CENTURIES - 1}, not {birth_year}")
        if birth_year // 100 * 100 != facts.century_start:
            expected = 2 * ((birth_year - FIRST_CENTURY) // 100) + GENDERS.index(
                gender or facts.gender)
            raise InvalidIdentity(
                f"CCCD digit 4 ({number[3]!r}) encodes a birth in {facts.century_start}-"
                f"{facts.century_start + 99}, the stated birth year is {birth_year}",
                hint=f"a {gender or facts.gender} holder born in {birth_year} has digit 4 "
                f"'{expected}'")
        if birth_year % 100 != int(number[4:6]):
            raise InvalidIdentity(
                f"CCCD digits 5-6 ({number[4:6]!r}) are the birth year's last two digits, "
                f"the stated birth year is {birth_year}")
    if today is not None and facts.birth_year > today.year:
        raise InvalidIdentity(
            f"CCCD digits 4-6 ({number[3:6]!r}) encode the birth year {facts.birth_year}, "
            "which has not come yet")
    return facts


def check_cmnd(number: str) -> None:
    """A legacy identity card (chứng minh nhân dân): 9 digits."""
    if len(number) != 9 or not _DIGITS.fullmatch(number):
        raise InvalidIdentity(
            f"a CMND number has 9 digits, not {_length(number)}",
            hint="a 12-digit number is a CCCD: give id_kind 'cccd'")


def passport_number(text: str) -> str:
    """A passport number as the register keeps it: upper case, without blanks."""
    number = re.sub(r"\s+", "", text).upper()
    if not _PASSPORT.fullmatch(number):
        raise InvalidIdentity(
            f"passport number {text!r} is not 5 to 20 letters and digits",
            hint="as printed on the data page, e.g. C1234567")
    return number


def nationality(text: str) -> str:
    """An ISO 3166-1 alpha-2 or alpha-3 country code as its alpha-3 code (``"vn"`` ->
    ``"VNM"``)."""
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{2,3}", code):
        raise InvalidIdentity(
            f"nationality {text!r} is not an ISO 3166-1 code",
            hint="two or three letters, e.g. VN or VNM, KR or KOR")
    try:
        return str(countries.get(code).alpha3)
    except KeyError:
        raise InvalidIdentity(f"nationality {text!r} is no ISO 3166-1 country code",
                              hint="e.g. VN or VNM, KR or KOR, US or USA") from None


def tax_code(text: str) -> str:
    """An organisation's tax or enterprise code (mã số thuế, mã số doanh nghiệp): 10 digits,
    or 10-3 for a branch, the tenth digit checking the nine before it (python-stdnum's
    ``stdnum.vn.mst``)."""
    code = text.strip()
    if not _TAX_CODE.fullmatch(code):
        raise InvalidIdentity(
            f"tax code {text!r} is not 10 digits or 10 digits-3 digits",
            hint="e.g. 0100109106 or 0100109106-001 for a branch")
    try:
        mst.validate(code)
    except ValidationError:
        raise InvalidIdentity(
            f"tax code {text!r} fails its check digit (the tenth digit does not match the "
            "nine before it)", hint="check the code as the business registration "
            "certificate prints it") from None
    return code


def _length(number: str) -> str:
    digits = len(number)
    return f"{digits} characters" if not _DIGITS.fullmatch(number or "x") else str(digits)
