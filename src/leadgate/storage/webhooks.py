"""Webhook endpoints and per-endpoint deliveries of outbox messages.

A delivery row exists per (message, endpoint). Its life: ``pending`` (due at
``next_attempt_at``) → claimed (``attempts`` + 1 and ``next_attempt_at`` pushed out by a
lease, committed before anything is sent) → ``delivered``, back to ``pending`` with a backoff,
or ``dead``. A worker that dies after sending and before recording leaves the row pending
with an expired lease, so the message is sent again with the same id: at least once.

Operations: a ``dead`` row can be replayed (back to ``pending``, attempts 0, due now, same
message id); finished rows and fully delivered messages older than a cutoff are pruned; an
endpoint's secret can be rotated, the previous one signing too until a deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from leadgate.storage import _sql
from leadgate.storage import tables as t

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


@dataclass(frozen=True)
class EndpointRow:
    """A receiver. ``secret`` signs its messages; never print or log it."""

    endpoint_id: str
    url: str
    secret: str
    kinds: list[str] | None
    active: bool
    created_at: datetime
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery claimed for sending, with what is needed to send it."""

    message_id: str
    endpoint_id: str
    attempts: int
    url: str
    secret: str
    kind: str
    payload: Any
    created_at: datetime
    previous_secret: str | None = None
    """The endpoint's previous secret while its rotation grace period lasts (also signs)."""


@dataclass(frozen=True)
class DeliveryResult:
    """How one send went: ``next_attempt_at`` is ``None`` once delivered or given up."""

    message_id: str
    endpoint_id: str
    state: str
    status: int | None
    error: str | None
    next_attempt_at: datetime | None


def add_endpoint(
    conn: Connection,
    *,
    endpoint_id: str,
    url: str,
    secret: str,
    kinds: Sequence[str] | None,
    created_at: datetime,
) -> None:
    """Store a new receiver."""
    conn.execute(
        sa.insert(t.webhook_endpoints).values(
            endpoint_id=endpoint_id,
            url=url,
            secret=secret,
            kinds=None if kinds is None else list(kinds),
            active=True,
            created_at=created_at,
        )
    )


def list_endpoints(conn: Connection, *, active_only: bool = False) -> list[EndpointRow]:
    """Receivers, oldest first."""
    table = t.webhook_endpoints
    stmt = sa.select(table).order_by(table.c.created_at, table.c.endpoint_id)
    if active_only:
        stmt = stmt.where(table.c.active.is_(True))
    return [EndpointRow(**row._mapping) for row in conn.execute(stmt)]


def remove_endpoint(conn: Connection, endpoint_id: str) -> bool:
    """Delete a receiver and its deliveries; ``False`` if there is none with this id."""
    deliveries = t.webhook_deliveries
    conn.execute(sa.delete(deliveries).where(deliveries.c.endpoint_id == endpoint_id))
    table = t.webhook_endpoints
    return bool(conn.execute(sa.delete(table).where(table.c.endpoint_id == endpoint_id)).rowcount)


