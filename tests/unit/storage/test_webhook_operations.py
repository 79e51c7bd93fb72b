"""Webhook operations on a real store (SQLite and PostgreSQL) with a real local receiver:
replaying dead deliveries (exactly the matching ones, same message id, audited), retention
(never a pending delivery or an undispatched message) and secret rotation with a grace period
(the old secret verifies during it, only the new one after)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import test_webhook_delivery as delivery_tests

from leadgate.exceptions import NotFoundError, UsageError
from leadgate.services.webhooks import (
    RetryPolicy,
    deliver_due,
    list_endpoints,
    parse_duration,
    prune,
    replay_dead,
    rotate_secret,
    urllib_sender,
    verify_signature,
)
from leadgate.storage import routing as outbox_store
from leadgate.storage import tables as t
from leadgate.storage import webhooks as store

NOW = delivery_tests.NOW
endpoint = delivery_tests.endpoint
receiver = delivery_tests.receiver  # the local HTTP receiver fixture
ONCE = RetryPolicy(max_attempts=1, timeout_seconds=5)  # one failure is enough to go dead


def queue_at(engine: sa.Engine, created_at: datetime, *ids: str) -> None:
    with engine.begin() as conn:
        outbox_store.add_to_outbox(
            conn,
            [
                {
                    "message_id": mid,
                    "kind": "lead.assigned",
                    "payload": {"lead_id": mid},
                    "created_at": created_at,
                }
                for mid in ids
            ],
        )


def states(engine: sa.Engine) -> dict[tuple[str, str], tuple[str, int]]:
    with engine.connect() as conn:
        frame = store.read_deliveries(conn)
    return {
        (r["message_id"], r["endpoint_id"]): (r["state"], r["attempts"])
        for r in frame.iter_rows(named=True)
    }


def audit_actions(engine: sa.Engine) -> list[tuple[str, str | None, dict | None]]:
    a = t.audit_log
    with engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.action, a.c.subject_id, a.c.details).order_by(a.c.id))
        return [tuple(r) for r in rows]


def test_replay_revives_exactly_the_matching_dead_deliveries(engine, receiver) -> None:
    a = endpoint(engine, receiver.url + "/a")
    b = endpoint(engine, receiver.url + "/b")
    queue_at(engine, NOW - timedelta(days=3), "old")
    queue_at(engine, NOW, "m1", "m2")
    # every first attempt fails: all six deliveries (3 messages x 2 endpoints) go dead
    receiver.script = [500] * 6
    first = deliver_due(engine, now=NOW, send=urllib_sender(5), policy=ONCE)
    assert (first.attempted, first.dead) == (6, 6)
    assert {s for s, _ in states(engine).values()} == {"dead"}
    later = NOW + timedelta(hours=2)

    # an unknown endpoint is an error, and changes nothing
    with pytest.raises(NotFoundError):
        replay_dead(engine, now=later, endpoint_id="wh_nope")
    # filters combine: endpoint a, messages since yesterday -> m1 and m2 on a only
    since = NOW - timedelta(days=1)
    assert replay_dead(engine, now=later, endpoint_id=a.endpoint_id, since=since, actor="ops") == 2
    now_states = states(engine)
    assert now_states[("m1", a.endpoint_id)] == ("pending", 0)
    assert now_states[("m2", a.endpoint_id)] == ("pending", 0)
    assert now_states[("old", a.endpoint_id)] == ("dead", 1)
    assert {now_states[(m, b.endpoint_id)] for m in ("old", "m1", "m2")} == {("dead", 1)}
    with engine.connect() as conn:
        due = store.read_deliveries(conn, state="pending")
    assert set(due.get_column("next_attempt_at").to_list()) == {later}
    # a message filter alone: m1 on b (m1 on a is no longer dead)
    assert replay_dead(engine, now=later, message_id="m1") == 1
    assert states(engine)[("m1", b.endpoint_id)] == ("pending", 0)
    # nothing matching: 0, and still audited
    assert replay_dead(engine, now=later, message_id="m1") == 0
    replays = [x for x in audit_actions(engine) if x[0] == "webhook.replayed"]
    assert [r[2]["replayed"] for r in replays] == [2, 1, 0]
    assert replays[0][1] == a.endpoint_id
    assert replays[0][2]["since"] == since.isoformat()

    # the next pass really delivers them, with the same message ids as the failed attempts
    sent_before = len(receiver.received)
    summary = deliver_due(engine, now=later, send=urllib_sender(5), policy=ONCE)
    assert (summary.attempted, summary.delivered, summary.dead_total) == (3, 3, 3)
    resent = receiver.received[sent_before:]
    assert sorted((r["path"], r["headers"]["Leadgate-Message-Id"]) for r in resent) == [
        ("/hooks/a", "m1"),
        ("/hooks/a", "m2"),
        ("/hooks/b", "m1"),
    ]
    assert {("/hooks/a", "m1"), ("/hooks/a", "m2"), ("/hooks/b", "m1")} <= {
        (r["path"], r["headers"]["Leadgate-Message-Id"]) for r in receiver.received[:6]
    }
    for request in resent:
        assert verify_signature(
            a.secret if request["path"] == "/hooks/a" else b.secret,
            request["body"],
            timestamp=request["headers"]["Leadgate-Timestamp"],
            signature=request["headers"]["Leadgate-Signature"],
        )
    final = states(engine)
    assert final[("m1", a.endpoint_id)] == ("delivered", 1)
    assert final[("m1", b.endpoint_id)] == ("delivered", 1)
    assert final[("m2", b.endpoint_id)] == ("dead", 1)
    with engine.connect() as conn:
        delivered_at = dict(
            conn.execute(sa.select(t.outbox.c.message_id, t.outbox.c.delivered_at)).all()
        )
    # m1 reached every endpoint; m2 still has a dead delivery on b
    assert delivered_at == {"old": None, "m1": later, "m2": None}


def _delivery(message_id: str, endpoint_id: str, state: str, at: datetime) -> dict:
    return {
        "message_id": message_id,
        "endpoint_id": endpoint_id,
        "state": state,
        "attempts": 1,
        "next_attempt_at": at,
        "delivered_at": at if state == "delivered" else None,
    }


def test_prune_removes_old_finished_rows_and_never_pending_or_undispatched(engine) -> None:
    a = endpoint(engine, "http://127.0.0.1:9/a")
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=5)
    queue_at(engine, old, "old_done", "old_dead", "old_pending", "old_mixed", "old_alone")
    queue_at(engine, old, "old_undispatched")
    queue_at(engine, recent, "recent_done")
    o = t.outbox
    with engine.begin() as conn:
        conn.execute(
            sa.update(o)
            .where(o.c.message_id != "old_undispatched")
            .values(dispatched_at=o.c.created_at)
        )
        b = "wh_b"
        store.add_endpoint(
            conn, endpoint_id=b, url="http://127.0.0.1:9/b", secret="s", kinds=None, created_at=old
        )
        conn.execute(
            sa.insert(t.webhook_deliveries),
            [
                _delivery("old_done", a.endpoint_id, "delivered", old),
                _delivery("old_dead", a.endpoint_id, "dead", old),
                # a pending delivery due long ago (an endpoint down for weeks) stays
                _delivery("old_pending", a.endpoint_id, "pending", old),
                # one endpoint done long ago, the other only recently: the message stays
                _delivery("old_mixed", a.endpoint_id, "delivered", old),
                _delivery("old_mixed", b, "dead", recent),
                _delivery("recent_done", a.endpoint_id, "delivered", recent),
            ],
        )
    with pytest.raises(UsageError):
        prune(engine, now=NOW, older_than=timedelta(0))
    summary = prune(engine, now=NOW, older_than=timedelta(days=30))
    assert summary.cutoff == NOW - timedelta(days=30)
    # deleted: 3 deliveries (old_done, old_dead, old_mixed on a); messages old_done,
    # old_dead and old_alone (dispatched to nobody)
    assert (summary.deliveries, summary.messages) == (3, 3)
    assert states(engine) == {
        ("old_pending", a.endpoint_id): ("pending", 1),
        ("old_mixed", b): ("dead", 1),
        ("recent_done", a.endpoint_id): ("delivered", 1),
    }
    with engine.connect() as conn:
        left = set(conn.execute(sa.select(o.c.message_id)).scalars())
    assert left == {"old_pending", "old_mixed", "old_undispatched", "recent_done"}
    # a second prune finds nothing more; a shorter retention takes the recent ones too
    again = prune(engine, now=NOW, older_than=timedelta(days=30))
    assert (again.deliveries, again.messages) == (0, 0)
    short = prune(engine, now=NOW, older_than=timedelta(days=1))
    assert (short.deliveries, short.messages) == (2, 2)  # old_mixed and recent_done
    with engine.connect() as conn:
        left = set(conn.execute(sa.select(o.c.message_id)).scalars())
    assert left == {"old_pending", "old_undispatched"}


def test_prune_works_in_bounded_batches_until_nothing_is_left(engine) -> None:
    a = endpoint(engine, "http://127.0.0.1:9/a")
    old = NOW - timedelta(days=40)
    ids = [f"m{i}" for i in range(7)]
    queue_at(engine, old, *ids, "alone1", "alone2")
    o = t.outbox
    with engine.begin() as conn:
        conn.execute(sa.update(o).values(dispatched_at=o.c.created_at))
        conn.execute(
            sa.insert(t.webhook_deliveries),
            [_delivery(m, a.endpoint_id, "delivered", old) for m in ids],
        )
    with engine.begin() as conn:
        first = store.prune(conn, cutoff=NOW, limit=3)
    assert (first.deliveries, first.messages) == (3, 3)  # each statement stops at the limit
    summary = prune(engine, now=NOW, older_than=timedelta(days=1), batch=3)
    assert (summary.deliveries, summary.messages) == (4, 6)
    assert states(engine) == {}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(o)).scalar_one() == 0


def test_rotation_signs_with_both_secrets_during_the_grace_period_only(engine, receiver) -> None:
    hook = endpoint(engine, receiver.url)
    with pytest.raises(NotFoundError), engine.begin() as conn:
        rotate_secret(conn, "wh_nope", now=NOW)
    with engine.begin() as conn:
        rotated = rotate_secret(conn, hook.endpoint_id, now=NOW, actor="ops")
    assert rotated.secret != hook.secret
    assert rotated.secret.startswith("whsec_")
    assert rotated.grace_until == NOW + timedelta(hours=24)
    with engine.connect() as conn:
        listed = list_endpoints(conn)
    assert rotated.secret not in repr(listed)
    assert hook.secret not in repr(listed)
    assert ("webhook.secret_rotated", hook.endpoint_id, {"grace_seconds": 86_400}) in (
        audit_actions(engine)
    )

    def send_one(message_id: str, moment: datetime) -> dict:
        queue_at(engine, moment, message_id)
        count = len(receiver.received)
        assert deliver_due(engine, now=moment, send=urllib_sender(5)).delivered == 1
        (request,) = receiver.received[count:]
        return request

    def verifies(secret: str | list[str], request: dict) -> bool:
        return verify_signature(
            secret,
            request["body"],
            timestamp=request["headers"]["Leadgate-Timestamp"],
            signature=request["headers"]["Leadgate-Signature"],
        )

    during = send_one("m_during", NOW + timedelta(hours=23))
    assert during["headers"]["Leadgate-Signature"].count("v1=") == 2
    assert verifies(hook.secret, during)  # a receiver that knows only the old secret
    assert verifies(rotated.secret, during)
    assert not verifies("whsec_other", during)
    after = send_one("m_after", NOW + timedelta(hours=24, seconds=1))
    assert after["headers"]["Leadgate-Signature"].count("v1=") == 1
    assert not verifies(hook.secret, after)
    assert verifies(rotated.secret, after)
    assert verifies([hook.secret, rotated.secret], after)  # a receiver holding both

    # a rotation without grace drops the old secret at once
    with engine.begin() as conn:
        third = rotate_secret(
            conn, hook.endpoint_id, now=NOW + timedelta(days=2), grace=timedelta(0)
        )
    assert third.grace_until is None
    at_once = send_one("m_third", NOW + timedelta(days=2))
    assert at_once["headers"]["Leadgate-Signature"].count("v1=") == 1
    assert verifies(third.secret, at_once)
    assert not verifies(rotated.secret, at_once)


def test_durations() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration(" 1d12h ") == timedelta(days=1, hours=12)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    for bad in ("", "30", "d", "30x", "-3d", "3.5d", "30d later", "99999999999999d"):
        with pytest.raises(UsageError) as info:
            parse_duration(bad)
        assert info.value.code == "bad_duration"
