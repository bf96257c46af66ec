"""gis.wkb: features held as WKB in Arrow arrays, decoded only where asked."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry import MultiPolygon, box

from gis import wkb
from gis.wkb import EncodedGeometries


def _layer() -> np.ndarray:
    items = [box(0, 0, 1, 1), None, MultiPolygon([box(2, 2, 3, 3), box(4, 4, 5, 6)]),
             box(-1, -1, 0, 0)]
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def test_round_trip_keeps_missing_and_bounds() -> None:
    layer = _layer()
    features = EncodedGeometries.of(layer)
    assert len(features) == 4
    assert features.present().tolist() == [True, False, True, True]
    assert np.isnan(features.bounds[1]).all()
    assert features.bounds[2].tolist() == [2.0, 2.0, 5.0, 6.0]
    decoded = features[:]
    assert decoded[1] is None
    assert shapely.equals(decoded[[0, 2, 3]], layer[[0, 2, 3]]).all()


def test_slices_indices_and_masks_decode_the_same_features() -> None:
    layer = _layer()
    features = EncodedGeometries.of(layer)
    assert shapely.equals(features[2:4], layer[2:4]).all()
    assert shapely.equals(features[np.array([3, 0])], layer[[3, 0]]).all()
    mask = np.array([True, False, False, True])
    assert shapely.equals(features[mask], layer[mask]).all()
    assert shapely.equals(features[::3], layer[::3]).all()


def test_subset_of_everything_is_no_copy_and_concat_keeps_order() -> None:
    features = EncodedGeometries.of(_layer())
    assert features.subset(np.ones(4, dtype=bool)) is features
    picked = features.subset(np.array([3, 2]))
    assert len(picked) == 2 and picked.bounds[0].tolist() == [-1.0, -1.0, 0.0, 0.0]
    both = EncodedGeometries.concat([features, picked])
    assert len(both) == 6 and both.wkb.num_chunks == 2
    assert shapely.equals(both[4:6], features[np.array([3, 2])]).all()


def test_reader_columns_and_ewkb() -> None:
    raw = shapely.to_wkb(_layer())
    column = wkb.binary(pa.chunked_array([pa.array(raw, type=pa.binary())]))
    assert wkb.objects(column).tolist() == list(raw)
    assert wkb.binary(raw).type == pa.binary()
    large = pa.chunked_array([pa.array(raw, type=pa.large_binary())])
    assert wkb.binary(large).type == pa.binary()
    assert wkb.objects(wkb.binary(large)).tolist() == list(raw)
    text = wkb.ewkb_hex(np.asarray(raw, dtype=object), 5897)
    assert text[1] is None
    back = shapely.from_wkb(text[0])
    assert shapely.get_srid(back) == 5897 and back.equals(box(0, 0, 1, 1))
