"""Database fixtures (SQLite and PostgreSQL) from ``tests/db_fixtures.py``, and a spy on COPY."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from sqlalchemy.engine import Connection

from db_fixtures import db_url, empty_engine, engine, pg_database
from leadgate.storage import _sql


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables ``COPY`` streamed into (a spy on ``_sql.copy_in``)."""
    seen: list[str] = []
    real: Callable[[Connection, str, pl.DataFrame], None] = _sql.copy_in

    def spy(conn: Connection, table: str, frame: pl.DataFrame) -> None:
        seen.append(table)
        real(conn, table, frame)

    monkeypatch.setattr(_sql, "copy_in", spy)
    return seen


__all__ = ["copies", "db_url", "empty_engine", "engine", "pg_database"]
