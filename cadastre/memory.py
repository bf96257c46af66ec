"""Keeping a large import's resident memory close to what it really holds.

glibc gives every thread that allocates its own arena (up to eight per core) and keeps
freed memory in them; shapely's worker threads allocate GEOS objects in several arenas, so a
million-parcel import held a gigabyte of freed but unreturned memory. Two arenas, and a trim
between phases, keep the process's peak within a few percent of its live data.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa

_M_ARENA_MAX = -8  # mallopt parameter (malloc.h)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:  # pragma: no cover - not glibc
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def limit_arenas(arenas: int = 2) -> None:
    """At most ``arenas`` malloc arenas for the process's threads (call before they start)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, arenas)


def release() -> None:
    """Hand freed memory back to the system (Arrow's pool, then malloc's free lists)."""
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
