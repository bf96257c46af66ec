"""Geometries the fuzzer (tests/fuzz/test_geometry_properties.py) found making
``check_geometries`` raise: each is rejected with a reason."""

from __future__ import annotations

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from gis import validity


def test_extreme_coordinates_with_a_hole_are_rejected_not_raised():
    # GEOS threw "Segment vertex does not intersect ring" from is_valid on the second one
    geoms = np.array([
        Polygon([(0, 0), (0, 0), (0, 0), (0, 0)]),
        MultiPolygon([Polygon([(0, 0), (1e308, 0), (1e308, 1e308), (0, 1e308)],
                              [[(5e307, 5e307), (6e307, 5e307), (6e307, 6e307)]])]),
    ], dtype=object)
    for repair in (False, True):
        checked = validity.check_geometries(geoms, repair=repair)
        assert list(checked.reason_code) == ["invalid-geometry", "bad-coordinates"]
        assert checked.reason[1] == "coordinate beyond 1e8 (not a projected coordinate)"
        assert checked.reason[0]
