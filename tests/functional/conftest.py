"""Database fixtures (SQLite and PostgreSQL) from ``tests/db_fixtures.py``."""

from __future__ import annotations

from db_fixtures import db_url, empty_engine, engine, pg_database

__all__ = ["db_url", "empty_engine", "engine", "pg_database"]
