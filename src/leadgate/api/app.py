"""The FastAPI application factory: ``create_app(settings)``.

Started by ``leadgate serve`` (uvicorn, factory :func:`app_from_env`). The lifespan opens
the store (refusing an unmigrated one), loads and registers the model, starts the single
ingest writer and the periodic jobs (SLA sweep, webhook delivery), and stops them again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

from fastapi import Depends, FastAPI

from leadgate import __version__
from leadgate.api import errors
from leadgate.api.access_log import AccessLog
from leadgate.api.auth import AuthCache
from leadgate.api.background import PeriodicJob, webhook_work
from leadgate.api.deps import refuse_unknown_query
from leadgate.api.limits import BodySizeLimit, RateLimiter
from leadgate.api.routes import accounts, admin, events, leads, reports
from leadgate.api.state import ServiceState
from leadgate.api.writer import IngestWriter
from leadgate.exceptions import UsageError
from leadgate.services.database import open_database
from leadgate.services.lifecycle import load_stored_model, register_model
from leadgate.services.sla import sweep
from leadgate.services.webhooks import Sender
from leadgate.settings import Settings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The server's clock (the only place the service reads it)."""
    return datetime.now(UTC)


def create_app(
    settings: Settings, *, clock: Clock = utc_now, sender: Sender | None = None
) -> FastAPI:
    """Build the service.

    Args:
        settings: Database, model, limits and job intervals.
        clock: Where "now" comes from (tests pass a controllable clock).
        sender: How webhooks are POSTed (default: the standard-library sender).

    Raises:
        UsageError: No model was configured.
    """
    if settings.model_path is None:
        raise UsageError(
            "The service needs a qualification model.",
            hint="pass --model FILE to `leadgate serve` or set LEADGATE_MODEL_PATH",
            code="model_required",
        )
    model_path = settings.model_path

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            engine = stack.enter_context(open_database(settings.database_url))
            stored = load_stored_model(model_path)
            register_model(engine, stored, now=clock())
            writer = IngestWriter(
                engine,
                stored.model,
                clock,
                max_events=settings.ingest_group_size,
                recheck_days=settings.recheck_days,
                worker=settings.ingest_worker,
                linger=settings.ingest_linger_ms / 1000,
                database_url=settings.database_url,
                model_path=str(model_path),
            )
            sweeper = PeriodicJob(
                "sla-sweep",
                settings.sla_sweep_seconds,
                lambda: sweep(engine, stored.model, now=clock()),
            )
            webhooks = PeriodicJob(
                "webhooks",
                settings.webhook_seconds,
                webhook_work(engine, clock, sender, retention_days=settings.webhook_retention_days),
            )
            app.state.leadgate = ServiceState(
                settings=settings,
                engine=engine,
                stored=stored,
                clock=clock,
                writer=writer,
                limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
                auth_cache=AuthCache(settings.auth_cache_seconds),
                sweep=sweeper,
                webhooks=webhooks,
                sender=sender,
            )
            await writer.start()
            stack.push_async_callback(writer.stop)
            for job in (sweeper, webhooks):
                job.start()
                stack.push_async_callback(job.stop)
            yield

    app = FastAPI(
        title="leadgate",
        version=__version__,
        summary="Qualify leads in real time with a versioned qualification model.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],
    )
    errors.install(app)
    for module in (events, leads, accounts, reports, admin):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app


def app_from_env() -> FastAPI:
    """The app configured from ``LEADGATE_*`` environment variables (uvicorn's factory)."""
    return create_app(Settings())


__all__ = ["app_from_env", "create_app", "utc_now"]
