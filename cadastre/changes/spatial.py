"""Changes of the map: land-use purpose change, split (by a cutting line or explicit child
geometries), merge, and boundary correction between neighbours. Geometry rules are checked
in PostGIS; a new or changed parcel may not overlap any current parcel except the ones it
replaces (the topology guard). Versions end and begin at one instant, lineage links parent
and child parcels, and the database is unchanged when a rule is broken (the caller's
transaction rolls back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadastre.certificates.register import endorsement_note
from cadastre.changes.service import (
    ChangeResult,
    Share,
    SourceDocument,
    begin_change,
    check_shares,
    lock_parcel,
    lock_parcels,
    refuse_if_blocked,
    retire_parcels,
)
from cadastre.errors import InvalidInput, TopologyConflict
from cadastre.extent import check_wkt_in_area
from cadastre.land_use.service import check_new_purposes

#: Area (m²) by which geometry rules may be off: children vs parent, kept outer boundary.
DEFAULT_TOLERANCE_M2 = 0.5
#: The most vertices a geometry given to a change may have (a cadastral parcel has tens).
MAX_VERTICES = 10_000
#: First key of the map-sheet locks (pg_advisory_xact_lock(int, int)): "SHEE" as an integer.
_SHEET_LOCK = 0x53484545


@dataclass(frozen=True, slots=True)
class Purpose:
    code: str
    area: float | None = None
    term_end: date | None = None  # None: permanent (lâu dài)
    origin: str | None = None


def _srid(conn: Connection) -> int:
    return int(conn.execute(sa.text(
        "SELECT value FROM database_setting WHERE name = 'storage_srid'")).scalar_one())


def _readable(conn: Connection, wkt: str, srid: int, what: str) -> None:
    """WKT that PostGIS can read, with at most MAX_VERTICES vertices (a clear 422, never a
    database error)."""
    if "\x00" in wkt:  # PostgreSQL text cannot hold NUL: the driver would refuse to send it
        raise InvalidInput(f"{what} is not readable WKT")
    try:
        vertices = conn.execute(sa.text("SELECT ST_NPoints(ST_GeomFromText(:w, :s))"),
                                {"w": wkt, "s": srid}).scalar_one()
    except sa.exc.DBAPIError as exc:
        raise InvalidInput(f"{what} is not readable WKT") from exc
    if vertices is None or vertices > MAX_VERTICES:
        raise InvalidInput(f"{what} has {vertices or 0:,} vertices; the limit is "
                           f"{MAX_VERTICES:,}")


def _geometry(conn: Connection, wkt: str, srid: int, what: str) -> str:
    """A polygon given as WKT in the storage SRID, validated, Z and M dropped (parcels are
    2D); returns EWKB hex."""
    _readable(conn, wkt, srid, what)
    kind = conn.execute(sa.text("SELECT ST_GeometryType(ST_GeomFromText(:w, :s))"),
                        {"w": wkt, "s": srid}).scalar_one()
    if kind not in ("ST_Polygon", "ST_MultiPolygon"):  # GEOS cannot even check the others
        raise InvalidInput(f"{what} is not a polygon ({kind.removeprefix('ST_')})")
    check_wkt_in_area(conn, wkt, srid, what)
    row = conn.execute(sa.text(
        "SELECT ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason, "
        "ST_AsEWKB(ST_Multi(g)) AS ewkb "
        "FROM (SELECT ST_Force2D(ST_GeomFromText(:w, :s)) AS g) x"),
        {"w": wkt, "s": srid}).one()
    if not row.valid:
        raise InvalidInput(f"{what} is not valid: {row.reason}")
    return bytes(row.ewkb).hex()


def _refuse_slivers(conn: Connection, shapes: list[tuple[str, str]], tolerance: float) -> None:
    """Every new parcel (``(what, EWKB hex)``) measures more than the tolerance, and enough
    to be recorded (areas are kept to 0.01 m²): an empty shape or a sliver is no parcel."""
    areas = conn.execute(sa.text(
        "SELECT ST_Area(ST_GeomFromEWKB(decode(h, 'hex'))) FROM unnest(CAST(:h AS text[])) "
        "WITH ORDINALITY AS x(h, i) ORDER BY i"), {"h": [e for _, e in shapes]}).scalars().all()
    for (what, _), area in zip(shapes, areas, strict=True):
        if area < 0.005 or area <= tolerance:
            raise InvalidInput(f"{what} would measure {area:.2f} m² (tolerance {tolerance} m²): "
                               "an empty shape or a sliver, not a parcel")


def _guard(conn: Connection, ewkb: str, replaced: list[int], tolerance: float) -> None:
    """The topology guard: no overlap beyond the tolerance with current parcels other than
    the ones being replaced."""
    hits = conn.execute(sa.text(
        "SELECT p.parcel_id, p.commune_code || '/' || p.sheet_number || '/' || p.parcel_number "
        "AS ref, ST_Area(ST_Intersection(p.geom, g)) AS area FROM current_parcel p, "
        "(SELECT ST_GeomFromEWKB(decode(:g, 'hex')) AS g) x WHERE p.geom && g "
        "AND NOT p.parcel_id = ANY(:r) AND ST_Relate(p.geom, g, '2********')"),
        {"g": ewkb, "r": replaced}).all()
    overlaps = [h for h in hits if h.area > tolerance]
    if overlaps:
        listed = ", ".join(f"#{h.parcel_id} ({h.ref}, {h.area:.2f} m²)" for h in overlaps)
        raise TopologyConflict(f"the new geometry overlaps current parcels {listed}")


def _end_parcels(conn: Connection, parcel_ids: list[int], change_id: int, at: object) -> None:
    conn.execute(sa.text(
        "UPDATE parcel SET lifespan = tstzrange(lower(lifespan), :at, '[)'), ended_by = :c "
        "WHERE upper_inf(lifespan) AND parcel_id = ANY(:ids)"),
        {"at": at, "c": change_id, "ids": parcel_ids})


#: What a new parcel version sets itself; every other column of ``parcel`` is copied from
#: the template version, so that a column a migration adds is carried over by every change.
#: None: the column's default (a new version id, not yet ended).
_NEW_VERSION_SETS: dict[str, str | None] = {
    "version_id": None,
    "parcel_id": ":pid",
    "parcel_number": "coalesce(:num, t.parcel_number)",
    "area_measured": "CASE WHEN :g IS NULL THEN t.area_measured "
                     "ELSE round(ST_Area(g.geom)::numeric, 2) END",
    "area_legal": "CASE WHEN :g IS NULL THEN t.area_legal "
                  "ELSE round(ST_Area(g.geom)::numeric, 2) END",
    "geom": "coalesce(g.geom, t.geom)",
    "lifespan": "tstzrange(:at, NULL, '[)')",
    "begun_by": ":c",
    "ended_by": None,
}


def _new_version_sql(conn: Connection) -> str:
    """The INSERT of a new version, over the parcel table's columns as the database has
    them (generated columns excepted)."""
    columns = conn.execute(sa.text(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'parcel'::regclass "
        "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum")
    ).scalars().all()
    values = [(c, _NEW_VERSION_SETS.get(c, f"t.{c}")) for c in columns]
    written = [(c, v) for c, v in values if v is not None]
    return (f"INSERT INTO parcel ({', '.join(c for c, _ in written)}) "
            f"SELECT {', '.join(v for _, v in written)} "
            "FROM parcel t LEFT JOIN (SELECT ST_GeomFromEWKB(decode(:g, 'hex')) AS geom) g "
            "ON :g IS NOT NULL WHERE t.version_id = :v RETURNING version_id")


def _new_version(conn: Connection, template_version: int, *, parcel_id: int, number: int | None,
                 ewkb: str | None, change_id: int, at: object) -> int:
    """A new parcel version copying the template's attributes, with another identity,
    number or geometry when given."""
    return int(conn.execute(sa.text(_new_version_sql(conn)), {
        "pid": parcel_id, "num": number, "g": ewkb, "at": at, "c": change_id,
        "v": template_version}).scalar_one())


def _copy_land_use(conn: Connection, from_version: int, to_version: int, *,
                   whole_area: bool) -> None:
    """The purposes of a new version (a split's child, a merge, a boundary correction) are
    its template's; a code that has ended since becomes the code in force that replaces it
    (BHK and NHK: HNK, Circular 08/2024), as the database requires of a new version. Two
    codes becoming one make one purpose."""
    conn.execute(sa.text(
        "WITH u AS (SELECT DISTINCT ON (code) code, term_kind, term_end, origin FROM ("
        "SELECT coalesce(land_use_code_on(u.land_use_code, (lower(t.lifespan) AT TIME ZONE "
        "'Asia/Ho_Chi_Minh')::date), u.land_use_code) AS code, u.term_kind, u.term_end, "
        "u.origin, u.id FROM parcel_land_use u JOIN parcel t ON t.version_id = :to "
        "WHERE u.parcel_version_id = :from) m ORDER BY code, id) "
        "INSERT INTO parcel_land_use (parcel_version_id, land_use_code, area, term_kind, "
        "term_end, origin) SELECT :to, u.code, CASE WHEN :whole AND (SELECT count(*) FROM u) "
        "= 1 THEN (SELECT area_legal FROM parcel WHERE version_id = :to) ELSE NULL END, "
        "u.term_kind, u.term_end, u.origin FROM u"),
        {"from": from_version, "to": to_version, "whole": whole_area})


def _current_version(conn: Connection, parcel_id: int) -> int:
    return int(conn.execute(sa.text(
        "SELECT version_id FROM current_parcel WHERE parcel_id = :p"),
        {"p": parcel_id}).scalar_one())


def _carry_rrr(conn: Connection, parents: list[int], child: int, change_id: int,
               at: object, *, holders: list[Share] | None = None) -> None:
    """Children inherit the current rights, restrictions and responsibilities of their
    parents (new ids, beginning now, recorded on no certificate until one is issued for
    the child); the parents' versions end with the change (``retire_parcels``). With
    ``holders`` the child's land-use right goes to them instead (other rights, restrictions
    and responsibilities still carry over)."""
    if holders is not None:
        for h in holders:
            conn.execute(sa.text(
                "INSERT INTO land_right (right_id, kind, parcel_id, party_id, share_numerator, "
                "share_denominator, lifespan, begun_by) VALUES (nextval('land_right_id_seq'), "
                "'land_use', :child, :party, :n, :d, tstzrange(:at, NULL, '[)'), :c)"),
                {"child": child, "party": h.party_id, "n": h.numerator, "d": h.denominator,
                 "at": at, "c": change_id})
    for kind, party, share, term_end in _carried_rights(conn, parents,
                                                        skip_land_use=holders is not None):
        conn.execute(sa.text(
            "INSERT INTO land_right (right_id, kind, parcel_id, party_id, share_numerator, "
            "share_denominator, term_end, lifespan, begun_by) VALUES "
            "(nextval('land_right_id_seq'), :k, :child, :party, :n, :d, :term, "
            "tstzrange(:at, NULL, '[)'), :c)"),
            {"k": kind, "child": child, "party": party, "n": share.numerator,
             "d": share.denominator, "term": term_end, "at": at, "c": change_id})
    # through restrictions_carry(): the API's login may not read references and amounts
    conn.execute(sa.text("SELECT restrictions_carry(:parents, :child, :c, :at)"),
                 {"child": child, "at": at, "c": change_id, "parents": parents})
    conn.execute(sa.text(
        "INSERT INTO responsibility (responsibility_id, kind, parcel_id, party_id, "
        "description, lifespan, begun_by) SELECT nextval('responsibility_id_seq'), kind, "
        ":child, party_id, description, tstzrange(:at, NULL, '[)'), :c FROM (SELECT DISTINCT "
        "kind, party_id, description FROM responsibility WHERE upper_inf(lifespan) "
        "AND parcel_id = ANY(:parents)) r"),
        {"child": child, "at": at, "c": change_id, "parents": parents})


def _carried_rights(conn: Connection, parents: list[int], *, skip_land_use: bool
                    ) -> list[tuple[str, int, Fraction, date | None]]:
    """The rights a new parcel inherits, per kind and holder: a split's child its parent's
    as they are; a merge's parcel its parents' weighted by the parents' (last) legal areas, so
    that each kind's shares still add up to exactly 1 (parcels of different holders,
    merged with ``allow_different_holders``: each holds what his parcel brought)."""
    rows = conn.execute(sa.text(
        "SELECT r.kind, r.party_id, r.share_numerator, r.share_denominator, r.term_end, "
        "r.parcel_id, coalesce(p.area_legal, round(ST_Area(p.geom)::numeric, 2)) AS area "
        "FROM current_land_right r JOIN LATERAL (SELECT q.area_legal, q.geom FROM parcel q "
        "WHERE q.parcel_id = r.parcel_id ORDER BY q.version_id DESC LIMIT 1) p ON true "
        "WHERE r.parcel_id = ANY(:parents) ORDER BY r.kind, r.party_id, r.parcel_id"),
        {"parents": parents}).all()
    areas: dict[str, dict[int, Fraction]] = {}
    for r in rows:
        areas.setdefault(r.kind, {})[r.parcel_id] = Fraction(str(r.area or 1))
    carried: dict[tuple[str, int], list[Any]] = {}
    for r in rows:
        if skip_land_use and r.kind == "land_use":
            continue
        weight = areas[r.kind][r.parcel_id] / sum(areas[r.kind].values(), Fraction(0))
        entry = carried.setdefault((r.kind, r.party_id), [Fraction(0), r.term_end])
        entry[0] += Fraction(r.share_numerator, r.share_denominator) * weight
    for kind in {k for k, _ in carried}:
        entries = [e for (k, _), e in carried.items() if k == kind]
        if any(max(e[0].numerator, e[0].denominator) > 2**31 - 1 for e in entries):
            _in_millionths(entries)
    return [(kind, party, share, term_end)
            for (kind, party), (share, term_end) in carried.items() if share > 0]


def _in_millionths(entries: list[list[Any]]) -> None:
    """Shares that two integers cannot hold (areas of a merge) as millionths that still
    add up to exactly 1 (largest remainders), in place."""
    scaled = [e[0] * 10**6 for e in entries]
    whole = [int(x) for x in scaled]
    for i in sorted(range(len(entries)), key=lambda i: scaled[i] - whole[i],
                    reverse=True)[:10**6 - sum(whole)]:
        whole[i] += 1
    for entry, part in zip(entries, whole, strict=True):
        entry[0] = Fraction(part, 10**6)


def _lock_sheet(conn: Connection, version: int) -> None:
    """Serialise the numbering of new parcels on the sheet of this parcel version until the
    transaction ends: two splits or merges on one sheet at once would otherwise both take
    the same next number (and the second fail on the unique parcel number)."""
    conn.execute(sa.text(
        "SELECT pg_advisory_xact_lock(:k, hashtext(commune_code || '/' || sheet_number)) "
        "FROM parcel WHERE version_id = :v"), {"k": _SHEET_LOCK, "v": version})


def _next_numbers(conn: Connection, parcel_id: int, count: int) -> list[int]:
    """New parcel numbers on the parent's sheet: after the highest number ever used there."""
    _lock_sheet(conn, _current_version(conn, parcel_id))
    top = conn.execute(sa.text(
        "SELECT max(n.parcel_number) FROM parcel n JOIN current_parcel p ON "
        "p.commune_code = n.commune_code AND p.sheet_number = n.sheet_number "
        "WHERE p.parcel_id = :p"), {"p": parcel_id}).scalar_one()
    return [int(top) + 1 + i for i in range(count)]


