"""The cheaper paths of an ingest group's big reads and writes store and read what the
plain ones do.

SQLite rows are built into frames column by column (row-wise when a value has another type
than its column); PostgreSQL prints timestamps as plain ISO text rather than through
``to_char`` when the session's ``DateStyle`` is ISO; events without extra columns bind
``{}`` as it is rather than stripping its nulls. Each case compares with the other path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from leadgate.storage import _sql, bulk, frames, live
from leadgate.storage import tables as t

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
UTC_DT = pl.Datetime("us", "UTC")


def _store(engine: Engine) -> None:
    accounts = pl.DataFrame(
        {"account_id": ["A1", "A2"], "name": ["Acme", "Bolt"], "employees": [120, None]}
    )
    leads = pl.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(5)],
            "email": [f"p{i}@example.com" for i in range(5)],
            "account_id": ["A1", "A1", "A2", None, "A2"],
            "title": ["VP Sales", None, "CEO", "CTO", None],
            "seats": [1, None, 3, 4, None],
            "fit_score": [10.5, None, 1 / 3, 0.1 + 0.2, 99.0],
            # whole seconds, a half, one microsecond: the text forms that differ
            "created_at": [
                T0,
                T0 + timedelta(microseconds=500_000),
                T0 + timedelta(microseconds=1),
                T0 + timedelta(days=400, microseconds=123_456),
                datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
            ],
        },
        schema_overrides={"created_at": UTC_DT},
    )
    with engine.begin() as conn:
        bulk.upsert_accounts(conn, accounts, now=T0)
        bulk.upsert_leads(conn, leads, now=T0)
        moves = pl.DataFrame(
            {
                "lead_id": ["L0", "L2"],
                "stage": ["mql", "sal"],
                "became_mql_at": [T0 + timedelta(hours=1, microseconds=10), None],
                "became_sal_at": [None, T0 + timedelta(hours=2)],
                "recheck_at": [None, T0 + timedelta(days=30, microseconds=700_000)],
            },
            schema_overrides={"became_mql_at": UTC_DT, "became_sal_at": UTC_DT},
        )
        bulk.update_lead_state(conn, moves, now=T0 + timedelta(minutes=5))


def _reads(conn: Connection) -> list[pl.DataFrame]:
    ids = ["L0", "L1", "L2", "L3", "L4"]
    return [
        frames.read_leads(conn),
        frames.read_leads(conn, ids),  # a plain query on PostgreSQL (few ids)
        frames.read_accounts(conn),
        frames.read_stage_history(conn),
        live.lead_states(conn, ids),
    ]


def test_iso_timestamp_text_reads_as_to_char_does(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(engine)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:
            assert _sql.iso_dates(conn)  # the server's default
        iso = _reads(conn)
        with monkeypatch.context() as patch:
            patch.setattr(_sql, "iso_dates", lambda _conn: False)
            to_char = _reads(conn)
    for plain, charred in zip(iso, to_char, strict=True):
        assert plain.schema == charred.schema
        assert plain.equals(charred)
    leads = iso[0].sort("lead_id")
    assert leads.get_column("created_at").to_list()[1] == T0 + timedelta(microseconds=500_000)
    assert leads.get_column("created_at").to_list()[2] == T0 + timedelta(microseconds=1)
    assert leads.get_column("recheck_at").to_list()[2] == T0 + timedelta(
        days=30, microseconds=700_000
    )
    assert leads.get_column("fit_score").to_list()[3] == 0.1 + 0.2


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite has no infinity
def test_infinite_timestamps_stream_as_null_on_both_paths(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``to_char`` gives NULL for an infinite timestamp, and so does the plain text path
    (only streamed reads: a plain query's driver refuses one either way)."""
    _store(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("UPDATE leads SET recheck_at = 'infinity' WHERE lead_id = 'L4'")
        iso = frames.read_leads(conn)
        monkeypatch.setattr(_sql, "iso_dates", lambda _conn: False)
        to_char = frames.read_leads(conn)
        conn.rollback()
    assert iso.equals(to_char)
    assert iso.filter(pl.col("lead_id") == "L4").get_column("recheck_at").item() is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL refuses them
def test_sqlite_values_of_another_type_read_as_before(engine: Engine) -> None:
    """SQLite keeps a value its column's affinity cannot convert without loss (a fraction
    in an integer column), which a strict typed series refuses: such chunks are built
    row-wise, converting exactly as the row builder always did (here: truncating)."""
    _store(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE accounts SET employees = 1200.5 WHERE account_id = 'A2'")
        accounts = frames.read_accounts(conn).sort("account_id")
        raw = _sql.driver_connection(conn).cursor()
        rows: list[tuple[Any, ...]] = raw.execute(
            "SELECT account_id, employees FROM accounts ORDER BY account_id"
        ).fetchall()
        raw.close()
    assert rows[1][1] == 1200.5  # stored as given
    assert accounts.get_column("employees").to_list() == [120, 1200]
    schema = {"account_id": pl.String(), "employees": pl.Int64()}
    assert frames._columns(rows, schema).equals(pl.DataFrame(rows, schema=schema, orient="row"))


def test_chunked_sqlite_reads_match_one_chunk(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(engine)
    with engine.connect() as conn:
        whole = _reads(conn)
        monkeypatch.setattr(frames, "FETCH_ROWS", 2)
        chunked = _reads(conn)
    for one, many in zip(whole, chunked, strict=True):
        assert one.schema == many.schema
        assert one.equals(many)


def _properties(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        query = sa.select(t.events.c.event_id, t.events.c.properties)
        stored = {row[0]: row[1] for row in conn.execute(query)}
        if engine.dialect.name == "sqlite":  # the text itself, not only its meaning
            text = conn.exec_driver_sql("SELECT event_id, properties FROM events")
            stored |= {f"text:{row[0]}": row[1] for row in text}
    return stored


def test_events_without_extras_store_what_stripping_stores(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(engine)
    base = {
        "lead_id": ["L0", "L1"],
        "event_type": ["page_view", "email_open"],
        "occurred_at": [T0, T0 + timedelta(seconds=1)],
    }
    bare = pl.DataFrame(
        {"event_id": ["e1", "e2"], **base}, schema_overrides={"occurred_at": UTC_DT}
    )
    nulls = pl.DataFrame(
        {"event_id": ["e3", "e4"], **base, "page": [None, None]},
        schema_overrides={"occurred_at": UTC_DT, "page": pl.String},
    )
    some = pl.DataFrame(
        {"event_id": ["e5", "e6"], **base, "page": ["/pricing", None]},
        schema_overrides={"occurred_at": UTC_DT},
    )
    with engine.begin() as conn:
        counts = [bulk.insert_events(conn, frame, now=T0) for frame in (bare, nulls, some)]
        counts.append(bulk.insert_events(conn, bare, now=T0))  # already stored
    assert [c.inserted for c in counts] == [2, 2, 2, 0]
    stored = _properties(engine)
    for event_id in ("e1", "e2", "e3", "e4", "e6"):
        assert stored[event_id] == {}
    assert stored["e5"] == {"page": "/pricing"}
    if engine.dialect.name == "sqlite":
        assert stored["text:e1"] == stored["text:e3"] == "{}"
    statements: list[str] = []
    real = _sql.execute_rows

    def spy(conn: Connection, stmt: Any, frame: pl.DataFrame) -> int:
        statements.append(stmt.string)
        return real(conn, stmt, frame)

    monkeypatch.setattr(_sql, "execute_rows", spy)
    with engine.begin() as conn:
        bulk.insert_events(conn, bare.with_columns(pl.lit("e7").alias("event_id")), now=T0)
        bulk.insert_events(conn, nulls.with_columns(pl.lit("e8").alias("event_id")), now=T0)
    strip = "jsonb_strip_nulls" if engine.dialect.name == "postgresql" else "json_patch"
    assert [strip in sql for sql in statements] == [False, True]
    stored = _properties(engine)
    assert stored["e7"] == stored["e8"] == {}


@pytest.mark.parametrize(
    "ids",
    [
        [],
        ["L1", "NULL", "", " padded ", "a,b", "{braces}", "é", "it's"],
        ['say "hi"', "back\\slash", "line\nbreak", "L2"],
    ],
)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite reads JSON ids
def test_ids_reach_postgresql_as_given(engine: Engine, ids: list[str]) -> None:
    """The array literal (or, when an id needs escaping, the list) is the ids exactly,
    bound as a parameter and inlined into a COPY statement alike."""
    import psycopg

    value = frames._pg_array(ids)
    assert isinstance(value, list) is any('"' in i or "\\" in i or "\n" in i for i in ids)
    with engine.connect() as conn:
        raw = _sql.driver_connection(conn)
        with raw.cursor() as cursor:
            cursor.execute("SELECT %s::text[]", [value])
            row = cursor.fetchone()
            assert row is not None
            assert row[0] == ids
            cursor.execute(psycopg.ClientCursor(raw).mogrify("SELECT %s::text[]", [value]))
            row = cursor.fetchone()
            assert row is not None
            assert row[0] == ids
