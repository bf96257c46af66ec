"""`cadastre synth`: write a realistic synthetic cadastral layer."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from cadastre.errors import InvalidInput

out = Console(highlight=False, stderr=True)
FORMATS = (".gpkg", ".shp", ".fgb", ".geojson", ".parquet")
_OUT_HELP = "Output file: " + ", ".join(FORMATS)


def synth(
    parcels: int = typer.Option(10_000, "--parcels", "-n", min=1, help="Number of parcels."),
    output: Path = typer.Option(..., "--out", "-o", help=_OUT_HELP),
    seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same layer)."),
    srid: int = typer.Option(5897, "--srid", help="VN-2000 TM-3 zone of the coordinates."),
) -> None:
    """Write N parcels with shared boundaries, map sheets, land-use codes, Vietnamese owner
    names and addresses and certificate serials, in VN-2000 TM-3."""
    if output.suffix.lower() not in FORMATS:
        raise InvalidInput(
            f"cannot write {output.name}: unknown format", hint="use one of " + ", ".join(FORMATS)
        )
    from cadastre.synth import generate_layer, write_layer

    started = time.perf_counter()
    frame = generate_layer(parcels, seed=seed, srid=srid)
    generated = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    write_layer(frame, output)
    written = time.perf_counter()
    out.print(
        f"wrote {len(frame):,} parcels to {output} "
        f"(generate {generated - started:.1f} s, write {written - generated:.1f} s)"
    )
