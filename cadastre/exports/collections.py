"""What each collection exports: its columns (SQL expression, Arrow type, text width for
shapefiles), its geometry and where its rows come from now and at a past instant.

Personal data (holders' names, national ID numbers, addresses of people) is in no column
list, for any role: an export carries the map, not the register of people. A parcel's
address (địa chỉ thửa đất) is its location and is exported.

Where the rows come from (the current state, the state at an instant), the collection's
id, title, geometry and geometry type are those of the published layer of the same id
(cadastre.layers.registry, alias ``x``), so that an export and the OGC API read the same
rows. The parcels' columns are the published properties that say how they are exported
(the registry's ``Exported``); the other collections list their own columns (and the joins
they need).

SQL placeholders are psycopg2's ``%(name)s``: the query is bound client-side (``mogrify``)
because ``COPY (query) TO STDOUT`` takes no server-side parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from cadastre.layers import registry
from cadastre.layers.registry import Layer


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    sql: str
    type: pa.DataType
    #: Width of a text column in a shapefile's .dbf, in bytes (UTF-8; at most 254).
    width: int | None = None


@dataclass(frozen=True, slots=True)
class Collection:
    #: The published layer: id, title, geometry, and the FROM clauses of its states.
    source: Layer
    #: Layer name in the output (and the base name of files inside a zip).
    layer: str
    columns: tuple[Column, ...]
    #: Condition selecting one commune by %(commune)s.
    commune: str
    #: The unit the CLI counts in ("parcels", "sheets", ...).
    noun: str
    #: Joins after the layer's source, for columns the layer does not publish.
    joins: str = ""
    #: Rows may have no geometry (a FlatGeobuf spatial index cannot hold them).
    geometry_nullable: bool = False

    @property
    def id(self) -> str:
        return self.source.id

    @property
    def title(self) -> str:
        return self.source.title

    @property
    def geometry(self) -> str:
        return self.source.geometry

    @property
    def geometry_type(self) -> str:
        return self.source.geometry_type

    @property
    def from_current(self) -> str:
        return self.source.current + self.joins

    @property
    def from_as_of(self) -> str:
        """The state at %(as_of)s."""
        return self.source.at.format(at="%(as_of)s::timestamptz") + self.joins


_ARROW_TYPES = {"int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
                "string": pa.string(), "date32": pa.date32()}


def published_columns(layer: Layer) -> tuple[Column, ...]:
    """The columns of the layer's properties that say how they are exported."""
    return tuple(Column(p.name, p.export.sql or p.sql, _ARROW_TYPES[p.export.type],
                        p.export.width)
                 for p in layer.properties if p.export is not None)


PARCELS = Collection(
    source=registry.PARCELS,
    layer="parcels",
    columns=published_columns(registry.PARCELS),
    commune="x.commune_code = %(commune)s",
    noun="parcels",
)

LAND_USE = Collection(
    source=registry.LAND_USE_PURPOSES,
    layer="land_use",
    columns=(
        Column("parcel_id", "x.parcel_id", pa.int64()),
        Column("commune_code", "x.commune_code", pa.string(), 10),
        Column("sheet_number", "x.sheet_number", pa.string(), 20),
        Column("parcel_number", "x.parcel_number", pa.int32()),
        Column("land_use_code", "u.land_use_code", pa.string(), 4),
        Column("name_vi", "t.name_vi", pa.string(), 254),
        Column("name_en", "t.name_en", pa.string(), 120),
        Column("land_group", "t.land_group", pa.string(), 20),
        Column("area", "u.area::float8", pa.float64()),
        Column("term_kind", "u.term_kind", pa.string(), 10),
        Column("term_end", "u.term_end", pa.date32()),
        Column("origin", "u.origin", pa.string(), 254),
    ),
    commune="x.commune_code = %(commune)s",
    noun="land-use purposes",
)

MAP_SHEETS = Collection(
    source=registry.MAP_SHEETS,
    layer="map_sheets",
    columns=(
        Column("sheet_id", "x.sheet_id", pa.int64()),
        Column("commune_code", "x.commune_code", pa.string(), 10),
        Column("sheet_number", "x.sheet_number", pa.string(), 20),
        Column("scale", "x.scale", pa.int32()),
        Column("survey_year", "x.survey_year::int", pa.int32()),
        Column("grid_reference", "x.grid_reference", pa.string(), 60),
        Column("valid_from", registry.LOCAL_DAY.format("x.lifespan"), pa.date32()),
    ),
    commune="x.commune_code = %(commune)s",
    noun="map sheets",
    geometry_nullable=True,
)

ADMIN_UNITS = Collection(
    source=registry.ADMIN_UNITS,
    layer="admin_units",
    columns=(
        Column("code", "x.code", pa.string(), 10),
        Column("level", "x.level", pa.string(), 10),
        Column("name", "x.name", pa.string(), 254),
        Column("kind", "x.kind", pa.string(), 40),
        Column("parent_code", "up.code", pa.string(), 10),
        Column("valid_from", "x.valid_from", pa.date32()),
        Column("valid_to", "x.valid_to", pa.date32()),
        Column("tm3_epsg", "x.tm3_epsg", pa.int32()),
    ),
    joins=" LEFT JOIN admin_unit up ON up.id = x.parent_id",
    commune="x.code = %(commune)s",
    noun="administrative units",
    geometry_nullable=True,
)

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (PARCELS, LAND_USE, MAP_SHEETS, ADMIN_UNITS)
}
