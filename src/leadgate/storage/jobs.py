"""Periodic jobs that must not run twice at once: a lock row per job name (migration 0006)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t


def lock_job(conn: Connection, name: str, *, now: datetime) -> None:
    """Take job ``name``'s lock for the rest of the transaction and note when it started.

    Call it as the transaction's first statement. It is a write: a second run in another
    transaction (another process, a cron job) waits here until the first ends — the row
    lock on PostgreSQL, the database's write lock on SQLite — and its reads then see what
    the first run committed.
    """
    table = t.job_runs
    insert = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
    stmt = insert.values(name=name, started_at=now).on_conflict_do_update(
        index_elements=[table.c.name], set_={"started_at": insert.excluded.started_at}
    )
    conn.execute(stmt)


def last_started(conn: Connection, name: str) -> datetime | None:
    """When job ``name`` last started (``None`` if it never ran)."""
    table = t.job_runs
    value = conn.execute(sa.select(table.c.started_at).where(table.c.name == name)).scalar()
    return value if isinstance(value, datetime) else None


__all__ = ["last_started", "lock_job"]
