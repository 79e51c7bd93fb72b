"""Teams, reps, assignments, SLA clocks, round-robin cursors and the outbox.

Every function takes the caller's connection and never commits. Rosters and clock updates
are small; assignments and clocks are written with one multi-row statement per call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from leadgate.storage import _sql
from leadgate.storage import tables as t
from leadgate.storage.frames import _fetch, _names
from leadgate.storage.live import FEW_LEADS, fetch_few


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if _sql.is_postgres(conn) else sqlite.insert)(table)


def _upsert(conn: Connection, table: sa.Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = _insert(conn, table)
    columns = [name for name in rows[0] if name != key]
    stmt = stmt.on_conflict_do_update(
        index_elements=[key], set_={name: stmt.excluded[name] for name in columns}
    )
    conn.execute(stmt, list(rows))


def save_roster(
    conn: Connection,
    teams: Sequence[dict[str, Any]],
    owners: Sequence[dict[str, Any]],
    absences: Sequence[dict[str, Any]],
) -> None:
    """Upsert teams and reps by id; the imported reps' absences replace their old ones."""
    _upsert(conn, t.teams, "team_id", teams)
    _upsert(conn, t.owners, "owner_id", owners)
    ids = [str(row["owner_id"]) for row in owners]
    if ids:
        conn.execute(sa.delete(t.owner_absences).where(t.owner_absences.c.owner_id.in_(ids)))
    if absences:
        conn.execute(sa.insert(t.owner_absences), list(absences))


def read_teams(conn: Connection) -> list[dict[str, Any]]:
    """Every team as a mapping of its columns (calendars as decoded JSON).

    Read on the DBAPI cursor (a routed live group reads the teams two or three times:
    SQLAlchemy's result machinery cost more than the query); psycopg decodes ``jsonb``
    itself, SQLite's JSON text is decoded here as SQLAlchemy would.
    """
    names = [col.name for col in t.teams.c]
    json_names = [col.name for col in t.teams.c if isinstance(col.type, sa.JSON)]
    listed = ", ".join(f'"{name}"' for name in names)
    cursor = _sql.driver_connection(conn).cursor()
    try:
        # Identifiers come from our own table metadata; there are no values.
        cursor.execute(f'SELECT {listed} FROM "{t.teams.name}" ORDER BY "team_id"')  # noqa: S608
        teams = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()
    if not _sql.is_postgres(conn):
        for team in teams:  # a roster's few teams
            for name in json_names:
                if isinstance(team[name], str):
                    team[name] = json.loads(team[name])
    return teams


def read_owners(conn: Connection) -> pl.DataFrame:
    """Reps: ``owner_id, team_id, capacity, active, out_of_office, weight, position``."""
    names = ["owner_id", "team_id", "capacity", "active", "out_of_office", "weight", "position"]
    return fetch_few(conn, t.owners, names, order_by='"owner_id"')  # a roster: few rows


OWNER_SCHEMA = pl.Schema(
    {
        "owner_id": pl.String(),
        "team_id": pl.String(),
        "capacity": pl.Int64(),
        "active": pl.Boolean(),
        "out_of_office": pl.Boolean(),
        "weight": pl.Float64(),
        "position": pl.Int64(),
    }
)


def read_owners_at(conn: Connection, at: datetime) -> pl.DataFrame:
    """:func:`read_owners` plus ``away``: whether each rep is absent at ``at``.

    One query (the absences as an ``EXISTS`` per rep) instead of two: routing reads the
    roster on every live group that routes a lead.
    """
    owners, absences = t.owners, t.owner_absences
    away = (
        sa.exists()
        .where(
            absences.c.owner_id == owners.c.owner_id,
            absences.c.starts_at <= at,
            absences.c.ends_at > at,
        )
        .label("away")
    )
    stmt = sa.select(*(owners.c[name] for name in OWNER_SCHEMA), away).order_by(owners.c.owner_id)
    rows = [tuple(row) for row in conn.execute(stmt)]
    schema = pl.Schema({**OWNER_SCHEMA, "away": pl.Boolean()})
    return pl.DataFrame(rows, schema=schema, orient="row")


def read_absences(conn: Connection, at: datetime) -> pl.DataFrame:
    """``owner_id`` of every rep absent at ``at``."""
    moment = _sql.now_text(_sql.is_postgres(conn), at)
    return fetch_few(
        conn,
        t.owner_absences,
        ["owner_id"],
        ['"starts_at" <= %s', '"ends_at" > %s'],
        [moment, moment],
    ).unique()


