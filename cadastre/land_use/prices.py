"""The province's land price table (bảng giá đất, Land Law 2024 art. 159; migration 0029):
loaded from the province's CSV or XLSX with the decision that adopted it and its validity,
and the price that applies to a parcel on a date.

A file has one row per price: the road (tên đường) and its segment (đoạn từ ... đến ...),
or a zone (khu vực) where prices are by zone; the position (vị trí, 1 = fronting the road);
the land-use code (Circular 08/2024); the price in đồng per m²; optionally the commune it
applies in. Headers are matched without case or accents, Vietnamese or English. The whole
file is checked before anything is written, every problem reported with its row; a table
is loaded whole or not at all.

Matching a parcel: its land-use codes, its commune (the one of its sheet, or the commune in
force that succeeded it), and the road its address names. The position and, where a road
has several priced segments, the segment are facts of the site the office decides: the
lookup lists every candidate and says so; it does not guess."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.admin.units import communes_today
from cadastre.errors import ImportSourceError, InvalidInput, NotFound
from gis.crs import fold

#: canonical column -> accepted header spellings (compared folded, without non-letters)
COLUMNS: dict[str, tuple[str, ...]] = {
    "commune_code": ("commune_code", "ma xa", "ma don vi hanh chinh", "ma dvhc"),
    "road": ("road", "ten duong", "duong pho", "ten duong pho", "duong"),
    "segment_from": ("segment_from", "doan tu", "tu"),
    "segment_to": ("segment_to", "doan den", "den"),
    "zone": ("zone", "khu vuc"),
    "position": ("position", "vi tri", "vt"),
    "land_use_code": ("land_use_code", "ma loai dat", "loai dat", "ky hieu"),
    "price": ("price", "price_vnd_m2", "gia dat", "gia", "don gia"),
}
#: the largest price a row may hold (đồng per m²; numeric(14, 0))
PRICE_MAX = 10**13 - 1
_MAX_ROWS = 200_000


def _words(text: str) -> str:
    """Words without case, separated by one space, accents kept (Hàng Bạc is not Hàng
    Bác): "Hàng Bạc" matches "Số 12 hàng bạc, phường ..." and not "Hàng Bạch"."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold()))


def _key(name: str) -> str:
    """A header compared folded, without what it says in brackets (its unit) and without
    non-letters: "Giá đất (đồng/m²)" is "giadat"."""
    return re.sub(r"[^a-z0-9]", "", fold(re.sub(r"[(\[].*?[)\]]", "", str(name))))


_ALIASES = {_key(alias): column for column, aliases in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class PriceFile:
    rows: pd.DataFrame
    sha256: str


def read_price_file(path: Path) -> PriceFile:
    """The file's rows under canonical column names, checked; ImportSourceError lists every
    problem with its row number (as a spreadsheet shows it)."""
    if not path.is_file():
        raise ImportSourceError(f"{path}: no such file")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".ods"):
            raw = pd.read_excel(io.BytesIO(data), header=None, dtype=object)
        elif suffix in (".csv", ".txt"):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ImportSourceError(
                    f"{path.name}: not UTF-8 text (byte {exc.start})",
                    hint="save the table as CSV UTF-8 or XLSX") from exc
            first = text.split("\n", 1)[0]
            raw = pd.read_csv(io.StringIO(text), header=None, dtype=object,
                              sep=";" if first.count(";") > first.count(",") else ",")
        else:
            raise ImportSourceError(f"{path.name}: a land price table is .xlsx, .ods or .csv")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportSourceError(f"{path.name}: cannot be read ({exc})") from exc
    header_row = next((i for i in range(min(30, len(raw))) if {
        _ALIASES.get(_key(v)) for v in raw.iloc[i] if isinstance(v, str)} >= {
        "land_use_code", "price"}), None)
    if header_row is None:
        raise ImportSourceError(
            f"{path.name}: no header row naming the land-use code and the price (Mã loại "
            "đất, Giá đất) in the first 30 rows")
    names = [_ALIASES.get(_key(v)) if isinstance(v, str) else None
             for v in raw.iloc[header_row]]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        raise ImportSourceError(f"{path.name}: the header names {', '.join(twice)} twice")
    body = raw.iloc[header_row + 1:]
    frame = pd.DataFrame({n: body.iloc[:, i].tolist() for i, n in enumerate(names) if n})
    frame["line"] = [header_row + 2 + i for i in range(len(body))]
    frame = frame[frame.drop(columns="line").notna().any(axis=1)].reset_index(drop=True)
    if frame.empty:
        raise ImportSourceError(f"{path.name}: the table has no rows")
    if len(frame) > _MAX_ROWS:
        raise ImportSourceError(f"{path.name}: more than {_MAX_ROWS} rows")
    return PriceFile(_checked(frame, path.name), hashlib.sha256(data).hexdigest())


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", str(value))).strip()
    return text or None