def change_purpose(conn: Connection, parcel_id: int, purposes: list[Purpose],
                   source: SourceDocument, *, dossier_code: str | None = None,
                   expected_change: int | None = None,
                   tolerance: float = DEFAULT_TOLERANCE_M2) -> ChangeResult:
    """Chuyển mục đích sử dụng đất: a new parcel version with new purposes, areas, terms."""
    if not purposes:
        raise InvalidInput("a purpose change needs at least one land-use purpose")
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    # a new purpose uses a code in force today ("BHK ended on 2024-07-31: use HNK")
    check_new_purposes(conn, [p.code for p in purposes])
    version = _current_version(conn, parcel_id)
    legal = conn.execute(sa.text("SELECT area_legal FROM parcel WHERE version_id = :v"),
                         {"v": version}).scalar_one()
    areas = [p.area for p in purposes]
    if len(purposes) > 1 and any(a is None for a in areas):
        raise InvalidInput("with several purposes each needs its area")
    if legal is not None and all(a is not None for a in areas):
        total = sum(float(a) for a in areas if a is not None)
        if abs(total - float(legal)) > tolerance:
            raise InvalidInput(f"the purposes' areas add up to {total:.2f} m², the parcel's "
                               f"legal area is {float(legal):.2f} m²")
    change_id, at = begin_change(conn, "purpose_change", source, dossier_code=dossier_code,
                           note=None)
    _end_parcels(conn, [parcel_id], change_id, at)
    new = _new_version(conn, version, parcel_id=parcel_id, number=None, ewkb=None,
                       change_id=change_id, at=at)
    for p in purposes:
        conn.execute(sa.text(
            "INSERT INTO parcel_land_use (parcel_version_id, land_use_code, area, term_kind, "
            "term_end, origin) VALUES (:v, :c, :a, :k, :e, :o)"),
            {"v": new, "c": p.code, "a": p.area if p.area is not None else legal,
             "k": "permanent" if p.term_end is None else "fixed", "e": p.term_end,
             "o": p.origin})
    return ChangeResult(change_id, parcel_id, 1, 1)


