"""The audit log: who did what to which record. Ids, roles and counts only, never personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t


@dataclass(frozen=True)
class AuditRow:
    """One audit entry."""

    id: int
    at: datetime
    actor: str
    action: str
    subject_kind: str | None
    subject_id: str | None
    details: dict[str, Any] | None


def append_audit(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject_kind: str | None = None,
    subject_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry (in the caller's transaction); returns its id."""
    stmt = (
        sa.insert(t.audit_log)
        .values(
            at=at,
            actor=actor,
            action=action,
            subject_kind=subject_kind,
            subject_id=subject_id,
            details=details,
        )
        .returning(t.audit_log.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def read_audit(
    conn: Connection, *, subject_id: str | None = None, limit: int = 1000
) -> list[AuditRow]:
    """The newest entries first, optionally only those about one subject."""
    stmt = sa.select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
    if subject_id is not None:
        stmt = stmt.where(t.audit_log.c.subject_id == subject_id)
    return [AuditRow(**row._mapping) for row in conn.execute(stmt)]


__all__ = ["AuditRow", "append_audit", "read_audit"]
