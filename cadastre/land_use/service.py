"""The land-use code list as versioned data, and its rule for new purposes.

The list lives in two files of package data (``data/``), which an administrator may replace
with his own copies without a code change:

- ``land_use_types.csv``: every period of every code (name, group, first and last day, the
  successor of a code the list dropped, the legal basis). ``land_use_type`` holds one row per
  code (its whole validity and its latest name, what parcels and layers join on) and
  ``land_use_type_version`` every period, so that a past date still reads the name then.
- ``land_use_legacy_codes.csv``: codes of older lists (pre-2004 map symbols, the 2007 and
  2014 statistics codes) and today's code for each, used by the importers.

``load_code_lists`` loads both in the caller's transaction and records the load with the
files' text (``land_use_list_load``): every version of the list stays readable. A code is
never removed (parcels of the past use it): it is ended, with a successor when it has one.

A new purpose (a purpose change, an import, a first registration) must use a code in force on
its day: ``check_new_purposes`` refuses the others naming the successor ("BHK ended on
2024-07-31: use HNK"). The database refuses them too (``land_use_code_in_force``,
sql/functions/land_use.sql); old parcel versions keep the codes of their time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.clock import office_today
from cadastre.errors import InvalidInput
from cadastre.land_use.files import CodeLists, InvalidCodeList, LegacyCode, read_code_lists


class LandUseCodeNotInForce(InvalidInput):
    """A new purpose with a code that has ended (or not begun) on its day."""

    code = "land-use-code-not-in-force"


class UnknownLandUseCode(InvalidInput):
    code = "unknown-land-use-code"


@dataclass(frozen=True, slots=True)
class CodeValidity:
    """A code's whole validity, as ``land_use_type`` holds it."""

    code: str
    name_vi: str
    valid_from: date
    valid_to: date | None
    successor: str | None
    legal_basis: str | None

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def successor_on(codes: Mapping[str, CodeValidity], code: str, day: date) -> str | None:
    """The code in force on ``day`` that replaces ``code`` (itself when in force), following
    successors of successors; None when the chain ends without one."""
    seen: set[str] = set()
    current: str | None = code
    while current is not None and current not in seen:
        seen.add(current)
        found = codes.get(current)
        if found is None:
            return None
        if found.in_force(day):
            return current
        if found.valid_to is None or found.valid_to >= day:  # not begun yet
            return None
        current = found.successor
    return None


def why_not_in_force(codes: Mapping[str, CodeValidity], code: str, day: date) -> str | None:
    """None when ``code`` is in force on ``day``; otherwise what a person is told:
    ``"BHK ended on 2024-07-31: use HNK"``."""
    found = codes.get(code)
    if found is None:
        return f"{code} is not a land-use code"
    if found.in_force(day):
        return None
    if found.valid_from > day:
        return f"{code} is in force from {found.valid_from.isoformat()}"
    assert found.valid_to is not None
    successor = successor_on(codes, code, day)
    if successor is None:
        return (f"{code} ended on {found.valid_to.isoformat()} and has no single successor: "
                "choose a code in force")
    return f"{code} ended on {found.valid_to.isoformat()}: use {successor}"


def validity(conn: Connection) -> dict[str, CodeValidity]:
    """Every code of ``land_use_type`` with its validity and successor."""
    rows = conn.execute(sa.text(
        "SELECT code, name_vi, valid_from, valid_to, successor, legal_basis "
        "FROM land_use_type")).all()
    return {r.code: CodeValidity(r.code, r.name_vi, r.valid_from, r.valid_to, r.successor,
                                 r.legal_basis) for r in rows}


def legacy_codes(conn: Connection) -> dict[str, LegacyCode]:
    """The legacy table by its (normalised) source code."""
    rows = conn.execute(sa.text(
        "SELECT source_code, meaning_vi, target, target_rural, legal_basis "
        "FROM land_use_legacy_code")).all()
    return {r.source_code: LegacyCode(r.source_code, r.meaning_vi, r.target, r.target_rural,
                                      r.legal_basis) for r in rows}


def check_new_purposes(conn: Connection, codes: Iterable[str], *,
                       on: date | None = None) -> None:
    """Refuse codes that a new purpose may not use on ``on`` (default: today in Việt Nam):
    unknown codes, and codes not in force that day, naming the successor."""
    wanted = sorted(set(codes))
    day = on or office_today(conn)
    known = validity(conn)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise UnknownLandUseCode(
            f"unknown land-use codes {unknown}",
            hint="the codes in force: cadastre reference land-use list")
    refused = [reason for c in wanted if (reason := why_not_in_force(known, c, day))]
    if refused:
        raise LandUseCodeNotInForce(
            "; ".join(refused),
            hint="the codes in force: cadastre reference land-use list (TT 08/2024/TT-BTNMT, "
            "Phụ lục II mục A, since 2024-08-01)")


