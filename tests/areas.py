"""The recorded-area check on polygons, for tests: ``gis.checks.areas_differ`` with the
polygons' areas measured here (the importer measures them beside the WKB)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gis.checks import areas_differ
from gis.geoarrays import BoolArray, GeometryInput, as_object_array


def area_mismatch(
    geoms: GeometryInput,
    recorded: NDArray[Any] | Sequence[float | None],
    *,
    tolerance: float = 0.05,
    min_abs: float = 1.0,
) -> BoolArray:
    """Rows whose recorded area differs from the polygon's area by more than
    ``max(tolerance * computed, min_abs)``. A missing, NaN or zero recorded area, or a
    missing geometry, gives ``False`` (nothing to compare)."""
    arr = as_object_array(geoms)
    computed = np.full(len(arr), np.nan)
    present = shapely.get_type_id(arr) >= 0
    computed[present] = shapely.area(arr[present])
    return areas_differ(computed, recorded, tolerance=tolerance, min_abs=min_abs)
