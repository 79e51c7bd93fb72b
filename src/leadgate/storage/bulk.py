"""Fast, idempotent bulk writes from Polars frames (canonical columns of ``leadgate.model``).

Every writer takes a :class:`~sqlalchemy.engine.Connection` and never commits: the caller owns
the transaction (or uses :func:`write_in_batches`, which commits one batch at a time).

SQLite runs one ``executemany`` of a Core-built ``INSERT ... ON CONFLICT`` on plain tuples, and
so does PostgreSQL for up to :data:`~leadgate.storage._sql.SMALL_WRITE_ROWS` rows (the live
ingest path: one pipelined round trip). Bigger PostgreSQL batches stream with ``COPY`` into a
temporary table and run one ``INSERT ... SELECT ... ON CONFLICT`` (or ``UPDATE ... FROM``).
Both paths store the same rows and return the same counts. Values are prepared column-wise in
Polars (timestamps as UTC text, extra columns as JSON text), never row by row.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql.compiler import SQLCompiler

from leadgate.exceptions import UsageError
from leadgate.model import columns as c
from leadgate.storage import _sql
from leadgate.storage import tables as t


@dataclass(frozen=True)
class WriteCounts:
    """How many rows a write inserted, updated, or found already identical."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        """All rows the write looked at."""
        return self.inserted + self.updated + self.unchanged

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


Writer = Callable[[Connection, pl.DataFrame], WriteCounts]

ID_COLUMNS = (
    "lead_id",
    "account_id",
    "event_id",
    "owner_id",
    "opportunity_id",
    "model_version",
)
_MANAGED = ("attributes", "properties", "updated_at", "received_at")
LEAD_STATE_COLUMNS = tuple(
    col.name
    for col in t.leads.columns
    if col.name not in {"lead_id", "email", "attributes", "created_at", "updated_at"}
)
"""Columns :func:`update_lead_state` may set (lifecycle, latest scores, owner, model)."""


@dataclass(frozen=True)
class _Plan:
    """Which frame columns go where for one upsert."""

    table: sa.Table
    key: str
    columns: tuple[str, ...]  # table columns the frame provides (key first)
    defaults: tuple[str, ...]  # filled by the writer on insert only (created_at)
    json_column: str | None
    extras: tuple[str, ...]  # frame columns that go into the JSON column


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise UsageError("`now` must be timezone-aware.", hint="pass datetime.now(UTC)")
    return now


def _require(frame: pl.DataFrame, required: Sequence[str], what: str) -> None:
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise UsageError(
            f"The {what} frame lacks required column(s) {missing}.",
            hint=f"a {what} frame needs {list(required)}; see leadgate.model.columns",
        )


def _plan(
    table: sa.Table,
    frame: pl.DataFrame,
    key: str,
    *,
    json_column: str | None,
    skip: Sequence[str] = (),
) -> _Plan:
    names = set(table.columns.keys())
    provided = [key] + [
        col for col in frame.columns if col in names and col != key and col not in _MANAGED
    ]
    extras: list[str] = []
    if json_column is not None:
        extras = [
            col
            for col in frame.columns
            if col not in names and col not in skip and not col.startswith(c.ACCOUNT_PREFIX)
        ]
    defaults = tuple(
        col for col in ("created_at",) if col in names and col not in provided and col != key
    )
    return _Plan(table, key, tuple(provided), defaults, json_column, tuple(extras))


def _values(
    conn: Connection, plan: _Plan, frame: pl.DataFrame, now: datetime, *, touch: bool
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The batch as SQL-ready values and the table columns they fill, in order."""
    postgres = _sql.is_postgres(conn)
    # One query (a live group writes a row or two: each eager step's fixed cost would be
    # most of the work), unless whole numbers must be checked first.
    lazy = (
        frame.lazy()
        .filter(pl.col(plan.key).is_not_null())
        .unique(subset=[plan.key], keep="last", maintain_order=True)
    )
    if _needs_whole_numbers(plan, frame.schema):
        frame = _whole_numbers(plan, _sql.collect(lazy))
        lazy = frame.lazy()
    exprs = _sql.sql_values(frame, plan.columns, postgres=postgres, ids=ID_COLUMNS)
    stamp = _sql.now_text(postgres, now)
    cols = list(plan.columns)
    for name in plan.defaults:
        exprs.append(pl.lit(stamp).alias(name))
        cols.append(name)
    if plan.json_column is not None:
        exprs.append(_sql.json_object(frame, plan.extras).alias(plan.json_column))
        cols.append(plan.json_column)
    if touch:
        exprs.append(pl.lit(stamp).alias("updated_at"))
        cols.append("updated_at")
    return _sql.collect(lazy.select(exprs)), tuple(cols)


