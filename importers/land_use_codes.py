"""The land-use codes of an import, translated to the list in force (cadastre.land_use).

An import's parcel versions begin today, so their purposes use today's codes. Each distinct
value of the land-use column (a few hundred in a city's files: this is a lookup per row) is
split into its codes (``ODT+CLN``, ``ODT, CLN``, ``T V``; the whole value is tried first, so
that ``MN/hg`` stays one code) and each code is, in this order:

1. normalised (NFC, upper case) and, when no table knows it, read again as the TCVN3, VNI or
   Windows-1258 bytes it may be mojibake of (``N§`` is ``NĐ`` in TCVN3);
2. a code of the list in force today: kept;
3. a code the list has ended: its successor (``BHK`` -> ``HNK``), reported as *superseded*;
4. a legacy code (``land_use_legacy_code``: pre-2004 map symbols such as ``2L``, ``GT``,
   ``NĐ``; the 2007 and 2014 statistics codes): its target, reported as *legacy*; residential
   ``T`` is ``ODT`` in urban communes (phường, thị trấn) and ``ONT`` in rural ones (xã), by
   the commune's kind in the unit registry;
5. anything else, and a legacy code with no single code today (``MN``: aquaculture or special
   water?): *not mapped*. The feature is quarantined (``unknown-land-use-code``) with the
   code in its reason, and the report counts every such code.

The file's value stays in the parcel's source attributes (``_land_use_source``) whenever it
was changed. In strict mode (``--land-use-codes strict``, for a new survey made under the
2024 list) steps 3 and 4 quarantine instead (``superseded-land-use-code``,
``legacy-land-use-code``), naming the code to use.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.clock import office_today
from cadastre.land_use.files import LegacyCode, normalise_code
from cadastre.land_use.service import (
    CodeValidity,
    legacy_codes,
    successor_on,
    validity,
    why_not_in_force,
)
from importers import vntext

MODES = ("map", "strict")
#: What separates the codes of a mixed-use value.
_SEPARATORS = re.compile(r"[+,;/&\s-]+")
#: Encodings whose bytes, read as Latin-1 or Windows-1252, give a code's mojibake.
_MOJIBAKE = ("tcvn3", "vni", "cp1258")
#: A commune's kind as the unit registry may spell it (without accents, spaces, underscores).
_URBAN_KINDS = frozenset({"phuong", "thitran", "ward", "township"})
_RURAL_KINDS = frozenset({"xa", "commune"})

UNKNOWN = "unknown-land-use-code"
SUPERSEDED = "superseded-land-use-code"
LEGACY = "legacy-land-use-code"


@dataclass(frozen=True, slots=True)
class _Code:
    """One code of a value, resolved: ``code`` today's (None: not mapped), how, and for a
    code that depends on the commune, the urban and rural codes."""

    written: str
    code: str | None
    how: str  # current | superseded | legacy | unmapped
    reason: str | None = None
    rural: str | None = None  # set: ``code`` is the urban one


@dataclass(frozen=True, slots=True)
class Translated:
    """A value of the land-use column translated for one commune kind."""

    codes: str | None  # canonical "HNK+CLN", None when nothing is left
    reason_code: str | None  # the feature's quarantine reason, when it is refused
    reason: str | None
    notes: tuple[tuple[str, str, str], ...]  # (how, written, today's code)
    unmapped: tuple[str, ...]
    changed: bool  # the codes differ from what the file says
    by_commune: bool = False  # a code of it is urban or rural by the commune (``T``)


@dataclass
class Tally:
    """What the translation did, for the report: ``BHK → HNK`` counts per kind, and the
    codes not mapped as written."""

    superseded: Counter[str] = field(default_factory=Counter)
    legacy: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, dict[str, int]]:
        return {k: dict(v.most_common()) for k, v in (("superseded", self.superseded),
                                                      ("legacy", self.legacy),
                                                      ("unmapped", self.unmapped)) if v}


class LandUseCodes:
    """The code list, the legacy table and the communes' kinds, read once per import."""

    def __init__(self, codes: dict[str, CodeValidity], legacy: dict[str, LegacyCode],
                 urbanity: dict[str, str | None], *, day: date, strict: bool = False) -> None:
        self.codes, self.legacy, self.urbanity = codes, legacy, urbanity
        self.day, self.strict = day, strict
        self._resolved: dict[str, _Code] = {}
        #: (value, urbanity, or "?commune" for a commune of unknown kind) -> translation
        self._values: dict[tuple[str, str | None], Translated] = {}

    @classmethod
    def load(cls, conn: Connection, *, mode: str = "map", day: date | None = None
             ) -> LandUseCodes:
        # a code's versions (before and after 2025) agree, or its kind is not known
        kinds: dict[str, set[str]] = {}
        for code, kind in conn.execute(sa.text(
                "SELECT code, kind FROM admin_unit WHERE level = 'commune'")).all():
            found = kinds.setdefault(str(code), set())
            if (plain := _urbanity(kind)) is not None:
                found.add(plain)
        urbanity = {c: (next(iter(k)) if len(k) == 1 else None) for c, k in kinds.items()}
        return cls(validity(conn), legacy_codes(conn), urbanity, day=day or office_today(conn),
                   strict=mode == "strict")

    # --- one code ---------------------------------------------------------------------

    def _lookup(self, written: str) -> _Code | None:
        for candidate in _candidates(written):
            if candidate in self.codes:
                reason = why_not_in_force(self.codes, candidate, self.day)
                if reason is None:
                    return _Code(written, candidate, "current")
                successor = successor_on(self.codes, candidate, self.day)
                if successor is None:
                    return _Code(written, None, "unmapped", reason)
                return _Code(written, successor, "superseded", reason)
            found = self.legacy.get(candidate)
            if found is not None:
                return self._legacy(written, found)
        return None

    def _legacy(self, written: str, found: LegacyCode) -> _Code:
        if found.target is None:
            return _Code(written, None, "unmapped",
                         f"legacy code {written!r} ({found.meaning_vi}; {found.legal_basis}) "
                         "has no single code today: choose one")
        target = successor_on(self.codes, found.target, self.day)
        rural = (successor_on(self.codes, found.target_rural, self.day)
                 if found.target_rural else None)
        if target is None or (found.target_rural and rural is None):
            return _Code(written, None, "unmapped",
                         f"legacy code {written!r} maps to {found.target}, which is not in "
                         "force")
        reason = (f"{written!r} is a legacy code ({found.meaning_vi}; {found.legal_basis}): "
                  f"use {target}" + (f" (urban) or {rural} (rural)" if rural else ""))
        return _Code(written, target, "legacy", reason, rural)

    def resolve(self, written: str) -> _Code:
        """One code of a value, as written."""
        found = self._resolved.get(written)
        if found is None:
            found = self._lookup(written) or _Code(
                written, None, "unmapped",
                f"land-use code {written!r} is in no code list (the code list and the legacy "
                "table: cadastre reference land-use list / load)")
            self._resolved[written] = found
        return found

    # --- one value --------------------------------------------------------------------

    def translate(self, value: str, commune: str | None = None) -> Translated:
        """A value of the land-use column, for a feature of ``commune``."""
        urbanity = self.urbanity.get(commune) if commune else None
        # a commune of unknown kind is named in the reason: its own entry
        key = (value, urbanity or (f"?{commune}" if commune else None))
        done = self._values.get(key)
        if done is None:
            done = self._translate(value, urbanity, commune)
            self._values[key] = done
        return done

    def _translate(self, value: str, urbanity: str | None, commune: str | None) -> Translated:
        whole = value.strip()
        parts = [whole] if self._lookup(whole) is not None else [
            p for p in _SEPARATORS.split(whole) if p]
        codes: list[str] = []
        notes: list[tuple[str, str, str]] = []
        unmapped: list[str] = []
        refusals: list[tuple[str, str]] = []
        by_commune = False
        for part in parts:
            found = self.resolve(part)
            code = found.code
            by_commune = by_commune or found.rural is not None
            if code is not None and found.rural is not None:
                if urbanity is None:
                    code = None
                    where = (f"commune {commune} is not in the unit registry" if commune
                             and commune not in self.urbanity else
                             f"the kind of commune {commune} is not known" if commune else
                             "the feature has no commune")
                    found = _Code(part, None, "unmapped",
                                  f"{found.reason}; {where}", found.rural)
                elif urbanity == "rural":
                    code = found.rural
            if code is None:
                unmapped.append(part)
                refusals.append((UNKNOWN, str(found.reason)))
                continue
            if found.how in ("superseded", "legacy"):
                notes.append((found.how, part, code))
                if self.strict:
                    refusals.append((SUPERSEDED if found.how == "superseded" else LEGACY,
                                     str(found.reason)))
            codes.append(code)
        joined = "+".join(dict.fromkeys(codes)) or None
        reason_code = refusals[0][0] if refusals else None
        return Translated(joined, reason_code, "; ".join(r for _, r in refusals) or None,
                          tuple(notes), tuple(unmapped), joined != whole, by_commune)

    # --- a frame ----------------------------------------------------------------------

    def apply(self, frame: pd.DataFrame, tally: Tally) -> tuple[np.ndarray, np.ndarray]:
        """Translate ``frame["land_use"]`` in place (today's codes, the file's value kept in
        ``source_attributes`` where it changed) and count what was done in ``tally``. Returns
        each row's quarantine reason code and reason (None: accepted)."""
        n = len(frame)
        reason_code = np.full(n, None, dtype=object)
        reason = np.full(n, None, dtype=object)
        if "land_use" not in frame or not n:
            return reason_code, reason
        values = frame["land_use"]
        if not values.notna().any():  # (records.canonicalise: blank values are NA)
            return reason_code, reason
        # one translation per distinct value (a few hundred), and per value and commune for
        # the few values whose code depends on the commune (residential T)
        index, distinct = pd.factorize(values, use_na_sentinel=True)
        results = [self.translate(str(v)) for v in distinct]
        per_row: dict[int, Translated] = {}
        if any(r.by_commune for r in results):
            communes = (frame["commune_code"].to_numpy(dtype=object) if "commune_code" in frame
                        else np.full(n, None, dtype=object))
            dependent = np.flatnonzero(np.isin(index, [i for i, r in enumerate(results)
                                                       if r.by_commune]))
            for row in dependent:
                commune = communes[row]
                per_row[int(row)] = self.translate(
                    str(distinct[index[row]]), commune if isinstance(commune, str) else None)
        times = np.bincount(index[index >= 0], minlength=len(results))
        counted = [(r, int(t)) for r, t in zip(results, times, strict=True)
                   if not r.by_commune] + [(r, 1) for r in per_row.values()]
        for result, t in counted:
            for how, written, code in result.notes:
                (tally.superseded if how == "superseded" else tally.legacy)[
                    f"{written} → {code}"] += t
            for written in result.unmapped:
                tally.unmapped[written] += t

        def column(attribute: str) -> np.ndarray:
            of_value = np.array([getattr(r, attribute) for r in results] + [None],
                                dtype=object)
            picked = of_value[index]  # the sentinel -1 picks the last one: None
            for row, result in per_row.items():
                picked[row] = getattr(result, attribute)
            return picked

        out = column("codes")
        reason_code[:], reason[:] = column("reason_code"), column("reason")
        frame["land_use"] = pd.Series(out, index=frame.index, dtype=values.dtype)
        changed = np.flatnonzero(column("changed") == True)  # noqa: E712
        if len(changed) and "source_attributes" in frame:
            attributes = frame["source_attributes"].to_numpy(dtype=object, copy=True)
            written = values.to_numpy(dtype=object)
            for row in changed:
                attributes[row] = _with_source(attributes[row], str(written[row]))
            frame["source_attributes"] = pd.Series(attributes, index=frame.index,
                                                   dtype=frame["source_attributes"].dtype)
        return reason_code, reason


