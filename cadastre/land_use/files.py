"""The two files of the land-use code list (package data in ``data/``, or an administrator's
copies), read and checked: every period of every code, and the legacy codes with today's
code for each. Loading them is ``cadastre.land_use.service``'s business."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

from cadastre.errors import InvalidInput

DATA = Path(__file__).parent / "data"
TYPES_FILE = DATA / "land_use_types.csv"
LEGACY_FILE = DATA / "land_use_legacy_codes.csv"

LAND_GROUPS = ("agricultural", "non_agricultural", "unused")
TYPE_COLUMNS = ("code", "name_vi", "name_en", "land_group", "valid_from", "valid_to",
                "successor", "legal_basis")
LEGACY_COLUMNS = ("source_code", "meaning_vi", "target", "target_rural", "legal_basis")
_CODE = re.compile(r"^[A-Z]{2,4}$")


class InvalidCodeList(InvalidInput):
    """A code-list file that cannot be loaded as it is (the message says where)."""

    code = "invalid-code-list"


@dataclass(frozen=True, slots=True)
class CodePeriod:
    """One period of a code: its name, group and legal basis from ``valid_from`` to
    ``valid_to`` (inclusive; None: in force)."""

    code: str
    name_vi: str
    name_en: str
    land_group: str
    valid_from: date
    valid_to: date | None
    successor: str | None
    legal_basis: str


@dataclass(frozen=True, slots=True)
class LegacyCode:
    """An old code and today's code for it: ``target`` everywhere, or for urban communes
    when ``target_rural`` is set (for rural ones); neither: no single code today."""

    source_code: str
    meaning_vi: str
    target: str | None
    target_rural: str | None
    legal_basis: str


@dataclass(frozen=True, slots=True)
class CodeLists:
    """The two files, parsed and checked, with their text (recorded with each load)."""

    periods: list[CodePeriod]
    legacy: list[LegacyCode]
    types_text: str
    legacy_text: str
    types_source: str
    legacy_source: str

    def codes(self) -> dict[str, list[CodePeriod]]:
        by_code: dict[str, list[CodePeriod]] = {}
        for period in self.periods:
            by_code.setdefault(period.code, []).append(period)
        return by_code


def normalise_code(text: str) -> str:
    """A code as the tables key it: NFC, surrounding and repeated spaces dropped, upper case
    (``" n§ "`` stays mojibake: decoding it is the importers' business)."""
    return " ".join(unicodedata.normalize("NFC", text).split()).upper()


# --- reading the files --------------------------------------------------------------------

def _rows(text: str, columns: tuple[str, ...], name: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a code-list CSV with their line numbers; comment lines (#) are skipped."""
    numbered = [(i, line) for i, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise InvalidCodeList(f"{name}: no rows")
    reader = csv.reader([line for _, line in numbered])
    header = tuple(h.strip() for h in next(reader))
    if header != columns:
        raise InvalidCodeList(f"{name}: the header must be {','.join(columns)}, not "
                              f"{','.join(header)}")
    rows = []
    for (number, _), values in zip(numbered[1:], reader, strict=True):
        if len(values) != len(columns):
            raise InvalidCodeList(f"{name} line {number}: {len(values)} fields, expected "
                                  f"{len(columns)} (quote a field holding a comma)")
        rows.append((number, {c: v.strip() for c, v in zip(columns, values, strict=True)}))
    return rows


def _day(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidCodeList(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from exc


def parse_types(text: str, name: str = "land_use_types.csv") -> list[CodePeriod]:
    periods: list[CodePeriod] = []
    for number, row in _rows(text, TYPE_COLUMNS, name):
        where = f"{name} line {number}"
        code = row["code"]
        if not _CODE.match(code):
            raise InvalidCodeList(f"{where}: {code!r} is not a code (2 to 4 capital letters)")
        if row["land_group"] not in LAND_GROUPS:
            raise InvalidCodeList(f"{where}: land_group must be one of {', '.join(LAND_GROUPS)}")
        for column in ("name_vi", "name_en", "legal_basis"):
            if not row[column]:
                raise InvalidCodeList(f"{where}: {column} is empty")
        start = _day(row["valid_from"], where)
        end = _day(row["valid_to"], where) if row["valid_to"] else None
        if end is not None and end < start:
            raise InvalidCodeList(f"{where}: valid_to is before valid_from")
        periods.append(CodePeriod(code, unicodedata.normalize("NFC", row["name_vi"]),
                                  row["name_en"], row["land_group"], start, end,
                                  row["successor"] or None, row["legal_basis"]))
    _check_periods(periods, name)
    return periods


def _check_periods(periods: list[CodePeriod], name: str) -> None:
    by_code: dict[str, list[CodePeriod]] = {}
    for p in periods:
        by_code.setdefault(p.code, []).append(p)
    for code, own in by_code.items():
        own.sort(key=lambda p: p.valid_from)
        for before, after in pairwise(own):
            if before.valid_to is None or after.valid_from != before.valid_to + timedelta(1):
                raise InvalidCodeList(
                    f"{name}: the periods of {code} must follow each other day after day "
                    f"({before.valid_from} to {before.valid_to or 'open'}, then "
                    f"{after.valid_from})")
        for p in own[:-1]:
            if p.successor:
                raise InvalidCodeList(f"{name}: {code} has a successor on a period that is "
                                      "not its last")
        last = own[-1]
        if last.successor is None:
            continue
        if last.valid_to is None:
            raise InvalidCodeList(f"{name}: {code} is in force, so it has no successor")
        if last.successor == code or last.successor not in by_code:
            raise InvalidCodeList(f"{name}: the successor of {code}, {last.successor}, is not "
                                  "another code of the list")
        day_after = last.valid_to + timedelta(1)
        if not any(p.valid_from <= day_after and (p.valid_to is None or day_after <= p.valid_to)
                   for p in by_code[last.successor]):
            raise InvalidCodeList(f"{name}: the successor of {code}, {last.successor}, is not "
                                  f"in force on {day_after} when {code} has ended")


def parse_legacy(text: str, codes: Mapping[str, list[CodePeriod]],
                 name: str = "land_use_legacy_codes.csv") -> list[LegacyCode]:
    seen: dict[str, int] = {}
    legacy: list[LegacyCode] = []
    for number, row in _rows(text, LEGACY_COLUMNS, name):
        where = f"{name} line {number}"
        source = normalise_code(row["source_code"])
        if not source:
            raise InvalidCodeList(f"{where}: source_code is empty")
        if source in seen:
            raise InvalidCodeList(f"{where}: {source} is already on line {seen[source]}")
        if source in codes:
            raise InvalidCodeList(f"{where}: {source} is a code of the code list, which "
                                  "translates it (successor), not this table")
        seen[source] = number
        target, rural = row["target"] or None, row["target_rural"] or None
        if rural and not target:
            raise InvalidCodeList(f"{where}: target_rural needs the urban target")
        for value in (target, rural):
            if value is not None and value not in codes:
                raise InvalidCodeList(f"{where}: {value} is not a code of the code list")
        if not row["meaning_vi"] or not row["legal_basis"]:
            raise InvalidCodeList(f"{where}: meaning_vi and legal_basis are needed")
        legacy.append(LegacyCode(source, unicodedata.normalize("NFC", row["meaning_vi"]),
                                 target, rural, row["legal_basis"]))
    return legacy


def read_code_lists(types_file: Path | None = None,
                    legacy_file: Path | None = None) -> CodeLists:
    """Both files (default: the package's), parsed and checked together."""
    types_path, legacy_path = types_file or TYPES_FILE, legacy_file or LEGACY_FILE
    texts = []
    for path in (types_path, legacy_path):
        try:
            texts.append(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError as exc:
            raise InvalidCodeList(f"{path}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise InvalidCodeList(f"{path}: not UTF-8 text ({exc.reason})") from exc
    periods = parse_types(texts[0], types_path.name)
    by_code: dict[str, list[CodePeriod]] = {}
    for p in periods:
        by_code.setdefault(p.code, []).append(p)
    legacy = parse_legacy(texts[1], by_code, legacy_path.name)
    return CodeLists(periods, legacy, texts[0], texts[1], str(types_path), str(legacy_path))


