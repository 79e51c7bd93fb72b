"""Migrations on SQLite and PostgreSQL: from empty, idempotent, and exactly the metadata."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from leadgate.exceptions import DatabaseNotMigratedError
from leadgate.storage import migrate
from leadgate.storage.tables import metadata


def test_upgrade_from_empty_creates_every_table(empty_engine: Engine) -> None:
    assert migrate.current_revision(empty_engine) is None
    migrate.upgrade(empty_engine)
    head = migrate.head_revision()
    assert migrate.current_revision(empty_engine) == head == "0006_job_runs"
    names = set(sa.inspect(empty_engine).get_table_names())
    assert set(metadata.tables) <= names


def test_upgrade_is_idempotent(engine: Engine) -> None:
    migrate.upgrade(engine)
    migrate.upgrade(engine, "head")
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_migration_matches_metadata_exactly(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []


def test_require_current_on_empty_database(empty_engine: Engine) -> None:
    with pytest.raises(DatabaseNotMigratedError) as info:
        migrate.require_current(empty_engine)
    error = info.value
    assert error.code == "db_not_migrated"
    assert error.current is None
    assert "0006_job_runs" in str(error)
    assert "leadgate db upgrade" in error.hint


def test_require_current_on_migrated_database(engine: Engine) -> None:
    migrate.require_current(engine)


def test_require_current_names_an_unknown_revision(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000_old'")
    with pytest.raises(DatabaseNotMigratedError, match="0000_old"):
        migrate.require_current(engine)


def test_upgrade_from_previous_revision_keeps_rows(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0001_initial")
    with empty_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO teams (team_id, name) VALUES ('t1', 'Team one')"))
    migrate.upgrade(empty_engine, "0002_routing_sla")
    assert migrate.current_revision(empty_engine) == "0002_routing_sla"
    with empty_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM teams")).scalar_one() == "Team one"
    assert {"assignments", "sla_clocks", "outbox"} <= set(
        sa.inspect(empty_engine).get_table_names()
    )
