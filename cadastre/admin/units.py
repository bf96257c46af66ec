"""The communes in force since the 2025 reform, the old districts and communes as history, and
the succession old commune -> new commune (issue 17, item 1).

Where the units come from (both pinned in pyproject.toml):

* PyPI ``vietnam-provinces``: the 3,321 communes in force since 2025-07-01 (2,621 xã, 687
  phường, 13 đặc khu), with their official codes and names. Level ``commune``, kind
  ``xa`` / ``phuong`` / ``dac_khu``, valid from 2025-07-01, under the province in force.
* PyPI ``vietnamadminunits`` (MIT), its data files only (its modules import geopy and
  geocode over the network; importing the package alone costs 0.4 s): ``dataset.db`` holds
  the 696 districts and 10,035 communes of 2025-06-30 (level ``district`` / ``commune``,
  kinds ``quan`` / ``huyen`` / ``thi_xa`` / ``thanh_pho`` and ``phuong`` / ``xa`` /
  ``thi_tran``, valid to 2025-06-30, under the old province version in force that day) and
  ``converter_2025.json`` which old commune went into which new one.

Succession rows (admin_unit_succession, effective 2025-07-01):

* ``split``: an old commune divided among several new ones, one row per new commune, the
  package's default new commune marked ``main`` (exactly one);
* ``continued``: an old commune that went whole into a new commune of which it is the only
  predecessor, under the same name (the kind may change: thị trấn -> xã);
* ``renamed``: the same, under another name;
* ``merged``: an old commune that went whole into a new commune together with others.
* The five island districts without communes (Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn, Côn
  Đảo) continue as đặc khu: a succession row from the district. The other districts are
  abolished: no successor.

The package keys its succession by name keys, not codes; the keys are mapped to codes through
the package's own tables (old: province + district + commune key; new: province + commune
key, then to the vietnam-provinces commune of the same province and name). Where the two
packages give a new commune different codes, vietnam-provinces' code is used and the
disagreement is reported (LoadReport.code_disagreements), never silently.

History is never rewritten by a load. A second load of the same packages changes nothing. A
newer package that gives a unit another name (or kind, or parent) is reported
(``differences``) and left as stored, unless ``renames_on`` is given: then a commune in force
whose name or kind changed gets a new version from that day (the stored one ends the day
before, with a ``renamed`` succession between them). Old units (valid to 2025-06-30) are only
reported: their names are history. A unit the package no longer lists is reported, never
ended or removed (ending one needs its legal date). A stored row that is not a loaded unit
but holds the code in the same period (typed in by hand) is kept, and the package's unit is
not loaded: reported as a conflict. Rows that match a loaded unit's code and period (the
demo's wards of Hoàn Kiếm before 2025) are taken as that unit.

The rows are inserted set-wise (one INSERT ... SELECT FROM json_to_recordset per level), with
the audit row triggers set aside and one ``bulk_insert`` audit row per table instead, as the
bulk loads of the register do (cadastre/bulk.py).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.admin.unit_packages import (
    OLD_END,
    REFORM_DAY,
    PackageUnits,
    Succession,
    Unit,
    package_units,
)
from cadastre.clock import TODAY_SQL
from cadastre.errors import ConfigurationError, InvalidInput, NotFound

__all__ = ["OLD_END", "REFORM_DAY", "LoadReport", "describe_units", "load_units",
           "package_units", "today_unit"]

# --- the load ------------------------------------------------------------------------------

@dataclass
class LoadReport:
    source: str
    inserted: dict[str, int] = field(default_factory=dict)
    renamed: list[str] = field(default_factory=list)       # new versions made (renames_on)
    differences: list[str] = field(default_factory=list)   # reported, not applied
    conflicts: list[str] = field(default_factory=list)     # stored rows kept, unit not loaded
    not_in_package: list[str] = field(default_factory=list)
    code_disagreements: tuple[tuple[str, str, str, str], ...] = ()
    unmatched: tuple[str, ...] = ()
    unmapped: list[str] = field(default_factory=list)      # old communes without successor
    counts: dict[str, int] = field(default_factory=dict)
    load_id: int | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or bool(self.renamed)

    def lines(self, *, every: bool = False) -> list[str]:
        """What a person reads: the counts, then what was reported (the codes the packages
        disagree on: the first five, or ``every`` one)."""
        c = self.counts
        shown = self.code_disagreements if every else self.code_disagreements[:5]
        out = [
            f"source: {self.source}",
            f"communes in force: {c['communes_in_force']} ({c['hanoi_communes']} in Hà Nội)",
            f"old communes (to {OLD_END}): {c['old_communes']}; old districts: "
            f"{c['districts']}",
            f"successions of {REFORM_DAY}: {c['successions']}",
            f"old communes without a successor: {len(self.unmapped)}",
            "inserted: " + (", ".join(f"{n} {k}" for k, n in self.inserted.items() if n)
                            or "nothing (no change)"),
        ]
        if self.code_disagreements:
            out.append(f"{len(self.code_disagreements)} new communes have another code in "
                       "vietnamadminunits (vietnam-provinces' code is used): " + "; ".join(
                           f"{name} ({p}) {theirs} -> {ours}"
                           for p, name, theirs, ours in shown)
                       + ("; ... (--all lists them)"
                          if len(shown) < len(self.code_disagreements) else ""))
        for title, items in (("unmatched", self.unmatched), ("no successor", self.unmapped),
                             ("renamed", self.renamed), ("differs, kept", self.differences),
                             ("conflict, kept", self.conflicts),
                             ("not in the package", self.not_in_package)):
            out += [f"{title}: {item}" for item in items]
        if self.load_id is not None:
            out.append(f"recorded as load #{self.load_id}")
        return out


_STORED = """
    SELECT id, level, code, name, kind, parent_id, valid_from, valid_to, source
    FROM admin_unit WHERE level IN ('district', 'commune') ORDER BY valid_from NULLS FIRST, id
