"""End to end over real HTTP: uvicorn on a free port and a real webhook receiver.

A lead goes from its first event to MQL and an assignment, breaches its SLA (an admin
sweep with an explicit ``now``), is reassigned, accepted by the new rep, becomes SQL when
discovery answers pass BANT, is converted and won. The receiver must see every outbox
message exactly once per id, each with a valid signature; the access log must hold no
personal data.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from db_fixtures import db_url, pg_database
from leadgate.api import create_app
from leadgate.services.keys import create_key
from leadgate.services.routing import import_roster
from leadgate.services.webhooks import (
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    add_endpoint,
    verify_signature,
)
from leadgate.settings import Settings
from leadgate.storage import make_engine, transaction, upgrade
from leadgate.storage import routing as routing_store
from testkit import EXAMPLE_MODEL

__all__ = ["db_url", "pg_database"]

START = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # a Wednesday, in NA working hours
EMAIL = "ada.lovelace@acme-analytics.com"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Receiver:
    """A webhook receiver on a real socket, recording what it got."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep the test output clean
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def service(db_url: str) -> Iterator[dict[str, Any]]:
    clock = Clock()
    engine = make_engine(db_url)
    upgrade(engine)
    import_roster(engine, Path(EXAMPLE_MODEL).parent / "teams.yaml")
    keys = {}
    with Receiver() as receiver:
        with transaction(engine) as conn:
            keys["admin"] = create_key(conn, role="admin", name="ops", now=clock()).token
            keys["ingest"] = create_key(conn, role="ingest", name="forms", now=clock()).token
            for rep in ("sdr_gale", "sdr_harper", "sdr_indy"):
                keys[rep] = create_key(
                    conn, role="sales", name=rep, owner_id=rep, now=clock()
                ).token
            hook = add_endpoint(conn, receiver.url, now=clock())
        settings = Settings(
            database_url=db_url,
            model_path=Path(EXAMPLE_MODEL),
            sla_sweep_seconds=0,  # swept by the admin endpoint with an explicit now
            webhook_seconds=0.2,
            auth_cache_seconds=0,
        )
        port = _free_port()
        app = create_app(settings, clock=clock)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                yield {
                    "client": client,
                    "clock": clock,
                    "keys": keys,
                    "engine": engine,
                    "receiver": receiver,
                    "secret": hook.secret,
                }
        finally:
            server.should_exit = True
            thread.join(timeout=20)
            engine.dispose()


