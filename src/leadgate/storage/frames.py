"""Read tables back as Polars frames in the engine's canonical columns.

Ids come back as strings and timestamps as tz-aware UTC (``Datetime("us", "UTC")``).
PostgreSQL streams rows with ``COPY ... TO STDOUT`` (CSV parsed by Polars); SQLite fetches
plain tuples from the DBAPI cursor in chunks and builds columns in Polars. Both run on the
caller's connection, so they see its uncommitted writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.exceptions import UsageError
from leadgate.storage import _sql
from leadgate.storage import tables as t

Kind = Literal["str", "int", "float", "bool", "ts", "json"]
FETCH_ROWS = 500_000
ANY_IDS = 1_000
"""Up to this many ids, PostgreSQL matches them as ``= ANY(array)``: an index probe each.

Ids joined from a JSON array get the planner's blind guess of 100 rows, for which it
scans the whole table into a hash join (2.5 ms for one event id among 20,000 events, and
growing with the table, where the probe takes 0.03 ms); many ids still go that way.
"""
FEW_IDS = 100
"""Up to this many ids, a read by id is one plain query rather than COPY (PostgreSQL)."""

_READ_TYPES: dict[Kind, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Int8(),
    "ts": pl.String(),
    "json": pl.String(),
}


def _kind(column: sa.Column[object]) -> Kind:
    type_ = column.type
    if isinstance(type_, t.UtcDateTime):
        return "ts"
    if isinstance(type_, sa.Boolean):
        return "bool"
    if isinstance(type_, sa.Integer):
        return "int"
    if isinstance(type_, sa.Float):
        return "float"
    if isinstance(type_, sa.JSON) or column.name in {"attributes", "properties", "value"}:
        return "json"
    return "str"


_NATIVE_TYPES: dict[Kind, pl.DataType] = {
    **_READ_TYPES,
    "bool": pl.Boolean(),
    "ts": pl.Datetime("us", "UTC"),
}
"""Final dtypes of a plain PostgreSQL read: psycopg hands over ``bool`` and tz-aware
``datetime`` values, which Polars takes as they are (JSON still comes as text)."""


def _select_item(name: str, kind: Kind, postgres: bool, *, native: bool = False) -> str:
    quoted = f'"{name}"'
    if not postgres or (native and kind != "json"):
        return quoted
    if kind == "ts":
        return f"to_char({quoted} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    if kind == "bool":
        return f"{quoted}::int"
    if kind == "json":
        return f"{quoted}::text"
    return quoted


def _fetch(
    conn: Connection,
    table: sa.Table,
    names: Sequence[str],
    where: Sequence[str] = (),
    params: Sequence[object] = (),
    order_by: str | None = None,
    *,
    stream: bool = True,
) -> pl.DataFrame:
    """Select ``names`` from ``table`` into a frame with the final dtypes (JSON as text).

    On PostgreSQL the rows stream with COPY, which pays off for many rows but costs about a
    millisecond per call in round trips; ``stream=False`` runs one plain query instead (for
    a handful of rows, e.g. the service's small reads), whose timestamps and booleans come
    back as Python values already in their final dtypes: no text to parse afterwards.
    """
    postgres = _sql.is_postgres(conn)
    native = postgres and not stream
    kinds = {name: _kind(table.c[name]) for name in names}
    items = ", ".join(_select_item(name, kinds[name], postgres, native=native) for name in names)
    # Identifiers come from our own table metadata; values are always bound parameters.
    sql = f'SELECT {items} FROM "{table.name}"'  # noqa: S608
    if where:
        sql += " WHERE " + " AND ".join(where)
    if order_by:
        sql += f" ORDER BY {order_by}"
    if native:
        schema = {name: _NATIVE_TYPES[kinds[name]] for name in names}
        cursor = _sql.driver_connection(conn).cursor()
        try:
            cursor.execute(sql, list(params))
            return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")
        finally:
            cursor.close()
    schema = {name: _READ_TYPES[kinds[name]] for name in names}
    if postgres:
        import psycopg

        raw = _sql.driver_connection(conn)
        statement = psycopg.ClientCursor(raw).mogrify(sql, list(params)) if params else sql
        frame = _sql.copy_out(conn, statement, schema)
    else:
        frame = _fetch_sqlite(conn, sql, params, schema)
    return frame.with_columns(
        *(_final(name, kinds[name]) for name in names if kinds[name] in ("ts", "bool"))
    )


def _fetch_sqlite(
    conn: Connection, sql: str, params: Sequence[object], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    cursor = _sql.driver_connection(conn).cursor()
    try:
        cursor.execute(sql.replace("%s", "?"), tuple(params))
        parts: list[pl.DataFrame] = []
        while rows := cursor.fetchmany(FETCH_ROWS):
            parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
    finally:
        cursor.close()
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, rechunk=True)


def _final(name: str, kind: Kind) -> pl.Expr:
    if kind == "bool":
        return pl.col(name).cast(pl.Boolean)
    return pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")


def _expand_json(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Replace a JSON-object text column by one column per key (keys found in any row)."""
    if column not in frame.columns:
        return frame
    texts = frame[column]
    non_empty = texts.filter(texts.is_not_null() & (texts != "{}"))
    out = frame.drop(column)
    if non_empty.len() == 0:
        return out
    decoded = texts.str.json_decode(infer_schema_length=None)
    fields = [f for f in decoded.struct.fields if f not in out.columns]
    if not fields:
        return out
    return out.hstack(decoded.struct.unnest().select(fields))


def _ids_filter(
    conn: Connection, column: str, ids: Sequence[object] | None
) -> tuple[list[str], list[object]]:
    if ids is None:
        return [], []
    if _sql.is_postgres(conn) and len(ids) <= ANY_IDS:
        return [f'"{column}" = ANY(%s::text[])'], [[str(value) for value in ids]]
    values = json.dumps([str(value) for value in ids])
    if _sql.is_postgres(conn):
        return [f'"{column}" IN (SELECT jsonb_array_elements_text(%s::jsonb))'], [values]
    return [f'"{column}" IN (SELECT value FROM json_each(%s))'], [values]  # noqa: S608


def _streams(ids: Sequence[object] | None) -> bool:
    """Whether a read of the rows of ``ids`` (all when ``None``) streams with COPY.

    Up to :data:`FEW_IDS` ids it runs one plain query instead: COPY costs about a
    millisecond in round trips, much of a live group's read of a lead or two.
    """
    return ids is None or len(ids) > FEW_IDS


def _names(table: sa.Table, skip: Sequence[str] = ()) -> list[str]:
    return [col.name for col in table.columns if col.name not in skip]


def read_leads(conn: Connection, lead_ids: Sequence[object] | None = None) -> pl.DataFrame:
    """Leads with their lifecycle and latest-score columns; ``attributes`` become columns.

    Args:
        conn: Open connection.
        lead_ids: Only these leads (any id type; compared as strings); all when ``None``.
    """
    where, params = _ids_filter(conn, "lead_id", lead_ids)
    frame = _fetch(
        conn,
        t.leads,
        _names(t.leads),
        where,
        params,
        order_by='"lead_id"',
        stream=_streams(lead_ids),
    )
    return _expand_json(frame, "attributes")


def read_accounts(conn: Connection) -> pl.DataFrame:
    """Accounts; ``attributes`` (e.g. ``tech_stack``) become columns."""
    frame = _fetch(conn, t.accounts, _names(t.accounts), order_by='"account_id"')
    return _expand_json(frame, "attributes")


def read_events(
    conn: Connection,
    lead_ids: Sequence[object] | None = None,
    before: datetime | None = None,
) -> pl.DataFrame:
    """Events (``event_id, lead_id, event_type, occurred_at`` + properties as columns).

    Args:
        conn: Open connection.
        lead_ids: Only these leads' events; all when ``None``.
        before: Only events that occurred strictly before this tz-aware moment.
    """
    where, params = _ids_filter(conn, "lead_id", lead_ids)
    if before is not None:
        if before.tzinfo is None:
            raise UsageError("`before` must be timezone-aware.", hint="pass a UTC datetime")
        where.append('"occurred_at" < %s')
        params.append(_sql.now_text(_sql.is_postgres(conn), before))
    names = ["event_id", "lead_id", "event_type", "occurred_at", "properties"]
    frame = _fetch(conn, t.events, names, where, params)
    return _expand_json(frame, "properties")


def read_outcomes(conn: Connection) -> pl.DataFrame:
    """Opportunities with ``lead_id``, dates, ``amount`` and ``won``."""
    return _fetch(conn, t.outcomes, _names(t.outcomes), order_by='"opportunity_id"')


def read_stage_history(conn: Connection, lead_id: object | None = None) -> pl.DataFrame:
    """Stage changes in the order they were recorded, for one lead or all."""
    where, params = _ids_filter(conn, "lead_id", None if lead_id is None else [lead_id])
    return _fetch(conn, t.stage_history, _names(t.stage_history), where, params, order_by='"id"')
