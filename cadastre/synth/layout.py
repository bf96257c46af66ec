"""Cell grid of the synthetic layer: communes, map sheets, parcel numbers, roads, cell sizes.

The area is a grid of cells, one parcel per cell. Cells are grouped into square map sheets
of ``sheet_side`` x ``sheet_side`` cells; sheets into square commune blocks of
``sheets_side`` x ``sheets_side`` sheets; commune blocks are laid out in a roughly square
grid. Parcels are produced commune by commune, sheet by sheet (row-major inside the
commune) and cell by cell (row-major inside the sheet), so the last sheet may be partly
filled. Row 0 is the northern-most row, column 0 the western-most column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Cells along one side of a full map sheet.
SHEET_SIDE = 40

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Layout:
    """Where every parcel sits in the cell grid, and how the grid is sized.

    Attributes:
        n_rows: Rows of the (trimmed) cell grid.
        n_cols: Columns of the (trimmed) cell grid.
        row: Grid row of each parcel, in output order.
        col: Grid column of each parcel, in output order.
        commune: Index into the commune list of each parcel.
        sheet_no: Map sheet number of each parcel (1-based, per commune code).
        parcel_no: Parcel number on its sheet (1-based, row-major).
        road_row: Per grid row, whether the row is a road strip.
        road_col: Per grid column, whether the column is a road strip.
        col_width: Nominal width of each grid column in metres.
        row_height: Nominal height of each grid row in metres.
        edge_band: Cells this close to the border of the grid count as the rural fringe.
    """

    n_rows: int
    n_cols: int
    row: IntArray
    col: IntArray
    commune: IntArray
    sheet_no: IntArray
    parcel_no: IntArray
    road_row: BoolArray
    road_col: BoolArray
    col_width: FloatArray
    row_height: FloatArray
    edge_band: int

    def edge_distance(self) -> IntArray:
        """Distance in cells from each parcel to the nearest border of the grid."""
        distance: IntArray = np.minimum.reduce(
            [self.row, self.col, self.n_rows - 1 - self.row, self.n_cols - 1 - self.col]
        )
        return distance


def _road_mask(n: int, gap_low: int, gap_high: int, rng: np.random.Generator) -> BoolArray:
    """Mark one line of cells as road after every ``gap_low``..``gap_high`` lines of lots."""
    mask = np.zeros(n, dtype=np.bool_)
    # Gaps are drawn for the worst case (every gap minimal) so the draw count depends only on n.
    gaps = rng.integers(gap_low, gap_high + 1, size=n // gap_low + 2)
    start = int(rng.integers(gap_low // 2, gap_high))
    positions = start + np.concatenate(([0], np.cumsum(gaps + 1)))
    mask[positions[positions < n]] = True
    return mask


def _sizes(
    n: int,
    median: float,
    low: float,
    high: float,
    road: BoolArray,
    fringe: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Widths (or heights) of grid lines: log-normal lots, wider roads and rural fringe."""
    lots = np.clip(rng.lognormal(math.log(median), 0.35, size=n), low, high)
    roads = rng.uniform(7.0, 18.0, size=n)
    sizes = np.where(road, roads, lots)
    index = np.arange(n)
    rural = (np.minimum(index, n - 1 - index) < fringe) & ~road
    sizes[rural] *= 1.8
    return np.round(sizes, 3).astype(np.float64)


def build_layout(n_parcels: int, n_communes: int, rng: np.random.Generator) -> Layout:
    """Place ``n_parcels`` parcels on sheets and communes and draw roads and cell sizes."""
    if n_parcels < 1:
        raise ValueError("n_parcels must be at least 1")
    if n_communes < 1:
        raise ValueError("at least one commune is needed")
    side = min(SHEET_SIDE, math.isqrt(n_parcels - 1) + 1)
    per_sheet = side * side
    n_sheets = -(-n_parcels // per_sheet)
    sheets_side = max(1, math.ceil(math.sqrt(n_sheets / n_communes)))
    per_commune = sheets_side * sheets_side
    n_blocks = -(-n_sheets // per_commune)
    blocks_x = math.ceil(math.sqrt(n_blocks))

    k = np.arange(n_parcels, dtype=np.int64)
    sheet_global, within = np.divmod(k, per_sheet)
    cell_r, cell_c = np.divmod(within, side)
    block, sheet_in = np.divmod(sheet_global, per_commune)
    sheet_r, sheet_c = np.divmod(sheet_in, sheets_side)
    block_r, block_c = np.divmod(block, blocks_x)
    row = (block_r * sheets_side + sheet_r) * side + cell_r
    col = (block_c * sheets_side + sheet_c) * side + cell_c
    commune = block % n_communes
    # A commune code met again (more blocks than codes) continues its sheet numbering.
    sheet_no = (block // n_communes) * per_commune + sheet_in + 1

    n_rows = int(row.max()) + 1
    n_cols = int(col.max()) + 1
    edge_band = max(1, round(0.02 * min(n_rows, n_cols))) if min(n_rows, n_cols) >= 20 else 0
    road_row = _road_mask(n_rows, 6, 10, rng)
    road_col = _road_mask(n_cols, 8, 15, rng)
    col_width = _sizes(n_cols, 12.0, 6.0, 28.0, road_col, edge_band, rng)
    row_height = _sizes(n_rows, 15.0, 7.0, 32.0, road_row, edge_band, rng)
    return Layout(
        n_rows=n_rows,
        n_cols=n_cols,
        row=row,
        col=col,
        commune=commune,
        sheet_no=sheet_no,
        parcel_no=within + 1,
        road_row=road_row,
        road_col=road_col,
        col_width=col_width,
        row_height=row_height,
        edge_band=edge_band,
    )
