"""Parcel polygons that tile the plane exactly.

A lattice of corner points is jittered and rounded to millimetres. Every lattice edge gets
0-4 intermediate points, drawn once per edge and rounded too; a cell's ring is assembled
from the four corners and the points of its four edges (two of them walked backwards), so
neighbouring parcels share their common boundary vertex for vertex.

Edge storage (``r`` = lattice row, north to south; ``c`` = lattice column, west to east):

* horizontal edge ``(r, c)`` runs from corner ``(r, c)`` east to corner ``(r, c + 1)``;
* vertical edge ``(r, c)`` runs from corner ``(r, c)`` south to corner ``(r + 1, c)``.

Ring of cell ``(r, c)``, counter-clockwise: NW corner, down the west edge, SW corner, along
the south edge, SE corner, up the east edge (reversed), NE corner, back along the north edge
(reversed), and the NW corner again to close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from cadastre.synth.layout import Layout

#: Most intermediate points on one lattice edge.
MAX_EDGE_POINTS = 4
#: Fewest vertices of a parcel ring (closing point not counted).
MIN_VERTICES = 6
#: Share of edges with 0, 1, 2, 3 and 4 intermediate points.
EDGE_POINT_WEIGHTS = (0.34, 0.30, 0.20, 0.10, 0.06)
#: Corner jitter as a share of the smallest neighbouring cell size.
CORNER_JITTER = 0.2
#: Intermediate points lie at this share of the edge length or further from either corner.
EDGE_MARGIN = 0.15
#: Sideways jitter of intermediate points: share of the edge length, and a cap in metres.
EDGE_OFFSET = 0.025
EDGE_OFFSET_CAP = 0.4
#: Parcels assembled per batch (bounds the memory of the padded vertex arrays).
BATCH = 262_144

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Lattice:
    """Corner points and edge points, all rounded to millimetres."""

    corner_x: FloatArray  # (R + 1, C + 1)
    corner_y: FloatArray
    h_count: IntArray  # (R + 1, C)
    h_x: FloatArray  # (R + 1, C, MAX_EDGE_POINTS)
    h_y: FloatArray
    v_count: IntArray  # (R, C + 1)
    v_x: FloatArray  # (R, C + 1, MAX_EDGE_POINTS)
    v_y: FloatArray


def _edge_counts(shape: tuple[int, ...], rng: np.random.Generator) -> IntArray:
    """Number of intermediate points of every edge of an array of edges."""
    return rng.choice(MAX_EDGE_POINTS + 1, size=shape, p=EDGE_POINT_WEIGHTS).astype(np.int64)


def _edge_points(
    ax: FloatArray,
    ay: FloatArray,
    bx: FloatArray,
    by: FloatArray,
    count: IntArray,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Place ``count`` intermediate points on every edge from ``a`` to ``b``.

    Points are spread evenly between the margins with some play, and pushed sideways by
    a small amount; slots past ``count`` hold unused values.
    """
    shape = ax.shape
    slot = np.arange(MAX_EDGE_POINTS, dtype=np.float64)
    spread = rng.uniform(-0.3, 0.3, size=(*shape, MAX_EDGE_POINTS))
    safe = np.maximum(count, 1)[..., None].astype(np.float64)
    t = EDGE_MARGIN + (1.0 - 2.0 * EDGE_MARGIN) * (slot + 0.5 + spread) / safe
    dx = (bx - ax)[..., None]
    dy = (by - ay)[..., None]
    length = np.hypot(dx, dy)
    amplitude = np.minimum(EDGE_OFFSET * length, EDGE_OFFSET_CAP)
    offset = rng.uniform(-1.0, 1.0, size=(*shape, MAX_EDGE_POINTS)) * amplitude / length
    px = ax[..., None] + t * dx - offset * dy
    py = ay[..., None] + t * dy + offset * dx
    return np.round(px, 3), np.round(py, 3)


