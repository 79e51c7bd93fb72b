"""``leadgate keys``, ``leadgate webhooks`` and ``leadgate erase`` on both databases: secrets
are printed once and never listed, bad input is a message and an exit code, not a traceback."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from leadgate.cli.app import main
from leadgate.services.keys import authenticate
from leadgate.storage import make_engine
from leadgate.storage import tables as t


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_webhooks_and_erase(db_url, capsys):
    db = ["--database", db_url]
    assert cli(capsys, "db", "upgrade", *db)[0] == 0
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(t.owners).values(owner_id="rep_a", name="A"))
        conn.execute(
            sa.insert(t.leads).values(
                lead_id="L1", email="erase.me@mail.example", created_at=now, updated_at=now
            )
        )

    code, out, err = cli(
        capsys, "keys", "create", "--role", "sales", "--name", "rep a", "--owner", "rep_a", *db
    )
    assert code == 0, err
    token = re.search(r"lg_[0-9a-f]{16}_\S+", out)
    assert token is not None
    with engine.connect() as conn:
        principal = authenticate(conn, token.group(0), now=now)
    assert principal is not None
    assert principal.owner_id == "rep_a"
    code, out, _ = cli(capsys, "keys", "list", *db)
    assert code == 0
    assert principal.key_id in out
    assert token.group(0) not in out
    code, out, _ = cli(capsys, "keys", "revoke", principal.key_id, "--actor", "ops", *db)
    assert code == 0
    assert "revoked" in out

    code, out, err = cli(
        capsys,
        "webhooks",
        "add",
        "http://127.0.0.1:9/h",
        "--kinds",
        "lead.assigned,sla.breached",
        *db,
    )
    assert code == 0, err
    secret = re.search(r"whsec_\S+", out)
    endpoint = re.search(r"wh_[0-9a-f]{12}", out)
    assert secret is not None
    assert endpoint is not None
    code, out, _ = cli(capsys, "webhooks", "list", *db)
    assert code == 0
    assert endpoint.group(0) in out
    assert secret.group(0) not in out
    code, out, _ = cli(capsys, "webhooks", "deliver", "--once", *db)
    assert code == 0
    assert "0 sent" in out
    code, out, _ = cli(capsys, "webhooks", "remove", endpoint.group(0), *db)
    assert code == 0

    code, out, err = cli(capsys, "erase", "L1", "--actor", "dpo", *db)
    assert code == 0, err
    assert "lead L1 erased" in out
    assert "erase.me" not in out
    with engine.connect() as conn:
        assert conn.execute(sa.select(t.leads.c.email)).scalar_one() is None
    engine.dispose()


def test_bad_input_is_a_message_not_a_traceback(db_url, capsys):
    db = ["--database", db_url]
    assert cli(capsys, "db", "upgrade", *db)[0] == 0
    cases = [
        (["keys", "create", "--role", "wizard", "--name", "x"], 4, "Unknown role"),
        (["keys", "create", "--role", "sales", "--name", "x"], 4, "must name its rep"),
        (["keys", "create", "--role", "sales", "--name", "x", "--owner", "ghost"], 8, "ghost"),
        (["keys", "revoke", "0123456789abcdef"], 8, "No API key"),
        (["webhooks", "add", "ftp://x/y"], 4, "not an http(s) URL"),
        (["webhooks", "remove", "wh_nope"], 8, "No webhook endpoint"),
        (["webhooks", "replay", "--endpoint", "wh_nope"], 8, "No webhook endpoint"),
        (["webhooks", "replay", "--since", "last tuesday"], 4, "not a date"),
        (["webhooks", "prune", "--older-than", "30 days"], 4, "not a duration"),
        (["webhooks", "prune", "--older-than", "0d"], 4, "must be positive"),
        (["webhooks", "rotate-secret", "wh_nope"], 8, "No webhook endpoint"),
        (["webhooks", "rotate-secret", "wh_nope", "--grace", "1 day"], 4, "not a duration"),
        (["erase", "nobody", "--actor", "dpo"], 8, "No lead"),
    ]
    for args, expected, message in cases:
        code, _, err = cli(capsys, *args, *db)
        assert (code, message in err) == (expected, True), (args, err)
        assert "Traceback" not in err


def test_webhook_replay_prune_and_rotation(db_url, capsys):
    db = ["--database", db_url]
    assert cli(capsys, "db", "upgrade", *db)[0] == 0
    code, out, err = cli(capsys, "webhooks", "add", "http://127.0.0.1:9/h", *db)
    assert code == 0, err
    secret = re.search(r"whsec_\S+", out)
    endpoint = re.search(r"wh_[0-9a-f]{12}", out)
    assert secret is not None
    assert endpoint is not None
    engine = make_engine(db_url)
    old = datetime.now(UTC) - timedelta(days=40)
    d, o = t.webhook_deliveries, t.outbox
    with engine.begin() as conn:
        conn.execute(
            sa.insert(o),
            [
                {
                    "message_id": m,
                    "kind": "lead.assigned",
                    "payload": {},
                    "created_at": old,
                    "dispatched_at": old,
                }
                for m in ("m_dead", "m_done")
            ],
        )
        conn.execute(
            sa.insert(d),
            [
                {
                    "message_id": "m_dead",
                    "endpoint_id": endpoint.group(0),
                    "state": "dead",
                    "attempts": 10,
                    "next_attempt_at": old,
                    "delivered_at": None,  # every row names the same columns
                },
                {
                    "message_id": "m_done",
                    "endpoint_id": endpoint.group(0),
                    "state": "delivered",
                    "attempts": 1,
                    "next_attempt_at": old,
                    "delivered_at": old,
                },
            ],
        )

    code, out, err = cli(capsys, "webhooks", "replay", "--since", "2000-01-01", *db)
    assert code == 0, err
    assert "1 dead deliveries replayed" in out
    with engine.connect() as conn:
        assert conn.execute(
            sa.select(d.c.state, d.c.attempts).where(d.c.message_id == "m_dead")
        ).one() == ("pending", 0)
    code, out, err = cli(capsys, "webhooks", "prune", "--older-than", "30d", *db)
    assert code == 0, err
    assert "pruned 1 deliveries and 1 outbox messages" in out
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(o.c.message_id)).scalars()) == {"m_dead"}

    code, out, err = cli(
        capsys, "webhooks", "rotate-secret", endpoint.group(0), "--grace", "2h", *db
    )
    assert code == 0, err
    assert "signed with both secrets until" in out
    new_secret = re.search(r"whsec_\S+", out)
    assert new_secret is not None
    assert new_secret.group(0) != secret.group(0)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(t.webhook_endpoints.c.secret, t.webhook_endpoints.c.previous_secret)
        ).one()
    assert tuple(row) == (new_secret.group(0), secret.group(0))
    code, out, _ = cli(capsys, "webhooks", "list", *db)
    assert "old secret also signs until" in out
    assert new_secret.group(0) not in out
    assert secret.group(0) not in out
    engine.dispose()
