"""What each collection exports: its columns (SQL expression, Arrow type, text width for
shapefiles, all from the layer registry), its geometry and where its rows come from now and
at a past instant.

Personal data (holders' names, national ID numbers, addresses of people) is in no column
list, for any role: an export carries the map, not the register of people. A parcel's
address (địa chỉ thửa đất) is its location and is exported.

Where the rows come from (the current state, the state at an instant), the collection's
id, title, geometry and geometry type are those of the published layer of the same id
(cadastre.layers.registry, alias ``x``), so that an export and the OGC API read the same
rows, and its columns are the layer's published properties that say how they are exported
(the registry's ``Exported``), in the layer's order.

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
        return self.source.current

    @property
    def from_as_of(self) -> str:
        """The state at %(as_of)s."""
        return self.source.at.format(at="%(as_of)s::timestamptz")


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
    columns=published_columns(registry.LAND_USE_PURPOSES),
    commune="x.commune_code = %(commune)s",
    noun="land-use purposes",
)

MAP_SHEETS = Collection(
    source=registry.MAP_SHEETS,
    layer="map_sheets",
    columns=published_columns(registry.MAP_SHEETS),
    commune="x.commune_code = %(commune)s",
    noun="map sheets",
    geometry_nullable=True,
)

ADMIN_UNITS = Collection(
    source=registry.ADMIN_UNITS,
    layer="admin_units",
    columns=published_columns(registry.ADMIN_UNITS),
    commune="x.code = %(commune)s",
    noun="administrative units",
    geometry_nullable=True,
)

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (PARCELS, LAND_USE, MAP_SHEETS, ADMIN_UNITS)
}