def _checked(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    problems: list[str] = []
    out = []
    for row in frame.to_dict("records"):
        line = row["line"]
        value = {c: _text(row.get(c)) for c in COLUMNS if c != "price"}
        code = (value["land_use_code"] or "").upper()
        if not re.fullmatch(r"[A-Z]{2,4}", code):
            problems.append(f"row {line}: land-use code {value['land_use_code']!r}")
        raw_price = row.get("price")
        price = _number(raw_price)
        if price is None or not 0 < price <= PRICE_MAX:
            problems.append(f"row {line}: price {raw_price!r} (đồng per m², 1 to {PRICE_MAX})")
        position = _number(value["position"]) if value["position"] else 1
        if position is None or position not in range(1, 10):
            problems.append(f"row {line}: position {value['position']!r} (1 to 9)")
        if not value["road"] and not value["zone"]:
            problems.append(f"row {line}: neither a road nor a zone")
        commune = value["commune_code"]
        if commune is not None:
            commune = commune.zfill(5) if commune.isdigit() else commune
            if not re.fullmatch(r"[0-9A-Z]{2,10}", commune):
                problems.append(f"row {line}: commune code {value['commune_code']!r}")
        out.append({**value, "land_use_code": code, "commune_code": commune,
                     "position": position, "price_vnd_m2": price, "line": line})
    checked = pd.DataFrame(out)
    keys = ["commune_code", "road", "segment_from", "segment_to", "zone", "position",
            "land_use_code"]
    lines: dict[tuple[Any, ...], list[int]] = {}
    for row in out:
        lines.setdefault(tuple(row[k] for k in keys), []).append(row["line"])
    for same in (v for v in lines.values() if len(v) > 1):
        problems.append(f"rows {', '.join(map(str, same))}: the same price twice")
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more"
                                           if len(problems) > 20 else "")
        raise ImportSourceError(f"{name}: {len(problems)} problem(s): {shown}")
    return checked


def _number(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and value.is_integer() else None
    digits = str(value).strip().replace(".", "").replace(",", "").replace(" ", "")
    return int(digits) if digits.isdigit() else None


@dataclass(frozen=True, slots=True)
class Loaded:
    table_id: int
    rows: int
    ended: int | None  # the table it ended, if any


def load_table(conn: Connection, path: Path, *, province_code: str, decision: str,
               valid_from: date, valid_to: date | None = None) -> Loaded:
    """Load a price table of the province (a trusted session: the owner's command). The
    table in force on ``valid_from``, if it began before and has no end, ends the day
    before; any other overlap is refused."""
    if not re.fullmatch(r"[0-9]{2}", province_code):
        raise InvalidInput(f"province code {province_code!r}: two digits")
    if not conn.execute(sa.text(
            "SELECT 1 FROM admin_unit WHERE level = 'province' AND code = :p "
            "AND validity @> :d"), {"p": province_code, "d": valid_from}).first():
        raise InvalidInput(f"no province {province_code} in force on {valid_from}")
    if not decision.strip():
        raise InvalidInput("name the decision that adopted the table")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInput("a table cannot end before it begins")
    prices = read_price_file(path)
    frame = prices.rows
    codes: dict[str, bool] = {str(c): bool(v) for c, v in conn.execute(sa.text(
        "SELECT code, daterange(valid_from, valid_to, '[]') @> CAST(:d AS date) "
        "FROM land_use_type"), {"d": valid_from}).all()}
    bad = sorted({c for c in frame["land_use_code"] if not codes.get(c)})
    if bad:
        unknown = [c for c in bad if c not in codes]
        ended = [c for c in bad if c in codes]
        raise ImportSourceError(
            f"{path.name}: land-use codes not in force on {valid_from}: "
            + ", ".join(unknown + [f"{c} (ended)" for c in ended]),
            hint="the codes of Circular 08/2024/TT-BTNMT: cadastre reference land-use list")
    communes = sorted({c for c in frame["commune_code"].dropna()})
    if communes:
        known = set(conn.execute(sa.text(
            "SELECT code FROM admin_unit WHERE level = 'commune' AND code = ANY(:c) "
            "AND validity @> CAST(:d AS date)"), {"c": communes, "d": valid_from}).scalars())
        missing = [c for c in communes if c not in known]
        if missing:
            raise ImportSourceError(f"{path.name}: communes not in force on {valid_from}: "
                                    f"{', '.join(missing[:20])}")
    ended_table = conn.execute(sa.text(
        "UPDATE land_price_table SET valid_to = CAST(:d AS date) - 1 WHERE province_code = :p "
        "AND valid_to IS NULL AND valid_from < :d RETURNING id"),
        {"p": province_code, "d": valid_from}).scalar()
    overlap = conn.execute(sa.text(
        "SELECT decision, valid_from, valid_to FROM land_price_table WHERE province_code = :p "
        "AND validity && daterange(CAST(:f AS date), CAST(:t AS date), '[]')"),
        {"p": province_code, "f": valid_from, "t": valid_to}).first()
    if overlap is not None:
        raise InvalidInput(
            f"the table of {overlap.decision} is in force from {overlap.valid_from} to "
            f"{overlap.valid_to or 'no end'}: tables of a province do not overlap")
    table_id = int(conn.execute(sa.text(
        "INSERT INTO land_price_table (province_code, decision, valid_from, valid_to, "
        "source_file, source_sha256, rows) VALUES (:p, :d, :f, :t, :file, :sha, :n) "
        "RETURNING id"), {"p": province_code, "d": decision.strip(), "f": valid_from,
                          "t": valid_to, "file": path.name, "sha": prices.sha256,
                          "n": len(frame)}).scalar_one())
    records = frame.assign(table_id=table_id).astype(object)
    records = records.where(records.notna(), None)
    conn.execute(sa.text(
        "INSERT INTO land_price (table_id, line, commune_code, road, segment_from, "
        "segment_to, zone, position, land_use_code, price_vnd_m2) VALUES (:table_id, :line, "
        ":commune_code, :road, :segment_from, :segment_to, :zone, :position, "
        ":land_use_code, :price_vnd_m2)"), records.to_dict("records"))
    return Loaded(table_id, len(frame),
                  int(ended_table) if ended_table is not None else None)


def tables(conn: Connection, province_code: str | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT id, province_code, decision, valid_from, valid_to, source_file, rows, "
        "loaded_at FROM land_price_table "
        "WHERE :p IS NULL OR province_code = :p ORDER BY province_code, valid_from"),
        {"p": province_code}).mappings()]


