"""Checks of an import's features before anything is written: each geometry (validity,
repair), its coordinates against the storage CRS's area of use, and across the whole import
(identity duplicates, recorded vs computed area, overlaps inside the import and with the
register's current parcels). A rejected feature gets a reason code (its quarantine code)
and a reason; accepted ones keep None."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from sqlalchemy.engine import Connection

from cadastre import extent, memory
from cadastre.errors import ImportSourceError
from gis import checks as gis_checks
from gis import overlaps, validity, wkb
from importers import editions, load
from importers.sources import Layer
from importers.transform import extent_of

#: Features per chunk of the geometry checks.
CHECK_CHUNK = 65_536


@dataclass(frozen=True, slots=True)
class Checked:
    """A layer's geometries after their checks: accepted ones as WKB, with their areas."""

    geoms: wkb.EncodedGeometries
    area: np.ndarray
    reason_code: np.ndarray
    reason: np.ndarray
    repair_note: np.ndarray


def check_geometries(layer: Layer, source: pa.ChunkedArray, *, repair: bool) -> Checked:
    """``validity.check_geometries`` a chunk at a time: the layer's WKB is decoded chunk by
    chunk and the accepted geometries are kept as WKB, with their bounds and areas."""
    def check(start: int) -> tuple[wkb.EncodedGeometries, np.ndarray, np.ndarray, np.ndarray,
                                   np.ndarray]:
        try:
            shapes = wkb.decode(wkb.objects(source.slice(start, CHECK_CHUNK)))
        except shapely.errors.GEOSException as exc:
            raise ImportSourceError(
                f"{layer.label}: a geometry cannot be read ({exc})") from exc
        checked = validity.check_geometries(shapes, repair=repair)
        del shapes
        return (wkb.EncodedGeometries.of(checked.geometries), shapely.area(checked.geometries),
                checked.reason_code, checked.reason, checked.repair_note)

    # Two chunks in work at a time (GEOS releases the GIL): both cores, and only ~130,000
    # decoded features (about 350 MB with their checked copies) in memory at once.
    with ThreadPoolExecutor(2) as pool:
        parts = list(pool.map(check, range(0, max(len(source), 1), CHECK_CHUNK)))
    return Checked(wkb.EncodedGeometries.concat([p[0] for p in parts]),
                    *(np.concatenate([p[k] for p in parts]) for k in range(1, 5)))


def reject_outside_area(geoms: wkb.EncodedGeometries, srid: int, reason_code: np.ndarray,
                         reason: np.ndarray) -> None:
    """Reject (``outside-crs-area``) every accepted feature with a coordinate outside the
    storage CRS's area of use (cadastre.extent), as the map changes refuse one: its bounds
    hold every coordinate, so comparing them is enough."""
    x0, y0, x1, y1 = extent.projected_area(srid)
    box = geoms.bounds
    with np.errstate(invalid="ignore"):
        inside = (box[:, 0] >= x0) & (box[:, 1] >= y0) & (box[:, 2] <= x1) & (box[:, 3] <= y1)
    outside = np.flatnonzero(~inside & geoms.present() & (reason_code == None))  # noqa: E711
    if not len(outside):
        return
    area = extent.describe_area(srid)
    reason_code[outside] = "outside-crs-area"
    for i in outside:
        bx0, by0, bx1, by1 = box[i]
        reason[i] = (f"coordinates from ({bx0:.3f} {by0:.3f}) to ({bx1:.3f} {by1:.3f}), "
                     f"beyond {area}")


def identities(frame: pd.DataFrame) -> pd.Series:
    """Each row's parcel as commune/sheet/number."""
    return (frame["commune_code"].astype(str) + "/" + frame["sheet_number"].astype(str) + "/"
            + frame["parcel_number"].astype(str))


class CheckedLayer(Protocol):
    """A layer's features as the cross checks see them; they set more rejections."""

    frame: pd.DataFrame  # canonical columns
    geoms: wkb.EncodedGeometries
    area: np.ndarray
    reason_code: np.ndarray
    reason: np.ndarray


