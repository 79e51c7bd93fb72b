"""Reads and writes the real-time service needs: a few leads at a time, never whole tables.

Ingest rescores only the leads an event names, so it reads those leads, their accounts and
their events; the lead view and a rep's queue read one lead's or one owner's rows. Outbox
messages for many stage changes are written in one statement (COPY on PostgreSQL past
``SMALL_WRITE_ROWS``). Every function takes the caller's connection and never commits.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from leadgate.storage import _sql
from leadgate.storage import tables as t
from leadgate.storage.frames import (
    FEW_IDS,
    _expand_json,
    _fetch,
    _ids_filter,
    _names,
)

OUTBOX_COLUMNS = ("message_id", "kind", "payload", "created_at")
FEW_LEADS = FEW_IDS
"""Up to this many leads, their events are read with a plain query rather than COPY."""
FEW_EVENTS = 1_000
"""Up to this many events (by id), a plain query rather than COPY."""


def fetch_few(
    conn: Connection,
    table: sa.Table,
    names: Sequence[str],
    where: Sequence[str] = (),
    params: Sequence[object] = (),
    order_by: str | None = None,
) -> pl.DataFrame:
    """Like ``_fetch`` (same columns and types) for a handful of rows: one plain query."""
    return _fetch(conn, table, names, where, params, order_by, stream=False)


def live_lead_ids(conn: Connection, lead_ids: Sequence[str]) -> pl.Series:
    """Which of ``lead_ids`` are stored and not erased (an erased person takes no events)."""
    where, params = _ids_filter(conn, "lead_id", list(lead_ids))
    frame = fetch_few(conn, t.leads, ["lead_id"], [*where, '"erased_at" IS NULL'], params)
    return frame.get_column("lead_id")


STATE_COLUMNS = (
    "lead_id",
    "stage",
    "grade",
    "fit_score",
    "engagement_score",
    "product_score",
    "owner_id",
)


def lead_states(conn: Connection, lead_ids: Sequence[str]) -> pl.DataFrame:
    """``STATE_COLUMNS`` of ``lead_ids``: what an ingest answer reports (no JSON to expand)."""
    where, params = _ids_filter(conn, "lead_id", list(lead_ids))
    return fetch_few(conn, t.leads, list(STATE_COLUMNS), where, params)


def read_scoring_events(
    conn: Connection, lead_ids: Sequence[str], fields: Sequence[str]
) -> pl.DataFrame:
    """These leads' events as scoring reads them: ``lead_id, event_type, occurred_at`` and,
    of the properties, only ``fields`` (the ones the model names).

    Ingest rescores every event of the leads a group names; leaving out the event ids and
    the properties no rule reads saves most of the read.
    """
    return _scoring_events(conn, "lead_id", lead_ids, fields, few=len(lead_ids) <= FEW_LEADS)


def read_scoring_events_by_id(
    conn: Connection, event_ids: Sequence[str], fields: Sequence[str]
) -> pl.DataFrame:
    """Like :func:`read_scoring_events` for the stored events among ``event_ids``."""
    return _scoring_events(conn, "event_id", event_ids, fields, few=len(event_ids) <= FEW_EVENTS)


def _scoring_events(
    conn: Connection, column: str, ids: Sequence[str], fields: Sequence[str], *, few: bool
) -> pl.DataFrame:
    where, params = _ids_filter(conn, column, list(ids))
    base = ["lead_id", "event_type", "occurred_at"]
    fetch = fetch_few if few else _fetch
    frame = fetch(conn, t.events, [*base, "properties"] if fields else base, where, params)
    if not fields:
        return frame
    frame = _expand_json(frame, "properties")
    wanted = set(fields)
    return frame.select([*base, *[name for name in frame.columns if name in wanted]])


def claim_events_generation(conn: Connection) -> int:
    """Take the events generation for this transaction and return its value.

    The counter moves with every write to ``events`` (triggers, migration 0004). Claiming
    it is a write: on PostgreSQL it locks the counter's row until the transaction ends, so
    any other writer of events waits for it; on SQLite it starts the write transaction. A
    copy of events checked against the value returned is therefore exact for the whole
    transaction.
    """
    table = t.events_generation
    stmt = (
        sa.update(table)
        .where(table.c.id == 1)
        .values(generation=table.c.generation)
        .returning(table.c.generation)
    )
    return int(conn.execute(stmt).scalar_one())


def events_generation(conn: Connection) -> int:
    """The events generation as this connection sees it (after its own writes)."""
    table = t.events_generation
    stmt = sa.select(table.c.generation).where(table.c.id == 1)
    return int(conn.execute(stmt).scalar_one())


def event_receipts(conn: Connection, event_ids: Sequence[str]) -> pl.DataFrame:
    """``event_id, lead_id, received_at`` of the stored events among ``event_ids``."""
    where, params = _ids_filter(conn, "event_id", list(event_ids))
    return fetch_few(conn, t.events, ["event_id", "lead_id", "received_at"], where, params)


def read_lead_assignments(conn: Connection, lead_id: str) -> pl.DataFrame:
    """Every assignment of one lead, oldest first."""
    where, params = _ids_filter(conn, "lead_id", [lead_id])
    return _fetch(conn, t.assignments, _names(t.assignments), where, params, order_by='"id"')


def read_owner_leads(conn: Connection, owner_id: str, stages: Sequence[str]) -> pl.DataFrame:
    """Leads owned by ``owner_id`` in one of ``stages`` (``attributes`` as columns)."""
    where, params = _ids_filter(conn, "owner_id", [owner_id])
    stage_where, stage_params = _ids_filter(conn, "stage", list(stages))
    frame = _fetch(
        conn,
        t.leads,
        _names(t.leads),
        [*where, *stage_where],
        [*params, *stage_params],
        order_by='"lead_id"',
    )
    return _expand_json(frame, "attributes")


@functools.lru_cache(maxsize=8)
def _outbox_insert(dialect: Dialect) -> SQLCompiler:
    insert = (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(t.outbox)
    stmt = insert.values({name: sa.bindparam(name) for name in OUTBOX_COLUMNS})
    return _sql.compile_rows(dialect, stmt.on_conflict_do_nothing(index_elements=["message_id"]))


def append_outbox(conn: Connection, frame: pl.DataFrame) -> int:
    """Queue many outbox messages at once; an id already queued is skipped.

    Args:
        conn: Open transaction.
        frame: ``message_id, kind, payload`` (JSON text) and ``created_at`` (tz-aware).

    Returns:
        How many messages were new.
    """
    if frame.height == 0:
        return 0
    postgres = _sql.is_postgres(conn)
    values = frame.select(_sql.sql_values(frame, OUTBOX_COLUMNS, postgres=postgres))
    try:
        if not _sql.plain_write(conn, values.height):
            with _sql.temp_table(conn, t.outbox, OUTBOX_COLUMNS) as tmp:
                _sql.copy_in(conn, tmp.name, values)
                stmt = (
                    postgresql.insert(t.outbox)
                    .from_select(list(OUTBOX_COLUMNS), sa.select(tmp))
                    .on_conflict_do_nothing(index_elements=["message_id"])
                )
                return _sql.execute_count(conn, stmt)
        # A live group's few messages: one pipelined statement per row on PostgreSQL
        # (one round trip) rather than the five of a temporary table and COPY.
        return _sql.execute_rows(conn, _outbox_insert(conn.dialect), values)
    except sa.exc.DBAPIError as exc:
        raise _sql.wrap_error(exc, "a write to outbox") from exc


def ping(conn: Connection) -> bool:
    """Whether the database answers a trivial query."""
    return conn.execute(sa.select(sa.literal(1))).scalar_one() == 1


__all__ = [
    "FEW_EVENTS",
    "FEW_LEADS",
    "STATE_COLUMNS",
    "append_outbox",
    "claim_events_generation",
    "event_receipts",
    "events_generation",
    "fetch_few",
    "lead_states",
    "live_lead_ids",
    "ping",
    "read_lead_assignments",
    "read_owner_leads",
    "read_scoring_events",
    "read_scoring_events_by_id",
]