"""

_INSERT = """
    INSERT INTO admin_unit (level, code, name, kind, parent_id, valid_from, valid_to, tm3_epsg,
                            source)
    SELECT :level, r.code, r.name, r.kind, r.parent_id, CAST(:vf AS date), CAST(:vt AS date),
           r.tm3_epsg, :source
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(code text, name text, kind text, parent_id bigint, tm3_epsg integer)
    RETURNING id, code
"""

_COUNTS = f"""
    SELECT
      (SELECT count(*) FROM admin_unit WHERE level = 'commune'
         AND validity @> {TODAY_SQL}) AS communes_in_force,
      (SELECT count(*) FROM admin_unit c JOIN admin_unit p ON p.id = c.parent_id
         WHERE c.level = 'commune' AND c.validity @> {TODAY_SQL} AND p.code = '01')
         AS hanoi_communes,
      (SELECT count(*) FROM admin_unit WHERE level = 'commune' AND valid_to = :old_end)
         AS old_communes,
      (SELECT count(*) FROM admin_unit WHERE level = 'district' AND valid_to = :old_end)
         AS districts,
      (SELECT count(*) FROM admin_unit_succession s JOIN admin_unit a ON a.id = s.predecessor_id
         WHERE a.level IN ('commune', 'district') AND s.effective_on = :reform) AS successions