def split_parcel(conn: Connection, parcel_id: int, source: SourceDocument, *,
                 cut_line_wkt: str | None = None, children_wkt: list[str] | None = None,
                 child_holders: list[list[Share]] | None = None,
                 dossier_code: str | None = None, expected_change: int | None = None,
                 tolerance: float = DEFAULT_TOLERANCE_M2) -> tuple[ChangeResult, list[int]]:
    """Tách thửa: by a cutting line, or by child geometries that must cover the parent
    exactly (area sum within the tolerance, no gap, no overlap). Children get new numbers
    on the sheet and inherit the parent's rights and restrictions, or, with
    ``child_holders`` (one list of shares per child geometry), each child's land-use right
    goes to its own holders. Returns the children."""
    if (cut_line_wkt is None) == (children_wkt is None):
        raise InvalidInput("give either a cutting line or the child geometries")
    if child_holders is not None:
        if children_wkt is None or len(child_holders) != len(children_wkt):
            raise InvalidInput("holders per child need one list of shares per child geometry")
        for shares in child_holders:
            check_shares(shares)
    lock_parcel(conn, parcel_id, expected_change)
    refuse_if_blocked(conn, parcel_id)
    srid = _srid(conn)
    version = _current_version(conn, parcel_id)
    if cut_line_wkt is not None:
        _readable(conn, cut_line_wkt, srid, "the cutting line")
        kind = conn.execute(sa.text("SELECT ST_GeometryType(ST_GeomFromText(:w, :s))"),
                            {"w": cut_line_wkt, "s": srid}).scalar_one()
        if kind not in ("ST_LineString", "ST_MultiLineString"):
            raise InvalidInput(f"the cutting line is a {kind.removeprefix('ST_')}, not a "
                               "LINESTRING")
        check_wkt_in_area(conn, cut_line_wkt, srid, "the cutting line")
        pieces = conn.execute(sa.text(
            "SELECT ST_AsEWKB(ST_Multi((ST_Dump(ST_Split(p.geom, l))).geom)) FROM parcel p, "
            "(SELECT ST_Force2D(ST_GeomFromText(:w, :s)) AS l) x WHERE p.version_id = :v"),
            {"w": cut_line_wkt, "s": srid, "v": version}).scalars().all()
        if len(pieces) < 2:
            raise InvalidInput("the cutting line does not cross the parcel from side to side")
        children = [bytes(p).hex() for p in pieces]
    else:
        assert children_wkt is not None
        if len(children_wkt) < 2:
            raise InvalidInput("a split needs at least two child parcels")
        children = [_geometry(conn, w, srid, f"child {i + 1}")
                    for i, w in enumerate(children_wkt)]
        row = conn.execute(sa.text(
            "WITH c AS (SELECT ST_GeomFromEWKB(decode(h, 'hex')) AS g FROM unnest(:h) h) "
            "SELECT (SELECT sum(ST_Area(g)) FROM c) AS sum_area, "
            "ST_Area(ST_Union(g)) AS union_area, "
            "(SELECT ST_Area(ST_SymDifference(ST_Union(g), p.geom)) FROM parcel p "
            " WHERE p.version_id = :v) AS mismatch FROM c"), {"h": children, "v": version}).one()
        if row.sum_area - row.union_area > tolerance:
            raise InvalidInput(f"the children overlap each other by "
                               f"{row.sum_area - row.union_area:.2f} m²")
        if row.mismatch > tolerance:
            raise InvalidInput(f"the children do not cover the parent exactly: "
                               f"{row.mismatch:.2f} m² of gap or excess")
    _refuse_slivers(conn, [(f"child {i + 1}", c) for i, c in enumerate(children)], tolerance)
    numbers = _next_numbers(conn, parcel_id, len(children))
    change_id, at = begin_change(conn, "split", source, dossier_code=dossier_code, note=None)
    _end_parcels(conn, [parcel_id], change_id, at)
    child_ids = []
    assigned: list[list[Share] | None] = (
        list(child_holders) if child_holders is not None else [None] * len(children))
    for ewkb, number, holders in zip(children, numbers, assigned, strict=True):
        child = int(conn.execute(sa.text(
            "INSERT INTO parcel_identity DEFAULT VALUES RETURNING parcel_id")).scalar_one())
        new = _new_version(conn, version, parcel_id=child, number=number, ewkb=ewkb,
                           change_id=change_id, at=at)
        _copy_land_use(conn, version, new, whole_area=True)
        conn.execute(sa.text(
            "INSERT INTO parcel_lineage (parent_parcel_id, child_parcel_id, change_id) "
            "VALUES (:p, :c, :x)"), {"p": parcel_id, "c": child, "x": change_id})
        _carry_rrr(conn, [parcel_id], child, change_id, at, holders=holders)
        child_ids.append(child)
    retire_parcels(conn, [parcel_id], endorsement_note(
        f"tách thửa đất #{parcel_id} thành các thửa "
        f"{', '.join(f'#{c}' for c in child_ids)}", at, change_id),
        change_id=change_id, at=at)
    for ewkb in children:
        _guard(conn, ewkb, [parcel_id, *child_ids], tolerance)
    return ChangeResult(change_id, parcel_id, 1, len(child_ids)), child_ids


