"""Bulk exports of the register's map layers (parcels, land-use purposes, map sheets,
administrative units) to GeoPackage, Shapefile, FlatGeobuf, GeoJSON, GeoParquet and CSV,
streamed from PostGIS in bounded memory, with the record of who exported what
(``export_job``). Never personal data: see cadastre.exports.collections.

Modules: ``service`` (prepare, write_export, run_export), ``runner`` (the API's background
jobs), ``jobs`` (the records), ``stream`` (PostGIS to Arrow), ``writers`` (Arrow to files).
"""
