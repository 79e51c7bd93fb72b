"""Small typed reads and writes for single rows, used by services. They never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t


@dataclass(frozen=True)
class ModelRow:
    """A stored compiled model."""

    version: str
    name: str
    content_hash: str
    artifact: str
    created_at: datetime


@dataclass(frozen=True)
class LeadStateRow:
    """Where one lead is in its lifecycle and how it last scored."""

    lead_id: str
    email: str | None
    account_id: str | None
    owner_id: str | None
    stage: str
    stage_changed_at: datetime | None
    grade: str | None
    fit_score: float | None
    engagement_score: float | None
    model_version: str | None
    erased_at: datetime | None


def get_model(conn: Connection, version: str) -> ModelRow | None:
    """The stored model ``version``, or ``None``."""
    row = conn.execute(sa.select(t.models).where(t.models.c.version == version)).first()
    return None if row is None else ModelRow(**row._mapping)


def latest_model(conn: Connection) -> ModelRow | None:
    """The most recently stored model, or ``None`` if there is none."""
    stmt = sa.select(t.models).order_by(t.models.c.created_at.desc()).limit(1)
    row = conn.execute(stmt).first()
    return None if row is None else ModelRow(**row._mapping)


def get_lead_state(conn: Connection, lead_id: str) -> LeadStateRow | None:
    """One lead's lifecycle state, or ``None`` if it does not exist."""
    leads = t.leads
    cols = [leads.c[name] for name in LeadStateRow.__dataclass_fields__]
    row = conn.execute(sa.select(*cols).where(leads.c.lead_id == str(lead_id))).first()
    return None if row is None else LeadStateRow(**row._mapping)


def record_feedback(
    conn: Connection,
    lead_id: str,
    verdict: str,
    *,
    created_at: datetime,
    actor: str | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> int:
    """Store a rep's verdict on a lead; returns the new feedback id."""
    stmt = (
        sa.insert(t.feedback)
        .values(
            lead_id=str(lead_id),
            verdict=verdict,
            actor=actor,
            reason=reason,
            note=note,
            created_at=created_at,
        )
        .returning(t.feedback.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def set_discovery_answer(
    conn: Connection,
    lead_id: str,
    field: str,
    value: Any,
    *,
    answered_at: datetime,
    actor: str | None = None,
) -> None:
    """Record (or replace) the answer to one discovery question for a lead."""
    table = t.discovery_answers
    key = (table.c.lead_id == str(lead_id)) & (table.c.field == field)
    values = {"value": value, "answered_at": answered_at, "actor": actor}
    updated = conn.execute(sa.update(table).where(key).values(values).returning(table.c.field))
    if updated.first() is None:
        conn.execute(sa.insert(table).values(lead_id=str(lead_id), field=field, **values))


def discovery_answers(conn: Connection, lead_id: str) -> dict[str, Any]:
    """Every discovery answer recorded for a lead, by field."""
    table = t.discovery_answers
    rows = conn.execute(
        sa.select(table.c.field, table.c.value).where(table.c.lead_id == str(lead_id))
    )
    return {row.field: row.value for row in rows}


def record_consent(
    conn: Connection,
    lead_id: str,
    channel: str,
    status: str,
    *,
    recorded_at: datetime,
    lawful_basis: str | None = None,
    source: str | None = None,
) -> int:
    """Append a consent record; returns its id (the latest per channel is in force)."""
    stmt = (
        sa.insert(t.consents)
        .values(
            lead_id=str(lead_id),
            channel=channel,
            status=status,
            lawful_basis=lawful_basis,
            recorded_at=recorded_at,
            source=source,
        )
        .returning(t.consents.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def count_rows(conn: Connection, table: sa.Table) -> int:
    """How many rows ``table`` holds."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