def merge_parcels(conn: Connection, parcel_ids: list[int], source: SourceDocument, *,
                  allow_different_holders: bool = False, dossier_code: str | None = None,
                  expected_changes: Mapping[int, int] | None = None,
                  tolerance: float = DEFAULT_TOLERANCE_M2) -> tuple[ChangeResult, int]:
    """Hợp thửa: adjacent parcels (sharing a boundary) of the same holders become one new
    parcel with a new number; returns the new parcel's id. ``expected_changes``: the last
    change of each parcel that the caller saw (every parcel's)."""
    ids = sorted(set(parcel_ids))
    if len(ids) < 2:
        raise InvalidInput("a merge needs at least two parcels")
    lock_parcels(conn, ids, expected_changes)
    row = conn.execute(sa.text(
        "SELECT ST_NumGeometries(ST_Union(geom)) AS parts, sum(ST_Area(geom)) AS sum_area, "
        "ST_Area(ST_Union(geom)) AS union_area, count(DISTINCT (commune_code, sheet_number)) "
        "AS sheets FROM current_parcel WHERE parcel_id = ANY(:ids)"), {"ids": ids}).one()
    if row.parts != 1:
        raise InvalidInput("the parcels do not share a boundary: they cannot be merged")
    if row.sum_area - row.union_area > tolerance:
        raise InvalidInput("the parcels overlap each other")
    if row.sheets != 1:
        raise InvalidInput("parcels on different map sheets are merged by re-mapping, not here")
    if not allow_different_holders:
        holders = conn.execute(sa.text(
            "SELECT parcel_id, array_agg(party_id || ':' || share_numerator || '/' || "
            "share_denominator ORDER BY party_id) FROM current_land_right "
            "WHERE parcel_id = ANY(:ids) AND kind = 'land_use' GROUP BY parcel_id"),
            {"ids": ids}).all()
        if len({tuple(h[1]) for h in holders}) > 1 or len(holders) != len(ids):
            raise InvalidInput("the parcels have different holders",
                               hint="merge with allow_different_holders if the law allows it")
    change_id, at = begin_change(conn, "merge", source, dossier_code=dossier_code, note=None)
    union = conn.execute(sa.text(
        "SELECT encode(ST_AsEWKB(ST_Multi(ST_UnaryUnion(ST_Collect(geom)))), 'hex') "
        "FROM current_parcel WHERE parcel_id = ANY(:ids)"), {"ids": ids}).scalar_one()
    template = _current_version(conn, ids[0])
    _end_parcels(conn, ids, change_id, at)
    (number,) = _next_numbers_for_sheet(conn, template)
    child = int(conn.execute(sa.text(
        "INSERT INTO parcel_identity DEFAULT VALUES RETURNING parcel_id")).scalar_one())
    new = _new_version(conn, template, parcel_id=child, number=number, ewkb=union,
                       change_id=change_id, at=at)
    _copy_land_use(conn, template, new, whole_area=True)
    for pid in ids:
        conn.execute(sa.text(
            "INSERT INTO parcel_lineage (parent_parcel_id, child_parcel_id, change_id) "
            "VALUES (:p, :c, :x)"), {"p": pid, "c": child, "x": change_id})
    _carry_rrr(conn, ids, child, change_id, at)
    retire_parcels(conn, ids, endorsement_note(
        f"hợp các thửa đất {', '.join(f'#{p}' for p in ids)} thành thửa #{child}", at,
        change_id), change_id=change_id, at=at)
    _guard(conn, union, [*ids, child], tolerance)
    return ChangeResult(change_id, child, len(ids), 1), child