def dispatch(conn: Connection, *, now: datetime, limit: int) -> int:
    """Fan up to ``limit`` undispatched outbox messages out to the active endpoints.

    Each message gets a pending delivery per active endpoint whose ``kinds`` include its
    kind, due now, and is marked dispatched. Returns the deliveries created.
    """
    outbox = t.outbox
    stmt = (
        sa.select(outbox.c.message_id, outbox.c.kind)
        .where(outbox.c.dispatched_at.is_(None))
        .order_by(outbox.c.created_at, outbox.c.message_id)
        .limit(limit)
    )
    if _sql.is_postgres(conn):
        stmt = stmt.with_for_update(skip_locked=True)
    messages = pl.DataFrame(
        conn.execute(stmt).all(),
        schema={"message_id": pl.String, "kind": pl.String},
        orient="row",
    )
    if messages.height == 0:
        return 0
    endpoints = list_endpoints(conn, active_only=True)
    created = 0
    if endpoints:
        targets = pl.DataFrame(
            {
                "endpoint_id": [e.endpoint_id for e in endpoints],
                "kinds": [e.kinds for e in endpoints],
            },
            schema={"endpoint_id": pl.String, "kinds": pl.List(pl.String)},
        )
        pairs = messages.join(targets, how="cross").filter(
            pl.col("kinds").is_null() | pl.col("kinds").list.contains(pl.col("kind"))
        )
        rows = [
            {**pair, "state": PENDING, "attempts": 0, "next_attempt_at": now}
            for pair in pairs.select("message_id", "endpoint_id").to_dicts()
        ]
        if rows:
            insert = (postgresql.insert if _sql.is_postgres(conn) else sqlite.insert)(
                t.webhook_deliveries
            ).on_conflict_do_nothing(index_elements=["message_id", "endpoint_id"])
            # RETURNING counts the rows really inserted (an executemany's rowcount may be -1)
            created = len(
                conn.execute(insert.returning(t.webhook_deliveries.c.message_id), rows).all()
            )
    ids = messages.get_column("message_id").to_list()
    conn.execute(sa.update(outbox).where(outbox.c.message_id.in_(ids)).values(dispatched_at=now))
    return created