def _needs_whole_numbers(plan: _Plan, schema: pl.Schema) -> bool:
    return any(
        isinstance(plan.table.c[name].type, sa.Integer) and schema[name].is_float()
        for name in plan.columns
    )


def _whole_numbers(plan: _Plan, frame: pl.DataFrame) -> pl.DataFrame:
    """Integer columns given as floats: whole values become integers, fractions are refused.

    Every path then agrees: COPY would refuse even ``1200.0``, a bound parameter would round
    ``12.7`` and SQLite would store it as a real.
    """
    for name in plan.columns:
        dtype = frame.schema[name]
        if not (isinstance(plan.table.c[name].type, sa.Integer) and dtype.is_float()):
            continue
        value = pl.col(name)
        wrong = value.is_not_null() & (value.is_finite().not_() | (value != value.round()))
        fractional = frame.filter(wrong)
        if fractional.height:
            raise UsageError(
                f"Column {name!r} must hold whole numbers (got {fractional[name][0]!r}).",
                hint=f"round {name!r} before importing, or leave it empty",
            )
        frame = frame.with_columns(value.cast(pl.Int64))
    return frame


def _normalise_lower(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    if column not in frame.columns:
        return frame
    value = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return frame.with_columns(pl.when(value == "").then(None).otherwise(value).alias(column))


# --- SQL builders ------------------------------------------------------------------------


def _strip_nulls(postgres: bool, expr: sa.ColumnElement[object]) -> sa.ColumnElement[object]:
    if postgres:
        return sa.func.jsonb_strip_nulls(expr)
    # RFC 7396: patching {} with an object drops its null members.
    return sa.func.json_patch(sa.literal_column("'{}'"), expr)


def _merge_json(
    postgres: bool, current: sa.ColumnElement[object], incoming: sa.ColumnElement[object]
) -> sa.ColumnElement[object]:
    empty: sa.ColumnElement[object] = sa.literal_column("'{}'::jsonb" if postgres else "'{}'")
    base = sa.func.coalesce(current, empty)
    if postgres:
        return base.op("||")(incoming)
    return sa.func.json_patch(base, incoming)


def _upsert_statement(
    postgres: bool,
    plan: _Plan,
    cols: Sequence[str],
    source: sa.TableClause | None,
    *,
    do_nothing: bool,
    strip: bool = True,
) -> sa.Insert:
    """``INSERT ... ON CONFLICT`` that updates only rows whose values really change.

    ``strip=False`` binds the JSON column as it comes: for a frame without extra columns
    every value is ``{}``, which stripping nulls leaves as it is (the events of an ingest
    group: ~6 % of their insert on SQLite, a ``json_patch`` per row).
    """
    table = plan.table
    json_col = plan.json_column
    stmt: postgresql.Insert | sqlite.Insert
    if source is not None:
        select_cols: list[sa.ColumnElement[object]] = [
            _strip_nulls(True, source.c[col]).label(col) if col == json_col else source.c[col]
            for col in cols
        ]
        stmt = postgresql.insert(table).from_select(list(cols), sa.select(*select_cols))
    else:
        values: dict[str, sa.ColumnElement[object]] = {
            col: _strip_nulls(postgres, sa.bindparam(col))
            if col == json_col and strip
            else sa.bindparam(col)
            for col in cols
        }
        stmt = (postgresql.insert if postgres else sqlite.insert)(table).values(values)
    if do_nothing:
        return stmt.on_conflict_do_nothing(index_elements=[plan.key])
    excluded = stmt.excluded
    changed: list[sa.ColumnElement[bool]] = []
    set_: dict[str, sa.ColumnElement[object]] = {}
    for col in plan.columns:
        if col == plan.key:
            continue
        set_[col] = excluded[col]
        changed.append(table.c[col].is_distinct_from(excluded[col]))
    if json_col is not None:
        merged = _merge_json(postgres, table.c[json_col], excluded[json_col])
        set_[json_col] = merged
        changed.append(table.c[json_col].is_distinct_from(merged))
    if "updated_at" in cols:
        set_["updated_at"] = excluded["updated_at"]
    return stmt.on_conflict_do_update(
        index_elements=[plan.key], set_=set_, where=sa.or_(sa.false(), *changed)
    )


@functools.lru_cache(maxsize=128)
def _plain_upsert(
    dialect: Dialect, plan: _Plan, cols: tuple[str, ...], *, do_nothing: bool, strip: bool
) -> SQLCompiler:
    """The bound-parameter upsert of ``plan`` (see :func:`_upsert_statement`), compiled."""
    postgres = dialect.name == "postgresql"
    stmt = _upsert_statement(postgres, plan, cols, None, do_nothing=do_nothing, strip=strip)
    return _sql.compile_rows(dialect, stmt)


def _count_existing(conn: Connection, plan: _Plan, keys: pl.Series) -> int:
    key = plan.table.c[plan.key]
    if _sql.is_postgres(conn):  # only for small writes: a few bound keys
        stmt = sa.select(sa.func.count()).where(key.in_(keys.to_list()))
        return int(conn.execute(stmt).scalar_one())
    ids = json.dumps(keys.to_list())
    stmt = sa.select(sa.func.count()).where(
        key.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(sa.literal(ids))))
    )
    return int(conn.execute(stmt).scalar_one())