def parcel_prices(conn: Connection, parcel_id: int, on: date) -> dict[str, Any]:
    """The prices of the table in force on ``on`` that may apply to the parcel: its
    land-use codes, its commune, the road its address names (every candidate position and
    segment, for the office to choose)."""
    parcel = conn.execute(sa.text(
        "SELECT p.parcel_id, p.commune_code, p.address, "
        "array_agg(DISTINCT u.land_use_code) FILTER (WHERE u.land_use_code IS NOT NULL) "
        "AS codes FROM current_parcel p LEFT JOIN parcel_land_use u "
        "ON u.parcel_version_id = p.version_id WHERE p.parcel_id = :p "
        "GROUP BY p.parcel_id, p.commune_code, p.address"), {"p": parcel_id}).first()
    if parcel is None:
        raise NotFound(f"no current parcel {parcel_id}")
    communes = [parcel.commune_code, *communes_today(conn, parcel.commune_code)]
    province = conn.execute(sa.text(
        "WITH RECURSIVE up AS (SELECT id, parent_id, level, code, valid_to FROM admin_unit "
        "  WHERE level = 'commune' AND code = ANY(:c) "
        "  UNION SELECT a.id, a.parent_id, a.level, a.code, a.valid_to FROM admin_unit a "
        "  JOIN up ON a.id = up.parent_id) "
        # the province in force (a former commune's own may have been merged since)
        "SELECT code FROM up WHERE level = 'province' "
        "ORDER BY valid_to IS NULL DESC, code LIMIT 1"),
        {"c": communes}).scalar()
    answer: dict[str, Any] = {"parcel_id": parcel_id, "on": on, "province_code": province,
                              "communes": communes, "land_use_codes": parcel.codes or [],
                              "table": None, "prices": []}
    table = conn.execute(sa.text(
        "SELECT id, decision, valid_from, valid_to FROM land_price_table "
        "WHERE province_code = :p AND validity @> CAST(:d AS date)"),
        {"p": province, "d": on}).mappings().first()
    if table is None:
        answer["reason"] = f"no land price table of province {province} in force on {on}"
        return answer
    answer["table"] = {k: table[k] for k in ("decision", "valid_from", "valid_to")}
    rows = conn.execute(sa.text(
        "SELECT road, segment_from, segment_to, zone, position, land_use_code, commune_code, "
        "price_vnd_m2 FROM land_price WHERE table_id = :t AND land_use_code = ANY(:codes) "
        "AND (commune_code IS NULL OR commune_code = ANY(:c)) "
        "ORDER BY road, segment_from NULLS FIRST, position, land_use_code"),
        {"t": table["id"], "codes": parcel.codes or [], "c": communes}).mappings().all()
    address = f" {_words(parcel.address or '')} "
    on_road = [dict(r) for r in rows if r["road"] and f" {_words(r['road'])} " in address]
    chosen = on_road or [dict(r) for r in rows if r["road"] is None
                         and r["commune_code"] is not None]
    for r in chosen:
        r["price_vnd_m2"] = int(r["price_vnd_m2"])
    answer["prices"] = chosen
    answer["basis"] = ("the road named in the parcel's address" if on_road else
                       "the zone of the parcel's commune" if chosen else None)
    if not chosen:
        answer["reason"] = ("no price of the table for the parcel's land use on the road its "
                            "address names, nor for its commune's zone")
    elif len({(r["segment_from"], r["segment_to"], r["position"]) for r in chosen}) > 1:
        answer["reason"] = ("several segments or positions: the office decides the parcel's "
                            "position (vị trí) and segment from the site")
    return answer