def claim_due(
    conn: Connection, *, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` pending deliveries due at ``now`` (oldest first).

    Claiming counts an attempt and hides the rows until ``now + lease``; the caller commits
    before sending. On PostgreSQL rows another worker holds are skipped.
    """
    d = t.webhook_deliveries
    due = (
        sa.select(d.c.message_id, d.c.endpoint_id, d.c.attempts)
        .where(d.c.state == PENDING, d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at, d.c.message_id, d.c.endpoint_id)
        .limit(limit)
    )
    if _sql.is_postgres(conn):
        due = due.with_for_update(skip_locked=True)
    candidates = [(m, e) for m, e, _ in conn.execute(due).all()]
    if not candidates:
        return []
    # The update re-checks that each row is still due, and only the rows it changed are
    # ours: on SQLite the SELECT above does not hold a lock, so another worker may have
    # claimed some of them in between.
    still_due = d.c.state == PENDING, d.c.next_attempt_at <= now
    claimed = conn.execute(
        sa.update(d)
        .where(sa.tuple_(d.c.message_id, d.c.endpoint_id).in_(candidates))
        .where(*still_due)
        .values(attempts=d.c.attempts + 1, next_attempt_at=now + lease)
        .returning(d.c.message_id, d.c.endpoint_id)
    ).all()
    if not claimed:
        return []
    e, o = t.webhook_endpoints, t.outbox
    previous = sa.case(
        (e.c.previous_secret_expires_at > now, e.c.previous_secret), else_=sa.null()
    ).label("previous_secret")
    wanted = {(m, ep) for m, ep in claimed}
    ids = sorted({m for m, _ in claimed})
    rows = conn.execute(
        sa.select(
            d.c.message_id,
            d.c.endpoint_id,
            d.c.attempts,
            e.c.url,
            e.c.secret,
            o.c.kind,
            o.c.payload,
            o.c.created_at,
            previous,
        )
        .join(e, e.c.endpoint_id == d.c.endpoint_id)
        .join(o, o.c.message_id == d.c.message_id)
        .where(d.c.message_id.in_(ids))
        .order_by(d.c.next_attempt_at, d.c.message_id, d.c.endpoint_id)
    ).all()
    return [
        ClaimedDelivery(**row._mapping)
        for row in rows
        if (row.message_id, row.endpoint_id) in wanted
    ]


def record_results(conn: Connection, results: Sequence[DeliveryResult], *, now: datetime) -> None:
    """Store how each send went; a message all of whose deliveries succeeded is delivered."""
    if not results:
        return
    d = t.webhook_deliveries
    values = {
        "state": sa.bindparam("b_state"),
        "last_status": sa.bindparam("b_status"),
        "last_error": sa.bindparam("b_error"),
        "delivered_at": sa.bindparam("b_delivered_at", type_=t.UtcDateTime()),
        # a delivered or dead row keeps its last due time (it is never due again)
        "next_attempt_at": sa.func.coalesce(
            sa.bindparam("b_next", type_=t.UtcDateTime()), d.c.next_attempt_at
        ),
    }
    stmt = (
        sa.update(d)
        .where(d.c.message_id == sa.bindparam("b_m"), d.c.endpoint_id == sa.bindparam("b_e"))
        .values(values)
    )
    conn.execute(
        stmt,
        [
            {
                "b_m": r.message_id,
                "b_e": r.endpoint_id,
                "b_state": r.state,
                "b_status": r.status,
                "b_error": r.error,
                "b_delivered_at": now if r.state == DELIVERED else None,
                "b_next": r.next_attempt_at,
            }
            for r in results
        ],
    )
    o = t.outbox
    open_rows = (
        sa.select(d.c.message_id)
        .where(d.c.message_id == o.c.message_id, d.c.state != DELIVERED)
        .exists()
    )
    ids = sorted({r.message_id for r in results if r.state == DELIVERED})
    if ids:
        conn.execute(
            sa.update(o)
            .where(o.c.message_id.in_(ids), o.c.delivered_at.is_(None), ~open_rows)
            .values(delivered_at=now)
        )


def rotate_secret(
    conn: Connection, endpoint_id: str, *, secret: str, previous_expires_at: datetime | None
) -> bool:
    """Make ``secret`` the endpoint's secret; the current one signs too until the deadline.

    With ``previous_expires_at`` ``None`` the current secret is dropped at once. A secret
    that was still in a grace period is dropped (only one previous secret is kept).
    Returns ``False`` if there is no endpoint with this id.
    """
    e = t.webhook_endpoints
    keep = previous_expires_at is not None
    stmt = (
        sa.update(e)
        .where(e.c.endpoint_id == endpoint_id)
        .values(
            # the right-hand side reads the row as it was before this update
            previous_secret=e.c.secret if keep else sa.null(),
            previous_secret_expires_at=previous_expires_at,
            secret=secret,
        )
    )
    return bool(conn.execute(stmt).rowcount)


def endpoint_exists(conn: Connection, endpoint_id: str) -> bool:
    """Whether a receiver with this id is registered."""
    e = t.webhook_endpoints
    stmt = sa.select(e.c.endpoint_id).where(e.c.endpoint_id == endpoint_id)
    return conn.execute(stmt).first() is not None


def replay_dead(
    conn: Connection,
    *,
    now: datetime,
    endpoint_id: str | None = None,
    message_id: str | None = None,
    since: datetime | None = None,
) -> int:
    """Put ``dead`` deliveries back to ``pending`` (attempts 0, due ``now``); returns how many.

    Only dead rows matching every given filter change: for ``endpoint_id``, for
    ``message_id``, of messages created at or after ``since``. The message id stays, so a
    receiver that did get an earlier attempt de-duplicates it. One statement.
    """
    d, o = t.webhook_deliveries, t.outbox
    stmt = (
        sa.update(d).where(d.c.state == DEAD).values(state=PENDING, attempts=0, next_attempt_at=now)
    )
    if endpoint_id is not None:
        stmt = stmt.where(d.c.endpoint_id == endpoint_id)
    if message_id is not None:
        stmt = stmt.where(d.c.message_id == message_id)
    if since is not None:
        recent = sa.select(o.c.message_id).where(o.c.created_at >= since)
        stmt = stmt.where(d.c.message_id.in_(recent))
    return int(conn.execute(stmt).rowcount)


@dataclass(frozen=True)
class PruneCounts:
    """What a prune deleted."""

    deliveries: int
    messages: int


def prune(conn: Connection, *, cutoff: datetime, limit: int) -> PruneCounts:
    """Delete up to ``limit`` finished deliveries and up to ``limit`` handled messages.

    Deleted: ``delivered`` deliveries delivered before ``cutoff``; ``dead`` ones whose last
    attempt was before it (a finished row keeps its last due time, the end of its last
    claim's lease); then outbox messages created and dispatched before ``cutoff`` that have
    no delivery row left. Never a pending delivery (nor so its message) nor an undispatched
    message. Two statements whatever the number of rows, each bounded by ``limit`` so that
    one transaction holds its locks briefly; call again while a count equals ``limit``.
    """
    d, o = t.webhook_deliveries, t.outbox
    finished = sa.or_(
        sa.and_(d.c.state == DELIVERED, d.c.delivered_at < cutoff),
        sa.and_(d.c.state == DEAD, d.c.next_attempt_at < cutoff),
    )
    old_deliveries = sa.select(d.c.message_id, d.c.endpoint_id).where(finished).limit(limit)
    deliveries = conn.execute(
        sa.delete(d).where(sa.tuple_(d.c.message_id, d.c.endpoint_id).in_(old_deliveries))
    ).rowcount
    any_delivery = sa.select(d.c.message_id).where(d.c.message_id == o.c.message_id).exists()
    old_messages = (
        sa.select(o.c.message_id)
        .where(
            o.c.dispatched_at.is_not(None),
            o.c.dispatched_at < cutoff,
            o.c.created_at < cutoff,
            ~any_delivery,
        )
        .limit(limit)
    )
    messages = conn.execute(sa.delete(o).where(o.c.message_id.in_(old_messages))).rowcount
    return PruneCounts(int(deliveries), int(messages))


def delivery_counts(conn: Connection) -> pl.DataFrame:
    """``endpoint_id, state, deliveries`` (how many deliveries each endpoint has per state)."""
    d = t.webhook_deliveries
    rows = conn.execute(
        sa.select(d.c.endpoint_id, d.c.state, sa.func.count().label("deliveries"))
        .group_by(d.c.endpoint_id, d.c.state)
        .order_by(d.c.endpoint_id, d.c.state)
    ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"endpoint_id": pl.String, "state": pl.String, "deliveries": pl.Int64},
        orient="row",
    )


def count_state(conn: Connection, state: str) -> int:
    """How many deliveries are in ``state`` (an index scan)."""
    d = t.webhook_deliveries
    stmt = sa.select(sa.func.count()).select_from(d).where(d.c.state == state)
    return int(conn.execute(stmt).scalar_one())


def read_deliveries(conn: Connection, *, state: str | None = None) -> pl.DataFrame:
    """Deliveries with their message kind: every column of ``webhook_deliveries`` + ``kind``."""
    d, o = t.webhook_deliveries, t.outbox
    stmt = sa.select(*d.columns, o.c.kind).join(o, o.c.message_id == d.c.message_id)
    if state is not None:
        stmt = stmt.where(d.c.state == state)
    stmt = stmt.order_by(d.c.next_attempt_at, d.c.message_id, d.c.endpoint_id)
    rows = conn.execute(stmt).all()
    schema: dict[str, pl.DataType] = {
        "message_id": pl.String(),
        "endpoint_id": pl.String(),
        "state": pl.String(),
        "attempts": pl.Int64(),
        "next_attempt_at": pl.Datetime("us", "UTC"),
        "delivered_at": pl.Datetime("us", "UTC"),
        "last_status": pl.Int64(),
        "last_error": pl.String(),
        "kind": pl.String(),
    }
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


__all__ = [
    "DEAD",
    "DELIVERED",
    "PENDING",
    "ClaimedDelivery",
    "DeliveryResult",
    "EndpointRow",
    "PruneCounts",
    "add_endpoint",
    "claim_due",
    "count_state",
    "delivery_counts",
    "dispatch",
    "endpoint_exists",
    "list_endpoints",
    "prune",
    "read_deliveries",
    "record_results",
    "remove_endpoint",
    "replay_dead",
    "rotate_secret",
]