def _upsert(
    conn: Connection,
    plan: _Plan,
    frame: pl.DataFrame,
    *,
    now: datetime | None,
    do_nothing: bool = False,
    touch: bool = True,
) -> WriteCounts:
    seen = frame.height
    values, cols = _values(conn, plan, frame, _now(now), touch=touch)
    if values.height == 0:
        return WriteCounts(unchanged=seen)
    duplicates = seen - values.height
    try:
        if not _sql.plain_write(conn, values.height):
            with _sql.temp_table(conn, plan.table, cols) as tmp:
                _sql.copy_in(conn, tmp.name, values)
                existing = 0
                if not do_nothing:
                    _sql.analyze(conn, tmp.name)
                    join = tmp.join(plan.table, tmp.c[plan.key] == plan.table.c[plan.key])
                    count = sa.select(sa.func.count()).select_from(join)
                    existing = int(conn.execute(count).scalar_one())
                stmt = _upsert_statement(True, plan, cols, tmp, do_nothing=do_nothing)
                written = _sql.execute_count(conn, stmt)
        else:
            existing = 0 if do_nothing else _count_existing(conn, plan, values[plan.key])
            shape = dataclasses.replace(plan, extras=())  # the statement ignores extras
            compiled = _plain_upsert(
                conn.dialect, shape, tuple(cols), do_nothing=do_nothing, strip=bool(plan.extras)
            )
            written = _sql.execute_rows(conn, compiled, values)
    except sa.exc.DBAPIError as exc:
        raise _sql.wrap_error(exc, f"a write to {plan.table.name}") from exc
    if do_nothing:
        return WriteCounts(inserted=written, unchanged=seen - written)
    inserted = values.height - existing
    updated = written - inserted
    return WriteCounts(inserted, updated, existing - updated + duplicates)


# --- public writers ----------------------------------------------------------------------


def upsert_accounts(
    conn: Connection, frame: pl.DataFrame, *, now: datetime | None = None
) -> WriteCounts:
    """Insert or update accounts by ``account_id``.

    Known columns (name, domain, industry, employees, annual_revenue, country, created_at)
    overwrite; other columns are merged into ``attributes`` (a null never erases a stored
    attribute). ``domain`` is stored lower-case and must be unique.

    Returns:
        Inserted, updated and unchanged row counts.
    """
    _require(frame, c.ACCOUNT_REQUIRED, "accounts")
    frame = _normalise_lower(frame, c.DOMAIN)
    plan = _plan(t.accounts, frame, c.ACCOUNT_ID, json_column="attributes")
    return _upsert(conn, plan, frame, now=now)


def upsert_leads(
    conn: Connection, frame: pl.DataFrame, *, now: datetime | None = None
) -> WriteCounts:
    """Insert or update leads by ``lead_id``.

    Columns of the ``leads`` table overwrite (e-mail normalised to lower case, unique);
    other columns (custom fields, discovery answers such as ``budget_confirmed``) are merged
    into ``attributes``; a null never erases a stored attribute. Joined ``account.*``
    columns are ignored. An update that changes nothing counts as unchanged.

    Raises:
        StorageError: On a duplicate e-mail or an unknown ``account_id``/``owner_id``.
    """
    _require(frame, c.LEAD_REQUIRED, "leads")
    frame = _normalise_lower(frame, c.EMAIL)
    if c.STAGE in frame.columns:
        frame = frame.with_columns(pl.col(c.STAGE).cast(pl.String).fill_null("new"))
    plan = _plan(t.leads, frame, c.LEAD_ID, json_column="attributes")
    return _upsert(conn, plan, frame, now=now)


