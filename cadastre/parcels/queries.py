"""Parcel reads for the API's hot paths, on asyncpg: GeoJSON is built by PostgreSQL
(`ST_AsGeoJSON`, `json_build_object`) and passed through as text, so a lookup costs one
round trip and no per-feature Python work. Holders' personal data is selected only for
roles entitled to it (cadastre.access) and redacted again in Python."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from cadastre.access import (
    PRIVATE_CHANGE_KINDS,
    Role,
    change_view,
    holder_view,
    restriction_view,
    rule,
)
from cadastre.certificates.register import normalise_serial
from cadastre.changes.service import LAST_CHANGE_SQL
from cadastre.errors import InvalidInput, ParcelNotFound, UnsupportedCrs
from cadastre.layers.crs import (
    DEGREE_DIGITS,
    METRE_DIGITS,
    OutputCrs,
    RequestedCrs,
)
from cadastre.layers.registry import PARCELS

MAX_PAGE = 1000
#: A parcel version (alias ``x``) as a GeoJSON feature with its published lookup properties
#: (cadastre.layers.registry).
_FEATURE_TEMPLATE = (
    "json_build_object('type', 'Feature', 'id', x.parcel_id, "
    "'geometry', ST_AsGeoJSON(@geometry@, $2::int)::json, 'properties', json_build_object("
    + ", ".join(f"'{p.name}', {p.lookup_sql or p.sql}" for p in PARCELS.lookup) + "))")


_KNOWN_CRS: dict[RequestedCrs, OutputCrs] = {}


async def output_crs(conn: asyncpg.Connection, requested: RequestedCrs, *,
                     name: str = "crs") -> OutputCrs:
    """A CRS PostGIS knows, with the precision to print it at and its axis order (cached:
    spatial_ref_sys is reference data). One it does not know is a 400."""
    known = _KNOWN_CRS.get(requested)
    if known is not None:
        return known
    srid, crs84 = requested
    row = await conn.fetchrow(
        "SELECT proj4text FROM spatial_ref_sys WHERE srid = $1", srid)
    if row is None:
        raise UnsupportedCrs(f"{name} EPSG:{srid} is not a CRS this database knows",
                             hint="e.g. EPSG:5897 (VN-2000 / TM-3 105°00') or CRS84")
    proj = row["proj4text"] or ""
    geographic = "+proj=longlat" in proj or "+proj=latlong" in proj
    metres = "+units=m" in proj
    known = _KNOWN_CRS[requested] = OutputCrs(
        srid, METRE_DIGITS if metres else DEGREE_DIGITS, lat_lon=geographic and not crs84,
        geographic=geographic)
    return known


_GEOMETRY = "ST_Transform(x.geom, $1::int)"
#: A parcel as a GeoJSON feature, coordinates in the CRS $1 with $2 decimals.
_FEATURE = _FEATURE_TEMPLATE.replace("@geometry@", _GEOMETRY)
#: The same for a CRS that is latitude first.
_FEATURE_LAT_LON = _FEATURE_TEMPLATE.replace("@geometry@", f"ST_FlipCoordinates({_GEOMETRY})")


def _feature(out: OutputCrs) -> str:
    return _FEATURE_LAT_LON if out.lat_lon else _FEATURE


def _collection(features: list[str], *, extra: dict[str, Any] | None = None) -> bytes:
    head = b'{"type":"FeatureCollection","features":[' + ",".join(features).encode() + b"]"
    if extra:
        head += b"," + orjson.dumps(extra)[1:-1]
    return head + b"}"


#: The point is a scalar subquery (an InitPlan), so the planner cannot see its value: every
#: plan of the statement is the same, and PostgreSQL keeps one generic plan after five
#: executions instead of planning each lookup again. Planning was about 0.15 ms of the
#: database's 0.4 ms per lookup (docs/benchmarks.md); tests/api/test_plans.py
#: checks that the plan is reused.
_AT = ("SELECT {feature} AS f FROM current_parcel x "
       "WHERE ST_Intersects(x.geom, (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($3, $4), "
       "$5::int), $6::int))) ORDER BY x.parcel_id LIMIT 10")
PARCELS_AT = _AT.format(feature=_FEATURE)
PARCELS_AT_LAT_LON = _AT.format(feature=_FEATURE_LAT_LON)


async def parcels_at(conn: asyncpg.Connection, x: float, y: float, point_srid: int,
                     out: OutputCrs, storage_srid: int) -> bytes:
    rows = await conn.fetch(PARCELS_AT_LAT_LON if out.lat_lon else PARCELS_AT, out.srid,
                            out.digits, x, y, point_srid, storage_srid)
    return _collection([r["f"] for r in rows])


async def parcels_by_reference(conn: asyncpg.Connection, commune: str | None, sheet: str | None,
                               number: int | None, out: OutputCrs, *, limit: int,
                               offset: int) -> tuple[bytes, int]:
    rows = await conn.fetch(
        f"SELECT {_feature(out)} AS f FROM current_parcel x "
        "WHERE ($3::text IS NULL OR x.commune_code = $3) AND ($4::text IS NULL OR "
        "x.sheet_number = $4) AND ($5::int IS NULL OR x.parcel_number = $5) "
        "ORDER BY x.commune_code, x.sheet_number, x.parcel_number LIMIT $6 OFFSET $7",
        out.srid, out.digits, commune, sheet, number, limit + 1, offset)
    return _page(rows, limit)


async def parcels_in_bbox(conn: asyncpg.Connection, bbox: tuple[float, float, float, float],
                          bbox_srid: int, out: OutputCrs, storage_srid: int, *, limit: int,
                          offset: int) -> tuple[bytes, int]:
    rows = await conn.fetch(
        f"SELECT {_feature(out)} AS f FROM current_parcel x "
        "WHERE x.geom && ST_Transform(ST_MakeEnvelope($3, $4, $5, $6, $7::int), $8::int) "
        "ORDER BY x.parcel_id LIMIT $9 OFFSET $10",
        out.srid, out.digits, *bbox, bbox_srid, storage_srid, limit + 1, offset)
    return _page(rows, limit)


async def parcels_by_certificate(conn: asyncpg.Connection, serial: str,
                                 out: OutputCrs) -> tuple[bytes, int]:
    rows = await conn.fetch(
        f"SELECT {_feature(out)} AS f FROM current_certificate c "
        "JOIN certificate_parcel cp ON cp.certificate_version_id = c.version_id "
        "JOIN current_parcel x ON x.parcel_id = cp.parcel_id "
        "WHERE c.serial = $3 ORDER BY x.parcel_id",
        out.srid, out.digits, normalise_serial(serial))
    return _page(rows, MAX_PAGE)


def _page(rows: list[asyncpg.Record], limit: int) -> tuple[bytes, int]:
    more = len(rows) > limit
    features = [r["f"] for r in rows[:limit]]
    return _collection(features), (1 if more else 0)


def _at(alias: str, as_of: bool, param: str = "$4") -> str:
    return (f"{alias}.lifespan @> {param}::timestamptz" if as_of
            else f"upper_inf({alias}.lifespan)")


def _parcel_file_sql(lat_lon: bool, as_of: bool) -> str:
    """The whole parcel file in one statement ($1 CRS, $2 decimals, $3 parcel, $4 the
    instant when ``as_of``): the feature, the state token (the parcel's last change), its
    purposes, certificates, rights with holders (and a household's members) and
    restrictions, as one JSON document. Personal and financial columns come through the
    views that apply the proven role (sql/functions/privileges*.sql), and the role the
    database proved is in the document; cadastre.access shapes them again in Python.
    Nine statements before, 7-9 ms of database time under load (docs/benchmarks.md)."""
    feature = _FEATURE_LAT_LON if lat_lon else _FEATURE
    last = LAST_CHANGE_SQL.format(p="$3")
    return f"""
    SELECT json_build_object(
      'feature', {feature},
      'role', personal_data_role(),
      'last_change_id', (SELECT lc.id FROM ({last}) lc),
      'land_use', coalesce((SELECT json_agg(u ORDER BY u.area DESC NULLS LAST) FROM (
          SELECT u.land_use_code AS code, t.name_vi, t.name_en, u.area, u.term_kind,
                 u.term_end, u.origin
          FROM parcel_land_use u JOIN land_use_type t ON t.code = u.land_use_code
          WHERE u.parcel_version_id = x.version_id) u), '[]'),
      'certificates', coalesce((SELECT json_agg(c ORDER BY c.issued_on) FROM (
          SELECT g.serial, g.registry_number, g.issued_on, g.issuing_authority, g.endorsement
          FROM certificate g JOIN certificate_parcel cp ON cp.certificate_version_id = g.version_id
          WHERE cp.parcel_id = $3 AND {_at("g", as_of)}) c), '[]'),
      'rights', coalesce((SELECT json_agg(r ORDER BY r.right, r.right_id) FROM (
          SELECT r.right_id, r.kind AS right, r.share_numerator, r.share_denominator,
                 r.certificate_id, r.term_end, lower(r.lifespan) AS since, h.id AS party_id,
                 h.kind, h.name, pp.national_id, pp.birth_year, pp.address,
                 CASE WHEN h.kind = 'household' THEN (SELECT json_agg(m) FROM (
                     SELECT m.role AS member_role, p.id AS party_id, p.kind, p.name,
                            mp.national_id, mp.birth_year, mp.address
                     FROM party_member m JOIN party_visible p ON p.id = m.member_party_id
                     LEFT JOIN party_personal_visible mp ON mp.party_id = p.id
                     WHERE m.group_party_id = h.id AND upper_inf(m.lifespan)
                     ORDER BY m.member_party_id) m) END AS members
          FROM land_right r JOIN party_visible h ON h.id = r.party_id
          LEFT JOIN party_personal_visible pp ON pp.party_id = h.id
          WHERE r.parcel_id = $3 AND {_at("r", as_of)}) r), '[]'),
      'restrictions', coalesce((SELECT json_agg(s ORDER BY s.since, s.restriction_id) FROM (
          SELECT s.restriction_id, s.kind, s.reference, s.description, s.amount,
                 lower(s.lifespan) AS since, b.id AS beneficiary_party_id,
                 b.name AS beneficiary, b.kind AS beneficiary_kind
          FROM restriction_visible s LEFT JOIN party_visible b ON b.id = s.party_id
          WHERE s.parcel_id = $3 AND {_at("s", as_of)}) s), '[]'))
    FROM parcel x WHERE x.parcel_id = $3 AND {_at("x", as_of)}"""


#: The four statements (latitude first or not, current or as of an instant).
PARCEL_FILE_SQL = {(lat_lon, as_of): _parcel_file_sql(lat_lon, as_of)
                   for lat_lon in (False, True) for as_of in (False, True)}


async def parcel_file(conn: asyncpg.Connection, parcel_id: int, role: Role, out: OutputCrs,
                      *, as_of: datetime | None = None) -> dict[str, Any]:
    """The parcel file: the parcel (current, or as of an instant), its land-use purposes,
    rights with holders and shares, certificates, restrictions with the injunction flag."""
    args: list[Any] = [out.srid, out.digits, parcel_id] + ([] if as_of is None else [as_of])
    document = await conn.fetchval(PARCEL_FILE_SQL[(out.lat_lon, as_of is not None)], *args)
    if document is None:
        exists = await conn.fetchval("SELECT 1 FROM parcel_identity WHERE parcel_id = $1",
                                     parcel_id)
        if exists and as_of is not None:
            raise ParcelNotFound(f"parcel {parcel_id} did not exist on {as_of.isoformat()}")
        if exists:
            raise ParcelNotFound(f"parcel {parcel_id} is retired: see its history",
                                 hint=f"/api/v1/parcels/{parcel_id}/history")
        raise ParcelNotFound(f"no parcel {parcel_id}")
    return shape_parcel_file(orjson.loads(document), role, parcel_id, as_of=as_of)


def shape_parcel_file(document: dict[str, Any], role: Role, parcel_id: int, *,
                      as_of: datetime | None = None) -> dict[str, Any]:
    """The feature of a parcel-file document (PARCEL_FILE_SQL) as ``role`` may see it. The
    database masked what the role it proved may not see; this applies cadastre.access's
    shapes (and would hide, were the two ever to disagree, what the stricter one hides)."""
    feature: dict[str, Any] = document["feature"]
    props = feature["properties"]
    props["land_use"] = document["land_use"]
    props["certificates"] = document["certificates"]
    props["rights"] = [_right_view(role, r) for r in document["rights"]]
    restrictions = [restriction_view(role, r) for r in document["restrictions"]]
    props["restrictions"] = restrictions
    injunctions = [r for r in restrictions if r["kind"] == "injunction"]
    props["injunction"] = {"active": False}
    if injunctions:
        props["injunction"] = {"active": True, "since": min(r["since"] for r in injunctions),
                               "message": "Đang bị ngăn chặn giao dịch: every other change "
                               "on this parcel is refused"}
        if rule(role).financial_references:
            props["injunction"]["references"] = [r["reference"] for r in injunctions]
    props["mortgaged"] = any(r["kind"] == "mortgage" for r in restrictions)
    props["last_change_id"] = document["last_change_id"]
    base = f"/api/v1/parcels/{parcel_id}"
    props["links"] = {"self": base, "history": f"{base}/history", "lineage": f"{base}/lineage",
                      "dossiers": f"{base}/dossiers", "changes": f"{base}/changes"}
    if as_of is not None:
        props["as_of"] = as_of.isoformat()
    return feature


def _right_view(role: Role, right: dict[str, Any]) -> dict[str, Any]:
    holder = dict(right)
    holder["share"] = f"{right['share_numerator']}/{right['share_denominator']}"
    view = holder_view(role, holder)  # members only for the roles that see names
    view.update({"right_id": right["right_id"], "since": right["since"],
                 "certificate_id": right["certificate_id"], "term_end": right["term_end"]})
    return view


def parties_shown(feature: dict[str, Any]) -> list[int]:
    """The parties whose personal data a parcel file carries (holders, household members,
    private lenders), for the audit log; empty for roles that see none."""
    props = feature["properties"]
    ids = []
    for right in props.get("rights", []):
        if right.get("party_id") is not None:
            ids.append(int(right["party_id"]))
        ids += [int(m["party_id"]) for m in right.get("members", []) if m.get("party_id")]
    ids += [int(r["beneficiary_party_id"]) for r in props.get("restrictions", [])
            if r.get("beneficiary_party_id") is not None and r.get("beneficiary")]
    return ids


def financial_facts_shown(feature: dict[str, Any]) -> tuple[list[int], list[int]]:
    """The restrictions whose financial facts (reference, counterparty, amount) a parcel
    file carries, and the parties they are about: the parcel's holders (the mortgagor, the
    party whose dealings are frozen) and the counterparties. Empty for roles that see only
    kinds and dates."""
    props = feature["properties"]
    shown = [r for r in props.get("restrictions", []) if "reference" in r]
    if not shown:
        return [], []
    parties = [int(r["party_id"]) for r in props.get("rights", [])
               if r.get("party_id") is not None]
    parties += [int(r["beneficiary_party_id"]) for r in shown
                if r.get("beneficiary_party_id") is not None]
    return [int(r["restriction_id"]) for r in shown], parties


@asynccontextmanager
async def as_role(conn: asyncpg.Connection, role: Role) -> AsyncIterator[None]:
    """For roles that see personal data: one transaction (a savepoint inside the request's),
    in which the database applies the end user's role it proved (api.deps.connection
    begins it with auth_act): party_visible and party_personal_visible show what that role
    may see, whatever ``role`` says here (sql/functions/privileges.sql)."""
    if not rule(role).names:
        yield
        return
    async with conn.transaction():
        yield


async def history(conn: asyncpg.Connection, parcel_id: int, out: OutputCrs) -> bytes:
    rows = await conn.fetch(
        f"SELECT {_feature(out)} AS f, lower(x.lifespan) AS began, upper(x.lifespan) AS ended, "
        "x.begun_by, x.ended_by, cb.kind AS began_with, cb.dossier_code AS began_dossier, "
        "ce.kind AS ended_with FROM parcel x "
        "JOIN change_transaction cb ON cb.id = x.begun_by "
        "LEFT JOIN change_transaction ce ON ce.id = x.ended_by "
        "WHERE x.parcel_id = $3 ORDER BY lower(x.lifespan)", out.srid, out.digits, parcel_id)
    if not rows:
        raise ParcelNotFound(f"no parcel {parcel_id}")
    features = []
    for r in rows:
        feature = orjson.loads(r["f"])
        feature["properties"].update({
            "began": r["began"], "ended": r["ended"], "begun_by_change": r["begun_by"],
            "began_with": r["began_with"], "dossier_code": r["began_dossier"],
            "ended_by_change": r["ended_by"], "ended_with": r["ended_with"]})
        features.append(orjson.dumps(feature, default=str).decode())
    return _collection(features)


async def _require_parcel(conn: asyncpg.Connection, parcel_id: int) -> None:
    if not await conn.fetchval("SELECT 1 FROM parcel_identity WHERE parcel_id = $1", parcel_id):
        raise ParcelNotFound(f"no parcel {parcel_id}")


async def lineage(conn: asyncpg.Connection, parcel_id: int) -> dict[str, Any]:
    await _require_parcel(conn, parcel_id)
    sql = ("SELECT l.{other} AS parcel_id, l.change_id, c.kind, c.happened_at, c.dossier_code "
           "FROM parcel_lineage l JOIN change_transaction c ON c.id = l.change_id "
           "WHERE l.{me} = $1 ORDER BY c.happened_at")
    parents = await conn.fetch(sql.format(other="parent_parcel_id", me="child_parcel_id"),
                               parcel_id)
    children = await conn.fetch(sql.format(other="child_parcel_id", me="parent_parcel_id"),
                                parcel_id)
    return {"parcel_id": parcel_id, "parents": [dict(r) for r in parents],
            "children": [dict(r) for r in children]}


async def changes(conn: asyncpg.Connection, parcel_id: int,
                  role: Role = Role.ANONYMOUS) -> list[dict[str, Any]]:
    """Every change that began or ended a version of the parcel or of its rights and
    restrictions, with the documents that prove it; the documents and notes of private
    changes as ``role`` may see them (cadastre.access.change_view)."""
    await _require_parcel(conn, parcel_id)
    async with as_role(conn, role):  # change_document_visible applies the role too
        rows = await conn.fetch("""
        WITH touched AS (
            SELECT begun_by AS change_id FROM parcel WHERE parcel_id = $1
            UNION SELECT ended_by FROM parcel WHERE parcel_id = $1
            UNION SELECT begun_by FROM land_right WHERE parcel_id = $1
            UNION SELECT ended_by FROM land_right WHERE parcel_id = $1
            UNION SELECT begun_by FROM restriction WHERE parcel_id = $1
            UNION SELECT ended_by FROM restriction WHERE parcel_id = $1)
        SELECT c.id, c.kind, c.happened_at, c.dossier_code, c.note,
               coalesce((SELECT json_agg(json_build_object('kind', s.kind, 'reference',
                        s.reference, 'issued_on', s.issued_on, 'issuer', s.issuer)
                        ORDER BY s.source_id)
                        FROM change_document_visible s WHERE s.change_id = c.id),
                        '[]'::json) AS documents
        FROM change_visible c JOIN touched t ON t.change_id = c.id
        ORDER BY c.happened_at, c.id""", parcel_id)
    return [change_view(role, {**dict(r), "documents": orjson.loads(r["documents"])})
            for r in rows]


def private_changes_shown(changes_: list[dict[str, Any]], role: Role) -> list[int]:
    """The private changes (cadastre.access.PRIVATE_CHANGE_KINDS) whose documents a
    changes response shows to ``role``, for the audit log."""
    if not rule(role).financial_references:
        return []
    return [int(c["id"]) for c in changes_ if c["kind"] in PRIVATE_CHANGE_KINDS]


async def parties_of_changes(conn: asyncpg.Connection, parcel_id: int,
                             change_ids: list[int]) -> list[int]:
    """The holders of the parcel's rights at those changes (and those the changes began or
    ended), and the counterparties of the restrictions they began or ended: whose
    financial facts the changes' documents are."""
    return [int(r["party_id"]) for r in await conn.fetch(
        "SELECT r.party_id FROM land_right r JOIN change_transaction c ON c.id = ANY($2) "
        "WHERE r.parcel_id = $1 AND (r.lifespan @> c.happened_at OR r.begun_by = c.id "
        "OR r.ended_by = c.id) "
        "UNION SELECT x.party_id FROM restriction_visible x WHERE x.parcel_id = $1 "
        "AND x.party_id IS NOT NULL AND (x.begun_by = ANY($2) OR x.ended_by = ANY($2))",
        parcel_id, change_ids)]


