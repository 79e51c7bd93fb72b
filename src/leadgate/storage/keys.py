"""API keys: rows hold the SHA-256 of each token's secret, never the token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t


@dataclass(frozen=True)
class ApiKeyRow:
    """A stored API key (its secret only as a hash)."""

    key_id: str
    name: str
    role: str
    owner_id: str | None
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def insert_key(
    conn: Connection,
    *,
    key_id: str,
    name: str,
    role: str,
    owner_id: str | None,
    secret_hash: str,
    created_at: datetime,
) -> None:
    """Store a new key."""
    conn.execute(
        sa.insert(t.api_keys).values(
            key_id=key_id,
            name=name,
            role=role,
            owner_id=owner_id,
            secret_hash=secret_hash,
            created_at=created_at,
        )
    )


def get_key(conn: Connection, key_id: str) -> ApiKeyRow | None:
    """One key by id (a primary-key lookup), or ``None``."""
    row = conn.execute(sa.select(t.api_keys).where(t.api_keys.c.key_id == key_id)).first()
    return None if row is None else ApiKeyRow(**row._mapping)


def list_keys(conn: Connection) -> list[ApiKeyRow]:
    """Every key, oldest first."""
    stmt = sa.select(t.api_keys).order_by(t.api_keys.c.created_at, t.api_keys.c.key_id)
    return [ApiKeyRow(**row._mapping) for row in conn.execute(stmt)]


def revoke_key(conn: Connection, key_id: str, *, at: datetime) -> bool:
    """Mark a key revoked; ``False`` when it was already revoked (or does not exist)."""
    table = t.api_keys
    stmt = (
        sa.update(table)
        .where(table.c.key_id == key_id, table.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(conn.execute(stmt).rowcount)


def touch_key(conn: Connection, key_id: str, *, at: datetime, older_than: datetime) -> bool:
    """Set ``last_used_at`` unless it is already at or after ``older_than`` (coarse tracking)."""
    table = t.api_keys
    stmt = (
        sa.update(table)
        .where(
            table.c.key_id == key_id,
            sa.or_(table.c.last_used_at.is_(None), table.c.last_used_at < older_than),
        )
        .values(last_used_at=at)
    )
    return bool(conn.execute(stmt).rowcount)


def owner_exists(conn: Connection, owner_id: str) -> bool:
    """Whether a rep with this id is stored."""
    stmt = sa.select(t.owners.c.owner_id).where(t.owners.c.owner_id == owner_id)
    return conn.execute(stmt).first() is not None


__all__ = [
    "ApiKeyRow",
    "get_key",
    "insert_key",
    "list_keys",
    "owner_exists",
    "revoke_key",
    "touch_key",
]
