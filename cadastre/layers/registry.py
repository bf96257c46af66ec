"""The published layers: what each OGC API collection and vector-tile layer reads, and
which attributes it shows. This is the allow-list the query builders take identifiers
from; nothing from a request is ever written into SQL.

No layer carries personal data (cadastre.access): no holder names, national IDs, birth
years or holders' addresses. The parcel's own address (địa chỉ thửa đất) is not personal
data; it is in the parcels collection but not in the tiles, which carry only what a map
draws and labels.

Each layer reads one alias ``x`` from one of three sources: the current state, the state at
an instant (``{at}``: a bound timestamptz) or, for a datetime interval, each object in its
latest state within ``[{start}, {end}]`` (NULL bounds are open).
"""

from __future__ import annotations

from dataclasses import dataclass

from cadastre.errors import CollectionNotFound


@dataclass(frozen=True, slots=True)
class Property:
    """One published attribute. ``filter`` makes it a query parameter of the items
    operation: an SQL condition over ``x`` with ``{v}`` for the bound value."""

    name: str
    sql: str
    type: str  # JSON Schema type: integer, number, string
    description: str
    format: str | None = None  # date, date-time
    filter: str | None = None


@dataclass(frozen=True, slots=True)
class TileSpec:
    """The vector-tile layer of a collection. ``state`` is the FROM + WHERE (over alias
    ``x``, current versions only) whose ``count(*)`` and ``sum(version)`` identify what a
    tile shows: versions are never edited, a change closes some and inserts new ones with
    fresh, larger ids, so the pair changes with every change inside the tile (the ETag).
    None: the ETag is a hash of the tile."""

    minzoom: int
    maxzoom: int
    source: str
    geometry: str
    feature_id: str
    attributes: tuple[tuple[str, str, str], ...]  # (name, sql, TileJSON field type)
    version: str | None = None
    #: Label attributes, shipped from ``label_minzoom`` up: below it a feature is too small
    #: on screen for its label, and the label is most of a small feature's bytes.
    labels: tuple[tuple[str, str, str], ...] = ()
    label_minzoom: int = 0


@dataclass(frozen=True, slots=True)
class Layer:
    id: str
    title: str
    description: str
    current: str
    at: str
    during: str
    feature_id: str
    geometry: str
    properties: tuple[Property, ...]
    geometry_type: str
    tile: TileSpec
    #: SQL for the spatial extent (a box2d in the storage CRS) and the temporal start.
    extent: str
    since: str

    @property
    def filters(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties if p.filter}


#: A parcel version's land-use codes, largest area first, joined by '+' (ODT+CLN).
LAND_USE_CODES = (
    "(SELECT string_agg(u.land_use_code, '+' ORDER BY u.area DESC NULLS LAST, "
    "u.land_use_code) FROM parcel_land_use u WHERE u.parcel_version_id = x.version_id)")
#: Each object's latest version within the interval (a flat subquery, so that the bbox and
#: property filters reach the index scans). A later version is looked for among the open
#: and the closed versions separately, each set having its own partial index on the id.
_LATER = ("NOT EXISTS (SELECT 1 FROM {table} w WHERE w.{key} = v.{key} AND {which} AND "
          "w.lifespan && tstzrange({{start}}, {{end}}, '[]') AND "
          "lower(w.lifespan) > lower(v.lifespan))")
_LATEST = ("(SELECT * FROM {table} v WHERE v.lifespan && tstzrange({{start}}, {{end}}, '[]') "
           "AND " + _LATER.replace("{which}", "upper_inf(w.lifespan)") + " AND "
           + _LATER.replace("{which}", "NOT upper_inf(w.lifespan)") + ")")
_PARCEL_LATEST = _LATEST.format(table="parcel", key="parcel_id")
_SINCE = "SELECT min(happened_at) FROM change_transaction"
#: From the planner's statistics (instant); counted only when there are none yet.
_PARCEL_EXTENT = ("coalesce(ST_EstimatedExtent('public', 'parcel', 'geom'), "
                  "(SELECT ST_Extent(geom) FROM parcel))")

