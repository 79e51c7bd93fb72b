"""Upgrading a populated 0002 database to 0003 (SQLite and PostgreSQL): rows survive, the
old outbox counts as dispatched, and the new tables work; downgrading and upgrading again too."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadgate.services.keys import authenticate, create_key
from leadgate.services.webhooks import add_endpoint, deliver_due
from leadgate.storage import migrate
from leadgate.storage import routing as outbox_store

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


def _populate_0002(engine: Engine) -> None:
    with engine.begin() as conn:
        ts = {"t": T0.strftime("%Y-%m-%d %H:%M:%S")}
        conn.execute(sa.text("INSERT INTO teams (team_id, name) VALUES ('sdr', 'SDR')"))
        conn.execute(
            sa.text("INSERT INTO owners (owner_id, name, team_id) VALUES ('rep_a', 'A', 'sdr')")
        )
        conn.execute(
            sa.text(
                "INSERT INTO leads (lead_id, email, owner_id, stage, created_at, updated_at) "
                "VALUES ('1', 'a@b.example', 'rep_a', 'mql', :t, :t)"
            ),
            ts,
        )
        conn.execute(
            sa.text(
                "INSERT INTO assignments (lead_id, owner_id, team_id, reason, assigned_at) "
                "VALUES ('1', 'rep_a', 'sdr', 'rule', :t)"
            ),
            ts,
        )
        conn.execute(
            sa.text(
                "INSERT INTO outbox (message_id, kind, payload, created_at) "
                "VALUES ('old-1', 'lead.assigned', '{\"lead_id\": \"1\"}', :t)"
            ),
            ts,
        )


def test_upgrade_a_populated_0002_database(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0002_routing_sla")
    _populate_0002(empty_engine)
    migrate.upgrade(empty_engine, "0003_service")
    assert migrate.current_revision(empty_engine) == "0003_service"
    with empty_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT email FROM leads")).scalar_one() == "a@b.example"
        assert conn.execute(sa.text("SELECT count(*) FROM assignments")).scalar_one() == 1
        outbox = conn.execute(sa.text("SELECT message_id, dispatched_at FROM outbox")).one()
    assert outbox[0] == "old-1"
    assert outbox[1] is not None
    tables = set(sa.inspect(empty_engine).get_table_names())
    assert {"api_keys", "audit_log", "webhook_endpoints", "webhook_deliveries"} <= tables

    # the new tables work on the upgraded database (taken on to head: the code needs it)
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        key = create_key(conn, role="sales", name="rep a", owner_id="rep_a", now=NOW)
        add_endpoint(conn, "http://127.0.0.1:9/h", now=NOW)
        outbox_store.add_to_outbox(
            conn,
            [
                {
                    "message_id": "new-1",
                    "kind": "lead.assigned",
                    "payload": {"lead_id": "1"},
                    "created_at": NOW,
                }
            ],
        )
    with empty_engine.connect() as conn:
        assert authenticate(conn, key.token, now=NOW) is not None
    sent: list[str] = []

    def send(url: str, body: bytes, headers) -> int:
        sent.append(headers["Leadgate-Message-Id"])
        return 204

    summary = deliver_due(empty_engine, now=NOW, send=send)
    assert summary.delivered == 1
    assert sent == ["new-1"]  # history from before 0003 is not replayed


def test_downgrade_to_0002_and_back_keeps_the_data(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0002_routing_sla")
    _populate_0002(empty_engine)
    migrate.upgrade(empty_engine)
    config = migrate.alembic_config(empty_engine)
    from alembic import command

    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002_routing_sla")
    assert migrate.current_revision(empty_engine) == "0002_routing_sla"
    assert "api_keys" not in sa.inspect(empty_engine).get_table_names()
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM leads")).scalar_one() == 1
