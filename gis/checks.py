"""Attribute checks of an import: duplicate parcel keys, recorded areas that disagree.

Vectorised over the whole layer (pandas / numpy); no geometry is built here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis.geoarrays import BoolArray, FloatArray

__all__ = ["areas_differ", "duplicate_keys"]


def duplicate_keys(
    keys: Sequence[tuple[object, ...]] | NDArray[Any] | pd.DataFrame,
) -> BoolArray:
    """Rows whose key occurs more than once.

    ``keys`` is a sequence of tuples (composite keys), a 2-D array or a DataFrame (one
    column per key part; a DataFrame's columns are hashed as they are, no Python object
    per row) or a 1-D array/sequence of scalar keys. As in a SQL ``UNIQUE`` constraint, a key
    with a missing part (``None``/NaN) never counts as a duplicate.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    if isinstance(keys, pd.DataFrame):
        frame = keys
    elif isinstance(keys, np.ndarray) and keys.ndim == 2:
        frame = pd.DataFrame(keys)
    elif isinstance(keys, np.ndarray) and keys.dtype != object:
        frame = pd.DataFrame({0: keys})
    else:
        rows = list(keys)
        if all(isinstance(r, tuple) for r in rows):
            width = {len(r) for r in rows}
            if len(width) != 1:
                raise ValueError("all keys must have the same number of parts")
            columns = list(zip(*rows, strict=True))
            frame = pd.DataFrame({k: pd.Series(c, dtype=object) for k, c in enumerate(columns)})
        else:
            frame = pd.DataFrame({0: pd.Series(rows, dtype=object)})
    complete = frame.notna().all(axis=1).to_numpy()
    dupes = frame.duplicated(keep=False).to_numpy()
    result: BoolArray = dupes & complete
    return result



def areas_differ(
    computed: FloatArray,
    recorded: NDArray[Any] | Sequence[float | None],
    *,
    tolerance: float = 0.05,
    min_abs: float = 1.0,
) -> BoolArray:
    """Rows whose recorded area differs from the polygon's measured area (``computed``, NaN
    where there is no polygon) by more than ``max(tolerance * computed, min_abs)``. A
    missing, NaN or zero recorded area, or a NaN computed one, gives ``False`` (nothing to
    compare)."""
    rec = pd.to_numeric(pd.Series(np.asarray(recorded, dtype=object)), errors="coerce")
    rec_values = rec.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(rec_values) != len(computed):
        raise ValueError("geoms and recorded differ in length")
    usable = np.isfinite(rec_values) & (rec_values != 0) & np.isfinite(computed)
    limit = np.maximum(tolerance * computed, min_abs)
    with np.errstate(invalid="ignore"):
        result: BoolArray = usable & (np.abs(rec_values - computed) > limit)
    return result
