"""`cadastre demo ...`: realistic demo data."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from cadastre.cli.context import load_settings
from cadastre.db import create_engine, translate_connection_errors

app = typer.Typer(help="Demo data for trying the system.", no_args_is_help=True)
out = Console(highlight=False, stderr=True)


@app.command()
def load(
    parcels: int = typer.Option(20_000, "--parcels", "-n", min=100, help="Parcels to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed of the synthetic layer."),
) -> None:
    """Generate a synthetic Hoàn Kiếm cadastre and load it with parties, rights,
    certificates, mortgages and injunctions (once; a second run keeps what exists)."""
    from cadastre.demo.loader import demo_loaded, load_demo
    from cadastre.synth import generate_layer

    engine = create_engine(load_settings())
    with translate_connection_errors(engine.url):
        with engine.connect() as conn:
            if demo_loaded(conn):
                out.print("demo data already loaded")
                return
        started = time.perf_counter()
        frame = generate_layer(parcels, seed=seed)
        with engine.begin() as conn:
            summary = load_demo(conn, frame)
    out.print(
        f"demo data loaded in {time.perf_counter() - started:.1f} s: {summary.parcels:,} parcels, "
        f"{summary.parties:,} parties, {summary.certificates:,} certificates, "
        f"{summary.rights:,} rights, {summary.restrictions:,} mortgages and injunctions"
    )