# --- loading ------------------------------------------------------------------------------

@dataclass
class LoadSummary:
    """What a load changed (or, dry, would change)."""

    codes_added: list[str] = field(default_factory=list)
    codes_ended: list[str] = field(default_factory=list)  # newly given an end
    codes_renamed: list[str] = field(default_factory=list)  # their current name changed
    codes_changed: list[str] = field(default_factory=list)  # anything else of the code row
    periods: int = 0
    periods_added: int = 0
    periods_removed: int = 0
    legacy: int = 0
    legacy_added: list[str] = field(default_factory=list)
    legacy_changed: list[str] = field(default_factory=list)
    legacy_removed: list[str] = field(default_factory=list)
    #: Current parcels holding a code that has ended by today, per code (they change to the
    #: successor at their next change).
    current_with_ended: dict[str, int] = field(default_factory=dict)
    load_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.codes_added or self.codes_ended or self.codes_renamed
                    or self.codes_changed or self.periods_added or self.periods_removed
                    or self.legacy_added or self.legacy_changed or self.legacy_removed)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "load_id"}

    def lines(self) -> list[str]:
        out = [f"land-use codes: {self.periods} periods; legacy codes: {self.legacy}"]
        for label, values in (("added", self.codes_added), ("ended", self.codes_ended),
                              ("renamed", self.codes_renamed), ("changed", self.codes_changed),
                              ("legacy added", self.legacy_added),
                              ("legacy changed", self.legacy_changed),
                              ("legacy removed", self.legacy_removed)):
            if values:
                out.append(f"  {label}: {', '.join(values)}")
        if self.periods_added or self.periods_removed:
            out.append(f"  periods added {self.periods_added}, removed {self.periods_removed}")
        if not self.changed:
            out.append("  no change")
        if self.current_with_ended:
            held = ", ".join(f"{c} {n:,}" for c, n in sorted(self.current_with_ended.items()))
            out.append(f"  current parcels with an ended code: {held} (they take the "
                       "successor at their next change)")
        return out


def _code_rows(lists: CodeLists) -> list[dict[str, Any]]:
    rows = []
    for code, own in sorted(lists.codes().items()):
        own = sorted(own, key=lambda p: p.valid_from)
        last = own[-1]
        rows.append({"code": code, "name_vi": last.name_vi, "name_en": last.name_en,
                     "land_group": last.land_group, "valid_from": own[0].valid_from,
                     "valid_to": last.valid_to, "legal_basis": last.legal_basis,
                     "successor": last.successor})
    return rows


def load_code_lists(conn: Connection, lists: CodeLists | None = None, *,
                    dry_run: bool = False) -> LoadSummary:
    """Make the database's code list and legacy table those of ``lists`` (default: the
    package files), in the caller's transaction, and record the load. Refuses a list that
    leaves out a code the database has: codes are ended, never removed."""
    lists = lists or read_code_lists()
    summary = LoadSummary(periods=len(lists.periods), legacy=len(lists.legacy))
    wanted = _code_rows(lists)
    have = {r["code"]: dict(r) for r in conn.execute(sa.text(
        "SELECT code, name_vi, name_en, land_group, valid_from, valid_to, legal_basis, "
        "successor FROM land_use_type")).mappings()}
    missing = sorted(set(have) - {r["code"] for r in wanted})
    if missing:
        raise InvalidCodeList(
            f"{Path(lists.types_source).name} leaves out {', '.join(missing)}: a code is never "
            "removed (parcels of the past use it)",
            hint="keep its rows and end its last period (valid_to, and a successor if it has one)")
    for row in wanted:
        old = have.get(row["code"])
        if old is None:
            summary.codes_added.append(row["code"])
            continue
        ended = old["valid_to"] is None and row["valid_to"] is not None
        if ended:
            summary.codes_ended.append(row["code"])
        if old["name_vi"] != row["name_vi"]:
            summary.codes_renamed.append(row["code"])
        # anything else: an English name, a group, a date moved, a successor, a basis
        ignored = {"name_vi"} | ({"valid_to", "successor", "legal_basis"} if ended else set())
        if any(old[k] != row[k] for k in row if k not in ignored):
            summary.codes_changed.append(row["code"])
    old_periods = {(r.code, r.valid_from, r.valid_to, r.name_vi, r.name_en, r.land_group,
                    r.legal_basis) for r in conn.execute(sa.text(
                        "SELECT code, valid_from, valid_to, name_vi, name_en, land_group, "
                        "legal_basis FROM land_use_type_version"))}
    new_periods = {(p.code, p.valid_from, p.valid_to, p.name_vi, p.name_en, p.land_group,
                    p.legal_basis) for p in lists.periods}
    summary.periods_added = len(new_periods - old_periods)
    summary.periods_removed = len(old_periods - new_periods)
    old_legacy = {r.source_code: tuple(r) for r in conn.execute(sa.text(
        "SELECT source_code, meaning_vi, target, target_rural, legal_basis "
        "FROM land_use_legacy_code"))}
    new_legacy = {g.source_code: (g.source_code, g.meaning_vi, g.target, g.target_rural,
                                  g.legal_basis) for g in lists.legacy}
    summary.legacy_added = sorted(set(new_legacy) - set(old_legacy))
    summary.legacy_removed = sorted(set(old_legacy) - set(new_legacy))
    summary.legacy_changed = sorted(k for k in set(new_legacy) & set(old_legacy)
                                    if new_legacy[k] != old_legacy[k])
    if not dry_run and summary.changed:
        _write(conn, lists, wanted, summary)
    summary.current_with_ended = _current_with_ended(conn, wanted)
    return summary


