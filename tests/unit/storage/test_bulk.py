"""Bulk writers on SQLite and PostgreSQL: counts, idempotency, merges and batching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from leadgate.exceptions import StorageError, UsageError
from leadgate.storage import bulk, frames
from leadgate.storage import tables as t
from leadgate.storage.bulk import WriteCounts

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
UTC_DT = pl.Datetime("us", "UTC")


def accounts_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [1, 2],
            "name": ["Acme", "Globex"],
            "domain": ["ACME.com ", "globex.io"],
            "industry": ["Software", "Retail"],
            "employees": [1200, 40],
            "annual_revenue": [5e7, 1e6],
            "tech_stack": ["hubspot", None],
        }
    )


def leads_frame(n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": list(range(1, n + 1)),
            "account_id": [1 + i % 2 for i in range(n)],
            "email": [f"Person{i}@Example.COM" for i in range(1, n + 1)],
            "title": ["VP Sales"] * n,
            "created_at": [T0 + timedelta(hours=i) for i in range(n)],
            "seats": list(range(10, 10 + n)),
            "budget_confirmed": [True] * n,
        },
        schema_overrides={"created_at": UTC_DT},
    )


def events_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": ["e1", "e2", "e3"],
            "lead_id": [1, 1, 2],
            "event_type": ["page_view", "form_submit", "page_view"],
            "occurred_at": [T0, T0 + timedelta(days=1), T0 + timedelta(days=2)],
            "url": ["/pricing", None, "/blog"],
            "form": [None, "demo", None],
        },
        schema_overrides={"occurred_at": UTC_DT, "event_type": pl.Categorical},
    )


def seed(conn: Connection, leads: int = 3) -> None:
    bulk.upsert_accounts(conn, accounts_frame())
    bulk.upsert_leads(conn, leads_frame(leads))


def test_upsert_counts_inserted_updated_unchanged(engine: Engine) -> None:
    with engine.begin() as conn:
        assert bulk.upsert_accounts(conn, accounts_frame()) == WriteCounts(2, 0, 0)
        assert bulk.upsert_leads(conn, leads_frame()) == WriteCounts(3, 0, 0)
    with engine.begin() as conn:
        assert bulk.upsert_leads(conn, leads_frame()) == WriteCounts(0, 0, 3)
    changed = leads_frame(4).with_columns(
        pl.when(pl.col("lead_id") == 2).then(pl.lit("CEO")).otherwise("title").alias("title")
    )
    with engine.begin() as conn:
        counts = bulk.upsert_leads(conn, changed)
        assert counts == WriteCounts(inserted=1, updated=1, unchanged=2)
        assert counts.total == 4
        leads = frames.read_leads(conn)
    assert leads.filter(pl.col("lead_id") == "2")["title"].item() == "CEO"
    assert leads["email"].to_list()[0] == "person1@example.com"


def test_accounts_domain_lower_case_and_attributes(engine: Engine) -> None:
    with engine.begin() as conn:
        bulk.upsert_accounts(conn, accounts_frame())
        accounts = frames.read_accounts(conn)
    assert accounts["domain"].to_list() == ["acme.com", "globex.io"]
    assert accounts["tech_stack"].to_list() == ["hubspot", None]
    assert accounts.schema["employees"] == pl.Int64
    assert accounts.schema["created_at"] == UTC_DT


def test_duplicate_email_is_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        seed(conn)
    clash = pl.DataFrame({"lead_id": ["99"], "email": ["PERSON1@example.com"]})
    with pytest.raises(StorageError) as info, engine.begin() as conn:
        bulk.upsert_leads(conn, clash)
    assert info.value.code == "storage_integrity"


def test_attributes_merge_and_null_keeps_value(engine: Engine) -> None:
    with engine.begin() as conn:
        seed(conn)
        update = pl.DataFrame(
            {"lead_id": [1, 2], "seats": [None, 50], "timeline": ["Q3", None]},
            schema={"lead_id": pl.Int64, "seats": pl.Int64, "timeline": pl.String},
        )
        assert bulk.upsert_leads(conn, update) == WriteCounts(0, 2, 0)
        assert bulk.upsert_leads(conn, update) == WriteCounts(0, 0, 2)
        leads = frames.read_leads(conn, lead_ids=[1, 2])
    assert leads["lead_id"].to_list() == ["1", "2"]
    assert leads["seats"].to_list() == [10, 50]
    assert leads["timeline"].to_list() == ["Q3", None]
    assert leads["budget_confirmed"].to_list() == [True, True]
    assert leads["title"].to_list() == ["VP Sales", "VP Sales"]


def test_unknown_account_is_refused(engine: Engine) -> None:
    bad = pl.DataFrame({"lead_id": ["1"], "account_id": ["nope"]})
    with pytest.raises(StorageError), engine.begin() as conn:
        bulk.upsert_leads(conn, bad)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    naive = pl.DataFrame({"lead_id": ["1"], "created_at": [datetime(2026, 3, 1)]})
    with pytest.raises(UsageError, match="naive"), engine.begin() as conn:
        bulk.upsert_leads(conn, naive)


def test_events_are_idempotent_and_properties_expand(engine: Engine) -> None:
    with engine.begin() as conn:
        seed(conn)
        assert bulk.insert_events(conn, events_frame()) == WriteCounts(3, 0, 0)
    with engine.begin() as conn:
        again = pl.concat([events_frame(), events_frame().head(1)])
        assert bulk.insert_events(conn, again) == WriteCounts(0, 0, 4)
        events = frames.read_events(conn)
    assert events.schema["occurred_at"] == UTC_DT
    assert events.sort("event_id")["url"].to_list() == ["/pricing", None, "/blog"]
    assert events.sort("event_id")["form"].to_list() == [None, "demo", None]


def test_events_without_ids_get_a_stable_key(engine: Engine) -> None:
    with engine.begin() as conn:
        seed(conn)
        frame = events_frame().drop("event_id")
        assert bulk.insert_events(conn, frame).inserted == 3
        assert bulk.insert_events(conn, frame).inserted == 0


def test_timestamps_round_trip_tz_aware_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 11, 30, 15, 123456, tzinfo=paris)
    frame = pl.DataFrame({"lead_id": ["1"], "created_at": [local]}).with_columns(
        pl.col("created_at").dt.convert_time_zone("Europe/Paris")
    )
    with engine.begin() as conn:
        bulk.upsert_leads(conn, frame)
        leads = frames.read_leads(conn)
        stored = conn.execute(sa.select(t.leads.c.created_at)).scalar_one()
    assert leads["created_at"].item() == local
    assert leads["created_at"].item().tzinfo is not None
    assert stored == local
    assert stored.utcoffset() == timedelta(0)


def test_write_in_batches_keeps_committed_batches(engine: Engine) -> None:
    with engine.begin() as conn:
        bulk.upsert_accounts(conn, accounts_frame())
    frame = leads_frame(6).with_columns(
        pl.when(pl.col("lead_id") == 4)
        .then(pl.lit("missing"))
        .otherwise(pl.col("account_id").cast(pl.String))
        .alias("account_id")
    )
    seen: list[tuple[int, WriteCounts]] = []
    with pytest.raises(StorageError):
        bulk.write_in_batches(
            engine,
            frame,
            bulk.upsert_leads,
            batch_size=3,
            on_batch=lambda n, c: seen.append((n, c)),
        )
    assert seen == [(3, WriteCounts(3, 0, 0))]
    with engine.connect() as conn:
        assert frames.read_leads(conn)["lead_id"].to_list() == ["1", "2", "3"]
    fixed = frame.with_columns(pl.lit("1").alias("account_id"))
    total = bulk.write_in_batches(engine, fixed, bulk.upsert_leads, batch_size=3)
    assert total == WriteCounts(inserted=3, updated=1, unchanged=2)


def test_update_lead_state_and_stage_history(engine: Engine) -> None:
    with engine.begin() as conn:
        seed(conn, leads=4)
        assert bulk.save_model(conn, "small@abc", "small", "abc", "{}")
        assert not bulk.save_model(conn, "small@abc", "small", "abc", "{}")
        state = pl.DataFrame(
            {
                "lead_id": [1, 2, 3, 404],
                "stage": ["mql", "sql", None, "mql"],
                "became_mql_at": [T0, T0, None, T0],
                "fit_score": [42.5, 80.0, 1.0, 0.0],
                "grade": ["A1", "A2", "D4", None],
                "model_version": ["small@abc"] * 4,
                "ledger_noise": [1, 2, 3, 4],
            },
            schema_overrides={"became_mql_at": UTC_DT},
        )
        assert bulk.update_lead_state(conn, state) == 3
        history = pl.DataFrame(
            {
                "lead_id": ["1", "2"],
                "from_stage": ["new", "new"],
                "to_stage": ["mql", "sql"],
                "action": ["auto", "auto"],
                "occurred_at": [T0, T0],
                "model_version": ["small@abc", "small@abc"],
                "fit_score": [42.5, 80.0],
            },
            schema_overrides={"occurred_at": UTC_DT},
        )
        assert bulk.append_stage_history(conn, history) == 2
        leads = frames.read_leads(conn).sort("lead_id")
        log = frames.read_stage_history(conn)
        one = frames.read_stage_history(conn, lead_id=2)
    assert leads["stage"].to_list() == ["mql", "sql", "new", "new"]
    assert leads["became_mql_at"].to_list() == [T0, T0, None, None]
    assert leads["grade"].to_list() == ["A1", "A2", "D4", None]
    assert leads["model_version"].to_list() == ["small@abc"] * 3 + [None]
    assert log["to_stage"].to_list() == ["mql", "sql"]
    assert log.schema["id"] == pl.Int64
    assert log.schema["occurred_at"] == UTC_DT
    assert one["lead_id"].to_list() == ["2"]


def test_outcomes_upsert(engine: Engine) -> None:
    outcomes = pl.DataFrame(
        {
            "lead_id": [1, 2],
            "opportunity_created_at": [T0, T0],
            "amount": [1000.0, 2000.0],
            "won": [True, None],
            "closed_at": [T0 + timedelta(days=30), None],
        },
        schema_overrides={"opportunity_created_at": UTC_DT, "closed_at": UTC_DT},
    )
    with engine.begin() as conn:
        seed(conn)
        assert bulk.upsert_outcomes(conn, outcomes) == WriteCounts(2, 0, 0)
        won = outcomes.with_columns(pl.lit(True).alias("won"))
        assert bulk.upsert_outcomes(conn, won) == WriteCounts(0, 1, 1)
        stored = frames.read_outcomes(conn)
    assert stored["won"].to_list() == [True, True]
    assert stored.schema["won"] == pl.Boolean
    assert stored.schema["closed_at"] == UTC_DT
    assert stored["opportunity_id"].str.starts_with("1@").to_list() == [True, False]


def test_write_in_batches_rejects_bad_batch_size(engine: Engine) -> None:
    with pytest.raises(UsageError):
        bulk.write_in_batches(engine, leads_frame(), bulk.upsert_leads, batch_size=0)


def test_missing_key_column_is_a_usage_error(engine: Engine) -> None:
    with pytest.raises(UsageError, match="lead_id"), engine.begin() as conn:
        bulk.upsert_leads(conn, pl.DataFrame({"email": ["a@b.c"]}))
