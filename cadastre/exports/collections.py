"""What each collection exports: its columns (SQL expression, Arrow type, text width for
shapefiles), its geometry and where its rows come from now and at a past instant.

Personal data (holders' names, national ID numbers, addresses of people) is in no column
list, for any role: an export carries the map, not the register of people. A parcel's
address (địa chỉ thửa đất) is its location and is exported.

SQL placeholders are psycopg2's ``%(name)s``: the query is bound client-side (``mogrify``)
because ``COPY (query) TO STDOUT`` takes no server-side parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    sql: str
    type: pa.DataType
    #: Width of a text column in a shapefile's .dbf, in bytes (UTF-8; at most 254).
    width: int | None = None


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    #: Layer name in the output (and the base name of files inside a zip).
    layer: str
    #: OGR geometry type of the layer.
    geometry_type: str
    #: The geometry in the storage CRS.
    geometry: str
    columns: tuple[Column, ...]
    #: FROM clause and state condition of the current rows, and of the rows at %(as_of)s.
    from_current: str
    where_current: str | None
    from_as_of: str
    where_as_of: str | None
    #: Condition selecting one commune by %(commune)s.
    commune: str
    #: The unit the CLI counts in ("parcels", "sheets", ...).
    noun: str
    #: Rows may have no geometry (a FlatGeobuf spatial index cannot hold them).
    geometry_nullable: bool = False


_LAND_USES = (
    "(SELECT string_agg(lu.land_use_code, '+' ORDER BY lu.area DESC NULLS LAST, "
    "lu.land_use_code) FROM parcel_land_use lu WHERE lu.parcel_version_id = p.version_id)")
_LOCAL_DAY = "(lower({}) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

PARCELS = Collection(
    id="parcels",
    title="Land parcels (thửa đất)",
    layer="parcels",
    geometry_type="MultiPolygon",
    geometry="p.geom",
    columns=(
        Column("parcel_id", "p.parcel_id", pa.int64()),
        Column("commune_code", "p.commune_code", pa.string(), 10),
        Column("sheet_number", "p.sheet_number", pa.string(), 20),
        Column("parcel_number", "p.parcel_number", pa.int32()),
        Column("land_use", _LAND_USES, pa.string(), 60),
        Column("area_legal", "p.area_legal::float8", pa.float64()),
        Column("area_measured", "p.area_measured::float8", pa.float64()),
        Column("address", "p.address", pa.string(), 254),
        Column("valid_from", _LOCAL_DAY.format("p.lifespan"), pa.date32()),
    ),
    from_current="current_parcel p",
    where_current=None,
    from_as_of="parcels_as_of(%(as_of)s) p",
    where_as_of=None,
    commune="p.commune_code = %(commune)s",
    noun="parcels",
)

LAND_USE = Collection(
    id="land-use-purposes",
    title="Land-use purposes of parcels (mục đích sử dụng đất)",
    layer="land_use",
    geometry_type="MultiPolygon",
    geometry="p.geom",
    columns=(
        Column("parcel_id", "p.parcel_id", pa.int64()),
        Column("commune_code", "p.commune_code", pa.string(), 10),
        Column("sheet_number", "p.sheet_number", pa.string(), 20),
        Column("parcel_number", "p.parcel_number", pa.int32()),
        Column("land_use_code", "u.land_use_code", pa.string(), 4),
        Column("name_vi", "t.name_vi", pa.string(), 254),
        Column("name_en", "t.name_en", pa.string(), 120),
        Column("land_group", "t.land_group", pa.string(), 20),
        Column("area", "u.area::float8", pa.float64()),
        Column("term_kind", "u.term_kind", pa.string(), 10),
        Column("term_end", "u.term_end", pa.date32()),
        Column("origin", "u.origin", pa.string(), 254),
    ),
    from_current=("current_parcel p JOIN parcel_land_use u ON u.parcel_version_id = "
                  "p.version_id JOIN land_use_type t ON t.code = u.land_use_code"),
    where_current=None,
    from_as_of=("parcels_as_of(%(as_of)s) p JOIN parcel_land_use u ON u.parcel_version_id = "
                "p.version_id JOIN land_use_type t ON t.code = u.land_use_code"),
    where_as_of=None,
    commune="p.commune_code = %(commune)s",
    noun="land-use purposes",
)

MAP_SHEETS = Collection(
    id="map-sheets",
    title="Cadastral map sheets (tờ bản đồ địa chính)",
    layer="map_sheets",
    geometry_type="Polygon",
    geometry="s.geom",
    columns=(
        Column("sheet_id", "s.sheet_id", pa.int64()),
        Column("commune_code", "s.commune_code", pa.string(), 10),
        Column("sheet_number", "s.sheet_number", pa.string(), 20),
        Column("scale", "s.scale", pa.int32()),
        Column("survey_year", "s.survey_year::int", pa.int32()),
        Column("grid_reference", "s.grid_reference", pa.string(), 60),
        Column("valid_from", _LOCAL_DAY.format("s.lifespan"), pa.date32()),
    ),
    from_current="map_sheet s",
    where_current="upper_inf(s.lifespan)",
    from_as_of="map_sheet s",
    where_as_of="s.lifespan @> %(as_of)s",
    commune="s.commune_code = %(commune)s",
    noun="map sheets",
    geometry_nullable=True,
)

ADMIN_UNITS = Collection(
    id="admin-units",
    title="Administrative units (đơn vị hành chính)",
    layer="admin_units",
    geometry_type="MultiPolygon",
    geometry="a.geom",
    columns=(
        Column("code", "a.code", pa.string(), 10),
        Column("level", "a.level", pa.string(), 10),
        Column("name", "a.name", pa.string(), 254),
        Column("kind", "a.kind", pa.string(), 40),
        Column("parent_code", "up.code", pa.string(), 10),
        Column("valid_from", "a.valid_from", pa.date32()),
        Column("valid_to", "a.valid_to", pa.date32()),
        Column("tm3_epsg", "a.tm3_epsg", pa.int32()),
    ),
    from_current="admin_unit a LEFT JOIN admin_unit up ON up.id = a.parent_id",
    where_current="a.validity @> current_date",
    from_as_of="admin_unit a LEFT JOIN admin_unit up ON up.id = a.parent_id",
    where_as_of="a.validity @> CAST(%(as_of)s AS timestamptz)::date",
    commune="a.code = %(commune)s",
    noun="administrative units",
    geometry_nullable=True,
)

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (PARCELS, LAND_USE, MAP_SHEETS, ADMIN_UNITS)
}