PARCELS = Layer(
    id="parcels",
    title="Land parcels (thửa đất)",
    description="Current land parcels: identity (commune, map sheet, parcel number), legal "
    "and measured area, the parcel's address and its land-use codes. `datetime` reads the "
    "map at an instant (or each parcel's latest state within an interval). No personal "
    "data.",
    current="current_parcel x",
    at="parcels_as_of({at}) x",
    during=_PARCEL_LATEST + " x",
    feature_id="x.parcel_id",
    geometry="x.geom",
    properties=(
        Property("commune_code", "x.commune_code", "string", "Commune code (mã xã)",
                 filter="x.commune_code = {v}"),
        Property("sheet_number", "x.sheet_number", "string", "Map sheet number (số tờ)",
                 filter="x.sheet_number = {v}"),
        Property("parcel_number", "x.parcel_number", "integer", "Parcel number (số thửa)",
                 filter="x.parcel_number = {v}"),
        Property("land_use", LAND_USE_CODES, "string",
                 "Land-use codes, largest area first, joined by '+' (e.g. ODT+CLN); the "
                 "filter matches any one code",
                 filter="EXISTS (SELECT 1 FROM parcel_land_use f WHERE "
                 "f.parcel_version_id = x.version_id AND f.land_use_code = {v})"),
        Property("area_legal", "x.area_legal", "number", "Legal area (m²)"),
        Property("area_measured", "x.area_measured", "number", "Measured area (m²)"),
        Property("address", "x.address", "string", "The parcel's address (địa chỉ thửa đất)"),
        Property("version_id", "x.version_id", "integer", "This version of the parcel"),
        Property("valid_from", "lower(x.lifespan)", "string", "Start of this version",
                 format="date-time"),
        Property("valid_to", "upper(x.lifespan)", "string",
                 "End of this version (null: current)", format="date-time"),
    ),
    geometry_type="MultiPolygon",
    tile=TileSpec(
        minzoom=15, maxzoom=22, source="current_parcel x", geometry="x.geom",
        feature_id="x.parcel_id",
        attributes=(("land_use", LAND_USE_CODES, "String"),),
        # The map label is the parcel number (the cadastral map's label, Circular
        # 25/2014/TT-BTNMT: number, land type, area); at zoom 16 the median synthetic
        # parcel is 12 px wide on a 512 px tile (13.5 m at 1.1 m/px), too narrow for it,
        # at 17 it is 24 px. Sheet and number are 27 % of a zoom-16 tile's bytes.
        labels=(("sheet", "x.sheet_number", "String"),
                ("number", "x.parcel_number", "Number")),
        label_minzoom=17,
        version="x.version_id"),
    extent=_PARCEL_EXTENT,
    since=_SINCE,
)

LAND_USE_PURPOSES = Layer(
    id="land-use-purposes",
    title="Land-use purposes (mục đích sử dụng đất)",
    description="One feature per land-use purpose of a current parcel: the code with its "
    "Vietnamese and English names and land group, the area for that purpose, the term "
    "(permanent or until a date) and the origin of use, on the parcel's shape.",
    current="current_parcel x JOIN parcel_land_use u ON u.parcel_version_id = x.version_id "
    "JOIN land_use_type t ON t.code = u.land_use_code",
    at="parcels_as_of({at}) x JOIN parcel_land_use u ON u.parcel_version_id = x.version_id "
    "JOIN land_use_type t ON t.code = u.land_use_code",
    during=_PARCEL_LATEST + " x JOIN parcel_land_use u ON u.parcel_version_id = x.version_id "
    "JOIN land_use_type t ON t.code = u.land_use_code",
    feature_id="u.id",
    geometry="x.geom",
    properties=(
        Property("land_use_code", "u.land_use_code", "string", "Land-use code (mã loại đất)",
                 filter="u.land_use_code = {v}"),
        Property("name_vi", "t.name_vi", "string", "Name (Vietnamese)"),
        Property("name_en", "t.name_en", "string", "Name (English)"),
        Property("land_group", "t.land_group", "string",
                 "agricultural, non_agricultural or unused", filter="t.land_group = {v}"),
        Property("area", "u.area", "number", "Area for this purpose (m²)"),
        Property("term_kind", "u.term_kind", "string", "permanent or fixed",
                 filter="u.term_kind = {v}"),
        Property("term_end", "u.term_end", "string", "End of a fixed term", format="date"),
        Property("origin", "u.origin", "string", "Origin of use (nguồn gốc sử dụng)"),
        Property("parcel_id", "x.parcel_id", "integer", "The parcel",
                 filter="x.parcel_id = {v}"),
        Property("commune_code", "x.commune_code", "string", "Commune code (mã xã)",
                 filter="x.commune_code = {v}"),
        Property("sheet_number", "x.sheet_number", "string", "Map sheet number (số tờ)",
                 filter="x.sheet_number = {v}"),
        Property("parcel_number", "x.parcel_number", "integer", "Parcel number (số thửa)",
                 filter="x.parcel_number = {v}"),
    ),
    geometry_type="MultiPolygon",
    tile=TileSpec(
        minzoom=15, maxzoom=22,
        source="current_parcel x JOIN parcel_land_use u ON u.parcel_version_id = x.version_id",
        geometry="x.geom", feature_id="u.id",
        attributes=(("land_use", "u.land_use_code", "String"),),
        version="x.version_id"),
    extent=_PARCEL_EXTENT,
    since=_SINCE,
)

