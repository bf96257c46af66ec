"""The published layers: what each OGC API collection, vector-tile layer, bulk export and
the parcel lookups read, and which attributes each shows. This is the allow-list the query
builders take identifiers from; nothing from a request is ever written into SQL.

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

from cadastre.clock import TODAY_SQL
from cadastre.errors import CollectionNotFound


@dataclass(frozen=True, slots=True)
class Exported:
    """How a property is written by the bulk exports: its Arrow type (a pyarrow type name:
    int32, int64, float64, string, date32), the width of a text column in a shapefile's
    .dbf (bytes, at most 254), and its own SQL where the file's type needs another value
    (a local day, a float)."""

    type: str
    width: int | None = None
    sql: str | None = None


@dataclass(frozen=True, slots=True)
class Tiled:
    """A property in the vector tiles: its name there (default: its own), and whether it
    is a label, shipped from the layer's ``label_minzoom`` up."""

    name: str | None = None
    label: bool = False


@dataclass(frozen=True, slots=True)
class Property:
    """One published attribute, and every output that shows it. ``filter`` makes it a
    query parameter of the OGC items operation: an SQL condition over ``x`` with ``{v}``
    for the bound value. ``ogc``: a property of the OGC API collection (items, schema,
    queryables); ``lookup``: of the parcel lookups' GeoJSON (/api/v1/parcels/...), read
    by ``lookup_sql`` when that differs; ``export`` and ``tile``: a column of the bulk
    exports, an attribute of the vector tiles. Each output lists its properties in the
    order of the layer's tuple."""

    name: str
    sql: str
    type: str  # JSON Schema type: integer, number, string, boolean
    description: str
    format: str | None = None  # date, date-time
    filter: str | None = None
    ogc: bool = True
    lookup: bool = False
    lookup_sql: str | None = None
    export: Exported | None = None
    tile: Tiled | None = None


@dataclass(frozen=True, slots=True)
class TileSpec:
    """The vector-tile layer of a collection (its attributes: the properties with
    ``tile``). ``state`` is the FROM + WHERE (over alias ``x``, current versions only)
    whose ``count(*)`` and ``sum(version)`` identify what a tile shows: versions are never
    edited, a change closes some and inserts new ones with fresh, larger ids, so the pair
    changes with every change inside the tile (the ETag). None: the ETag is a hash of the
    tile."""

    minzoom: int
    maxzoom: int
    source: str
    geometry: str
    feature_id: str
    version: str | None = None
    #: Label attributes are shipped from ``label_minzoom`` up: below it a feature is too
    #: small on screen for its label, and the label is most of a small feature's bytes.
    label_minzoom: int = 0


#: A tile attribute: its name, SQL and TileJSON field type.
TileField = tuple[str, str, str]


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
    def ogc(self) -> tuple[Property, ...]:
        """The OGC API collection's properties."""
        return tuple(p for p in self.properties if p.ogc)

    @property
    def filters(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties if p.ogc and p.filter}

    @property
    def lookup(self) -> tuple[Property, ...]:
        """The properties of the parcel lookups' features."""
        return tuple(p for p in self.properties if p.lookup)

    def tile_fields(self, *, labels: bool) -> tuple[TileField, ...]:
        """The tile attributes (``labels``: the labels, else the others)."""
        return tuple((p.tile.name or p.name, p.sql, "String" if p.type == "string" else
                      "Number") for p in self.properties
                     if p.tile is not None and p.tile.label is labels)


#: A parcel version's land-use codes, largest area first, joined by '+' (ODT+CLN).
LAND_USE_CODES = (
    "(SELECT string_agg(u.land_use_code, '+' ORDER BY u.area DESC NULLS LAST, "
    "u.land_use_code) FROM parcel_land_use u WHERE u.parcel_version_id = x.version_id)")
#: The same as a JSON array (the parcel lookups).
LAND_USE_LIST = (
    "(SELECT coalesce(json_agg(u.land_use_code ORDER BY u.area DESC NULLS LAST, "
    "u.land_use_code), '[]'::json) FROM parcel_land_use u "
    "WHERE u.parcel_version_id = x.version_id)")
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

#: A version's first day, local time (an export's date column).
LOCAL_DAY = "(lower({}) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