def build_lattice(layout: Layout, origin: tuple[float, float], rng: np.random.Generator) -> Lattice:
    """Jitter the corner lattice of ``layout`` around ``origin`` and draw the edge points."""
    widths = layout.col_width
    heights = layout.row_height
    x_lines = np.concatenate(([0.0], np.cumsum(widths)))
    y_lines = -np.concatenate(([0.0], np.cumsum(heights)))
    x_lines += origin[0] - x_lines[-1] / 2.0
    y_lines += origin[1] - y_lines[-1] / 2.0

    inf = np.array([np.inf])
    near_w = np.minimum(np.concatenate((inf, widths)), np.concatenate((widths, inf)))
    near_h = np.minimum(np.concatenate((inf, heights)), np.concatenate((heights, inf)))
    radius = CORNER_JITTER * np.minimum(near_h[:, None], near_w[None, :])
    shape = radius.shape
    corner_x = np.round(x_lines[None, :] + rng.uniform(-1.0, 1.0, size=shape) * radius, 3)
    corner_y = np.round(y_lines[:, None] + rng.uniform(-1.0, 1.0, size=shape) * radius, 3)

    n_r, n_c = layout.n_rows, layout.n_cols
    h_count = _edge_counts((n_r + 1, n_c), rng)
    v_count = _edge_counts((n_r, n_c + 1), rng)
    # Give every cell at least MIN_VERTICES vertices: top up its west edge (which no other
    # cell uses as its west edge), so a fix never lowers the count of a neighbour.
    total = v_count[:, :-1] + v_count[:, 1:] + h_count[:-1, :] + h_count[1:, :]
    v_count[:, :-1] += np.clip(MIN_VERTICES - 4 - total, 0, None)
    h_x, h_y = _edge_points(
        corner_x[:, :-1], corner_y[:, :-1], corner_x[:, 1:], corner_y[:, 1:], h_count, rng
    )
    v_x, v_y = _edge_points(
        corner_x[:-1, :], corner_y[:-1, :], corner_x[1:, :], corner_y[1:, :], v_count, rng
    )
    return Lattice(corner_x, corner_y, h_count, h_x, h_y, v_count, v_x, v_y)


def _edge_slots(
    count: IntArray, xs: FloatArray, ys: FloatArray, *, reverse: bool
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Points of a batch of edges as ``(n, MAX_EDGE_POINTS)`` arrays plus a validity mask."""
    slot = np.arange(MAX_EDGE_POINTS)
    valid = slot[None, :] < count[:, None]
    if reverse:
        index = np.clip(count[:, None] - 1 - slot[None, :], 0, MAX_EDGE_POINTS - 1)
        xs = np.take_along_axis(xs, index, axis=1)
        ys = np.take_along_axis(ys, index, axis=1)
    return xs, ys, valid


def _ring_batch(lattice: Lattice, r: IntArray, c: IntArray) -> tuple[FloatArray, IntArray]:
    """Coordinates (closed rings, concatenated) and vertex counts for one batch of cells."""
    n = len(r)
    cx, cy = lattice.corner_x, lattice.corner_y
    west = _edge_slots(lattice.v_count[r, c], lattice.v_x[r, c], lattice.v_y[r, c], reverse=False)
    south = _edge_slots(
        lattice.h_count[r + 1, c], lattice.h_x[r + 1, c], lattice.h_y[r + 1, c], reverse=False
    )
    east = _edge_slots(
        lattice.v_count[r, c + 1], lattice.v_x[r, c + 1], lattice.v_y[r, c + 1], reverse=True
    )
    north = _edge_slots(lattice.h_count[r, c], lattice.h_x[r, c], lattice.h_y[r, c], reverse=True)
    corners = ((r, c), (r + 1, c), (r + 1, c + 1), (r, c + 1))  # NW, SW, SE, NE
    always = np.ones((n, 1), dtype=np.bool_)
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    masks: list[NDArray[np.bool_]] = []
    for (cr, cc), (ex, ey, em) in zip(corners, (west, south, east, north), strict=True):
        xs += [cx[cr, cc][:, None], ex]
        ys += [cy[cr, cc][:, None], ey]
        masks += [always, em]
    xs.append(cx[r, c][:, None])
    ys.append(cy[r, c][:, None])
    masks.append(always)
    mask = np.concatenate(masks, axis=1)
    coords = np.empty((int(mask.sum()), 2), dtype=np.float64)
    coords[:, 0] = np.concatenate(xs, axis=1)[mask]
    coords[:, 1] = np.concatenate(ys, axis=1)[mask]
    return coords, mask.sum(axis=1).astype(np.int64)


def build_polygons(lattice: Lattice, row: IntArray, col: IntArray) -> NDArray[np.object_]:
    """Single-part MultiPolygons for the cells ``(row[i], col[i])``, in that order."""
    parts: list[NDArray[np.object_]] = []
    for start in range(0, len(row), BATCH):
        r = row[start : start + BATCH]
        c = col[start : start + BATCH]
        coords, sizes = _ring_batch(lattice, r, c)
        ring_offsets = np.concatenate(([0], np.cumsum(sizes)))
        one_each = np.arange(len(r) + 1, dtype=np.int64)
        geoms = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON, coords, (ring_offsets, one_each, one_each)
        )
        parts.append(np.asarray(geoms, dtype=np.object_))
    if not parts:
        return np.empty(0, dtype=np.object_)
    return np.concatenate(parts)
