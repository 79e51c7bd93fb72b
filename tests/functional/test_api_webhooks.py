"""Webhook operations through the service (SQLite and PostgreSQL): the admin replay route
revives dead deliveries that the next pass delivers to a real local receiver with the same
message id; the periodic webhook job prunes past the retention period, about hourly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from apikit import Api, Clock, api

from leadgate.api.background import webhook_work
from leadgate.services.webhooks import add_endpoint, verify_signature
from leadgate.storage import tables as t

__all__ = ["api"]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A local HTTP server answering 200 and recording (headers, body) of each POST."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def _store_deliveries(engine: sa.Engine, endpoint_id: str, rows: list[tuple]) -> None:
    """``rows``: (message_id, created_at, state, finished_at) with a dispatched message each."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(t.outbox),
            [
                {
                    "message_id": m,
                    "kind": "lead.assigned",
                    "payload": {"lead_id": m},
                    "created_at": created,
                    "dispatched_at": created,
                }
                for m, created, _, _ in rows
            ],
        )
        conn.execute(
            sa.insert(t.webhook_deliveries),
            [
                {
                    "message_id": m,
                    "endpoint_id": endpoint_id,
                    "state": state,
                    "attempts": 10,
                    "next_attempt_at": finished,
                    "delivered_at": finished if state == "delivered" else None,
                }
                for m, _, state, finished in rows
            ],
        )


def test_admin_replay_revives_dead_deliveries_that_then_arrive(api: Api, receiver) -> None:
    url, received = receiver
    now = api.clock.now
    with api.engine.begin() as conn:
        hook = add_endpoint(conn, url, now=now - timedelta(days=3))
    _store_deliveries(
        api.engine,
        hook.endpoint_id,
        [
            ("m_old", now - timedelta(days=2), "dead", now - timedelta(days=1)),
            ("m_new", now - timedelta(hours=5), "dead", now - timedelta(hours=1)),
        ],
    )
    assert api.call("POST", "/v1/admin/webhooks:replay", who="revops").status_code == 403
    unknown = api.call("POST", "/v1/admin/webhooks:replay", json={"endpoint_id": "wh_nope"})
    assert unknown.status_code == 404
    for bad in ({"since": "yesterday"}, {"endpoint": hook.endpoint_id}, {"since": 5}):
        assert api.call("POST", "/v1/admin/webhooks:replay", json=bad).status_code == 422

    since = (now - timedelta(days=1)).isoformat()
    replay = api.call(
        "POST",
        "/v1/admin/webhooks:replay",
        json={"endpoint_id": hook.endpoint_id, "since": since},
    )
    assert replay.status_code == 200, replay.text
    assert replay.json() == {"replayed": 1}
    delivered = api.call("POST", "/v1/admin/webhooks:deliver")
    assert delivered.status_code == 200
    assert (delivered.json()["attempted"], delivered.json()["delivered"]) == (1, 1)
    ((headers, body),) = received
    assert headers["Leadgate-Message-Id"] == "m_new"
    assert verify_signature(
        hook.secret,
        body,
        timestamp=headers["Leadgate-Timestamp"],
        signature=headers["Leadgate-Signature"],
    )
    # without filters the rest is replayed; nothing left afterwards
    assert api.call("POST", "/v1/admin/webhooks:replay").json() == {"replayed": 1}
    assert api.call("POST", "/v1/admin/webhooks:replay", json={}).json() == {"replayed": 0}
    a = t.audit_log
    with api.engine.connect() as conn:
        entries = conn.execute(
            sa.select(a.c.actor, a.c.details)
            .where(a.c.action == "webhook.replayed")
            .order_by(a.c.id)
        ).all()
    assert [d["replayed"] for _, d in entries] == [1, 1, 0]
    assert all(actor.startswith("key:") for actor, _ in entries)


def test_the_webhook_job_prunes_past_retention_about_hourly(api: Api) -> None:
    now = api.clock.now
    with api.engine.begin() as conn:
        hook = add_endpoint(conn, "http://127.0.0.1:9/h", now=now - timedelta(days=90))

    def old_rows(prefix: str) -> list[tuple]:
        at = api.clock.now - timedelta(days=45)
        return [(f"{prefix}_done", at, "delivered", at), (f"{prefix}_dead", at, "dead", at)]

    def messages() -> set[str]:
        with api.engine.connect() as conn:
            return set(conn.execute(sa.select(t.outbox.c.message_id)).scalars())

    clock = Clock(now)
    keep_forever = webhook_work(api.engine, clock, None, retention_days=0)
    work = webhook_work(api.engine, clock, None, retention_days=30)
    _store_deliveries(api.engine, hook.endpoint_id, old_rows("a"))
    keep_forever()
    assert messages() == {"a_done", "a_dead"}
    work()  # the first pass prunes
    assert messages() == set()
    _store_deliveries(api.engine, hook.endpoint_id, old_rows("b"))
    clock.advance(minutes=30)
    work()  # within the hour: deliveries only
    assert messages() == {"b_done", "b_dead"}
    clock.advance(minutes=30)
    work()
    assert messages() == set()
