"""Helpers for the API tests: a migrated store with a roster, keys, a clock and a client.

``api`` (a fixture, on SQLite and PostgreSQL through ``db_url``) starts the app in-process
with the example model and team roster, a controllable clock and background jobs off, and
creates one key per role (and one sales key per rep used in the tests).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadgate.api import create_app
from leadgate.services.keys import create_key
from leadgate.services.routing import import_roster
from leadgate.settings import Settings
from leadgate.storage import make_engine, transaction, upgrade
from testkit import EXAMPLE_MODEL

with warnings.catch_warnings():  # Starlette's notice about its httpx-based client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

START = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # a Wednesday, inside NA working hours
ROSTER = Path(EXAMPLE_MODEL).parent / "teams.yaml"
ACCOUNT = {
    "name": "Acme Analytics",
    "domain": "acme-analytics.com",
    "industry": "Software",
    "employees": 500,
    "country": "US",
    "attributes": {"tech_stack": "salesforce,slack"},
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Api:
    """A running app and what a test needs around it."""

    client: TestClient
    clock: Clock
    engine: Any
    url: str
    keys: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def call(self, method: str, path: str, who: str = "admin", **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.headers(who), **kwargs)

    def event(self, event_id: str, lead_id: str, **extra: Any) -> dict[str, Any]:
        body = {
            "event_id": event_id,
            "lead_id": lead_id,
            "event_type": "form_submit",
            "occurred_at": (self.clock.now - timedelta(minutes=1)).isoformat(),
            "properties": {"form": "demo_request"},
        }
        return body | extra


def lead_body(name: str, **extra: Any) -> dict[str, Any]:
    """A VP of Sales at Acme (fits the ICP well) unless ``extra`` says otherwise."""
    return {
        "email": f"{name}@acme-analytics.com",
        "first_name": name.title(),
        "last_name": "Example",
        "title": "VP Sales",
        "phone": "+1 555 0100",
        "country": "US",
        "source": "website",
        "account_id": "acme",
    } | extra


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "model_path": Path(EXAMPLE_MODEL),
        "sla_sweep_seconds": 0,
        "webhook_seconds": 0,
        "auth_cache_seconds": 0,
        "ingest_worker": "thread",  # starts at once; the e2e test runs the process writer
    }
    return Settings(**(values | overrides))


def prepare_store(url: str, clock: Clock) -> tuple[Any, dict[str, str]]:
    """Migrate, import the roster and create a key per role; returns (engine, tokens)."""
    engine = make_engine(url)
    upgrade(engine)
    import_roster(engine, ROSTER)
    keys: dict[str, str] = {}
    with transaction(engine) as conn:
        for role in ("admin", "revops", "ingest"):
            keys[role] = create_key(conn, role=role, name=f"{role} key", now=clock()).token
        for rep in ("sdr_gale", "sdr_harper", "sdr_indy"):
            keys[rep] = create_key(
                conn, role="sales", name=f"{rep} key", owner_id=rep, now=clock()
            ).token
    return engine, keys


def open_api(url: str, **overrides: Any) -> Iterator[Api]:
    clock = Clock()
    engine, keys = prepare_store(url, clock)
    app = create_app(settings_for(url, **overrides), clock=clock)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(client, clock, engine, url, keys)
            assert api.call("PUT", "/v1/accounts/acme", json=ACCOUNT).status_code == 200
            yield api
    finally:
        engine.dispose()


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from open_api(db_url)


__all__ = ["ACCOUNT", "START", "Api", "Clock", "api", "lead_body", "open_api", "settings_for"]
