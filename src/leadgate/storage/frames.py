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
growing with the table, where the probe takes 0.03 ms). The array is one constant the
planner sees whole, which past about a thousand ids makes it scan instead (1,300 ids
among 200,000 leads: a 74 ms parallel scan where the probes take 16 ms).
"""
PROBE_IDS = 50_000
"""Up to this many ids (past :data:`ANY_IDS`), PostgreSQL still probes the index for each,
with an array the server builds from the JSON, which the planner takes for a few ids. An
ingest writer's group names a few thousand leads and events; among 1.5 million events,
the server took 34 ms against 20 to find 2,000 event ids by a JSON join and 3.9 s against
1.7 to read the events of 1,300 leads (on a store of a few thousand rows, where a scan is
cheap, probing costs a few ms more). Past it a scan and hash join is the plan anyway.
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


def _select_item(
    name: str, kind: Kind, postgres: bool, *, native: bool = False, iso: bool = False
) -> str:
    quoted = f'"{name}"'
    if not postgres or (native and kind != "json"):
        return quoted
    if kind == "ts" and iso:
        # The plain text of a UTC ``timestamp`` ("2026-01-02 03:04:05.5"), which the same
        # format parses: a fifth of ``to_char``'s server time. ``to_char`` gives NULL for
        # an infinite timestamp, so this does too.
        return f"CASE WHEN isfinite({quoted}) THEN {quoted} AT TIME ZONE 'UTC' END"
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
    iso = postgres and not native and _sql.iso_dates(conn)
    items = ", ".join(
        _select_item(name, kinds[name], postgres, native=native, iso=iso) for name in names
    )
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
            parts.append(_columns(rows, schema))
    finally:
        cursor.close()
    if not parts:
        return pl.DataFrame(schema=schema)
    return parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=True)


def _columns(rows: list[tuple[object, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Row tuples as a frame, built column by column (a transpose in C, then one typed
    series each): a fifth less CPU than Polars' row-wise builder for a group's leads.

    SQLite may hand back a value its column's affinity could not convert (``1200.5`` in an
    integer column, text in a numeric one), which the strict series refuse: such a chunk
    is built row-wise, as before, so every value converts exactly as it always did.
    """
    try:
        columns = [
            pl.Series(name, values, dtype=dtype)
            for (name, dtype), values in zip(schema.items(), zip(*rows, strict=True), strict=True)
        ]
    except (TypeError, OverflowError, pl.exceptions.PolarsError):
        return pl.DataFrame(rows, schema=schema, orient="row")
    return pl.DataFrame(columns)


def _final(name: str, kind: Kind) -> pl.Expr:
    if kind == "bool":
        return pl.col(name).cast(pl.Boolean)
    return pl.col(name).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")


def _expand_json(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Replace a JSON-object text column by one column per key (keys found in any row).

    Built with series and frame operations that run at once rather than as queries (each
    eager ``filter``, ``drop`` or ``select`` plans one): for a group's 1,300 leads that is
    half the expansion's time.
    """
    if column not in frame.columns:
        return frame
    out = frame.clone()  # shares the columns
    texts = out.drop_in_place(column)
    if not (texts.is_not_null() & (texts != "{}")).any():
        return out
    decoded = texts.str.json_decode(infer_schema_length=None)
    fields = [f for f in decoded.struct.fields if f not in out.columns]
    if not fields:
        return out
    unnested = decoded.struct.unnest()
    return out.hstack([unnested.get_column(name) for name in fields])


def _ids_filter(
    conn: Connection, column: str, ids: Sequence[object] | None
) -> tuple[list[str], list[object]]:
    if ids is None:
        return [], []
    texts = [str(value) for value in ids]
    if _sql.is_postgres(conn) and len(ids) <= ANY_IDS:
        return [f'"{column}" = ANY(%s::text[])'], [_pg_array(texts)]
    values = json.dumps(texts)
    if _sql.is_postgres(conn) and len(ids) <= PROBE_IDS:
        array = "ARRAY(SELECT jsonb_array_elements_text(%s::jsonb))"
        return [f'"{column}" = ANY({array})'], [values]
    if _sql.is_postgres(conn):
        return [f'"{column}" IN (SELECT jsonb_array_elements_text(%s::jsonb))'], [values]
    return [f'"{column}" IN (SELECT value FROM json_each(%s))'], [values]  # noqa: S608


def _pg_array(texts: list[str]) -> str | list[str]:
    """``texts`` as a PostgreSQL array literal (``{"a","b"}``), encoded in C by ``json``.

    Without a backslash in the JSON no text holds a quote, a backslash or a control
    character, so each is its JSON string exactly as an array element is quoted. Otherwise
    the list itself, which psycopg adapts value by value (for a thousand ids 1.2 ms of CPU
    to put into a COPY statement, against 0.2 for the literal).
    """
    encoded = json.dumps(texts, ensure_ascii=False, separators=(",", ":"))
    if "\\" in encoded:
        return texts
    return "{" + encoded[1:-1] + "}"


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
