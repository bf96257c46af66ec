"""What the two pinned packages say about the administrative units of 2025 (read once per
process): the communes in force since 2025-07-01 from ``vietnam-provinces``, the districts and
communes before it and the succession between them from the data files of
``vietnamadminunits``. No database here; cadastre.admin.units loads it.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sqlite3
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from cadastre.errors import ConfigurationError
from gis.crs import fold

#: The last day of the three-level structure and the first of the two-level one.
OLD_END = date(2025, 6, 30)
REFORM_DAY = date(2025, 7, 1)

NEW_KINDS = {"xã": "xa", "phường": "phuong", "đặc khu": "dac_khu"}
OLD_KINDS = {"Xã": "xa", "Phường": "phuong", "Thị trấn": "thi_tran"}
DISTRICT_KINDS = {"Huyện": "huyen", "Quận": "quan", "Thị xã": "thi_xa", "Thành phố": "thanh_pho"}
_PREFIXES = ("thi tran ", "dac khu ", "phuong ", "xa ")


# --- what the packages say ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Unit:
    level: str          # 'district' | 'commune'
    code: str
    name: str
    kind: str
    province: str       # province code
    district: str | None = None  # an old commune's district code


@dataclass(frozen=True, slots=True)
class Succession:
    level: str          # the predecessor's: 'commune', or 'district' for an island district
    old: str            # predecessor code
    new: str            # successor code (a commune in force)
    kind: str
    main: bool


@dataclass(frozen=True, slots=True)
class PackageUnits:
    packages: dict[str, str]
    communes: tuple[Unit, ...]       # in force since 2025-07-01
    districts: tuple[Unit, ...]      # to 2025-06-30
    old_communes: tuple[Unit, ...]   # to 2025-06-30
    successions: tuple[Succession, ...]
    #: new communes whose code differs between the packages: (province, name,
    #: vietnamadminunits' code, vietnam-provinces' code)
    code_disagreements: tuple[tuple[str, str, str, str], ...]
    #: new communes of one package that the other lacks (by province and name)
    unmatched: tuple[str, ...]
    #: old communes the converter gives no new commune
    unmapped: tuple[str, ...]

    @property
    def source(self) -> str:
        p = self.packages
        return (f"vietnam-provinces {p['vietnam-provinces']} (data "
                f"{p['vietnam-provinces data']}); vietnamadminunits {p['vietnamadminunits']}")

    @property
    def new_source(self) -> str:
        return f"vietnam-provinces {self.packages['vietnam-provinces']}"

    @property
    def old_source(self) -> str:
        return f"vietnamadminunits {self.packages['vietnamadminunits']}"


def _data_file(name: str) -> Path:
    """A data file of vietnamadminunits, found through its metadata: importing the package
    (even importlib.resources.files does) pulls geopy and its parsers."""
    try:
        dist = importlib.metadata.distribution("vietnamadminunits")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConfigurationError("the package vietnamadminunits is not installed",
                                 hint="run 'make setup' (pip install -e .)") from exc
    path = Path(str(dist.locate_file(f"vietnamadminunits/data/{name}")))
    if not path.is_file():
        raise ConfigurationError(f"vietnamadminunits {dist.version} has no data/{name}")
    return path


def _exact_key(name: str) -> str:
    """The package's key of a name whose accent-free key is ambiguous ('xãvănlăng')."""
    return re.sub(r"[\W_]", "", unicodedata.normalize("NFC", name).lower())


def _folded_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(name))


def _short(name: str) -> str:
    folded = fold(name)
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix):]
    return folded


def _kind(kinds: dict[str, str], value: str | None, what: str) -> str:
    if value not in kinds:
        raise ConfigurationError(f"unknown kind of {what} {value!r} in the package data")
    return kinds[value]