"""


@dataclass
class _Stored:
    id: int
    level: str
    code: str
    name: str
    kind: str | None
    parent_id: int | None
    valid_from: date | None
    valid_to: date | None
    source: str | None

    def overlaps(self, first: date | None, last: date | None) -> bool:
        return ((self.valid_from is None or last is None or self.valid_from <= last)
                and (self.valid_to is None or first is None or first <= self.valid_to))


def _provinces(conn: Connection) -> tuple[dict[str, tuple[int, int | None]],
                                          dict[str, tuple[int, int | None]]]:
    """(code -> (id, tm3) of the province in force since the reform, of the one in force on
    its eve)."""
    new: dict[str, tuple[int, int | None]] = {}
    old: dict[str, tuple[int, int | None]] = {}
    for r in conn.execute(sa.text(
            "SELECT id, code, valid_to, tm3_epsg, validity @> CAST(:reform AS date) AS now, "
            "validity @> CAST(:old_end AS date) AS before FROM admin_unit "
            "WHERE level = 'province'"), {"reform": REFORM_DAY, "old_end": OLD_END}):
        if r.now and r.valid_to is None:
            new[r.code] = (r.id, r.tm3_epsg)
        if r.before:
            old[r.code] = (r.id, r.tm3_epsg)
    return new, old


def _lock(conn: Connection) -> None:
    """One loader at a time (readers go on reading the units)."""
    conn.execute(sa.text("LOCK TABLE admin_unit_load IN EXCLUSIVE MODE"))


def load_units(conn: Connection, *, renames_on: date | None = None) -> LoadReport:
    """Load what the packages say into admin_unit and admin_unit_succession (see the module
    docstring); idempotent. The caller owns the transaction (a failure rolls it all back).

    Args:
        renames_on: the day from which a commune in force that the package names otherwise
            than the register takes the package's name (a new version); by default such a
            difference is only reported.
    """
    started = time.perf_counter()
    data = package_units()
    report = LoadReport(data.source, code_disagreements=data.code_disagreements,
                        unmatched=data.unmatched)
    _lock(conn)
    new_provinces, old_provinces = _provinces(conn)
    missing = sorted({u.province for u in data.communes} - set(new_provinces)
                     | {u.province for u in data.old_communes} - set(old_provinces))
    if missing:
        raise ConfigurationError(
            f"the provinces {', '.join(missing)} are not in admin_unit",
            hint="load the provinces first (cadastre db init runs sync_provinces)")
    stored: dict[tuple[str, str], list[_Stored]] = defaultdict(list)
    for r in conn.execute(sa.text(_STORED)):
        stored[(r.level, r.code)].append(_Stored(*r))

    audit_off = False

    def set_audit_aside() -> None:
        nonlocal audit_off
        if not audit_off:
            for table in _AUDITED:
                conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER audit_row"))
            audit_off = True

    def insert(level: str, rows: list[dict[str, Any]], *, first: date | None,
               last: date | None, source: str) -> dict[str, int]:
        if not rows:
            return {}
        set_audit_aside()
        got = conn.execute(sa.text(_INSERT), {"level": level, "vf": first, "vt": last,
                                              "source": source, "rows": json.dumps(rows)})
        return {code: int(i) for i, code in got}

    def classify(unit: Unit, first: date | None, last: date | None
                 ) -> tuple[_Stored | None, _Stored | None, bool]:
        """(first version, latest version) of the stored unit this one is, or whether a
        stored row that is not it holds the code in the period."""
        versions = stored.get((unit.level, unit.code), [])
        if last == OLD_END:
            same = [v for v in versions if v.valid_to == OLD_END]
        else:
            same = [v for v in versions if v.valid_from is not None and first is not None
                    and v.valid_from >= first]
        if same:
            return same[0], same[-1], False
        return None, None, any(v.overlaps(first, last) for v in versions)

    def compare(unit: Unit, row: _Stored, parent: int | None) -> list[str]:
        what = []
        if row.name != unit.name:
            what.append(f"name {row.name!r} -> {unit.name!r}")
        if row.kind != unit.kind:
            what.append(f"kind {row.kind} -> {unit.kind}")
        if parent is not None and row.parent_id != parent:
            what.append(f"parent #{row.parent_id} -> #{parent}")
        return what

    # 1. old districts, 2. old communes under them, 3. communes in force
    ids: dict[tuple[str, str], int] = {}
    renames: list[tuple[_Stored, Unit]] = []
    report.inserted = {"districts": 0, "old communes": 0, "communes": 0, "successions": 0}
    for title, units, first, last, source in (
            ("districts", data.districts, None, OLD_END, data.old_source),
            ("old communes", data.old_communes, None, OLD_END, data.old_source),
            ("communes", data.communes, REFORM_DAY, None, data.new_source)):
        rows = []
        for u in units:
            parent: int | None
            tm3: int | None
            if u.level == "district":
                parent, tm3 = old_provinces[u.province]
            elif last == OLD_END:
                parent, tm3 = ids.get(("district", str(u.district))), old_provinces[u.province][1]
            else:
                parent, tm3 = new_provinces[u.province]
            head, latest, conflict = classify(u, first, last)
            if head is not None and latest is not None:
                ids[(u.level if last == OLD_END else "new", u.code)] = head.id
                diff = compare(u, latest, parent)
                if diff:
                    if (last is None and renames_on is not None and latest.valid_to is None
                            and latest.parent_id == parent):
                        renames.append((latest, u))
                    else:
                        report.differences.append(f"{u.level} {u.code} ({title}): "
                                                  + ", ".join(diff))
                continue
            if conflict:
                report.conflicts.append(
                    f"{u.level} {u.code} {u.name}: another row holds the code in the period "
                    f"{first or '…'} .. {last or '…'}; the package's unit is not loaded")
                continue
            rows.append({"code": u.code, "name": u.name, "kind": u.kind, "parent_id": parent,
                         "tm3_epsg": tm3})
        if last is None:
            _fill_tm3(rows, data, old_provinces)
        made = insert(units[0].level, rows, first=first, last=last, source=source)
        report.inserted[title] = len(made)
        for code, i in made.items():
            ids[(units[0].level if last == OLD_END else "new", code)] = i

    # 4. successions
    wanted: dict[tuple[int, int], Succession] = {}
    for s in data.successions:
        a, b = ids.get((s.level, s.old)), ids.get(("new", s.new))
        if a is not None and b is not None:
            wanted[(a, b)] = s
    have = {(r.predecessor_id, r.successor_id): (r.kind, r.main) for r in conn.execute(
        sa.text("SELECT predecessor_id, successor_id, kind, main FROM admin_unit_succession "
                "WHERE effective_on = :d"), {"d": REFORM_DAY})}
    for (a, b), s in wanted.items():
        if (a, b) in have and have[(a, b)] != (s.kind, s.main):
            report.differences.append(f"succession {s.old} -> {s.new}: stored "
                                      f"{have[(a, b)]}, package {(s.kind, s.main)}")
    rows = [{"a": a, "b": b, "kind": s.kind, "main": s.main}
            for (a, b), s in wanted.items() if (a, b) not in have]
    if rows:
        set_audit_aside()
        report.inserted["successions"] = conn.execute(sa.text(
            "INSERT INTO admin_unit_succession (predecessor_id, successor_id, effective_on, "
            "kind, main) SELECT r.a, r.b, :d, r.kind, r.main FROM json_to_recordset("
            "CAST(:rows AS json)) AS r(a bigint, b bigint, kind text, main boolean) "
            "ON CONFLICT DO NOTHING"), {"d": REFORM_DAY, "rows": json.dumps(rows)}).rowcount

    # 5. what the register has from an earlier package that this one lacks
    listed = {(u.level, u.code, u.level == "district" or u.district is not None)
              for u in (*data.districts, *data.old_communes, *data.communes)}
    report.not_in_package = [
        f"{r.level} {r.code} {r.name} ({r.source})" for r in conn.execute(sa.text(
            "SELECT level, code, name, source, valid_to FROM admin_unit "
            "WHERE (source = :old AND valid_to = :end) OR (source = :new AND valid_to IS NULL) "
            "ORDER BY level, code"), {"old": data.old_source, "new": data.new_source,
                                      "end": OLD_END})
        if (r.level, r.code, r.valid_to is not None) not in listed]

    if audit_off:
        for table in _AUDITED:
            conn.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER audit_row"))
    for row, unit in renames:  # row by row, audited
        _rename(conn, row, unit, cast(date, renames_on))
        report.renamed.append(f"{unit.code} {row.name} -> {unit.name} from {renames_on}")
    report.counts = {k: int(v) for k, v in conn.execute(sa.text(_COUNTS), {
        "old_end": OLD_END, "reform": REFORM_DAY}).mappings().one().items()}
    report.unmapped = list(data.unmapped) + [
        f"{r.code} {r.name}: no successor recorded" for r in conn.execute(sa.text(
            "SELECT a.code, a.name FROM admin_unit a WHERE a.level = 'commune' "
            "AND a.valid_to = :d AND NOT EXISTS (SELECT 1 FROM admin_unit_succession s "
            "WHERE s.predecessor_id = a.id) ORDER BY a.code"), {"d": OLD_END})]
    if report.changed:
        report.load_id = _record(conn, data, report)
    report.seconds = time.perf_counter() - started
    return report


_AUDITED = ("admin_unit", "admin_unit_succession")


def _fill_tm3(rows: list[dict[str, Any]], data: PackageUnits,
              old_provinces: dict[str, tuple[int, int | None]]) -> None:
    """A commune in force whose province has no single TM-3 zone (a merged province) keeps
    the zone of its predecessors' old province, when they agree: its cadastral maps were
    drawn there."""
    old_province = {u.code: u.province for u in data.old_communes}
    old_province.update({u.code: u.province for u in data.districts})
    zones: dict[str, set[int | None]] = defaultdict(set)
    for s in data.successions:
        zones[s.new].add(old_provinces[old_province[s.old]][1])
    for row in rows:
        if row["tm3_epsg"] is None and len(zones.get(row["code"], ())) == 1:
            row["tm3_epsg"] = next(iter(zones[row["code"]]))


def _rename(conn: Connection, row: _Stored, unit: Unit, on: date) -> None:
    """A new version of a commune in force from ``on``; the stored one ends the day before."""
    if row.valid_from is not None and row.valid_from >= on:
        raise InvalidInput(f"commune {unit.code} began on {row.valid_from}: a rename from "
                           f"{on} would end it before it began")
    conn.execute(sa.text("UPDATE admin_unit SET valid_to = :end WHERE id = :id"),
                 {"end": on - timedelta(days=1), "id": row.id})
    new_id = conn.execute(sa.text(
        "INSERT INTO admin_unit (level, code, name, kind, parent_id, valid_from, tm3_epsg, "
        "remote, geom, source) SELECT level, code, :name, :kind, parent_id, :on, tm3_epsg, "
        "remote, geom, source FROM admin_unit WHERE id = :id RETURNING id"),
        {"name": unit.name, "kind": unit.kind, "on": on, "id": row.id}).scalar_one()
    conn.execute(sa.text(
        "INSERT INTO admin_unit_succession (predecessor_id, successor_id, effective_on, kind, "
        "main) VALUES (:a, :b, :on, 'renamed', true)"), {"a": row.id, "b": new_id, "on": on})


def _record(conn: Connection, data: PackageUnits, report: LoadReport) -> int:
    """The load's row, and one audit row per table instead of one per unit."""
    summary = {"inserted": report.inserted, "renamed": report.renamed,
               "differences": report.differences, "conflicts": report.conflicts,
               "not_in_package": report.not_in_package,
               "code_disagreements": [list(d) for d in report.code_disagreements],
               "unmatched": list(report.unmatched), "unmapped": report.unmapped,
               "counts": report.counts}
    load_id = int(conn.execute(sa.text(
        "INSERT INTO admin_unit_load (source, packages, summary) VALUES (:s, CAST(:p AS jsonb), "
        "CAST(:m AS jsonb)) RETURNING id"),
        {"s": data.source, "p": json.dumps(data.packages), "m": json.dumps(summary)}).scalar_one())
    for table, inserted in (
            ("admin_unit", sum(v for k, v in report.inserted.items() if k != "successions")),
            ("admin_unit_succession", report.inserted["successions"])):
        if inserted:
            conn.execute(sa.text(
                "INSERT INTO audit_log (actor, actor_role, action, table_name, after, endpoint, "
                "reason) VALUES (proven_actor(), personal_data_role(), 'bulk_insert', :t, "
                "CAST(:after AS jsonb), audit_setting('endpoint'), :why)"),
                {"t": table, "after": json.dumps({"rows_inserted": inserted,
                                                  "admin_unit_load": load_id}),
                 "why": f"administrative units load #{load_id}: {data.source}"})
    return load_id