def read_assignments(conn: Connection, since: datetime | None = None) -> pl.DataFrame:
    """Assignments (all columns), optionally only those made at or after ``since``."""
    where, params = [], []
    if since is not None:
        where.append('"assigned_at" >= %s')
        params.append(_sql.now_text(_sql.is_postgres(conn), since))
    return _fetch(conn, t.assignments, _names(t.assignments), where, params, order_by='"id"')


def insert_assignments(conn: Connection, frame: pl.DataFrame) -> int:
    """Append assignment rows (columns of ``assignments`` except ``id``)."""
    return _insert_frame(conn, t.assignments, frame)


def account_owners(conn: Connection) -> pl.DataFrame:
    """``account_id, owner_id``: the owner of each account's most recently updated owned lead."""
    leads = t.leads
    frame = _fetch(
        conn,
        leads,
        ["account_id", "owner_id", "updated_at"],
        ['"owner_id" IS NOT NULL', '"account_id" IS NOT NULL'],
    )
    return (
        frame.sort("updated_at", "owner_id", descending=[True, False])
        .unique("account_id", keep="first", maintain_order=True)
        .select("account_id", "owner_id")
        .sort("account_id")
    )


def read_cursors(conn: Connection) -> pl.DataFrame:
    """``team_id, last_owner_id`` per team that has routed before."""
    names = ["team_id", "last_owner_id"]
    return fetch_few(conn, t.routing_cursors, names, order_by='"team_id"')  # one per team


def save_cursors(conn: Connection, frame: pl.DataFrame, *, now: datetime) -> None:
    """Upsert each team's round-robin cursor."""
    rows = [
        {"team_id": team, "last_owner_id": owner, "updated_at": now}
        for team, owner in frame.select("team_id", "last_owner_id").iter_rows()
    ]
    _upsert(conn, t.routing_cursors, "team_id", rows)


def read_clocks(
    conn: Connection, *, open_only: bool = False, lead_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """SLA clocks (all columns), optionally only running ones or those of some leads."""
    where: list[str] = ['"stopped_at" IS NULL'] if open_only else []
    params: list[object] = []
    if lead_ids is not None:
        marks = ", ".join(["%s"] * len(lead_ids)) or "NULL"
        where.append(f'"lead_id" IN ({marks})')
        params += [str(i) for i in lead_ids]
    fetch = fetch_few if lead_ids is not None and len(lead_ids) <= FEW_LEADS else _fetch
    return fetch(conn, t.sla_clocks, _names(t.sla_clocks), where, params, order_by='"id"')


def insert_clocks(conn: Connection, frame: pl.DataFrame) -> int:
    """Start SLA clocks (columns of ``sla_clocks`` except ``id``)."""
    return _insert_frame(conn, t.sla_clocks, frame)


def update_clocks(conn: Connection, frame: pl.DataFrame) -> int:
    """Set columns of existing clocks by ``id`` (every other column of ``frame`` is written)."""
    if frame.height == 0:
        return 0
    columns = [name for name in frame.columns if name != "id"]
    table = t.sla_clocks
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(f"b_{name}") for name in columns})
    )
    rows = [{f"b_{k}": v for k, v in row.items()} for row in frame.to_dicts()]
    return int(conn.execute(stmt, rows).rowcount or 0)


def add_to_outbox(conn: Connection, messages: Sequence[dict[str, Any]]) -> int:
    """Queue messages (``message_id, kind, payload, created_at``); a known id is skipped."""
    if not messages:
        return 0
    stmt = _insert(conn, t.outbox).on_conflict_do_nothing(index_elements=["message_id"])
    return int(conn.execute(stmt, list(messages)).rowcount or 0)


def read_outbox(conn: Connection) -> pl.DataFrame:
    """Every queued message, oldest first (``payload`` as JSON text)."""
    return _fetch(conn, t.outbox, _names(t.outbox), order_by='"created_at", "message_id"')


def _insert_frame(conn: Connection, table: sa.Table, frame: pl.DataFrame) -> int:
    if frame.height == 0:
        return 0
    columns = [name for name in frame.columns if name in table.c and name != "id"]
    conn.execute(sa.insert(table), frame.select(columns).to_dicts())
    return frame.height


__all__ = [
    "OWNER_SCHEMA",
    "account_owners",
    "add_to_outbox",
    "insert_assignments",
    "insert_clocks",
    "read_absences",
    "read_assignments",
    "read_clocks",
    "read_cursors",
    "read_outbox",
    "read_owners",
    "read_owners_at",
    "read_teams",
    "save_cursors",
    "save_roster",
    "update_clocks",
]
