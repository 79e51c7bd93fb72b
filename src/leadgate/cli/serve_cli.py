"""``leadgate serve``: run the REST service with uvicorn."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from leadgate.cli.output import Output
from leadgate.settings import GC_THRESHOLDS


def serve(
    model: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="Model YAML or compiled JSON (or LEADGATE_MODEL_PATH)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Database URL (default: LEADGATE_DATABASE_URL)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the REST API (OpenAPI at /docs) with real-time ingest, routing and SLAs."""
    import logging

    import uvicorn

    from leadgate.model import load_model
    from leadgate.services.database import open_database, redact
    from leadgate.settings import Settings

    # Settings are read from the environment by the app factory in the server process.
    if model is not None:
        os.environ["LEADGATE_MODEL_PATH"] = str(model)
    if database is not None:
        os.environ["LEADGATE_DATABASE_URL"] = database
    settings = Settings()
    if settings.model_path is None:
        from leadgate.exceptions import UsageError

        raise UsageError(
            "leadgate serve needs a model.",
            hint="pass --model FILE or set LEADGATE_MODEL_PATH",
            code="model_required",
        )
    compiled = load_model(settings.model_path)  # a bad model fails here, with its location
    with open_database(settings.database_url):  # so does an unmigrated database
        pass
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    Output().success(
        f"serving {compiled.version} on http://{host}:{port} (docs at /docs) with "
        f"{redact(settings.database_url)}"
    )
    # The ingest writer's thread runs Python between Polars calls; a shorter GIL switch
    # interval keeps the event loop answering requests while a group is being written.
    sys.setswitchinterval(0.0005)
    gc.set_threshold(*GC_THRESHOLDS)
    uvicorn.run(
        "leadgate.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        access_log=False,  # the service writes its own, without paths' values or queries
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the CLI."""
    app.command("serve")(serve)