# --- reading ---------------------------------------------------------------------------------

_UNIT = """
    SELECT a.id, a.level, a.code, a.name, a.kind, a.valid_from, a.valid_to, a.tm3_epsg,
           a.source, up.level AS parent_level, up.code AS parent_code, up.name AS parent_name
    FROM admin_unit a LEFT JOIN admin_unit up ON up.id = a.parent_id
"""


def _period(valid_from: date | None, valid_to: date | None) -> str:
    return f"{valid_from or '…'}..{valid_to or '…'}"


def today_unit(conn: Connection, commune_code: str, on: date | None = None) -> dict[str, Any]:
    """The commune(s) in force today that the commune with this code on ``on`` (default
    today) is part of now, with the day since when (SQL: ``current_commune()``).

    Returns the commune of that day (``code``, ``name``, ``kind``, ``valid_from``,
    ``valid_to``, ``district``: its district's name before 2025, or None), ``today``: a
    list of ``{code, name, since, main}`` (main first), and ``text``: the answer in words,
    e.g. "Phường Phúc Tân (00037, former Quận Hoàn Kiếm) is in Phường Hồng Hà (00097) since
    2025-07-01".

    Raises:
        NotFound: no commune had the code on that day.
    """
    code = commune_code.strip()
    day = on or conn.execute(sa.text(f"SELECT {TODAY_SQL}")).scalar_one()
    unit = conn.execute(sa.text(
        _UNIT + " WHERE a.level = 'commune' AND a.code = :c AND a.validity @> CAST(:d AS date)"),
        {"c": code, "d": day}).mappings().first()
    if unit is None:
        periods = [_period(r.valid_from, r.valid_to) for r in conn.execute(sa.text(
            "SELECT valid_from, valid_to FROM admin_unit WHERE level = 'commune' AND code = :c "
            "ORDER BY valid_from NULLS FIRST"), {"c": code})]
        raise NotFound(f"no commune {code} on {day}",
                       hint=("the code was in force " + ", ".join(periods)) if periods
                       else "not a commune code of the register")
    now = [dict(r) for r in conn.execute(sa.text(
        "SELECT code, name, since, main FROM current_commune(:c, :d)"),
        {"c": code, "d": day}).mappings()]
    district = unit["parent_name"] if unit["parent_level"] == "district" else None
    former = f", former {district}" if district else ""
    who = f"{unit['name']} ({code}{former})"
    if len(now) == 1 and now[0]["code"] == code and unit["valid_to"] is None:
        text = f"{who} is in force since {unit['valid_from'] or 'before the records begin'}"
    elif len(now) == 1:
        text = f"{who} is in {now[0]['name']} ({now[0]['code']}) since {now[0]['since']}"
    elif now:
        parts = ", ".join(f"{u['name']} ({u['code']}{', main' if u['main'] else ''})"
                          for u in now)
        text = f"{who} is divided among {parts} since {min(u['since'] for u in now)}"
    else:
        text = f"{who} ended on {unit['valid_to']}: no successor is recorded"
    return {"code": code, "name": unit["name"], "kind": unit["kind"],
            "valid_from": unit["valid_from"], "valid_to": unit["valid_to"],
            "district": district, "today": now, "text": text}


