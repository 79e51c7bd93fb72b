"""Settings from the environment and the single-row repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.engine import Engine

from leadgate.settings import Settings
from leadgate.storage import bulk, repositories, tables
from leadgate.storage.database import make_engine, normalise_url, session_scope, transaction

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_settings_read_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADGATE_DATABASE_URL", raising=False)
    assert Settings().database_url == "sqlite:///leadgate.db"
    monkeypatch.setenv("LEADGATE_DATABASE_URL", "postgresql://u@h/db")
    assert Settings().database_url == "postgresql://u@h/db"


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    engine.dispose()


def test_repositories_round_trip(engine: Engine) -> None:
    with transaction(engine) as conn:
        bulk.upsert_leads(conn, pl.DataFrame({"lead_id": ["7"], "email": ["a@b.co"]}), now=T0)
        bulk.save_model(conn, "m@1", "m", "1", '{"x": 1}', now=T0)
        assert repositories.get_model(conn, "m@1") is not None
        latest = repositories.latest_model(conn)
        assert latest is not None
        assert latest.created_at == T0
        state = repositories.get_lead_state(conn, "7")
        assert state is not None
        assert state.stage == "new"
        assert repositories.get_lead_state(conn, "8") is None
        assert repositories.record_feedback(conn, "7", "good_fit", created_at=T0) >= 1
        repositories.set_discovery_answer(conn, "7", "budget", True, answered_at=T0)
        repositories.set_discovery_answer(conn, "7", "budget", False, answered_at=T0)
        assert repositories.discovery_answers(conn, "7") == {"budget": False}
        assert repositories.record_consent(conn, "7", "email", "granted", recorded_at=T0) >= 1
        assert repositories.count_rows(conn, tables.consents) == 1
    with session_scope(engine) as session:
        assert session.connection().exec_driver_sql("SELECT count(*) FROM leads").scalar() == 1
