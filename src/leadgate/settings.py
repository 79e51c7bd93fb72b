"""Settings read from the environment (prefix ``LEADGATE_``); only entry points read them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

GC_THRESHOLDS: Final = (50_000, 10, 10)
"""The cyclic garbage collector's thresholds in the service's processes (the default young
one is 700). A batch request or an ingest group allocates tens of thousands of short-lived
objects; at the default they set off young collections all the time and full ones over the
whole heap every few groups: about half of the web process's CPU per batch under load."""


class Settings(BaseSettings):
    """Process-wide configuration, validated once at the edge.

    Attributes:
        database_url: SQLAlchemy URL of the database (env ``LEADGATE_DATABASE_URL``), e.g.
            ``sqlite:///leadgate.db`` or ``postgresql+psycopg://user@host/db``.
        model_path: The qualification model the service scores with (YAML or compiled JSON;
            env ``LEADGATE_MODEL_PATH``). Required by ``leadgate serve``.
        max_body_bytes: Largest request body the service reads; larger ones get a 413.
        max_batch_events: Most events one ``POST /v1/events:batch`` may carry.
        rate_limit_per_second: Requests each API key may make per second, sustained.
        rate_limit_burst: How many requests a key may make at once before the rate applies.
        auth_cache_seconds: How long a verified key is trusted without reading the database
            again (a revoked key stops working within this time; 0 reads it every request).
        ingest_group_size: Most events the single ingest writer takes into one transaction
            and one engine call (group commit); a larger batch request is written alone.
        ingest_worker: Where the writer runs: ``process`` (its own process, so its work
            never holds the web server's GIL) or ``thread`` (in the server process: starts
            faster, which suits tests).
        ingest_linger_ms: When the previous group held several requests (the service is
            busy), how long the writer waits for more before writing the next group.
        sla_sweep_seconds: How often the service sweeps SLA clocks (0 turns it off).
        webhook_seconds: How often the service delivers due webhooks (0 turns it off).
        webhook_timeout_seconds: How long one webhook POST may take.
        webhook_retention_days: Days delivered and dead webhook deliveries, and handled
            outbox messages, are kept; the service's webhook job prunes older ones about
            hourly (0 keeps them forever).
        recheck_days: Days before an automatically recycled lead is looked at again.
    """

    model_config = SettingsConfigDict(env_prefix="LEADGATE_", extra="ignore")

    database_url: str = "sqlite:///leadgate.db"
    model_path: Path | None = None
    max_body_bytes: Annotated[int, Field(ge=1_024)] = 2_000_000
    max_batch_events: Annotated[int, Field(ge=1, le=100_000)] = 1_000
    rate_limit_per_second: Annotated[float, Field(gt=0)] = 1_000.0
    rate_limit_burst: Annotated[int, Field(ge=1)] = 2_000
    auth_cache_seconds: Annotated[float, Field(ge=0)] = 5.0
    ingest_group_size: Annotated[int, Field(ge=1, le=10_000)] = 4_000
    ingest_worker: Literal["process", "thread"] = "process"
    ingest_linger_ms: Annotated[float, Field(ge=0, le=1_000)] = 10.0
    sla_sweep_seconds: Annotated[float, Field(ge=0)] = 60.0
    webhook_seconds: Annotated[float, Field(ge=0)] = 5.0
    webhook_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    webhook_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 30
    recheck_days: Annotated[int, Field(ge=1)] = 30
