"""Request body of the export routes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ExportIn(BaseModel):
    collection: str = Field(examples=["parcels"],
                            description="parcels, land-use-purposes, map-sheets or admin-units")
    format: str = Field(examples=["gpkg"],
                        description="gpkg, shp, fgb, geojson, geoparquet or csv")
    crs: str | None = Field(None, examples=["EPSG:5897"], description="Output CRS; default "
                            "the register's (WGS 84 for GeoJSON, the only CRS it allows)")
    commune: str | None = Field(None, examples=["00037"])
    bbox: list[float] | None = Field(None, examples=[[105.84, 21.02, 105.86, 21.04]],
                                     description="minx, miny, maxx, maxy in `crs` (or "
                                     "`bbox_crs`)")
    bbox_crs: str | None = Field(None, examples=["EPSG:4326"])
    as_of: str | None = Field(None, examples=["2024-05-01"],
                              description="The register at the end of that day, or at an "
                              "ISO 8601 instant")
