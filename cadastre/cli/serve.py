"""`cadastre serve`: the HTTP API (what `make demo` starts)."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes."),
    reload: bool = typer.Option(False, "--reload", help="Reload on code changes (dev)."),
    access_log: bool = typer.Option(
        False, "--access-log", help="Log every request (costs about a fifth of throughput)."),
) -> None:
    """Serve the API and pages (OpenAPI docs at /docs)."""
    import uvicorn

    from cadastre.cli.context import load_settings
    from cadastre.db import check_connection, create_engine

    # Fail early with one clear line rather than in every worker.
    engine = create_engine(load_settings())
    check_connection(engine)
    engine.dispose()
    uvicorn.run(
        "api.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level="info",
        access_log=access_log,
        # X-Forwarded-For/-Proto are read by the application itself, from the proxies of
        # CADASTRE_TRUSTED_PROXIES only (api/origin.py), the same under any ASGI server.
        # Uvicorn's own reading (which trusts 127.0.0.1 unless told otherwise) stays off,
        # so that it can never trust more than the setting.
        proxy_headers=False,
    )
