"""Spatial units: map sheets, parcels, land-use purposes and lineage."""
