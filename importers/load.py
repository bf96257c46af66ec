"""Writing an accepted import into the register, with COPY, inside the caller's transaction.

A sheet already in the register is replaced as a *new edition*: its current parcels and its
map-sheet version end at the import's instant and the new versions begin at the same
instant; parcels keeping their commune + sheet + number keep their stable ``parcel_id``.
Parcels the checks keep (``checks.cross_checks``: under an injunction or a mortgage, or
whose feature in the edition was quarantined) stay as they are. A parcel of the old edition
that the new one does not contain is retired as a change operation retires one
(``cadastre.changes.service.retire_parcels``): its rights, restrictions and
responsibilities end with it, in the import's change, and it leaves its certificates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre import memory
from cadastre.bulk import copy_frame, integrity_rebuilt_after, reserve_from_sequence, reserve_ids
from cadastre.certificates import register as certificates
from cadastre.changes.record import RecordedChange, SourceDocument, record_change
from cadastre.changes.service import retire_parcels
from cadastre.errors import ImportSourceError
from cadastre.rights.bulk import register_holders
from gis.wkb import EncodedGeometries

IMPORT_LOCK = int.from_bytes(b"cad-imp", "big")
#: Every table an import of parcels writes.
REGISTER_TABLES = ("parcel_identity", "parcel", "parcel_land_use", "map_sheet", "party",
                   "party_personal", "party_member", "certificate", "certificate_parcel",
                   "land_right")

#: The restrictions under which a new edition of its sheet leaves a parcel as it is, with the
#: quarantine code of its feature (the injunction's when the parcel has both).
KEEPING_RESTRICTIONS = {"injunction": "parcel-enjoined", "mortgage": "parcel-mortgaged"}

#: ``(commune_code, sheet_number)`` among the sheets bound as ``:cc`` / ``:ss``.
_IN_SHEETS = ("(commune_code, sheet_number) IN "
              "(SELECT * FROM unnest(CAST(:cc AS text[]), CAST(:ss AS text[])))")

#: The canonical columns ``register_holders`` reads.
HOLDER_COLUMNS = ("owner_name", "party_kind", "owner_id", "owner_birth_year", "owner_address",
                  "certificate_serial", "registry_number", "certificate_date")


def begin_import(conn: Connection) -> None:
    """Set up the import's transaction: no per-statement timeout (a city-wide import is a
    long administrative statement), and one import at a time (they read and replace whole
    sheets)."""
    conn.execute(sa.text("SET LOCAL statement_timeout = 0"))
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK})


def next_import_id(conn: Connection) -> int:
    return int(conn.execute(sa.text(
        "SELECT nextval(pg_get_serial_sequence('import_run', 'id'))")).scalar_one())


def previous_import(conn: Connection, sha256: str, kind: str) -> dict[str, object] | None:
    row = conn.execute(sa.text(
        "SELECT id, finished_at, source_path FROM import_run WHERE source_sha256 = :s "
        "AND kind = :k ORDER BY id DESC LIMIT 1"), {"s": sha256, "k": kind}).mappings().first()
    return None if row is None else {k: (str(v) if k == "finished_at" else v)
                                     for k, v in row.items()}


def land_use_codes(conn: Connection) -> set[str]:
    return set(conn.execute(sa.text("SELECT code FROM land_use_type")).scalars())


def begin_change(conn: Connection, *, source: str, sha256: str, note: str) -> RecordedChange:
    """The import's change, proven by the imported file (its name, path and sha256)."""
    document = SourceDocument("legacy_file", source.rsplit("/", 1)[-1][:200], description=note,
                              sha256=sha256, storage_path=source)
    return record_change(conn, "import", [document], note=note)


