"""Importers of legacy cadastral files (Shapefile, MapInfo, DXF/DGN, GeoPackage, registers)."""
