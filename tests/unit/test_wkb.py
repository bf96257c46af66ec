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


def test_ewkb_hex_arrow_writes_what_geos_writes() -> None:
    """The text splice of the parcels' COPY gives GEOS's hex EWKB byte for byte (holes,
    several parts, a sliced array); other geometries go through GEOS."""
    holed = shapely.Polygon(shapely.get_exterior_ring(box(0, 0, 10, 10)),
                            [shapely.get_exterior_ring(box(2, 2, 3, 3))])
    parcels = np.empty(5, dtype=object)
    parcels[:] = [MultiPolygon([box(0.5, 0.25, 1, 1)]), MultiPolygon([holed]),
                  MultiPolygon([box(2, 2, 3, 3), box(4, 4, 5, 6)]),
                  MultiPolygon([box(584949.611, 2326065.278, 584960.1, 2326080.9)]),
                  MultiPolygon([box(-1, -1, 0, 0)])]
    column = pa.array(shapely.to_wkb(parcels), type=pa.binary()).slice(1)
    expected = shapely.to_wkb(shapely.set_srid(parcels[1:], 5897), hex=True, include_srid=True)
    assert wkb.ewkb_hex_arrow(column, 5897).to_pylist() == list(expected)
    assert wkb.ewkb_hex_arrow(pa.chunked_array([column]), 3405).to_pylist() == list(
        shapely.to_wkb(shapely.set_srid(parcels[1:], 3405), hex=True, include_srid=True))
    others = np.empty(3, dtype=object)
    others[:] = [box(0, 0, 1, 1), MultiPolygon([box(0, 0, 1, 1)]), None]
    mixed = wkb.ewkb_hex_arrow(pa.array(shapely.to_wkb(others), type=pa.binary()), 5897)
    assert mixed.to_pylist() == [*shapely.to_wkb(shapely.set_srid(others[:2], 5897),
                                                 hex=True, include_srid=True), None]
    z = shapely.to_wkb(shapely.force_3d(parcels[:1]))
    assert shapely.get_coordinates(shapely.from_wkb(wkb.ewkb_hex_arrow(
        pa.array(z, type=pa.binary()), 5897).to_pylist()), include_z=True)[0, 2] == 0
