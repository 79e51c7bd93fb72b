"""Webhook delivery on a real store (SQLite and PostgreSQL) to a real local HTTP server:
valid signatures, retries with backoff on 500, no duplicate after success, the same message id
after a crash between sending and recording, giving up into ``dead``, kinds filters."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from leadgate.services.webhooks import (
    RetryPolicy,
    add_endpoint,
    dead_deliveries,
    deliver_due,
    list_endpoints,
    remove_endpoint,
    urllib_sender,
    verify_signature,
)
from leadgate.storage import routing as outbox_store
from leadgate.storage import tables as t
from leadgate.storage import webhooks as store

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


@dataclass
class Receiver:
    """A local HTTP server that records every request and answers from a script."""

    url: str
    received: list[dict] = field(default_factory=list)
    script: list[int] = field(default_factory=list)  # statuses to answer, then 200

    def ids(self) -> list[str]:
        return [r["headers"]["Leadgate-Message-Id"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                state.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = state.script.pop(0) if state.script else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def queue(engine: sa.Engine, *messages: tuple[str, str, dict]) -> None:
    with engine.begin() as conn:
        outbox_store.add_to_outbox(
            conn,
            [
                {"message_id": mid, "kind": kind, "payload": payload, "created_at": NOW}
                for mid, kind, payload in messages
            ],
        )


def endpoint(engine: sa.Engine, url: str, kinds: list[str] | None = None):
    with engine.begin() as conn:
        return add_endpoint(conn, url, kinds=kinds, now=NOW)


FAST = RetryPolicy(base_seconds=10, cap_seconds=600, max_attempts=3, timeout_seconds=5)


def test_messages_arrive_signed_once_and_are_not_sent_again(engine, receiver) -> None:
    hook = endpoint(engine, receiver.url)
    queue(engine, ("m1", "lead.assigned", {"lead_id": "1", "owner_id": "rep_a"}))
    queue(engine, ("m2", "sla.breached", {"lead_id": "2"}))
    summary = deliver_due(engine, now=NOW, send=urllib_sender(5), policy=FAST)
    assert (summary.dispatched, summary.attempted, summary.delivered) == (2, 2, 2)
    assert sorted(receiver.ids()) == ["m1", "m2"]
    for request in receiver.received:
        headers, body = request["headers"], request["body"]
        assert request["path"] == "/hooks"
        assert headers["Content-Type"] == "application/json"
        assert verify_signature(
            hook.secret,
            body,
            timestamp=headers["Leadgate-Timestamp"],
            signature=headers["Leadgate-Signature"],
            now=datetime.fromtimestamp(int(headers["Leadgate-Timestamp"]), UTC),
        )
        assert not verify_signature(
            "whsec_wrong",
            body,
            timestamp=headers["Leadgate-Timestamp"],
            signature=headers["Leadgate-Signature"],
        )
        assert not verify_signature(
            hook.secret,
            body + b" ",
            timestamp=headers["Leadgate-Timestamp"],
            signature=headers["Leadgate-Signature"],
        )
        document = json.loads(body)
        assert set(document) == {"id", "kind", "created_at", "data"}
        assert document["id"] == headers["Leadgate-Message-Id"]
    first = json.loads(next(r["body"] for r in receiver.received if b'"m1"' in r["body"]))
    assert first["data"] == {"lead_id": "1", "owner_id": "rep_a"}
    assert first["created_at"] == "2026-04-01T12:00:00Z"
    # a second pass, even much later, sends nothing again
    again = deliver_due(engine, now=NOW + timedelta(days=2), send=urllib_sender(5), policy=FAST)
    assert (again.dispatched, again.attempted) == (0, 0)
    assert len(receiver.received) == 2
    with engine.connect() as conn:
        delivered = conn.execute(sa.select(t.outbox.c.delivered_at)).scalars().all()
    assert delivered == [NOW, NOW]


def test_a_500_is_retried_with_backoff_until_it_succeeds(engine, receiver) -> None:
    endpoint(engine, receiver.url)
    queue(engine, ("m1", "lead.assigned", {"lead_id": "1"}))
    receiver.script = [500, 503]
    first = deliver_due(engine, now=NOW, send=urllib_sender(5), policy=FAST)
    assert (first.attempted, first.delivered, first.retrying) == (1, 0, 1)
    with engine.connect() as conn:
        row = store.read_deliveries(conn).row(0, named=True)
    assert row["state"] == "pending"
    assert row["last_status"] == 500
    wait = row["next_attempt_at"] - NOW
    assert timedelta(seconds=10) <= wait <= timedelta(seconds=12.5)  # base + up to 25 % jitter
    # not due yet: nothing is sent
    assert deliver_due(engine, now=NOW + timedelta(seconds=9), policy=FAST).attempted == 0
    second = deliver_due(engine, now=NOW + wait, send=urllib_sender(5), policy=FAST)
    assert (second.attempted, second.retrying) == (1, 1)
    with engine.connect() as conn:
        row = store.read_deliveries(conn).row(0, named=True)
    wait2 = row["next_attempt_at"] - (NOW + wait)
    assert timedelta(seconds=20) <= wait2 <= timedelta(seconds=25)  # doubled
    third = deliver_due(engine, now=row["next_attempt_at"], send=urllib_sender(5), policy=FAST)
    assert third.delivered == 1
    assert receiver.ids() == ["m1", "m1", "m1"]  # the same id on every attempt
    with engine.connect() as conn:
        row = store.read_deliveries(conn).row(0, named=True)
    assert (row["state"], row["attempts"], row["last_status"]) == ("delivered", 3, 200)


def test_a_crash_between_sending_and_recording_resends_the_same_id(engine, receiver) -> None:
    endpoint(engine, receiver.url)
    queue(engine, ("m1", "lead.assigned", {"lead_id": "1"}))
    real = urllib_sender(5)

    def send_then_crash(url, body, headers):
        real(url, body, headers)
        raise SystemExit("killed after sending, before recording")

    with pytest.raises(SystemExit):
        deliver_due(engine, now=NOW, send=send_then_crash, policy=FAST)
    assert receiver.ids() == ["m1"]
    # within the lease another worker does not send it again ...
    assert (
        deliver_due(engine, now=NOW + timedelta(seconds=60), send=real, policy=FAST).attempted == 0
    )
    # ... after it, the message goes out again with the same id
    lease = timedelta(seconds=FAST.lease_seconds)
    summary = deliver_due(engine, now=NOW + lease, send=real, policy=FAST)
    assert summary.delivered == 1
    assert receiver.ids() == ["m1", "m1"]
    bodies = [r["body"] for r in receiver.received]
    assert json.loads(bodies[0]) == json.loads(bodies[1])


def test_giving_up_after_max_attempts_is_reported(engine, receiver) -> None:
    endpoint(engine, receiver.url)
    queue(engine, ("m1", "lead.assigned", {"lead_id": "1"}))
    receiver.script = [500] * 10
    moment = NOW
    results = []
    for _ in range(FAST.max_attempts):
        results.append(deliver_due(engine, now=moment, send=urllib_sender(5), policy=FAST))
        moment += timedelta(hours=1)
    assert [r.attempted for r in results] == [1, 1, 1]
    assert results[-1].dead == 1
    assert results[-1].dead_total == 1
    assert deliver_due(engine, now=moment + timedelta(days=9), policy=FAST).attempted == 0
    with engine.connect() as conn:
        dead = dead_deliveries(conn)
        listed = list_endpoints(conn)
    assert dead == [
        {
            "message_id": "m1",
            "endpoint_id": listed[0].endpoint_id,
            "kind": "lead.assigned",
            "attempts": 3,
            "last_status": 500,
            "last_error": "HTTP 500",
        }
    ]
    assert (listed[0].pending, listed[0].delivered, listed[0].dead) == (0, 0, 1)


def test_an_unreachable_receiver_is_a_failed_attempt_not_an_error(engine) -> None:
    endpoint(engine, "http://127.0.0.1:9/nothing-listens-here")
    queue(engine, ("m1", "lead.assigned", {"lead_id": "1"}))
    summary = deliver_due(engine, now=NOW, send=urllib_sender(2), policy=FAST)
    assert (summary.attempted, summary.retrying) == (1, 1)
    with engine.connect() as conn:
        row = store.read_deliveries(conn).row(0, named=True)
    assert row["last_status"] is None
    assert "Error" in row["last_error"]


def test_each_endpoint_gets_its_kinds_and_removed_ones_get_nothing(engine, receiver) -> None:
    everything = endpoint(engine, receiver.url + "/all")
    endpoint(engine, receiver.url + "/breaches", kinds=["sla.breached"])
    gone = endpoint(engine, receiver.url + "/gone")
    with engine.begin() as conn:
        remove_endpoint(conn, gone.endpoint_id, now=NOW)
    queue(
        engine,
        ("m1", "lead.assigned", {"lead_id": "1"}),
        ("m2", "sla.breached", {"lead_id": "1"}),
    )
    summary = deliver_due(engine, now=NOW, send=urllib_sender(5), policy=FAST)
    assert summary.delivered == 3
    got = sorted((r["path"], r["headers"]["Leadgate-Message-Id"]) for r in receiver.received)
    assert got == [("/hooks/all", "m1"), ("/hooks/all", "m2"), ("/hooks/breaches", "m2")]
    with engine.connect() as conn:
        ids = [e.endpoint_id for e in list_endpoints(conn)]
    assert everything.endpoint_id in ids
    assert gone.endpoint_id not in ids


def test_limit_and_batches_bound_a_pass(engine, receiver) -> None:
    endpoint(engine, receiver.url)
    queue(engine, *[(f"m{i:02}", "lead.assigned", {"lead_id": str(i)}) for i in range(7)])
    policy = RetryPolicy(batch=2)
    first = deliver_due(engine, now=NOW, send=urllib_sender(5), limit=5, policy=policy)
    assert first.attempted == 5
    second = deliver_due(engine, now=NOW, send=urllib_sender(5), limit=5, policy=policy)
    assert second.attempted == 2
    assert sorted(receiver.ids()) == [f"m{i:02}" for i in range(7)]


def test_urls_are_checked_and_credentials_never_listed(engine) -> None:
    from leadgate.exceptions import UsageError

    for bad in ("ftp://x/y", "not a url", "http:///path-only", "file:///etc/passwd"):
        with pytest.raises(UsageError) as info, engine.begin() as conn:
            add_endpoint(conn, bad, now=NOW)
        assert info.value.code == "bad_webhook_url"
    with pytest.raises(UsageError) as info, engine.begin() as conn:
        add_endpoint(conn, "https://x.example/h", kinds=["Bad Kind!"], now=NOW)
    assert info.value.code == "bad_webhook_kinds"
    created = endpoint(engine, "https://user:pa55word@hooks.example:8443/in")
    with engine.connect() as conn:
        listed = list_endpoints(conn)
    assert listed[0].url == "https://***@hooks.example:8443/in"
    assert "pa55word" not in repr(listed)
    assert created.secret not in repr(listed)


def test_two_workers_never_claim_the_same_delivery(engine) -> None:
    endpoint(engine, "http://127.0.0.1:9/h")
    queue(engine, *[(f"m{i}", "lead.assigned", {"lead_id": str(i)}) for i in range(4)])
    with engine.begin() as conn:
        store.dispatch(conn, now=NOW, limit=10)
    lease = timedelta(minutes=5)
    with engine.begin() as first:
        mine = store.claim_due(first, now=NOW, lease=lease, limit=3)
    with engine.begin() as second:
        theirs = store.claim_due(second, now=NOW, lease=lease, limit=10)
    assert len(mine) == 3
    assert len(theirs) == 1
    assert {c.message_id for c in mine}.isdisjoint(c.message_id for c in theirs)
    assert all(c.attempts == 1 for c in [*mine, *theirs])


def test_a_claim_racing_another_between_select_and_update_takes_only_what_is_left(
    engine,
) -> None:
    endpoint(engine, "http://127.0.0.1:9/h")
    queue(engine, *[(f"m{i}", "lead.assigned", {"lead_id": str(i)}) for i in range(4)])
    with engine.begin() as conn:
        store.dispatch(conn, now=NOW, limit=10)
    lease = timedelta(minutes=5)
    theirs: list = []

    def interleave(conn, _cursor, statement, *_args) -> None:
        # the other worker runs its whole claim just before ours updates
        if statement.lstrip().upper().startswith("UPDATE") and not theirs:
            with engine.begin() as other:
                theirs.extend(store.claim_due(other, now=NOW, lease=lease, limit=2))

    with engine.begin() as conn:
        sa.event.listen(conn, "before_cursor_execute", interleave)
        mine = store.claim_due(conn, now=NOW, lease=lease, limit=4)
    # SQLite's SELECT holds no lock: the other worker takes 2 and our update skips them;
    # PostgreSQL's SELECT ... FOR UPDATE SKIP LOCKED hides all 4 from the other worker
    assert len(theirs) == (0 if engine.dialect.name == "postgresql" else 2)
    assert {c.message_id for c in mine}.isdisjoint(c.message_id for c in theirs)
    assert len(mine) + len(theirs) == 4
