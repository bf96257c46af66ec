"""Land use and street addresses of the synthetic parcels.

Road strips split the grid into blocks. Every block takes a street name; the road row north
of a block carries that name. Lots on the first row of a block face that street (odd house
numbers, increasing eastwards), lots on the last row face the street of the block below
(even numbers), and the lots in between are reached by alleys (ngõ) numbered after the
frontage lot they start from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cadastre.synth import text, vocab
from cadastre.synth.layout import Layout

#: Land-use codes; index 0 must stay the road code.
LAND_USES: tuple[str, ...] = (
    "DGT",
    "ODT",
    "ODT+CLN",
    "DGD",
    "DYT",
    "TMD",
    "DCH",
    "TON",
    "SKC",
    "LUC",
    "BHK",
    "CLN",
    "NTS",
)
ROAD = 0
#: Urban (non-road) uses and their weights.
URBAN_USES: tuple[tuple[int, float], ...] = (
    (1, 0.835),
    (2, 0.10),
    (3, 0.012),
    (4, 0.006),
    (5, 0.022),
    (6, 0.005),
    (7, 0.010),
    (8, 0.010),
)
#: Agricultural uses of the rural fringe and their weights.
RURAL_USES: tuple[tuple[int, float], ...] = ((9, 0.4), (10, 0.3), (11, 0.2), (12, 0.1))
#: Share of fringe lots that are farmed.
RURAL_SHARE = 0.6

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Places:
    """Land use and address of every parcel."""

    land_use: IntArray  # index into LAND_USES
    address: Any  # Arrow string array
    is_road: NDArray[np.bool_]


def _draw(table: tuple[tuple[int, float], ...], size: int, rng: np.random.Generator) -> IntArray:
    codes = np.array([code for code, _ in table], dtype=np.int64)
    return codes[text.weighted([w for _, w in table], size, rng)]


def land_use(layout: Layout, rng: np.random.Generator) -> IntArray:
    """Land-use index of every parcel: roads, rural fringe, then urban uses."""
    n = len(layout.row)
    is_road = layout.road_row[layout.row] | layout.road_col[layout.col]
    rural = (layout.edge_distance() < layout.edge_band) & (rng.random(n) < RURAL_SHARE)
    uses = np.where(rural, _draw(RURAL_USES, n, rng), _draw(URBAN_USES, n, rng))
    return np.where(is_road, ROAD, uses)


def _bands(road: NDArray[np.bool_]) -> tuple[IntArray, IntArray, IntArray]:
    """Per grid line: roads before it, index of the last road before it and of the next road.

    "Next" counts the line itself when it is a road; lines of lots never are, and only their
    values are used.
    """
    n = len(road)
    index = np.arange(n, dtype=np.int64)
    before: IntArray = np.cumsum(road, dtype=np.int64) - road
    prev: IntArray = np.maximum.accumulate(np.where(road, index, -1))
    nxt: IntArray = np.minimum.accumulate(np.where(road, index, n)[::-1])[::-1]
    return before, prev, nxt


def places(layout: Layout, communes: list[tuple[str, str]], rng: np.random.Generator) -> Places:
    """Land use and postal address of every parcel of ``layout``."""
    n_streets = len(vocab.STREETS)
    row_before, row_prev, row_next = _bands(layout.road_row)
    col_before, col_prev, _ = _bands(layout.road_col)
    n_q = int(layout.road_row.sum()) + 2
    n_p = int(layout.road_col.sum()) + 2
    street = rng.integers(0, n_streets, size=(n_q, n_p))
    cross_street = rng.integers(0, n_streets, size=(n_q, n_p))
    base = 2 * rng.integers(0, 40, size=(n_q, n_p))

    r, c = layout.row, layout.col
    q, p = row_before[r], col_before[c]
    pr = r - row_prev[r] - 1
    pc = c - col_prev[c] - 1
    top = pr == 0
    bottom = ~top & (row_next[r] == r + 1) & (row_next[r] < layout.n_rows)

    north = street[q, p]
    south = street[q + 1, p]
    house = np.where(top, base[q, p] + 2 * pc + 1, np.where(bottom, base[q + 1, p] + 2 * pc + 2, 0))
    own = np.where(bottom, south, north)
    frontage = text.concat("Số ", text.number(house), " ", text.pick(vocab.STREETS_IN_ADDRESS, own))
    alley_no = base[q, p] + 2 * (3 * (pc // 3) + 1) + 1
    in_alley = (pr - 1) * 3 + pc % 3 + 1
    alley = text.concat(
        "Số ",
        text.number(in_alley),
        " ngõ ",
        text.number(alley_no),
        " ",
        text.pick(vocab.STREETS_IN_ADDRESS, north),
    )
    lot = text.where(top | bottom, frontage, alley)
    ward = text.pick([name for _, name in communes], layout.commune)
    full = text.concat(lot, ", phường ", ward, vocab.DISTRICT_SUFFIX)

    uses = land_use(layout, rng)
    is_road = uses == ROAD
    on_road_row = layout.road_row[r]
    # A road row carries the name of the block south of it; a road column its own name.
    road_name = np.where(on_road_row, street[q + 1, p], cross_street[q, p + 1])
    road = text.pick(vocab.STREETS_ROAD, road_name)
    return Places(land_use=uses, address=text.where(is_road, road, full), is_road=is_road)
