"""The provinces a citizen identity number (CCCD) can name as the place where the birth was
registered: the 63 provinces' codes in force until 2025-06-30, which the 34 provinces since
2025-07-01 keep a subset of.

They come from the PyPI package ``vietnam-provinces``: its ``vietnam_provinces.legacy``
module (release 2026.2 and later) when it is installed, otherwise the copy of that module's
province list in ``data/birth_registration_provinces.csv`` (those releases need Python
3.12). The current list (``vietnam_provinces.ProvinceCode``) is checked to be part of it.
"""

from __future__ import annotations

import csv
import importlib
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("data") / "birth_registration_provinces.csv"


def _from_package() -> dict[int, str] | None:
    """Code -> name from ``vietnam_provinces.legacy``, or None when the installed release
    has no such module."""
    try:
        legacy = importlib.import_module("vietnam_provinces.legacy")
    except ImportError:
        return None
    return {int(code): str(legacy.Province.from_code(code).name)
            for code in legacy.ProvinceCode}


def _from_file() -> dict[int, str]:
    with DATA_FILE.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {int(row["code"]): row["name"] for row in rows}


@cache
def birth_registration_provinces() -> dict[str, str]:
    """Three-digit code (digits 1-3 of a CCCD, e.g. ``"001"``) -> province name."""
    provinces = _from_package() or _from_file()
    return {f"0{code:02d}": name for code, name in sorted(provinces.items())}


def current_province_codes() -> frozenset[int]:
    """The codes of the provinces in force today (``vietnam_provinces.ProvinceCode``)."""
    from vietnam_provinces import ProvinceCode

    return frozenset(int(code) for code in ProvinceCode)


def source() -> str:
    """Where :func:`birth_registration_provinces` read the list (for docs and reports)."""
    if _from_package() is not None:
        return "vietnam_provinces.legacy"
    return f"{DATA_FILE.name} (vietnam_provinces.legacy is not installed)"
