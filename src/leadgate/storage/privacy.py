"""Consent reads and the erasure of one person's personal data, table by table.

Erasure keeps what the funnel counts (the lead row with its stage, lifecycle dates, segment,
grade, scores, owner, account and model version; stage history, assignments, SLA clocks and
outcomes without free text) and removes the rest. Every statement runs in the caller's
transaction, so an erasure is complete or does not happen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t
from leadgate.storage.frames import _fetch, _ids_filter, _streams

REASON_CODE: Final = re.compile(r"[a-z][a-z0-9_.:-]{0,63}")
"""What a machine reason looks like (``no_budget``, ``sla_breach``); anything else is free
text that may describe the person, so erasure removes it."""

PERSONAL_LEAD_COLUMNS: Final = (
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "country",
    "attributes",
)
"""Lead columns erasure clears. Everything else on the row is a code, a date or a score."""

REASON_COLUMNS: Final = (
    (t.leads, "recycle_reason"),
    (t.leads, "disqualified_reason"),
    (t.stage_history, "reason"),
    (t.feedback, "reason"),
    (t.assignments, "reason"),
    (t.outcomes, "lost_reason"),
)
"""Reason columns: kept when they hold a code, cleared (or set to ``redacted``) otherwise."""

REDACTED: Final = "redacted"


def read_consents(conn: Connection, lead_ids: Sequence[str] | None = None) -> pl.DataFrame:
    """Consent records: ``id, lead_id, channel, status, lawful_basis, recorded_at``."""
    where, params = _ids_filter(conn, "lead_id", lead_ids)
    names = ["id", "lead_id", "channel", "status", "lawful_basis", "recorded_at"]
    stream = _streams(lead_ids)
    return _fetch(conn, t.consents, names, where, params, order_by='"id"', stream=stream)


def read_erased(conn: Connection, lead_ids: Sequence[str] | None = None) -> pl.DataFrame:
    """``lead_id, erased_at`` of the given leads (all when ``None``)."""
    where, params = _ids_filter(conn, "lead_id", lead_ids)
    names = ["lead_id", "erased_at"]
    return _fetch(conn, t.leads, names, where, params, stream=_streams(lead_ids))


@dataclass(frozen=True)
class ErasedRows:
    """Rows erasure changed, by table."""

    events_deleted: int
    discovery_answers_deleted: int
    consents_deleted: int
    feedback_notes_cleared: int
    reasons_cleared: int
    outbox_deleted: int
    outbox_redacted: int


def _count(conn: Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    stmt = sa.select(sa.func.count()).select_from(table).where(*where)
    return int(conn.execute(stmt).scalar_one())


def _delete(conn: Connection, table: sa.Table, lead_id: str) -> int:
    return int(conn.execute(sa.delete(table).where(table.c.lead_id == lead_id)).rowcount or 0)


def _clear_reasons(conn: Connection, lead_id: str) -> int:
    """Clear reasons that are not codes; the rows are few (one person), so read them."""
    changed = 0
    for table, name in REASON_COLUMNS:
        column = table.c[name]
        key = next(iter(table.primary_key.columns))
        rows = conn.execute(
            sa.select(key, column).where(table.c.lead_id == lead_id, column.is_not(None))
        ).all()
        free = [row[0] for row in rows if not REASON_CODE.fullmatch(str(row[1]))]
        if free:
            blank = REDACTED if not column.nullable else None
            conn.execute(sa.update(table).where(key.in_(free)).values({name: blank}))
            changed += len(free)
    return changed


def _outbox_about(lead_id: str) -> sa.ColumnElement[bool]:
    about: sa.ColumnElement[bool] = t.outbox.c.payload["lead_id"].as_string() == lead_id
    return about


def _erase_outbox(conn: Connection, lead_id: str) -> tuple[int, int]:
    """Drop undelivered messages about the lead; strip delivered ones to their lead id."""
    outbox = t.outbox
    pending = sa.select(outbox.c.message_id).where(
        _outbox_about(lead_id), outbox.c.delivered_at.is_(None)
    )
    deliveries = t.webhook_deliveries
    conn.execute(sa.delete(deliveries).where(deliveries.c.message_id.in_(pending)))
    deleted = conn.execute(
        sa.delete(outbox).where(_outbox_about(lead_id), outbox.c.delivered_at.is_(None))
    ).rowcount
    redacted = conn.execute(
        sa.update(outbox)
        .where(_outbox_about(lead_id), outbox.c.delivered_at.is_not(None))
        .values(payload={"lead_id": lead_id, "erased": True})
    ).rowcount
    return int(deleted or 0), int(redacted or 0)


def erase_person(conn: Connection, lead_id: str, *, now: datetime) -> ErasedRows:
    """Remove one lead's personal data from every table and mark the lead erased."""
    events = _delete(conn, t.events, lead_id)
    answers = _delete(conn, t.discovery_answers, lead_id)
    consents = _delete(conn, t.consents, lead_id)
    notes = conn.execute(
        sa.update(t.feedback)
        .where(t.feedback.c.lead_id == lead_id, t.feedback.c.note.is_not(None))
        .values(note=None)
    ).rowcount
    reasons = _clear_reasons(conn, lead_id)
    outbox_deleted, outbox_redacted = _erase_outbox(conn, lead_id)
    conn.execute(
        sa.update(t.leads)
        .where(t.leads.c.lead_id == lead_id)
        .values(
            {name: sa.null() for name in PERSONAL_LEAD_COLUMNS}
            | {"erased_at": now, "updated_at": now}
        )
    )
    return ErasedRows(
        events_deleted=events,
        discovery_answers_deleted=answers,
        consents_deleted=consents,
        feedback_notes_cleared=int(notes or 0),
        reasons_cleared=reasons,
        outbox_deleted=outbox_deleted,
        outbox_redacted=outbox_redacted,
    )


def lead_exists(conn: Connection, lead_id: str) -> bool:
    """Whether a lead with this id is stored."""
    return _count(conn, t.leads, t.leads.c.lead_id == lead_id) > 0


__all__ = [
    "PERSONAL_LEAD_COLUMNS",
    "REASON_CODE",
    "REASON_COLUMNS",
    "ErasedRows",
    "erase_person",
    "lead_exists",
    "read_consents",
    "read_erased",
]