def cross_checks(
    conn: Connection, prepared: Sequence[CheckedLayer], *, area_tolerance: float,
    overlap_tolerance: float, srid: int, say: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Checks across the whole import: identity duplicates, recorded vs computed area, the
    parcels a new edition keeps (``editions``), overlaps inside the import and with the
    current parcels that stay (outside the replaced sheets, or kept). Returns the kept
    parcels, with why (``Edition.kept``)."""
    if not prepared:
        return []
    columns = ["commune_code", "sheet_number", "parcel_number"]
    keys = (prepared[0].frame[columns] if len(prepared) == 1 else
            pd.concat([p.frame[columns] for p in prepared], ignore_index=True))
    codes = np.concatenate([p.reason_code for p in prepared])
    reasons = np.concatenate([p.reason for p in prepared])
    geoms = wkb.EncodedGeometries.concat([p.geoms for p in prepared])
    computed = np.concatenate([p.area for p in prepared])

    def where(mask: np.ndarray) -> pd.DataFrame:  # no copy of a clean import's keys
        return keys if mask.all() else keys[mask]

    def identity(row: int) -> str:  # spelled out only for the rows a reason names
        return str(identities(keys.iloc[[row]]).iloc[0])

    usable = codes == None  # noqa: E711
    dupes = np.zeros(len(keys), dtype=bool)
    dupes[usable] = gis_checks.duplicate_keys(where(usable))
    codes[dupes] = "duplicate-identity"
    reasons[dupes] = [f"parcel {k} appears more than once in the import"
                      for k in identities(keys[dupes])]

    area = np.concatenate([
        p.frame["area"].to_numpy(dtype=float) if "area" in p.frame
        else np.full(len(p.frame), np.nan) for p in prepared])
    usable = codes == None  # noqa: E711
    mismatch = np.zeros(len(keys), dtype=bool)
    mismatch[usable] = gis_checks.areas_differ(computed[usable], area[usable],
                                             tolerance=area_tolerance)
    codes[mismatch] = "area-mismatch"
    reasons[mismatch] = [
        f"recorded area {a:,.1f} m² but the polygon measures {c:,.1f} m² "
        f"(tolerance {area_tolerance:.0%})"
        for a, c in zip(area[mismatch], computed[mismatch], strict=True)]

    # A new edition: the replaced sheets' parcels under an injunction or a mortgage stay,
    # and with them those whose feature is quarantined (importers.editions).
    usable = codes == None  # noqa: E711
    edition = editions.Edition.of(
        conn, load.existing_sheets(conn, load.sheet_index(where(usable))[1]))
    edition.protect(keys, codes, reasons)
    edition.more(keys, codes)

    usable = codes == None  # noqa: E711
    say(f"checking overlaps among {int(usable.sum()):,} parcels")
    usable_rows = np.flatnonzero(usable)
    replaced = load.existing_sheets(conn, load.sheet_index(where(usable))[1])
    others, info = (load.current_neighbours(conn, extent_of(geoms.bounds[usable]), srid,
                                            replaced, kept=edition.staying_ids)
                    if usable.any() else (np.array([], dtype=object), pd.DataFrame()))
    memory.release()  # the search below is the import's high-water mark
    within, against = overlaps.find_overlaps(geoms.subset(usable_rows),
                                             tolerance=overlap_tolerance,
                                             others=others if len(others) else None)
    for overlap in within:
        pair = usable_rows[overlap.first], usable_rows[overlap.second]
        for me, other in (pair, pair[::-1]):
            if codes[me] is None:
                codes[me] = "overlap"
                reasons[me] = (f"overlaps parcel {identity(other)} of the same import by "
                               f"{overlap.area:,.2f} m²")

    def against_current(rows: np.ndarray, found: list[overlaps.Overlap],
                        info: pd.DataFrame) -> None:
        for overlap in found:
            me = rows[overlap.first]
            if codes[me] is not None:
                continue
            hit = info.iloc[overlap.second]
            parcel = (f"#{hit['parcel_id']} ({hit['commune_code']}/{hit['sheet_number']}/"
                      f"{hit['parcel_number']})")
            if hit["kept"] and int(hit["parcel_id"]) not in edition.not_replaced:
                codes[me] = "overlaps-kept-parcel"
                reasons[me] = (f"overlaps parcel {parcel}, which "
                               f"{edition.why(int(hit['parcel_id']))}, by {overlap.area:,.2f} m²")
            else:
                codes[me] = "overlaps-current-parcel"
                reasons[me] = f"overlaps current parcel {parcel} by {overlap.area:,.2f} m²"

    against_current(usable_rows, against, info)
    # What the search rejected may make more parcels stay: check what is left against them
    # until nothing changes (each round only the few new ones).
    while more := edition.more(keys, codes):
        usable_rows = np.flatnonzero(codes == None)  # noqa: E711
        if not len(usable_rows):
            break
        others, info = load.parcel_geometries(conn, more)
        against_current(usable_rows, overlaps.find_overlaps_with(
            geoms.subset(usable_rows), others, tolerance=overlap_tolerance), info)
    kept = edition.kept(keys, codes)

    offset = 0
    for p in prepared:
        n = len(p.frame)
        p.reason_code = codes[offset:offset + n]
        p.reason = reasons[offset:offset + n]
        offset += n
    return kept