MAP_SHEETS = Layer(
    id="map-sheets",
    title="Cadastral map sheets (tờ bản đồ địa chính)",
    description="Current map sheets: commune, sheet number, scale, survey year and grid "
    "reference (phiên hiệu mảnh), with the sheet's outline.",
    current="(SELECT * FROM map_sheet WHERE upper_inf(lifespan)) x",
    at="(SELECT * FROM map_sheet WHERE lifespan @> {at}) x",
    during=_LATEST.format(table="map_sheet", key="sheet_id") + " x",
    feature_id="x.sheet_id",
    geometry="x.geom",
    properties=(
        Property("commune_code", "x.commune_code", "string", "Commune code (mã xã)",
                 filter="x.commune_code = {v}"),
        Property("sheet_number", "x.sheet_number", "string", "Map sheet number (số tờ)",
                 filter="x.sheet_number = {v}"),
        Property("scale", "x.scale", "integer", "Scale denominator", filter="x.scale = {v}"),
        Property("survey_year", "x.survey_year", "integer", "Survey year"),
        Property("grid_reference", "x.grid_reference", "string",
                 "Grid reference (phiên hiệu mảnh)"),
        Property("valid_from", "lower(x.lifespan)", "string", "Start of this edition",
                 format="date-time"),
    ),
    geometry_type="Polygon",
    tile=TileSpec(
        minzoom=12, maxzoom=22, source="(SELECT * FROM map_sheet WHERE upper_inf(lifespan)) x",
        geometry="x.geom", feature_id="x.sheet_id",
        attributes=(("commune", "x.commune_code", "String"),
                    ("sheet", "x.sheet_number", "String"),
                    ("scale", "x.scale", "Number")),
        version="x.version_id"),
    extent="coalesce(ST_EstimatedExtent('public', 'map_sheet', 'geom'), "
    "(SELECT ST_Extent(geom) FROM map_sheet))",
    since=_SINCE,
)

ADMIN_UNITS = Layer(
    id="admin-units",
    title="Administrative units (đơn vị hành chính)",
    description="Provinces, districts (of the former three-level structure) and communes in "
    "force, with their official codes, names, validity and the VN-2000 TM-3 zone of their "
    "cadastral maps. The outline is null where it has not been loaded.",
    current="(SELECT * FROM admin_unit WHERE validity @> current_date) x",
    at="(SELECT * FROM admin_unit WHERE validity @> ({at} AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    "::date) x",
    during="(SELECT * FROM admin_unit WHERE validity && daterange(({start} AT TIME ZONE "
    "'Asia/Ho_Chi_Minh')::date, ({end} AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, '[]')) x",
    feature_id="x.id",
    geometry="x.geom",
    properties=(
        Property("level", "x.level", "string", "province, district or commune",
                 filter="x.level = {v}"),
        Property("code", "x.code", "string", "Official code", filter="x.code = {v}"),
        Property("name", "x.name", "string", "Official name of the unit"),
        Property("kind", "x.kind", "string", "tỉnh, thành phố, quận, huyện, phường, xã, ..."),
        Property("parent_id", "x.parent_id", "integer", "The unit it belongs to",
                 filter="x.parent_id = {v}"),
        Property("valid_from", "x.valid_from", "string", "In force from", format="date"),
        Property("valid_to", "x.valid_to", "string", "In force until", format="date"),
        Property("tm3_epsg", "x.tm3_epsg", "integer",
                 "EPSG code of the VN-2000 TM-3 zone of its cadastral maps"),
    ),
    geometry_type="MultiPolygon",
    tile=TileSpec(
        minzoom=0, maxzoom=22,
        source="(SELECT * FROM admin_unit WHERE validity @> current_date) x",
        geometry="x.geom", feature_id="x.id",
        attributes=(("level", "x.level", "String"), ("code", "x.code", "String"),
                    ("name", "x.name", "String"))),
    extent="(SELECT ST_Extent(geom) FROM admin_unit WHERE validity @> current_date)",
    since="SELECT min(valid_from)::timestamptz FROM admin_unit",
)

LAYERS: dict[str, Layer] = {
    layer.id: layer for layer in (PARCELS, LAND_USE_PURPOSES, MAP_SHEETS, ADMIN_UNITS)}


def layer(collection_id: str) -> Layer:
    """The layer of a collection id, or CollectionNotFound (404)."""
    found = LAYERS.get(collection_id)
    if found is None:
        raise CollectionNotFound(f"no collection {collection_id[:80]!r}",
                                 hint="the collections are: " + ", ".join(LAYERS))
    return found