def _write(conn: Connection, lists: CodeLists, wanted: list[dict[str, Any]],
           summary: LoadSummary) -> None:
    # Codes first (a successor refers to another code), then the successors.
    conn.execute(sa.text(
        "INSERT INTO land_use_type (code, name_vi, name_en, land_group, valid_from, valid_to, "
        "legal_basis) VALUES (:code, :name_vi, :name_en, :land_group, :valid_from, :valid_to, "
        ":legal_basis) ON CONFLICT (code) DO UPDATE SET name_vi = excluded.name_vi, "
        "name_en = excluded.name_en, land_group = excluded.land_group, "
        "valid_from = excluded.valid_from, valid_to = excluded.valid_to, "
        "legal_basis = excluded.legal_basis, successor = NULL"), wanted)
    conn.execute(sa.text("UPDATE land_use_type SET successor = :successor WHERE code = :code"),
                 [r for r in wanted if r["successor"]])
    conn.execute(sa.text("DELETE FROM land_use_type_version"))
    conn.execute(sa.text(
        "INSERT INTO land_use_type_version (code, name_vi, name_en, land_group, valid_from, "
        "valid_to, legal_basis) VALUES (:code, :name_vi, :name_en, :land_group, :valid_from, "
        ":valid_to, :legal_basis)"),
        [{"code": p.code, "name_vi": p.name_vi, "name_en": p.name_en,
          "land_group": p.land_group, "valid_from": p.valid_from, "valid_to": p.valid_to,
          "legal_basis": p.legal_basis} for p in lists.periods])
    conn.execute(sa.text("DELETE FROM land_use_legacy_code"))
    if lists.legacy:
        conn.execute(sa.text(
            "INSERT INTO land_use_legacy_code (source_code, meaning_vi, target, target_rural, "
            "legal_basis) VALUES (:source_code, :meaning_vi, :target, :target_rural, "
            ":legal_basis)"),
            [{"source_code": g.source_code, "meaning_vi": g.meaning_vi, "target": g.target,
              "target_rural": g.target_rural, "legal_basis": g.legal_basis}
             for g in lists.legacy])
    summary.load_id = int(conn.execute(sa.text(
        "INSERT INTO land_use_list_load (loaded_by, types_source, types_sha256, types_csv, "
        "legacy_source, legacy_sha256, legacy_csv, summary) VALUES (proven_actor(), :ts, :th, "
        ":tc, :ls, :lh, :lc, CAST(:s AS jsonb)) RETURNING id"),
        {"ts": lists.types_source, "th": _sha256(lists.types_text), "tc": lists.types_text,
         "ls": lists.legacy_source, "lh": _sha256(lists.legacy_text), "lc": lists.legacy_text,
         "s": orjson.dumps(summary.to_json()).decode()}).scalar_one())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _current_with_ended(conn: Connection, wanted: list[dict[str, Any]]) -> dict[str, int]:
    today = office_today(conn)
    ended = [r["code"] for r in wanted if r["valid_to"] is not None and r["valid_to"] < today]
    if not ended:
        return {}
    rows = conn.execute(sa.text(
        "SELECT u.land_use_code, count(DISTINCT p.parcel_id) FROM current_parcel p "
        "JOIN parcel_land_use u ON u.parcel_version_id = p.version_id "
        "WHERE u.land_use_code = ANY(:c) GROUP BY 1"), {"c": ended}).all()
    return {str(code): int(n) for code, n in rows}


def code_list(conn: Connection, *, on: date | None = None) -> list[dict[str, Any]]:
    """The codes in force on ``on`` (default: today in Việt Nam) with that day's name, group,
    period, successor and legal basis."""
    day = on or office_today(conn)
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT v.code, v.name_vi, v.name_en, v.land_group, v.valid_from, v.valid_to, "
        "t.successor, v.legal_basis FROM land_use_type_version v "
        "JOIN land_use_type t USING (code) "
        "WHERE v.valid_from <= :d AND (v.valid_to IS NULL OR :d <= v.valid_to) "
        "ORDER BY v.land_group, v.code"), {"d": day}).mappings()]
