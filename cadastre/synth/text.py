"""Vectorised string building on Arrow arrays (no Python loop per row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

#: An Arrow string array (pyarrow ships no type information).
StrArray = Any


def pick(vocab: Sequence[str], index: NDArray[np.integer[Any]]) -> StrArray:
    """``vocab[index[i]]`` for every ``i``, as an Arrow string array."""
    return pa.array(list(vocab), type=pa.string()).take(pa.array(np.asarray(index)))


def number(values: NDArray[np.integer[Any]], width: int = 0) -> StrArray:
    """Decimal text of integers, left-padded with zeros to ``width`` characters."""
    text = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def concat(*parts: StrArray | str) -> StrArray:
    """Element-wise concatenation; plain ``str`` parts are broadcast, a null part gives null."""
    return pc.binary_join_element_wise(*parts, "")


def where(
    mask: NDArray[np.bool_], when_true: StrArray | str, when_false: StrArray | str
) -> StrArray:
    """Element-wise choice between two string arrays (or scalars)."""
    return pc.if_else(pa.array(mask), when_true, when_false)


def nulls_where(mask: NDArray[np.bool_], values: StrArray) -> StrArray:
    """``values`` with nulls where ``mask`` is true."""
    return pc.if_else(pa.array(mask), pa.scalar(None, type=pa.string()), values)


def weighted(weights: Sequence[float], size: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum()).astype(np.int64)
