"""Upgrading a 0004 database with a webhook endpoint to 0005 (SQLite and PostgreSQL): the
endpoint and its secret survive and still sign, a rotation works; downgrading drops only the
rotation columns."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from leadgate.services.webhooks import deliver_due, rotate_secret, verify_signature
from leadgate.storage import migrate
from leadgate.storage import routing as outbox_store

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


def test_upgrade_keeps_endpoints_and_their_secrets(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0004_event_generation")
    with empty_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO webhook_endpoints (endpoint_id, url, secret, active, created_at) "
                "VALUES ('wh_old', 'http://127.0.0.1:9/h', 'whsec_old', true, :t)"
            ),
            {"t": NOW.strftime("%Y-%m-%d %H:%M:%S")},
        )
    migrate.upgrade(empty_engine, "0005_webhook_secret_rotation")
    assert migrate.current_revision(empty_engine) == "0005_webhook_secret_rotation"
    with empty_engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT secret, previous_secret, previous_secret_expires_at FROM webhook_endpoints"
            )
        ).one()
    assert tuple(row) == ("whsec_old", None, None)

    with empty_engine.begin() as conn:
        rotated = rotate_secret(conn, "wh_old", now=NOW)
        outbox_store.add_to_outbox(
            conn,
            [{"message_id": "m1", "kind": "lead.assigned", "payload": {}, "created_at": NOW}],
        )
    seen: list[tuple[bytes, dict[str, str]]] = []

    def send(_url: str, body: bytes, headers) -> int:
        seen.append((body, dict(headers)))
        return 200

    assert deliver_due(empty_engine, now=NOW, send=send).delivered == 1
    ((body, headers),) = seen
    for secret in ("whsec_old", rotated.secret):
        assert verify_signature(
            secret,
            body,
            timestamp=headers["Leadgate-Timestamp"],
            signature=headers["Leadgate-Signature"],
        )

    config = migrate.alembic_config(empty_engine)
    with empty_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004_event_generation")
    columns = {c["name"] for c in sa.inspect(empty_engine).get_columns("webhook_endpoints")}
    assert "previous_secret" not in columns
    assert "secret" in columns
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
