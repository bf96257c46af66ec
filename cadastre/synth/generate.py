"""Assemble the synthetic cadastral layer (geometry plus legacy-style attribute table)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import geopandas
import numpy as np
import pandas as pd
import shapely

from cadastre.synth import text
from cadastre.synth.certificates import certificates
from cadastre.synth.geometry import build_lattice, build_polygons
from cadastre.synth.holders import KINDS, UBS, holders
from cadastre.synth.layout import build_layout
from cadastre.synth.places import LAND_USES, places
from cadastre.synth.vocab import DEMO_COMMUNES

#: Attribute columns of the layer, in output order (each at most 10 characters, for DBF).
SYNTH_COLUMNS: tuple[str, ...] = (
    "MaXa",  # commune (ward) code
    "SoTo",  # map sheet number
    "SoThua",  # parcel number on the sheet
    "LoaiDat",  # land-use code(s), "+"-joined when mixed
    "DienTich",  # measured area, m²
    "DienTichPL",  # legal area (on the certificate), m²
    "DiaChi",  # parcel address
    "TenChu",  # holder name
    "LoaiChu",  # holder kind: CN, HGD, TC, UBS
    "CCCD",  # citizen ID of a person holder
    "NamSinh",  # birth year of a person holder
    "DiaChiChu",  # holder address
    "SoPhatHanh",  # certificate serial
    "SoVaoSo",  # certificate registry entry
    "NgayCap",  # certificate issue date
)

#: Share of parcels whose legal area equals the measured one.
LEGAL_AREA_SAME = 0.85
#: Largest relative difference between legal and measured area (kept under 3 % after the
#: rounding to 0.1 m²).
LEGAL_AREA_DRIFT = 0.029

_STREAMS = ("layout", "lattice", "places", "holders", "certificates", "areas")


def _communes(communes: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    chosen = list(DEMO_COMMUNES if communes is None else communes)
    if not chosen:
        raise ValueError("communes must not be empty")
    return [
        (unicodedata.normalize("NFC", str(code)), unicodedata.normalize("NFC", str(name)))
        for code, name in chosen
    ]


def _legal_area(area: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Legal area: the measured area for most parcels, a few percent off for the rest."""
    n = len(area)
    drift = rng.uniform(0.002, LEGAL_AREA_DRIFT, n) * rng.choice((-1.0, 1.0), n)
    same = rng.random(n) < LEGAL_AREA_SAME
    return np.where(same, area, np.round(area * (1.0 + drift), 1))


def generate_layer(
    n_parcels: int,
    *,
    seed: int = 1,
    srid: int = 5897,
    origin: tuple[float, float] = (585_000.0, 2_326_000.0),
    communes: Sequence[tuple[str, str]] | None = None,
) -> geopandas.GeoDataFrame:
    """Generate a synthetic cadastral layer of exactly ``n_parcels`` parcels.

    Parcels tile the plane without gaps or overlaps (neighbours share their boundary vertex
    for vertex), in metres around ``origin``; the default origin is a VN-2000 TM-3
    easting/northing near Hoàn Kiếm, Hà Nội (EPSG:5897). The output is deterministic for a
    given ``seed``.

    Args:
        n_parcels: Number of parcels (rows), at least 1.
        seed: Seed of the random generator.
        srid: EPSG code stamped on the layer; coordinates do not depend on it.
        origin: Centre of the generated area (easting, northing) in metres.
        communes: ``(code, name)`` pairs of the communes to fill, in order; the list is
            cycled when more commune blocks are needed. Defaults to ``DEMO_COMMUNES``.

    Returns:
        A GeoDataFrame with the columns ``SYNTH_COLUMNS`` and a single-part MultiPolygon
        ``geometry``, in commune, sheet and parcel-number order.
    """
    chosen = _communes(communes)
    rng = {
        name: np.random.default_rng(stream)
        for name, stream in zip(
            _STREAMS, np.random.SeedSequence(seed).spawn(len(_STREAMS)), strict=True
        )
    }
    layout = build_layout(n_parcels, len(chosen), rng["layout"])
    lattice = build_lattice(layout, origin, rng["lattice"])
    geometry = build_polygons(lattice, layout.row, layout.col)
    area = np.round(shapely.area(geometry), 1)

    site = places(layout, chosen, rng["places"])
    ward = text.pick([name for _, name in chosen], layout.commune)
    holder = holders(site.land_use, site.address, ward, rng["holders"])
    cert = certificates(~site.is_road & (holder.kind != UBS), rng["certificates"])

    person = holder.birth_year > 0
    birth_year = pd.arrays.IntegerArray(holder.birth_year.astype(np.int32), ~person)
    issue_day = cert.issue_day.astype(object)
    issue_day[~cert.issued] = None
    columns = {
        "MaXa": text.pick([code for code, _ in chosen], layout.commune).to_pandas(),
        "SoTo": layout.sheet_no.astype(np.int32),
        "SoThua": layout.parcel_no.astype(np.int32),
        "LoaiDat": text.pick(LAND_USES, site.land_use).to_pandas(),
        "DienTich": area,
        "DienTichPL": _legal_area(area, rng["areas"]),
        "DiaChi": site.address.to_pandas(),
        "TenChu": holder.name.to_pandas(),
        "LoaiChu": text.pick(KINDS, holder.kind).to_pandas(),
        "CCCD": holder.cccd.to_pandas(),
        "NamSinh": birth_year,
        "DiaChiChu": holder.address.to_pandas(),
        "SoPhatHanh": cert.serial.to_pandas(),
        "SoVaoSo": cert.entry.to_pandas(),
        "NgayCap": pd.Series(issue_day, dtype=object),
    }
    frame = pd.DataFrame({name: pd.Series(columns[name]) for name in SYNTH_COLUMNS})
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries(geometry), crs=f"EPSG:{srid}")