@cache
def package_units() -> PackageUnits:
    """Read both packages (cached: they do not change while the process runs)."""
    import vietnam_provinces

    packages = {
        "vietnam-provinces": importlib.metadata.version("vietnam-provinces"),
        "vietnam-provinces data": str(vietnam_provinces.__data_version__),
        "vietnamadminunits": importlib.metadata.version("vietnamadminunits"),
    }
    communes = tuple(
        Unit("commune", f"{int(w.code):05d}", w.name,
             _kind(NEW_KINDS, w.division_type.value, "commune"), f"{int(w.province_code):02d}")
        for w in vietnam_provinces.Ward.iter_all())
    by_folded: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    by_exact: dict[tuple[str, str], Unit] = {}
    for u in communes:
        by_folded[(u.province, _folded_key(u.name))].append(u)
        by_exact[(u.province, _exact_key(u.name))] = u

    db = sqlite3.connect(f"file:{_data_file('dataset.db')}?mode=ro", uri=True)
    try:
        new_rows = db.execute("SELECT provinceKey, wardKey, wardCode, ward, provinceCode "
                              "FROM admin_units").fetchall()
        old_rows = db.execute(
            "SELECT provinceKey, districtKey, wardKey, provinceCode, districtCode, district, "
            "districtType, wardCode, ward, wardType FROM admin_units_legacy "
            "ORDER BY provinceCode, districtCode, wardCode").fetchall()
    finally:
        db.close()

    # new communes: the package's key -> vietnam-provinces' commune (same province and name)
    new_by_key: dict[tuple[str, str], Unit] = {}
    disagreements, unmatched = [], []
    matched: set[str] = set()
    for province_key, ward_key, code, name, province in new_rows:
        found = by_exact.get((province, _exact_key(name)))
        if found is None:
            candidates = by_folded.get((province, _folded_key(name)), [])
            found = candidates[0] if len(candidates) == 1 else None
        if found is None:
            unmatched.append(f"vietnamadminunits {code} {name} ({province}): no commune of "
                             "that name in vietnam-provinces")
            continue
        new_by_key[(province_key, ward_key)] = found
        matched.add(found.code)
        if found.code != code:
            disagreements.append((province, found.name, code, found.code))
    unmatched += [f"vietnam-provinces {u.code} {u.name} ({u.province}): not in "
                  "vietnamadminunits" for u in communes if u.code not in matched]

    districts: dict[str, Unit] = {}
    old_communes: list[Unit] = []
    old_by_key: dict[str, Unit] = {}
    for (province_key, district_key, ward_key, province, district, district_name,
         district_type, code, name, ward_type) in old_rows:
        d = districts.setdefault(district, Unit(
            "district", district, district_name, _kind(DISTRICT_KINDS, district_type,
                                                       "district"), province))
        key = f"{province_key}_{district_key}_{ward_key or ''}"
        if code is None:  # an island district without communes
            old_by_key[key] = d
            continue
        unit = Unit("commune", code, name, _kind(OLD_KINDS, ward_type, "commune"), province,
                    district)
        old_communes.append(unit)
        old_by_key[key] = unit

    converter = json.loads(_data_file("converter_2025.json").read_bytes())
    # (old unit, new commune, main, whole)
    links: list[tuple[Unit, Unit, bool, bool]] = []
    problems: list[str] = []
    for province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            new = new_by_key.get((province_key, ward_key))
            for old_key in old_keys:
                old = old_by_key.get(old_key)
                if new is None or old is None:
                    problems.append(f"{old_key} -> {province_key} {ward_key}")
                else:
                    links.append((old, new, True, True))
    for province_key, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in olds.items():
            old = old_by_key.get(old_key)
            for part in parts:
                new = new_by_key.get((province_key, part["newWardKey"]))
                if new is None or old is None:
                    problems.append(f"{old_key} -> {province_key} {part['newWardKey']}")
                else:
                    links.append((old, new, bool(part["isDefaultNewWard"]), False))

    predecessors: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for old, new, _, _ in links:
        predecessors[new.code].add((old.level, old.code))
    successions = []
    for old, new, main, whole in links:
        if not whole:
            kind = "split"
        elif len(predecessors[new.code]) > 1:
            kind = "merged"
        else:
            kind = "continued" if _short(old.name) == _short(new.name) else "renamed"
        successions.append(Succession(old.level, old.code, new.code, kind, main))
    linked = {(old.level, old.code) for old, _, _, _ in links}
    unmapped = [f"{u.code} {u.name} ({u.province}/{u.district}): no new commune"
                for u in old_communes if (u.level, u.code) not in linked]
    unmapped += [f"package link {p}: unknown unit" for p in problems]
    return PackageUnits(packages, communes, tuple(districts.values()), tuple(old_communes),
                        tuple(successions), tuple(disagreements), tuple(unmatched),
                        tuple(unmapped))
