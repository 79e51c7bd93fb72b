"""Low-level helpers shared by the bulk writers and the frame readers (dialect plumbing)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from leadgate.exceptions import StorageError, UsageError
from leadgate.storage.tables import SQLITE_TIMESTAMP_FORMAT

PG_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f+00"
JSON_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"
COPY_CHUNK_ROWS = 200_000
SMALL_WRITE_ROWS = 100
"""Up to this many rows a PostgreSQL write binds plain parameters instead of using COPY.

COPY through a temporary table costs five or six round trips (create, copy, analyze, count,
write, drop), about 1.5 ms whatever the size: nothing for an import, much of a live ingest
group's write time. A pipelined ``executemany`` is one round trip but costs the server a
statement per row; measured, the two break even at about 100 rows for a lead upsert and
200 for an event insert or a lead state update.
"""


def is_postgres(conn: Connection) -> bool:
    """Whether ``conn`` talks to PostgreSQL (else SQLite)."""
    return conn.dialect.name == "postgresql"


def driver_connection(conn: Connection) -> Any:
    """The DBAPI connection under ``conn`` (sqlite3 or psycopg), in the same transaction."""
    return conn.connection.driver_connection


def iso_dates(conn: Connection) -> bool:
    """Whether the PostgreSQL session prints dates in ISO style (``DateStyle`` ISO, the
    default), as reported by the server on connect and on change (no round trip)."""
    style = driver_connection(conn).info.parameter_status("DateStyle")
    return isinstance(style, str) and style.startswith("ISO")


def _plain(name: str, dtype: pl.DataType, *, timestamp_format: str) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise UsageError(
                f"Column {name!r} holds naive datetimes; leadgate stores tz-aware UTC only.",
                hint=f'use pl.col("{name}").dt.replace_time_zone("UTC") if the values are UTC',
            )
        return col.dt.convert_time_zone("UTC").dt.strftime(timestamp_format)
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("us", "UTC")).dt.strftime(timestamp_format)
    if isinstance(dtype, pl.Categorical | pl.Enum | pl.Time | pl.Duration | pl.Null):
        return col.cast(pl.String)
    if isinstance(dtype, pl.Decimal):
        return col.cast(pl.Float64)
    return col


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    """Run a writer's lazy query as written (no optimiser passes: plain projections of
    frames already in memory, where planning would cost more than it saves)."""
    return query.collect(engine="in-memory", optimizations=pl.QueryOptFlags.none())


def sql_values(
    frame: pl.DataFrame | pl.LazyFrame,
    columns: Sequence[str],
    *,
    postgres: bool,
    ids: Sequence[str] = (),
) -> list[pl.Expr]:
    """Expressions turning ``columns`` of ``frame`` into values the database accepts as is.

    Timestamps become UTC text in the dialect's format, ids become strings, categoricals
    strings. Computed column-wise in Polars so writers never touch values one by one.
    """
    fmt = PG_TIMESTAMP_FORMAT if postgres else SQLITE_TIMESTAMP_FORMAT
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    exprs: list[pl.Expr] = []
    for name in columns:
        if name in ids:
            exprs.append(pl.col(name).cast(pl.String).str.strip_chars().alias(name))
        else:
            exprs.append(_plain(name, schema[name], timestamp_format=fmt).alias(name))
    return exprs


def json_object(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Expr:
    """A JSON object text per row from ``columns`` (nulls included; the SQL strips them)."""
    if not columns:
        return pl.lit("{}", dtype=pl.String)
    fields = [
        _plain(name, frame.schema[name], timestamp_format=JSON_TIMESTAMP_FORMAT).alias(name)
        for name in columns
    ]
    return pl.struct(fields).struct.json_encode()


def now_text(postgres: bool, now: datetime) -> str:
    """``now`` (a tz-aware datetime) as timestamp text for the dialect.

    The text :func:`sql_values` writes for the same moment (``PG_TIMESTAMP_FORMAT`` or
    ``SQLITE_TIMESTAMP_FORMAT``), built in Python: one value does not need a Polars query,
    and a live group asks for several. A naive value is taken as UTC, as Polars takes it.
    """
    utc = now.replace(tzinfo=UTC) if now.utcoffset() is None else now.astimezone(UTC)
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
    )
    return f"{text}+00" if postgres else text


def execute_count(conn: Connection, stmt: sa.ClauseElement) -> int:
    """Run a parameterless statement and return its row count (reliable for INSERT too)."""
    compiled = stmt.compile(dialect=conn.dialect)
    if compiled.params:  # pragma: no cover - guards our own statement builders
        raise RuntimeError(f"unexpected parameters {sorted(compiled.params)}")
    return max(conn.exec_driver_sql(compiled.string).rowcount, 0)


def plain_write(conn: Connection, rows: int) -> bool:
    """Whether a write of ``rows`` rows runs plain statements (always on SQLite).

    Above :data:`SMALL_WRITE_ROWS` PostgreSQL writes stream with COPY instead.
    """
    return not is_postgres(conn) or rows <= SMALL_WRITE_ROWS


def compile_rows(dialect: Dialect, stmt: sa.ClauseElement) -> SQLCompiler:
    """``stmt`` compiled for :func:`execute_rows` (``executemany``: no implicit ``RETURNING``
    of generated keys, which nobody reads here).

    Writers that run the same statement for every live group memoise this per dialect and
    statement shape (``functools.lru_cache``): compiling an update of a lead's 28 state
    columns costs most of a millisecond, more than the update itself.
    """
    return cast(SQLCompiler, stmt.compile(dialect=dialect, for_executemany=True))


def execute_rows(
    conn: Connection, stmt: sa.ClauseElement | SQLCompiler, frame: pl.DataFrame
) -> int:
    """Run ``stmt`` once per row of ``frame`` in one ``executemany``; the affected row count.

    ``frame`` columns are named like the statement's bound parameters and hold values the
    database accepts as is (see :func:`sql_values`). SQLite binds ``?`` tuples; psycopg binds
    ``%(name)s`` dicts and pipelines the rows, so a few rows cost one round trip. ``stmt``
    may come compiled already (see :func:`compile_rows`).
    """
    if frame.height == 0:
        return 0
    compiled = stmt if isinstance(stmt, SQLCompiler) else compile_rows(conn.dialect, stmt)
    params: list[tuple[Any, ...]] | list[dict[str, Any]]
    if compiled.positiontup is not None:
        order = list(compiled.positiontup)
        params = (frame if frame.columns == order else frame.select(order)).rows()
    else:
        names = list(compiled.params)
        params = (frame if set(frame.columns) == set(names) else frame.select(names)).to_dicts()
    return max(conn.exec_driver_sql(compiled.string, params).rowcount, 0)


@contextmanager
def temp_table(
    conn: Connection, source: sa.Table, columns: Sequence[str]
) -> Iterator[sa.TableClause]:
    """A PostgreSQL temporary table with ``columns`` typed as in ``source``; dropped after use."""
    name = f"_lg_{source.name}_{uuid.uuid4().hex[:10]}"
    cols = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(
        # Identifiers come from our own table metadata, never from user input.
        f'CREATE TEMPORARY TABLE "{name}" ON COMMIT DROP AS SELECT {cols} FROM "{source.name}" '  # noqa: S608
        "WITH NO DATA"
    )
    try:
        yield sa.table(name, *(sa.column(c) for c in columns))
    finally:
        if not conn.closed and conn.in_transaction() and not _aborted(conn):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')


def _aborted(conn: Connection) -> bool:
    status = getattr(driver_connection(conn).info, "transaction_status", None)
    return status is not None and int(status) == 3  # psycopg TransactionStatus.INERROR


def copy_in(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    """Stream ``frame`` (already in SQL values) into ``table`` with PostgreSQL ``COPY``."""
    if frame.height == 0:
        return
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    sql = f'COPY "{table}" ({cols}) FROM STDIN (FORMAT csv)'
    raw = driver_connection(conn)
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for offset in range(0, frame.height, COPY_CHUNK_ROWS):
                chunk = frame.slice(offset, COPY_CHUNK_ROWS)
                copy.write(chunk.write_csv(include_header=False).encode())
    except Exception as exc:
        raise wrap_error(exc, f"COPY into {table}") from exc


def analyze(conn: Connection, table: str) -> None:
    """Give a freshly filled temporary table statistics before it is joined to a big table.

    Without them the planner guesses its size and may pick a row-by-row join.
    """
    conn.exec_driver_sql(f'ANALYZE "{table}"')


def copy_out(conn: Connection, select_sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run ``select_sql`` on PostgreSQL through ``COPY ... TO STDOUT`` into a frame."""
    raw = driver_connection(conn)
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({select_sql}) TO STDOUT (FORMAT csv)") as cp:
        for data in cp:
            buffer.write(data)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)


def wrap_error(exc: BaseException, what: str) -> StorageError:
    """A ``StorageError`` explaining a database error raised while doing ``what``."""
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return StorageError(
        f"The database refused {what}: {first}",
        hint="check ids, foreign keys (account, owner, lead) and unique e-mails/domains",
        code="storage_integrity",
    )