def describe_units(conn: Connection, code: str, on: date | None = None) -> list[dict[str, Any]]:
    """Every unit (of any level) with this code in force on ``on``, or, when none is (or no
    day is given and none is in force today), every version with the code; each with its
    predecessors and successors."""
    code = code.strip()
    day = on or conn.execute(sa.text(f"SELECT {TODAY_SQL}")).scalar_one()
    rows = list(conn.execute(sa.text(
        _UNIT + " WHERE a.code = :c AND a.validity @> CAST(:d AS date) ORDER BY a.level"),
        {"c": code, "d": day}).mappings())
    if not rows and on is None:
        rows = list(conn.execute(sa.text(
            _UNIT + " WHERE a.code = :c ORDER BY a.level, a.valid_from NULLS FIRST"),
            {"c": code}).mappings())
    if not rows:
        raise NotFound(f"no administrative unit {code}" + (f" on {on}" if on else ""),
                       hint="drop --on to see every version of the code" if on else None)
    links = """
        SELECT u.level, u.code, u.name, u.valid_from, u.valid_to, s.kind, s.main,
               s.effective_on
        FROM admin_unit_succession s JOIN admin_unit u ON u.id = s.{other}
        WHERE s.{this} = :id ORDER BY s.main DESC, u.code
    """
    found = []
    for r in rows:
        unit = dict(r)
        unit["predecessors"] = [dict(p) for p in conn.execute(sa.text(links.format(
            other="predecessor_id", this="successor_id")), {"id": r["id"]}).mappings()]
        unit["successors"] = [dict(p) for p in conn.execute(sa.text(links.format(
            other="successor_id", this="predecessor_id")), {"id": r["id"]}).mappings()]
        found.append(unit)
    return found


def communes_today(conn: Connection, commune_code: str) -> list[str]:
    """The communes in force today that ``commune_code`` is or became, main one first: the
    code's own unit if in force, else its last version's successors (sql/functions/
    admin_units.sql)."""
    return [str(c) for c in conn.execute(sa.text(
        "SELECT c.code FROM current_commune(:c, (SELECT CASE WHEN bool_or(valid_to IS NULL) "
        "THEN NULL ELSE max(valid_to) END FROM admin_unit WHERE level = 'commune' "
        "AND code = :c)) c"), {"c": commune_code}).scalars()]