def insert_events(
    conn: Connection, frame: pl.DataFrame, *, now: datetime | None = None
) -> WriteCounts:
    """Insert events, idempotent by ``event_id`` (already stored ids count as unchanged).

    Columns other than ``event_id, lead_id, event_type, occurred_at`` become ``properties``
    JSON (nulls dropped). Without an ``event_id`` column one is derived from
    ``lead_id:event_type:occurred_at`` (epoch microseconds) so re-imports stay idempotent.
    """
    _require(frame, c.EVENT_REQUIRED, "events")
    if c.EVENT_ID not in frame.columns:
        frame = frame.with_columns(
            pl.concat_str(
                pl.col(c.LEAD_ID).cast(pl.String),
                pl.col(c.EVENT_TYPE).cast(pl.String),
                pl.col(c.OCCURRED_AT).dt.epoch("us").cast(pl.String),
                separator=":",
            ).alias(c.EVENT_ID)
        )
    plan = _plan(t.events, frame, c.EVENT_ID, json_column="properties")
    plan = _Plan(plan.table, plan.key, plan.columns, ("received_at",), "properties", plan.extras)
    # In key order (a stable sort: of equal ids the last still wins): the random ids of a
    # batch then walk the primary-key index once instead of jumping about (~20 % less CPU
    # for 4,000 events on SQLite).
    frame = frame.sort(c.EVENT_ID, maintain_order=True)
    return _upsert(conn, plan, frame, now=now, do_nothing=True, touch=False)


def upsert_outcomes(
    conn: Connection, frame: pl.DataFrame, *, now: datetime | None = None
) -> WriteCounts:
    """Insert or update opportunities by ``opportunity_id``.

    Without an ``opportunity_id`` column one is derived as
    ``lead_id@<opportunity_created_at epoch µs>``. Columns not in ``outcomes`` are ignored.
    """
    _require(frame, (c.LEAD_ID,), "outcomes")
    if "opportunity_id" not in frame.columns:
        created = (
            pl.col(c.OPPORTUNITY_CREATED_AT).dt.epoch("us").cast(pl.String)
            if c.OPPORTUNITY_CREATED_AT in frame.columns
            else pl.lit("0")
        )
        frame = frame.with_columns(
            pl.concat_str(
                pl.col(c.LEAD_ID).cast(pl.String), created.fill_null("0"), separator="@"
            ).alias("opportunity_id")
        )
    plan = _plan(t.outcomes, frame, "opportunity_id", json_column=None)
    return _upsert(conn, plan, frame, now=now, touch=False)


@functools.lru_cache(maxsize=128)
def _history_insert(dialect: Dialect, cols: tuple[str, ...]) -> SQLCompiler:
    stmt = sa.insert(t.stage_history).values({col: sa.bindparam(col) for col in cols})
    return _sql.compile_rows(dialect, stmt)


def append_stage_history(conn: Connection, frame: pl.DataFrame) -> int:
    """Append stage changes (``lead_id, to_stage, action, occurred_at`` plus optional
    ``from_stage, actor, reason, model_version, fit_score, engagement_score, product_score,
    grade``).

    Returns:
        The number of rows written.
    """
    _require(frame, ("lead_id", "to_stage", "action", "occurred_at"), "stage history")
    postgres = _sql.is_postgres(conn)
    cols = [col for col in frame.columns if col in t.stage_history.columns and col != "id"]
    values = frame.select(_sql.sql_values(frame, cols, postgres=postgres, ids=ID_COLUMNS))
    try:
        if not _sql.plain_write(conn, values.height):
            _sql.copy_in(conn, t.stage_history.name, values)
            return values.height
        return _sql.execute_rows(conn, _history_insert(conn.dialect, tuple(cols)), values)
    except sa.exc.DBAPIError as exc:
        raise _sql.wrap_error(exc, "a write to stage_history") from exc