def _sheets(sheets: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    return {"cc": [c for c, _ in sheets] or [""], "ss": [s for _, s in sheets] or [""]}


def current_neighbours(
    conn: Connection, bounds: tuple[float, float, float, float], srid: int,
    replaced: Sequence[tuple[str, str]], *, kept: Sequence[int] = (),
) -> tuple[np.ndarray, pd.DataFrame]:
    """Current parcels intersecting the import's extent that stay current: those outside the
    replaced sheets, and the ``kept`` parcels of the replaced sheets (column ``kept``)."""
    rows = conn.execute(sa.text(
        "SELECT parcel_id, commune_code, sheet_number, parcel_number, "
        "parcel_id = ANY(:kept), ST_AsBinary(geom) "
        "FROM current_parcel WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, :srid) "
        f"AND (NOT {_IN_SHEETS} OR parcel_id = ANY(:kept))"),
        {"x0": bounds[0], "y0": bounds[1], "x1": bounds[2], "y1": bounds[3], "srid": srid,
         "kept": [int(p) for p in kept], **_sheets(replaced)}).all()
    return _geometries(rows)


def parcel_geometries(conn: Connection, parcel_ids: Sequence[int]) -> tuple[np.ndarray,
                                                                          pd.DataFrame]:
    """``current_neighbours``'s answer for the current parcels ``parcel_ids`` (all kept)."""
    rows = conn.execute(sa.text(
        "SELECT parcel_id, commune_code, sheet_number, parcel_number, true, "
        "ST_AsBinary(geom) FROM current_parcel WHERE parcel_id = ANY(:p)"),
        {"p": [int(p) for p in parcel_ids]}).all()
    return _geometries(rows)


def _geometries(rows: Sequence[sa.Row[Any]]) -> tuple[np.ndarray, pd.DataFrame]:
    info = pd.DataFrame([r[:5] for r in rows], columns=[
        "parcel_id", "commune_code", "sheet_number", "parcel_number", "kept"])
    geoms = shapely.from_wkb([bytes(r[5]) for r in rows]) if rows else np.array([], dtype=object)
    return np.asarray(geoms, dtype=object), info


def sheet_parcels(conn: Connection, sheets: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The current parcels of the sheets a new edition replaces, with the kinds of their
    active restrictions that keep them (KEEPING_RESTRICTIONS; kinds only, never a reference
    or a counterparty). They are locked first as a change operation locks a parcel
    (``lock_parcel``: their identity rows, in id order, here shared): an operation on one of
    them waits until the import ends, and one in progress is waited for, so what is read
    here holds until the import commits. Columns parcel_id, commune_code, sheet_number,
    parcel_number, restrictions (a sorted tuple, empty for most)."""
    columns = ["parcel_id", "commune_code", "sheet_number", "parcel_number", "restrictions"]
    if not sheets:
        return pd.DataFrame(columns=columns)
    params = _sheets(sheets)
    conn.execute(sa.text(
        "SELECT count(*) FROM (SELECT i.parcel_id FROM parcel_identity i WHERE i.parcel_id IN "
        f"(SELECT parcel_id FROM current_parcel WHERE {_IN_SHEETS}) "
        "ORDER BY i.parcel_id FOR SHARE) AS locked"), params)
    rows = conn.execute(sa.text(  # a statement of its own: it sees what the waits let in
        "SELECT p.parcel_id, p.commune_code, p.sheet_number, p.parcel_number, r.kinds "
        "FROM current_parcel p LEFT JOIN (SELECT parcel_id, "
        "array_agg(DISTINCT kind ORDER BY kind) AS kinds FROM current_restriction "
        "WHERE kind = ANY(:k) GROUP BY parcel_id) r USING (parcel_id) "
        f"WHERE {_IN_SHEETS} ORDER BY p.parcel_id"),
        {**params, "k": list(KEEPING_RESTRICTIONS)}).all()
    return pd.DataFrame([(*r[:4], tuple(r[4] or ())) for r in rows], columns=columns)


def existing_sheets(conn: Connection, sheets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if not sheets:
        return []
    rows = conn.execute(sa.text(
        "SELECT DISTINCT commune_code, sheet_number FROM current_parcel "
        "WHERE (commune_code, sheet_number) IN "
        "(SELECT * FROM unnest(CAST(:c AS text[]), CAST(:s AS text[])))"),
        {"c": [c for c, _ in sheets], "s": [s for _, s in sheets]}).all()
    return [(str(c), str(s)) for c, s in rows]


@dataclass(frozen=True, slots=True)
class LoadedParcels:
    """The parcel identity and version of each loaded row."""

    parcel_ids: np.ndarray
    versions: np.ndarray


def load_parcels(
    conn: Connection, frame: pd.DataFrame, geoms: EncodedGeometries, area: np.ndarray, *,
    srid: int, change: RecordedChange, kept: Sequence[int] = (),
) -> tuple[LoadedParcels, Counter[str]]:
    """COPY the accepted parcels (canonical ``frame`` rows with a RangeIndex; ``geoms`` in
    the storage SRID, with their ``area``): identities, versions, map sheets. The current
    parcels of the sheets they replace end, except ``kept``; those the new edition does not
    contain are retired with what they carry (``retire``). The caller can drop the
    geometries afterwards; ``load_holdings`` needs only the frame."""
    counts: Counter[str] = Counter()
    sheet_codes, sheets = sheet_index(frame)
    replaced = existing_sheets(conn, sheets)
    parcel_ids = np.zeros(len(frame), dtype=np.int64)
    if replaced:
        keys = pd.MultiIndex.from_arrays([frame["commune_code"], frame["sheet_number"],
                                          frame["parcel_number"].astype("int64")])
        old = pd.DataFrame(conn.execute(sa.text(
            "WITH closed AS (UPDATE parcel SET lifespan = tstzrange(lower(lifespan), :t, '[)'), "
            f"ended_by = :c WHERE upper_inf(lifespan) AND {_IN_SHEETS} "
            "AND parcel_id <> ALL(:kept) "
            "RETURNING parcel_id, commune_code, sheet_number, parcel_number) "
            "SELECT * FROM closed"),
            {"t": change.happened_at, "c": change.change_id, "kept": [int(p) for p in kept],
             **_sheets(replaced)}).all(),
            columns=["parcel_id", "commune_code", "sheet_number", "parcel_number"])
        old_keys = pd.MultiIndex.from_arrays(
            [old["commune_code"], old["sheet_number"], old["parcel_number"].astype("int64")])
        position = old_keys.get_indexer(keys)
        found = position >= 0
        parcel_ids[found] = old["parcel_id"].to_numpy()[position[found]]
        continuing = np.zeros(len(old), dtype=bool)
        continuing[position[found]] = True
        counts["sheets_replaced"] = len(replaced)
        counts["parcel_versions_ended"] = len(old)
        counts["parcels_retired"] = int((~continuing).sum())
        counts["parcels_new_version"] = int(found.sum())
        if kept:
            counts["parcels_kept"] = len(kept)
        counts.update(retire(conn, old[~continuing], change=change))
    new = parcel_ids == 0
    parcel_ids[new] = reserve_ids(conn, "parcel_identity", "parcel_id", int(new.sum()))
    copy_frame(conn, "parcel_identity", pd.DataFrame({"parcel_id": parcel_ids[new]}))
    counts["parcels_new"] = int(new.sum())

    sheet_versions = _map_sheets(conn, geoms.bounds, sheet_codes, sheets, srid=srid,
                                 change=change, with_kept=bool(kept))
    versions = reserve_ids(conn, "parcel", "version_id", len(frame))
    recorded = frame["area"] if "area" in frame else pd.Series(np.nan, index=frame.index)
    legal = frame["area_legal"] if "area_legal" in frame else pd.Series(np.nan, index=frame.index)
    measured = recorded.where(recorded > 0, np.round(area, 2))
    copy_frame(conn, "parcel", pd.DataFrame({
        "version_id": versions,
        "parcel_id": parcel_ids,
        "commune_code": frame["commune_code"],
        "sheet_number": frame["sheet_number"],
        "parcel_number": frame["parcel_number"].astype("int64"),
        "map_sheet_version": sheet_versions[sheet_codes],
        "area_measured": measured.round(2),
        "area_legal": legal.where(legal >= 0).round(2),
        "address": frame.get("address"),
        "geom": pd.arrays.ArrowExtensionArray(geoms.wkb),
        "source_attributes": frame["source_attributes"],
        "lifespan": f"[{change.happened_at.isoformat()},)",
        "begun_by": change.change_id,
    }), geometry={"geom": srid})
    counts["parcel_versions_begun"] = len(frame)
    return LoadedParcels(parcel_ids, versions), counts


def retire(conn: Connection, parcels: pd.DataFrame, *, change: RecordedChange) -> Counter[str]:
    """The parcels of replaced sheets that the new edition does not contain (their versions
    just ended): what they carry ends with them, as in a split or a merge
    (``retire_parcels``). Nothing is carried over: a parcel of the new edition with the same
    number is the same parcel (it kept its id and never retires), and which new parcel,
    if any, holds a vanished parcel's land is not for an import to guess."""
    counts: Counter[str] = Counter()
    if parcels.empty:
        return counts
    ids = [int(p) for p in parcels["parcel_id"]]
    rights, restrictions, responsibilities = conn.execute(sa.text(
        "SELECT (SELECT count(*) FROM current_land_right WHERE parcel_id = ANY(:p)), "
        "(SELECT count(*) FROM current_restriction WHERE parcel_id = ANY(:p)), "
        "(SELECT count(*) FROM responsibility WHERE upper_inf(lifespan) "
        "AND parcel_id = ANY(:p))"), {"p": ids}).one()
    covering = certificates.current_on_parcels(conn, ids)
    ended = sum(1 for c in covering if set(c.parcel_ids) <= set(ids))
    sheets = sorted({f"tờ số {s} ({c})" for c, s in zip(
        parcels["commune_code"], parcels["sheet_number"], strict=True)})
    retire_parcels(conn, ids, certificates.endorsement_note(
        f"thửa đất không còn trong bản đồ địa chính mới của {', '.join(sheets)}",
        change.happened_at, change.change_id), change_id=change.change_id,
        at=change.happened_at)
    counts.update({"rights_ended": int(rights), "restrictions_ended": int(restrictions),
                   "responsibilities_ended": int(responsibilities),
                   "certificates_ended": ended, "certificates_endorsed": len(covering) - ended})
    return +counts


def load_accepted(
    conn: Connection, frame: pd.DataFrame, geoms: list[EncodedGeometries], area: np.ndarray, *,
    srid: int, change: RecordedChange, bulk_rows: int, kept: Sequence[int] = (),
) -> tuple[Counter[str], bool]:
    """``load_parcels`` and ``load_holdings``: ``geoms`` holds the parcels' geometries and
    is emptied, so that its WKB is freed before the holders are loaded. A load of at least
    ``bulk_rows`` parcels and half the register takes the bulk path (True): indexes and
    foreign keys rebuilt after COPY, with the register's tables locked."""
    refuse_unknown_communes(conn, frame)
    current = int(conn.execute(sa.text("SELECT count(*) FROM current_parcel")).scalar_one())
    bulk = len(frame) >= bulk_rows and len(frame) >= current / 2
    rebuilt = integrity_rebuilt_after(conn, list(REGISTER_TABLES), change_id=change.change_id)
    with rebuilt if bulk else nullcontext() as deferred:
        loaded, counts = load_parcels(conn, frame, geoms.pop(), area, srid=srid, change=change,
                                      kept=kept)
        memory.release()
        counts.update(load_holdings(conn, frame, loaded, change=change,
                                    known_codes=land_use_codes(conn)))
    if bulk:
        counts["indexes_and_keys_rebuilt"] = int(deferred or 0)
    return counts, bulk


def refuse_unknown_communes(conn: Connection, frame: pd.DataFrame) -> None:
    """Every commune code of the file is a commune of the unit registry that had begun by
    today (in force, or a former one whose sheets the register keeps; migration 0030), or
    the import is refused naming them, before anything is written."""
    counts = frame["commune_code"].value_counts()
    known = set(conn.execute(sa.text(
        "SELECT code FROM admin_unit WHERE level = 'commune' AND code = ANY(:c) "
        "AND (valid_from IS NULL OR valid_from <= office_today())"),
        {"c": [str(c) for c in counts.index]}).scalars())
    unknown = [(str(c), int(n)) for c, n in counts.items() if str(c) not in known]
    if unknown:
        named = ", ".join(f"{c} ({n} rows)" for c, n in sorted(unknown)[:20])
        raise ImportSourceError(
            f"commune codes that are no commune of the unit registry: {named}",
            hint="give the commune's official code (--commune), or load the administrative "
                 "units: cadastre admin units load")


def load_holdings(
    conn: Connection, frame: pd.DataFrame, loaded: LoadedParcels, *, change: RecordedChange,
    known_codes: set[str],
) -> Counter[str]:
    """The land-use rows of the loaded parcel versions, their holders, rights and
    certificates."""
    counts = _land_uses(conn, frame, loaded.versions, known_codes)
    if "owner_name" in frame:  # only the holders' columns: no copy of addresses
        holders = frame[[c for c in HOLDER_COLUMNS if c in frame]].assign(
            parcel_id=loaded.parcel_ids)
        counts.update(register_holders(conn, holders, change_id=change.change_id))
    return counts


def sheet_index(frame: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """The (commune, sheet) of each row as a position in the sorted list of distinct
    sheets, without a Python loop over the rows."""
    if frame.empty:
        return np.empty(0, dtype=np.int64), []
    groups = frame.groupby(["commune_code", "sheet_number"], sort=True, observed=True)
    keys = [(str(c), str(s)) for c, s in groups.size().index]
    return groups.ngroup().to_numpy(dtype=np.int64), keys


def _map_sheets(
    conn: Connection, bounds: np.ndarray, sheet_codes: np.ndarray,
    sheets: list[tuple[str, str]], *, srid: int, change: RecordedChange, with_kept: bool,
) -> np.ndarray:
    """A new map-sheet version per imported sheet (envelope of its parcels, and of the
    parcels it kept: ``with_kept``); a sheet with a current version gets a new edition.
    Returns the version id of each sheet of ``sheets``."""
    communes, numbers = [c for c, _ in sheets], [n for _, n in sheets]
    conn.execute(sa.text(
        "UPDATE map_sheet SET lifespan = tstzrange(lower(lifespan), :t, '[)'), ended_by = :c "
        "WHERE upper_inf(lifespan) AND (commune_code, sheet_number) IN "
        "(SELECT * FROM unnest(CAST(:cc AS text[]), CAST(:ss AS text[])))"),
        {"t": change.happened_at, "c": change.change_id, "cc": communes, "ss": numbers})
    previous = dict(((c, s), i) for c, s, i in conn.execute(sa.text(
        "SELECT DISTINCT ON (commune_code, sheet_number) commune_code, sheet_number, sheet_id "
        "FROM map_sheet WHERE (commune_code, sheet_number) IN "
        "(SELECT * FROM unnest(CAST(:cc AS text[]), CAST(:ss AS text[]))) "
        "ORDER BY commune_code, sheet_number, lower(lifespan) DESC"),
        {"cc": communes, "ss": numbers}).all())
    box = pd.DataFrame(bounds, columns=["x0", "y0", "x1", "y1"]).groupby(
        sheet_codes).agg({"x0": "min", "y0": "min", "x1": "max", "y1": "max"})
    if with_kept:  # the parcels a new edition kept are still on their sheet
        position = {k: i for i, k in enumerate(sheets)}
        for c, n, x0, y0, x1, y1 in conn.execute(sa.text(
                "SELECT commune_code, sheet_number, min(ST_XMin(geom)), min(ST_YMin(geom)), "
                f"max(ST_XMax(geom)), max(ST_YMax(geom)) FROM current_parcel WHERE {_IN_SHEETS} "
                "GROUP BY 1, 2"), {"cc": communes, "ss": numbers}).all():
            i = position[(c, n)]
            box.loc[i] = [min(box.at[i, "x0"], x0), min(box.at[i, "y0"], y0),
                          max(box.at[i, "x1"], x1), max(box.at[i, "y1"], y1)]
    fresh = [k for k in sheets if k not in previous]
    ids = dict(zip(fresh, reserve_from_sequence(conn, "map_sheet_id_seq", len(fresh)),
                   strict=True))
    ids.update(previous)
    versions = reserve_ids(conn, "map_sheet", "version_id", len(sheets))
    envelopes = shapely.box(box["x0"], box["y0"], box["x1"], box["y1"])
    copy_frame(conn, "map_sheet", pd.DataFrame({
        "version_id": versions,
        "sheet_id": [ids[k] for k in sheets],
        "commune_code": communes,
        "sheet_number": numbers,
        "geom": shapely.to_wkb(shapely.set_srid(envelopes, srid), hex=True, include_srid=True),
        "lifespan": f"[{change.happened_at.isoformat()},)",
        "begun_by": change.change_id,
    }))
    return versions


def _land_uses(
    conn: Connection, frame: pd.DataFrame, versions: np.ndarray, known: set[str]
) -> Counter[str]:
    """One row per land-use code of each parcel version; the whole legal area when the parcel
    has one purpose (the split between several purposes is unknown in a map layer)."""
    counts: Counter[str] = Counter()
    if "land_use" not in frame:
        return counts
    legal = frame["area_legal"] if "area_legal" in frame else frame.get("area")
    uses = frame["land_use"]
    several = uses.str.contains("+", regex=False).fillna(False).to_numpy(dtype=bool)
    codes = pd.DataFrame({  # one purpose: as it is; only "ODT+CLN" rows are split
        "parcel_version_id": versions,
        "land_use_code": uses.where(~several),
        "legal": legal.to_numpy(dtype=float, na_value=np.nan) if legal is not None else np.nan,
    })
    if several.any():
        split = codes[several].assign(land_use_code=uses[several].str.split("+"))
        codes = pd.concat([codes[~several], split.explode("land_use_code")])
        codes = codes.sort_values("parcel_version_id", kind="stable")
    codes = codes.dropna(subset=["land_use_code"])
    codes = codes.drop_duplicates(["parcel_version_id", "land_use_code"])
    unknown = ~codes["land_use_code"].isin(known)
    if unknown.any():
        counts["unknown_land_use_codes"] = int(unknown.sum())
        codes = codes[~unknown]
    purposes = codes.groupby("parcel_version_id")["land_use_code"].transform("size")
    single = (purposes == 1) & (codes["legal"] > 0)
    codes["area"] = codes["legal"].round(2).where(single)
    copy_frame(conn, "parcel_land_use", codes[["parcel_version_id", "land_use_code", "area"]])
    counts["land_use_rows"] = len(codes)
    return counts


def record_import(
    conn: Connection, *, import_id: int, kind: str, source: str, sha256: str, size: int,
    profile: str, encoding: str, confidence: float, crs: str, options: str, counts: str,
    report: str, started_at: datetime, change: RecordedChange | None,
) -> None:
    conn.execute(sa.text(
        "INSERT INTO import_run (id, kind, source_path, source_sha256, source_bytes, profile, "
        "encoding, encoding_confidence, source_crs, options, counts, report, started_at, "
        "change_id, source_document_id) VALUES (:id, :kind, :src, :sha, :size, :profile, :enc, "
        ":conf, :crs, CAST(:opts AS jsonb), CAST(:counts AS jsonb), CAST(:report AS jsonb), "
        ":started, :change, :source)"),
        {"id": import_id, "kind": kind, "src": source, "sha": sha256, "size": size,
         "profile": profile, "enc": encoding, "conf": confidence, "crs": crs, "opts": options,
         "counts": counts, "report": report, "started": started_at,
         "change": change.change_id if change else None,
         "source": change.source_ids[0] if change else None})


def quarantine(conn: Connection, import_id: int, rows: pd.DataFrame) -> int:
    if rows.empty:
        return 0
    return copy_frame(conn, "import_quarantine", rows.assign(import_id=import_id)[[
        "import_id", "dataset", "layer", "feature_index", "reason_code", "reason", "identity",
        "attributes", "geom"]])