def test_a_lead_from_first_event_to_won_over_http(
    service: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="leadgate.api.access")
    client: httpx.Client = service["client"]
    clock: Clock = service["clock"]
    keys: dict[str, str] = service["keys"]

    def call(method: str, path: str, who: str = "admin", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {keys[who]}"}
        return client.request(method, path, headers=headers, **kwargs)

    account = {
        "name": "Acme",
        "domain": "acme-analytics.com",
        "industry": "Software",
        "employees": 500,
        "country": "US",
        "attributes": {"tech_stack": "salesforce"},
    }
    assert call("PUT", "/v1/accounts/acme", "ingest", json=account).status_code == 200
    lead = {
        "email": EMAIL,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "title": "VP Sales",
        "phone": "+1 555 0100",
        "country": "US",
        "account_id": "acme",
    }
    created = call("PUT", "/v1/leads/L1", "ingest", json=lead)
    assert created.status_code == 200, created.text
    assert created.json()["leads"][0]["stage"] == "new"

    # 1. the first event: MQL and an owner, in the same transaction
    event = {
        "event_id": "form-1",
        "lead_id": "L1",
        "event_type": "form_submit",
        "occurred_at": (clock.now - timedelta(minutes=2)).isoformat(),
        "properties": {"form": "demo_request"},
    }
    ack = call("POST", "/v1/events", "ingest", json=event)
    assert ack.status_code == 201, ack.text
    first_owner = ack.json()["lead"]["owner_id"]
    assert ack.json()["lead"]["stage"] == "mql"
    assert first_owner is not None
    ghost = call("POST", "/v1/events", "ingest", json=event | {"event_id": "x", "lead_id": "L9"})
    assert ghost.status_code == 422  # the writer process's error comes back as a problem
    assert (ghost.json()["code"], ghost.json()["field"]) == ("unknown_lead", "lead_id")
    replay = call("POST", "/v1/events", "ingest", json=event)
    assert replay.status_code == 200
    assert replay.json()["duplicate"] is True

    # 2. nobody answers for two days: the sweep breaches the SLA and reassigns
    clock.now = START + timedelta(days=2)
    swept = call("POST", "/v1/admin/sla:sweep", json={"now": clock.now.isoformat()})
    assert swept.status_code == 200, swept.text
    assert (swept.json()["breached"], swept.json()["reassigned"]) == (1, 1)
    view = call("GET", "/v1/leads/L1").json()
    new_owner = view["owner_id"]
    assert new_owner not in (None, first_owner)
    assert call("GET", "/v1/leads/L1", first_owner).status_code == 403

    # 3. the new rep accepts; discovery answers pass BANT, so the lead becomes SQL
    clock.now += timedelta(minutes=20)
    accepted = call("POST", "/v1/leads/L1/actions/accept", new_owner, json={})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["to_stage"] == "sal"
    clock.now += timedelta(days=1)
    answers = {"attributes": {"budget": True, "authority": True, "need": 4}}
    discovered = call("PUT", "/v1/leads/L1", "ingest", json=answers)
    assert discovered.json()["leads"][0]["stage"] == "sql", discovered.text

    # 4. converted and won
    clock.now += timedelta(days=3)
    assert call("POST", "/v1/leads/L1/actions/convert", new_owner).json()["to_stage"] == (
        "opportunity"
    )
    clock.now += timedelta(days=20)
    won = call("POST", "/v1/leads/L1/actions/won", new_owner)
    assert won.json()["to_stage"] == "won"
    stages = [
        i["details"]["to_stage"]
        for i in call("GET", "/v1/leads/L1").json()["timeline"]
        if i["kind"] == "stage"
    ]
    assert stages == ["mql", "sal", "sql", "opportunity", "won"]

    # 5. every outbox message reaches the receiver once, signed
    with service["engine"].connect() as conn:
        outbox = routing_store.read_outbox(conn)
    expected = dict(zip(outbox["message_id"], outbox["kind"], strict=True))
    kinds = sorted(expected.values())
    assert kinds.count("lead.stage_changed") == 5
    assert kinds.count("lead.assigned") == 2
    assert kinds.count("sla.breached") == 1
    receiver: Receiver = service["receiver"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with receiver.lock:
            seen = {r["headers"][MESSAGE_ID_HEADER] for r in receiver.received}
        if seen >= set(expected):
            break
        time.sleep(0.1)
    time.sleep(0.6)  # a few more delivery passes: nothing may arrive twice
    with receiver.lock:
        received = list(receiver.received)
    ids = [r["headers"][MESSAGE_ID_HEADER] for r in received]
    assert sorted(ids) == sorted(expected), "each message exactly once"
    for item in received:
        headers = item["headers"]
        assert verify_signature(
            service["secret"],
            item["body"],
            timestamp=headers[TIMESTAMP_HEADER],
            signature=headers[SIGNATURE_HEADER],
            now=datetime.now(UTC),
        )
        document = json.loads(item["body"])
        assert document["kind"] == expected[document["id"]]
        assert EMAIL not in item["body"].decode()

    # 6. the access log: route templates, statuses and key ids, no personal data
    lines = [r.getMessage() for r in caplog.records if r.name == "leadgate.api.access"]
    assert any(line.startswith("POST /v1/events 201") for line in lines)
    assert any("/v1/leads/{lead_id}" in line for line in lines)
    assert not any("L1" in line or "acme" in line or "@" in line for line in lines)