@functools.lru_cache(maxsize=128)
def _state_update(dialect: Dialect, sets: tuple[str, ...]) -> SQLCompiler:
    """``UPDATE leads`` of ``sets`` by ``lead_id`` (parameters ``v_<column>``), compiled."""
    leads = t.leads
    update = (
        sa.update(leads)
        .values({col: sa.bindparam(f"v_{col}") for col in sets})
        .where(leads.c.lead_id == sa.bindparam("v_lead_id"))
    )
    return _sql.compile_rows(dialect, update)


def update_lead_state(conn: Connection, frame: pl.DataFrame, *, now: datetime | None = None) -> int:
    """Set lifecycle, latest-score and model columns of many existing leads by ``lead_id``.

    Only the :data:`LEAD_STATE_COLUMNS` present in ``frame`` are written (a null overwrites);
    other columns are ignored. Unknown lead ids are skipped.

    Returns:
        The number of leads updated.
    """
    _require(frame, (c.LEAD_ID,), "lead state")
    cols = [c.LEAD_ID] + [col for col in frame.columns if col in LEAD_STATE_COLUMNS]
    if len(cols) == 1:
        return 0
    # One query for the few rows of a live group as for a batch: each eager step's fixed
    # cost would be most of the work for a lead or two.
    lazy = frame.lazy()
    if c.STAGE in frame.columns:
        lazy = lazy.with_columns(pl.col(c.STAGE).cast(pl.String).fill_null("new"))
    postgres = _sql.is_postgres(conn)
    lazy = lazy.unique(subset=[c.LEAD_ID], keep="last", maintain_order=True)
    stamp = _sql.now_text(postgres, _now(now))
    values = _sql.collect(
        lazy.select(
            *_sql.sql_values(lazy, cols, postgres=postgres, ids=ID_COLUMNS),
            pl.lit(stamp).alias("updated_at"),
        )
    )
    sets = [*cols[1:], "updated_at"]
    leads = t.leads
    try:
        if not _sql.plain_write(conn, values.height):
            with _sql.temp_table(conn, leads, [*cols, "updated_at"]) as tmp:
                _sql.copy_in(conn, tmp.name, values)
                _sql.analyze(conn, tmp.name)
                stmt = (
                    sa.update(leads)
                    .values({col: tmp.c[col] for col in sets})
                    .where(leads.c.lead_id == tmp.c.lead_id)
                )
                return _sql.execute_count(conn, stmt)
        values.columns = [f"v_{col}" for col in values.columns]  # our own frame: no copy
        return _sql.execute_rows(conn, _state_update(conn.dialect, tuple(sets)), values)
    except sa.exc.DBAPIError as exc:
        raise _sql.wrap_error(exc, "an update of leads") from exc


def save_model(
    conn: Connection,
    version: str,
    name: str,
    content_hash: str,
    artifact_json: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Store a compiled model artifact once; returns ``True`` if it was new."""
    row = {
        "version": version,
        "name": name,
        "content_hash": content_hash,
        "artifact": artifact_json,
        "created_at": _now(now),
    }
    insert = postgresql.insert if _sql.is_postgres(conn) else sqlite.insert
    stmt = insert(t.models).values(row).on_conflict_do_nothing(index_elements=["version"])
    return conn.execute(stmt.returning(t.models.c.version)).first() is not None


def write_in_batches(
    engine: Engine,
    frame: pl.DataFrame,
    writer: Writer,
    *,
    batch_size: int = 50_000,
    on_batch: Callable[[int, WriteCounts], None] | None = None,
) -> WriteCounts:
    """Write ``frame`` with ``writer`` in batches, each committed in its own transaction.

    An interrupted run leaves only whole batches behind, and re-running is safe because every
    writer is idempotent.

    Args:
        engine: Where to write.
        frame: Rows to write.
        writer: E.g. :func:`upsert_leads` or :func:`insert_events`.
        batch_size: Rows per transaction.
        on_batch: Called after each commit with (rows done so far, that batch's counts).

    Returns:
        The summed counts.
    """
    if batch_size < 1:
        raise UsageError("batch_size must be at least 1.", hint="e.g. batch_size=50_000")
    total = WriteCounts()
    for offset in range(0, frame.height, batch_size):
        batch = frame.slice(offset, batch_size)
        with engine.begin() as conn:
            counts = writer(conn, batch)
        total += counts
        if on_batch is not None:
            on_batch(offset + batch.height, counts)
    return total
