"""Output formats: the GDAL driver (or Parquet writer), file suffixes, creation options."""

from __future__ import annotations

from dataclasses import dataclass, field

WGS84 = 4326


@dataclass(frozen=True, slots=True)
class Format:
    id: str
    title: str
    #: GDAL driver; None for GeoParquet (written by pyarrow).
    driver: str | None
    #: Suffixes of an output file, the first being the one a job's file gets.
    suffixes: tuple[str, ...]
    media_type: str
    #: Several files (.shp + .dbf + ...; .csv + .prj): a zip when downloaded.
    sidecars: bool = False
    #: Only this CRS (GeoJSON, RFC 7946: WGS 84 longitude/latitude).
    only_srid: int | None = None
    layer_options: dict[str, str] = field(default_factory=dict)


FORMATS: dict[str, Format] = {f.id: f for f in (
    Format("gpkg", "GeoPackage", "GPKG", (".gpkg",), "application/geopackage+sqlite3",
           layer_options={"SPATIAL_INDEX": "YES"}),
    Format("shp", "ESRI Shapefile", "ESRI Shapefile", (".zip", ".shp"), "application/zip",
           sidecars=True, layer_options={"ENCODING": "UTF-8"}),
    Format("fgb", "FlatGeobuf", "FlatGeobuf", (".fgb",), "application/flatgeobuf",
           layer_options={"SPATIAL_INDEX": "YES"}),
    Format("geojson", "GeoJSON (RFC 7946)", "GeoJSON", (".geojson", ".json"),
           "application/geo+json", only_srid=WGS84,
           layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"}),
    Format("geoparquet", "GeoParquet 1.0", None, (".parquet", ".geoparquet"),
           "application/vnd.apache.parquet"),
    Format("csv", "CSV with WKT geometry", "CSV", (".zip", ".csv"), "application/zip",
           sidecars=True,
           layer_options={"GEOMETRY": "AS_WKT", "CREATE_CSVT": "YES", "WRITE_BOM": "YES"}),
)}