def _next_numbers_for_sheet(conn: Connection, version: int) -> list[int]:
    _lock_sheet(conn, version)
    top = conn.execute(sa.text(
        "SELECT max(n.parcel_number) FROM parcel n JOIN parcel t ON "
        "t.commune_code = n.commune_code AND t.sheet_number = n.sheet_number "
        "WHERE t.version_id = :v"), {"v": version}).scalar_one()
    return [int(top) + 1]


def correct_boundary(conn: Connection, first: int, first_wkt: str, second: int,
                     second_wkt: str, source: SourceDocument, *,
                     dossier_code: str | None = None,
                     expected_changes: Mapping[int, int] | None = None,
                     tolerance: float = DEFAULT_TOLERANCE_M2) -> ChangeResult:
    """Chỉnh lý ranh giới: two neighbours get new shapes that keep the pair's outer
    boundary (their union is unchanged) and do not overlap. ``expected_changes``: the
    last change of each of the two that the caller saw."""
    if first == second:
        raise InvalidInput("a boundary correction is between two different parcels")
    lock_parcels(conn, [first, second], expected_changes)
    srid = _srid(conn)
    a = _geometry(conn, first_wkt, srid, f"the new shape of parcel {first}")
    b = _geometry(conn, second_wkt, srid, f"the new shape of parcel {second}")
    row = conn.execute(sa.text(
        "WITH n AS (SELECT ST_GeomFromEWKB(decode(:a, 'hex')) AS a, "
        "ST_GeomFromEWKB(decode(:b, 'hex')) AS b), o AS (SELECT ST_Union(geom) AS u FROM "
        "current_parcel WHERE parcel_id IN (:f, :s)) SELECT ST_Area(ST_Intersection(n.a, n.b)) "
        "AS overlap, ST_Area(ST_SymDifference(ST_Union(n.a, n.b), o.u)) AS moved FROM n, o"),
        {"a": a, "b": b, "f": first, "s": second}).one()
    if row.overlap > tolerance:
        raise InvalidInput(f"the new shapes overlap each other by {row.overlap:.2f} m²")
    if row.moved > tolerance:
        raise InvalidInput(f"the pair's outer boundary would move ({row.moved:.2f} m²): a "
                           "boundary correction only moves the line between the two")
    _refuse_slivers(conn, [(f"parcel {first}", a), (f"parcel {second}", b)], tolerance)
    change_id, at = begin_change(conn, "boundary_correction", source, dossier_code=dossier_code,
                           note=None)
    versions = {pid: _current_version(conn, pid) for pid in (first, second)}
    _end_parcels(conn, [first, second], change_id, at)
    for pid, ewkb in ((first, a), (second, b)):
        new = _new_version(conn, versions[pid], parcel_id=pid, number=None, ewkb=ewkb,
                           change_id=change_id, at=at)
        _copy_land_use(conn, versions[pid], new, whole_area=True)
        _guard(conn, ewkb, [first, second], tolerance)
    return ChangeResult(change_id, first, 2, 2)


def to_storage_wkt(conn: Connection, wkt: str, srid: int) -> str:
    """WKT given in ``srid`` as WKT in the storage SRID (PostGIS transforms)."""
    storage = _srid(conn)
    _readable(conn, wkt, srid, "the geometry")
    if srid == storage:
        return wkt
    try:
        return str(conn.execute(sa.text(
            "SELECT ST_AsText(ST_Transform(ST_GeomFromText(:w, :s), :t))"),
            {"w": wkt, "s": srid, "t": storage}).scalar_one())
    except sa.exc.DBAPIError as exc:
        raise InvalidInput(f"cannot read the geometry in EPSG:{srid}") from exc
