"""Synthetic cadastral layer for the demo and the benchmarks.

``generate_layer`` builds a GeoDataFrame of parcels that tile the plane exactly (shared
boundaries vertex for vertex), with attributes in the style of Vietnamese legacy cadastral
files; ``write_layer`` saves it as GeoPackage, Shapefile, FlatGeobuf, GeoJSON or GeoParquet.
"""

from cadastre.synth.generate import SYNTH_COLUMNS, generate_layer
from cadastre.synth.io import write_layer
from cadastre.synth.vocab import DEMO_COMMUNES

__all__ = ["DEMO_COMMUNES", "SYNTH_COLUMNS", "generate_layer", "write_layer"]