async def dossiers(conn: asyncpg.Connection, parcel_id: int) -> list[dict[str, Any]]:
    return [
        {"dossier_code": c["dossier_code"], "change_id": c["id"], "kind": c["kind"],
         "happened_at": c["happened_at"]}
        for c in await changes(conn, parcel_id) if c["dossier_code"]
    ]


_REFERENCE = re.compile(
    r"^\s*(?:(?P<commune>\d{5})\s*[/ ,-]\s*)?(?:tờ|to|t)?\s*(?P<sheet>\d{1,4})\s*"
    r"(?:[/ ,-]|\s+(?:thửa|thua)\s*)\s*(?:thửa|thua)?\s*(?P<number>\d{1,6})\s*$", re.IGNORECASE)


async def search(conn: asyncpg.Connection, q: str, role: Role, *, limit: int) -> dict[str, Any]:
    """Accent-insensitive search over parcel addresses, parcel references ("tờ 12 thửa 45",
    "00070/12/45") and, for roles entitled to names, holders' names."""
    text = q.strip()
    if len(text) < 2:
        raise InvalidInput("the search text needs at least 2 characters")
    results: list[dict[str, Any]] = []
    reference = _REFERENCE.match(text)
    if reference:
        rows = await conn.fetch(
            "SELECT parcel_id, commune_code, sheet_number, parcel_number, address "
            "FROM current_parcel WHERE sheet_number = $1 AND parcel_number = $2 "
            "AND ($3::text IS NULL OR commune_code = $3) ORDER BY commune_code LIMIT $4",
            str(int(reference["sheet"])), int(reference["number"]), reference["commune"], limit)
        results += [{**dict(r), "match": "reference"} for r in rows]
    rows = await conn.fetch(
        "SELECT parcel_id, commune_code, sheet_number, parcel_number, address, "
        "similarity(search_text(address), search_text($1)) AS score FROM current_parcel "
        "WHERE search_text(address) LIKE '%' || search_text($1) || '%' "
        "ORDER BY score DESC, parcel_id LIMIT $2", text, limit)
    results += [{**dict(r), "match": "address"} for r in rows]
    if rule(role).names:
        async with as_role(conn, role):  # search_holders() checks the role set here
            rows = await conn.fetch("SELECT * FROM search_holders($1, $2)", text, limit)
        results += [{**dict(r), "match": "holder"} for r in rows]
    seen: set[tuple[int, str]] = set()
    unique = []
    for r in results:
        key = (r["parcel_id"], r["match"])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return {"query": text, "results": unique[:limit],
            "holders_searched": rule(role).names}
