"""Identity documents checked without a database: a CCCD against the stated birth year and
sex (naming the digit that disagrees), CMND, passports, nationalities, tax codes; and the
province codes of birth registration from the vietnam-provinces package."""

from __future__ import annotations

import importlib.util
from datetime import date

import pytest

from cadastre.parties import identity as ids
from cadastre.parties import provinces
from cadastre.parties.kinds import KINDS, PERSON_KINDS
from cadastre.parties.service import Identity, checked_identity

TODAY = date(2026, 5, 4)


@pytest.mark.parametrize("number,year,gender,province", [
    ("001090012345", 1990, "male", "Thành phố Hà Nội"),
    ("079185000001", 1985, "female", "Thành phố Hồ Chí Minh"),
    ("031200123456", 2000, "male", "Thành phố Hải Phòng"),
    ("096325999999", 2025, "female", "Tỉnh Cà Mau"),
    ("002099000000", 1999, "male", "Tỉnh Hà Giang"),  # a province merged in 2025: still valid
])
def test_a_cccd_that_agrees(number, year, gender, province):
    facts = ids.check_cccd(number, birth_year=year, gender=gender, today=TODAY)
    assert (facts.birth_year, facts.gender, facts.province) == (year, gender, province)


@pytest.mark.parametrize("number,year,gender,words", [
    ("001090012345", 1991, "male", "digits 5-6 ('90')"),
    ("001090012345", 1990, "female", "digit 4 ('0') encodes a male"),
    ("001190012345", 1990, "male", "digit 4 ('1') encodes a female"),
    ("001290012345", 1990, "male", "digit 4 ('2') encodes a birth in 2000-2099"),
    ("001090012345", 2090, None, "digit 4 ('0') encodes a birth in 1900-1999"),
    ("001090012345", 1850, None, "from 1900 to 2399"),
    ("003090012345", 1990, "male", "digits 1-3 ('003')"),
    ("100090012345", 1990, "male", "digits 1-3 ('100')"),
    ("00109001234", 1990, "male", "12 digits, not 11"),
    ("0010900123456", 1990, "male", "12 digits, not 13"),
    ("00109001234x", 1990, "male", "not 12 characters"),
    ("００１０９００１２３４５", 1990, "male", "12 digits"),  # full-width digits
    ("001299012345", None, None, "2099, which has not come yet"),
])
def test_a_cccd_that_disagrees_names_the_digit(number, year, gender, words):
    with pytest.raises(ids.InvalidIdentity) as refused:
        ids.check_cccd(number, birth_year=year, gender=gender, today=TODAY)
    assert words in refused.value.message
    assert refused.value.status == 422


def test_the_hint_says_what_digit_4_should_be():
    with pytest.raises(ids.InvalidIdentity) as refused:
        ids.check_cccd("001090012345", birth_year=2003, gender="male", today=TODAY)
    assert "digit 4 '2'" in (refused.value.hint or "")


def test_cmnd_passport_nationality_and_tax_code():
    ids.check_cmnd("012345678")
    for bad in ("01234567", "0123456789", "01234567a"):
        with pytest.raises(ids.InvalidIdentity):
            ids.check_cmnd(bad)
    assert ids.passport_number(" c 1234567 ") == "C1234567"
    for bad in ("C12", "C123-4567", "Ｃ1234567", "x" * 21):
        with pytest.raises(ids.InvalidIdentity):
            ids.passport_number(bad)
    assert ids.nationality("vn") == ids.nationality("VNM") == "VNM"
    assert ids.nationality("KR") == "KOR"
    for bad in ("XX", "Viet Nam", "704", "K"):
        with pytest.raises(ids.InvalidIdentity):
            ids.nationality(bad)
    assert ids.tax_code("0100109106") == "0100109106"
    assert ids.tax_code(" 0100109106-001 ") == "0100109106-001"
    for bad in ("010010910", "0100109106-01", "0100109106001", "01001O9106"):
        with pytest.raises(ids.InvalidIdentity):
            ids.tax_code(bad)
    # the tenth digit checks the nine before it: one digit mistyped, or two swapped
    for mistyped in ("0100109107", "0100109016", "0100109107-001"):
        with pytest.raises(ids.InvalidIdentity, match="check digit"):
            ids.tax_code(mistyped)


def test_who_carries_what():
    individual, foreigner = KINDS["individual"], KINDS["foreigner"]
    checked = checked_identity(individual, Identity("cccd", "001 090 012 345",
                                                    birth_date=date(1990, 2, 1)), today=TODAY)
    assert checked.id_number == "001090012345" and checked.birth_year == 1990
    passport = checked_identity(foreigner, Identity("passport", "m1234567", "kr"),
                                today=TODAY)
    assert (passport.id_number, passport.nationality) == ("M1234567", "KOR")
    for kind, given in ((individual, Identity("passport", "M1234567", "KR")),
                        (individual, Identity(nationality="US")),
                        (foreigner, Identity()),
                        (foreigner, Identity("passport", "M1234567", "VN")),
                        (KINDS["household"], Identity("cccd", "001090012345")),
                        (KINDS["organisation"], Identity(gender="male")),
                        (KINDS["overseas_vietnamese"], Identity("cccd", "001090012345",
                                                                "USA")),
                        (individual, Identity(birth_year=2027)),
                        (individual, Identity(birth_date=date(2026, 5, 5)))):
        with pytest.raises(ids.InvalidInput):
            checked_identity(kind, given, today=TODAY)


def test_province_codes_come_from_vietnam_provinces():
    codes = provinces.birth_registration_provinces()
    assert len(codes) == 63 and codes["001"] == "Thành phố Hà Nội"
    assert codes["096"] == "Tỉnh Cà Mau" and "003" not in codes
    # the 34 provinces since 2025-07-01 keep codes of the 63
    assert {f"0{c:02d}" for c in provinces.current_province_codes()} <= set(codes)
    assert len(provinces.current_province_codes()) == 34


@pytest.mark.skipif(importlib.util.find_spec("vietnam_provinces.legacy") is None,
                    reason="the installed vietnam-provinces has no legacy module (Python 3.11)")
def test_the_data_file_agrees_with_the_package():
    assert provinces._from_file() == provinces._from_package()


def test_the_database_and_the_table_agree_on_who_is_a_person():
    from pathlib import Path
    sql = (Path(__file__).parents[2] / "sql" / "functions" / "parties.sql").read_text()
    listed = sql.split("SELECT kind IN (", 1)[1].split(")", 1)[0]
    assert {k.strip(" '\n") for k in listed.split(",")} == PERSON_KINDS
    migration = (Path(__file__).parents[2] / "sql" / "migrations" / "0017_parties.sql")
    check = migration.read_text().split("CHECK (kind IN (", 1)[1].split("))", 1)[0]
    assert {k.strip(" '\n") for k in check.split(",")} == set(KINDS)


def test_the_api_offers_every_kind():
    from typing import get_args

    from api.schemas.parties import PartyKindName
    assert set(get_args(PartyKindName)) == set(KINDS)