#: The parcel's published properties (thửa đất), once for every output: the lookups, the
#: OGC API, the tiles and the exports. A published field is a migration adding the column
#: plus one entry here (docs/architecture.md).
PARCEL_PROPERTIES = (
    Property("parcel_id", "x.parcel_id", "integer", "The parcel", ogc=False, lookup=True,
             export=Exported("int64")),
    Property("commune_code", "x.commune_code", "string", "Commune code (mã xã)",
             filter="x.commune_code = {v}", lookup=True, export=Exported("string", 10)),
    # The map label is the parcel number; at zoom 16 the median synthetic parcel is 12 px
    # wide on a 512 px tile (13.5 m at 1.1 m/px), too narrow for it, at 17 it is 24 px.
    # Sheet and number are 27 % of a zoom-16 tile's bytes.
    # The sheet's commune may be a former one (docs/architecture.md, "Parcel identity"): the
    # lookups also answer the commune in force today that it became.
    Property("commune_today", "commune_today(x.commune_code)", "object",
             "The commune in force today that the sheet's commune is or became: code, name "
             "and since when (sql/functions/admin_units.sql)", ogc=False, lookup=True),
    Property("sheet_number", "x.sheet_number", "string", "Map sheet number (số tờ)",
             filter="x.sheet_number = {v}", lookup=True, export=Exported("string", 20),
             tile=Tiled("sheet", label=True)),
    Property("parcel_number", "x.parcel_number", "integer", "Parcel number (số thửa)",
             filter="x.parcel_number = {v}", lookup=True, export=Exported("int32"),
             tile=Tiled("number", label=True)),
    Property("land_use", LAND_USE_CODES, "string",
             "Land-use codes, largest area first, joined by '+' (e.g. ODT+CLN); the "
             "filter matches any one code",
             filter="EXISTS (SELECT 1 FROM parcel_land_use f WHERE "
             "f.parcel_version_id = x.version_id AND f.land_use_code = {v})",
             lookup=True, lookup_sql=LAND_USE_LIST, export=Exported("string", 60),
             tile=Tiled()),
    Property("area_legal", "x.area_legal", "number", "Legal area (m²)", lookup=True,
             export=Exported("float64", sql="x.area_legal::float8")),
    Property("area_measured", "x.area_measured", "number", "Measured area (m²)", lookup=True,
             export=Exported("float64", sql="x.area_measured::float8")),
    Property("address", "x.address", "string", "The parcel's address (địa chỉ thửa đất)",
             lookup=True, export=Exported("string", 254)),
    Property("version_id", "x.version_id", "integer", "This version of the parcel",
             lookup=True),
    Property("injunction", "EXISTS (SELECT 1 FROM current_restriction r WHERE "
             "r.parcel_id = x.parcel_id AND r.kind = 'injunction')", "boolean",
             "Under an active injunction (đang bị ngăn chặn)", ogc=False, lookup=True),
    Property("valid_from", "lower(x.lifespan)", "string", "Start of this version",
             format="date-time", lookup=True,
             export=Exported("date32", sql=LOCAL_DAY.format("x.lifespan"))),
    Property("valid_to", "upper(x.lifespan)", "string", "End of this version (null: current)",
             format="date-time"),
)

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
    properties=PARCEL_PROPERTIES,
    geometry_type="MultiPolygon",
    tile=TileSpec(
        minzoom=15, maxzoom=22, source="current_parcel x", geometry="x.geom",
        feature_id="x.parcel_id", label_minzoom=17, version="x.version_id"),
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
        Property("parcel_id", "x.parcel_id", "integer", "The parcel",
                 filter="x.parcel_id = {v}", export=Exported("int64")),
        Property("commune_code", "x.commune_code", "string", "Commune code (mã xã)",
                 filter="x.commune_code = {v}", export=Exported("string", 10)),
        Property("sheet_number", "x.sheet_number", "string", "Map sheet number (số tờ)",
                 filter="x.sheet_number = {v}", export=Exported("string", 20)),
        Property("parcel_number", "x.parcel_number", "integer", "Parcel number (số thửa)",
                 filter="x.parcel_number = {v}", export=Exported("int32")),
        Property("land_use_code", "u.land_use_code", "string", "Land-use code (mã loại đất)",
                 filter="u.land_use_code = {v}", export=Exported("string", 4),
                 tile=Tiled("land_use")),
        Property("name_vi", "t.name_vi", "string", "Name (Vietnamese)",
                 export=Exported("string", 254)),
        Property("name_en", "t.name_en", "string", "Name (English)",
                 export=Exported("string", 120)),
        Property("land_group", "t.land_group", "string",
                 "agricultural, non_agricultural or unused", filter="t.land_group = {v}",
                 export=Exported("string", 20)),
        Property("area", "u.area", "number", "Area for this purpose (m²)",
                 export=Exported("float64", sql="u.area::float8")),
        Property("term_kind", "u.term_kind", "string", "permanent or fixed",
                 filter="u.term_kind = {v}", export=Exported("string", 10)),
        Property("term_end", "u.term_end", "string", "End of a fixed term", format="date",
                 export=Exported("date32")),
        Property("origin", "u.origin", "string", "Origin of use (nguồn gốc sử dụng)",
                 export=Exported("string", 254)),
    ),
    geometry_type="MultiPolygon",
    tile=TileSpec(
        minzoom=15, maxzoom=22,
        source="current_parcel x JOIN parcel_land_use u ON u.parcel_version_id = x.version_id",
        geometry="x.geom", feature_id="u.id", version="x.version_id"),
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
        Property("sheet_id", "x.sheet_id", "integer", "The sheet", ogc=False,
                 export=Exported("int64")),
        Property("commune_code", "x.commune_code", "string", "Commune code (mã xã)",
                 filter="x.commune_code = {v}", export=Exported("string", 10),
                 tile=Tiled("commune")),
        Property("sheet_number", "x.sheet_number", "string", "Map sheet number (số tờ)",
                 filter="x.sheet_number = {v}", export=Exported("string", 20),
                 tile=Tiled("sheet")),
        Property("scale", "x.scale", "integer", "Scale denominator", filter="x.scale = {v}",
                 export=Exported("int32"), tile=Tiled()),
        Property("survey_year", "x.survey_year", "integer", "Survey year",
                 export=Exported("int32", sql="x.survey_year::int")),
        Property("grid_reference", "x.grid_reference", "string",
                 "Grid reference (phiên hiệu mảnh)", export=Exported("string", 60)),
        Property("valid_from", "lower(x.lifespan)", "string", "Start of this edition",
                 format="date-time", export=Exported("date32", sql=LOCAL_DAY.format(
                     "x.lifespan"))),
    ),
    geometry_type="Polygon",
    tile=TileSpec(
        minzoom=12, maxzoom=22, source="(SELECT * FROM map_sheet WHERE upper_inf(lifespan)) x",
        geometry="x.geom", feature_id="x.sheet_id", version="x.version_id"),
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
    current=f"(SELECT * FROM admin_unit WHERE validity @> {TODAY_SQL}) x",
    at="(SELECT * FROM admin_unit WHERE validity @> ({at} AT TIME ZONE 'Asia/Ho_Chi_Minh')"
    "::date) x",
    during="(SELECT * FROM admin_unit WHERE validity && daterange(({start} AT TIME ZONE "
    "'Asia/Ho_Chi_Minh')::date, ({end} AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, '[]')) x",
    feature_id="x.id",
    geometry="x.geom",
    properties=(
        Property("level", "x.level", "string", "province, district or commune",
                 filter="x.level = {v}", export=Exported("string", 10), tile=Tiled()),
        Property("code", "x.code", "string", "Official code", filter="x.code = {v}",
                 export=Exported("string", 10), tile=Tiled()),
        Property("name", "x.name", "string", "Official name of the unit",
                 export=Exported("string", 254), tile=Tiled()),
        Property("kind", "x.kind", "string", "tỉnh, thành phố, quận, huyện, phường, xã, ...",
                 export=Exported("string", 40)),
        Property("parent_id", "x.parent_id", "integer", "The unit it belongs to",
                 filter="x.parent_id = {v}"),
        Property("parent_code", "(SELECT up.code FROM admin_unit up WHERE up.id = "
                 "x.parent_id)", "string", "Official code of the unit it belongs to",
                 ogc=False, export=Exported("string", 10)),
        Property("valid_from", "x.valid_from", "string", "In force from", format="date",
                 export=Exported("date32")),
        Property("valid_to", "x.valid_to", "string", "In force until", format="date",
                 export=Exported("date32")),
        Property("tm3_epsg", "x.tm3_epsg", "integer",
                 "EPSG code of the VN-2000 TM-3 zone of its cadastral maps",
                 export=Exported("int32")),
    ),
    geometry_type="MultiPolygon",
    tile=TileSpec(
        minzoom=0, maxzoom=22,
        source=f"(SELECT * FROM admin_unit WHERE validity @> {TODAY_SQL}) x",
        geometry="x.geom", feature_id="x.id"),
    extent=f"(SELECT ST_Extent(geom) FROM admin_unit WHERE validity @> {TODAY_SQL})",
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