def _with_source(attributes: object, value: str) -> str:
    data = orjson.loads(attributes) if isinstance(attributes, str) and attributes else {}
    data["_land_use_source"] = value
    return orjson.dumps(data).decode()


def _candidates(written: str) -> list[str]:
    """The forms a code may be looked up by: as written (normalised), then decoded from the
    legacy encodings whose bytes it may be mojibake of."""
    first = normalise_code(written)
    found = [first]
    if first.isascii():
        return found
    for text in dict.fromkeys((written.strip(), first)):
        for latin in ("cp1252", "latin-1"):
            try:
                raw = text.encode(latin)
            except UnicodeEncodeError:
                continue
            for encoding in _MOJIBAKE:
                try:
                    decoded = normalise_code(vntext.decode(raw, encoding))
                except (UnicodeDecodeError, ValueError):
                    continue
                if decoded not in found:
                    found.append(decoded)
    return found


def _urbanity(kind: object) -> str | None:
    """urban (phường, thị trấn), rural (xã) or None, from a unit's kind as recorded."""
    if not isinstance(kind, str):
        return None
    plain = "".join(c for c in unicodedata.normalize("NFD", kind.lower().replace("đ", "d"))
                    if c.isalpha() and c.isascii())
    if plain in _URBAN_KINDS:
        return "urban"
    if plain in _RURAL_KINDS:
        return "rural"
    return None
