"""`cadastre demo ...`: realistic demo data, loaded through the real importer."""

from __future__ import annotations

import time
from pathlib import Path
from tempfile import TemporaryDirectory

import typer
from rich.console import Console

from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors

app = typer.Typer(help="Demo data for trying the system.", no_args_is_help=True)
out = Console(highlight=False, stderr=True)


@app.command()
def load(
    parcels: int = typer.Option(20_000, "--parcels", "-n", min=100, help="Parcels to generate."),
    seed: int = typer.Option(1, "--seed", help="Random seed of the synthetic layer."),
) -> None:
    """Generate a synthetic Hoàn Kiếm cadastre, import it with `cadastre import` (parties,
    rights, certificates, land use), then add house ownership, mortgages and injunctions.
    Once: a second run keeps what exists."""
    from cadastre.demo.loader import DEMO_ACCOUNTS, DEMO_PASSWORD, add_demo_extras, demo_loaded
    from cadastre.synth import generate_layer, write_layer
    from importers.pipeline import ImportOptions, run_import

    engine = cli_engine()
    with translate_connection_errors(engine.url):
        with engine.connect() as conn:
            if demo_loaded(conn):
                out.print("demo data already loaded")
                return
        started = time.perf_counter()
        with TemporaryDirectory(prefix="cadastre-demo-") as tmp:
            path = Path(tmp) / "hoan_kiem_demo.gpkg"
            write_layer(generate_layer(parcels, seed=seed), path)
            report = run_import(engine, path, ImportOptions(force=True))
        with engine.begin() as conn:
            extras = add_demo_extras(conn)
    counts = report.counts
    out.print(
        f"demo data loaded in {time.perf_counter() - started:.1f} s: "
        f"{counts['parcel_versions_begun']:,} parcels, {counts['parties']:,} parties, "
        f"{counts['certificates']:,} certificates, {counts['rights'] + extras.house_rights:,} "
        f"rights, {extras.mortgages:,} mortgages, {extras.injunctions:,} injunctions, "
        f"{extras.sales:,} sales ({extras.sales_awaiting_certificate:,} awaiting the buyer's "
        "certificate)"
    )
    out.print("demo accounts (password " + DEMO_PASSWORD + "): " + ", ".join(
        f"{u} ({r})" for u, r in DEMO_ACCOUNTS.items()))
