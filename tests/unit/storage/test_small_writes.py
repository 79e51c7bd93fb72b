"""Small PostgreSQL writes (plain statements) and big ones (COPY) store the same rows.

Each scenario runs every bulk writer twice on the same database, once as the row count picks
the path and once with ``SMALL_WRITE_ROWS`` moved so the other path runs, and compares the
returned counts and every stored row. On SQLite both runs take the plain path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadgate.exceptions import StorageError, UsageError
from leadgate.storage import _sql, bulk
from leadgate.storage import tables as t

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1, microseconds=7)
T2 = T0 + timedelta(days=2, microseconds=11)
UTC_DT = pl.Datetime("us", "UTC")
SMALL = 5
BIG = _sql.SMALL_WRITE_ROWS + 50

TABLES = (t.accounts, t.leads, t.events, t.outcomes, t.stage_history)


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


def accounts_frame(n: int) -> pl.DataFrame:
    ids = _ids("A", n)
    return pl.DataFrame(
        {
            "account_id": [*ids, ids[-1]],  # a repeated key: the last row wins
            "name": [f"Company {i}" for i in range(n)] + ["Renamed"],
            "domain": [f" Co{i}.EXAMPLE.com" for i in range(n)] + [f"co{n - 1}.example.com"],
            "employees": [10 * i for i in range(n)] + [7],
            "annual_revenue": [i / 7 for i in range(n)] + [None],
            "tech_stack": [None if i % 3 == 0 else "hubspot" for i in range(n)] + ["sf"],
        }
    )


def accounts_update(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": _ids("A", n),
            "name": [f"Company {i}" if i % 2 else f"New {i}" for i in range(n)],
            "tech_stack": [None] * n,  # a null never erases a stored attribute
            "region": ["emea" if i % 4 == 0 else None for i in range(n)],
        }
    )


def leads_frame(n: int, accounts: int) -> pl.DataFrame:
    ids = _ids("L", n)
    return pl.DataFrame(
        {
            "lead_id": [*ids, None, ids[0]],  # a row without a key and a repeated key
            "account_id": [f"A{i % accounts:04d}" for i in range(n)] + ["A0000", "A0000"],
            "email": [f" Person{i}@Example.COM" for i in range(n)] + [None, "first@example.com"],
            "title": ["VP Sales"] * (n + 2),
            "created_at": [T0 + timedelta(microseconds=37 * i) for i in range(n + 2)],
            "seats": list(range(n + 2)),
            "budget_confirmed": [None if i % 5 == 0 else i % 2 == 0 for i in range(n + 2)],
            "account.name": ["ignored"] * (n + 2),
        },
        schema_overrides={"created_at": UTC_DT},
    )


def leads_update(n: int, accounts: int) -> pl.DataFrame:
    ids = _ids("L", n + 2)  # two new leads
    return pl.DataFrame(
        {
            "lead_id": ids,
            "account_id": [f"A{i % accounts:04d}" for i in range(n + 2)],
            "title": ["CEO" if i % 3 == 0 else "VP Sales" for i in range(n + 2)],
            "seats": [None if i % 4 == 0 else i for i in range(n + 2)],
            "stage": [None] * (n + 2),
        }
    )


def events_frames(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    leads = _ids("L", n)
    with_ids = pl.DataFrame(
        {
            "event_id": [f"E{i:05d}" for i in range(2 * n)],
            "lead_id": leads + leads,
            "event_type": ["page_view", "form_submit"] * n,
            "occurred_at": [T0 + timedelta(seconds=i, microseconds=i) for i in range(2 * n)],
            "url": [None if i % 3 == 0 else f"/p/{i}" for i in range(2 * n)],
            "score_hint": [i / 3 for i in range(2 * n)],
        },
        schema_overrides={"occurred_at": UTC_DT, "event_type": pl.Categorical},
    )
    derived = pl.DataFrame(
        {
            "lead_id": leads,
            "event_type": ["webinar"] * n,
            "occurred_at": [T1 + timedelta(minutes=i) for i in range(n)],
        },
        schema_overrides={"occurred_at": UTC_DT},
    )
    return with_ids, derived


def outcomes_frame(n: int, amount: float) -> pl.DataFrame:
    leads = _ids("L", n)
    return pl.DataFrame(
        {
            "lead_id": leads,
            "opportunity_created_at": [T1] * len(leads),
            "amount": [amount * (i + 1) for i in range(len(leads))],
            "won": [None if i % 3 == 0 else i % 2 == 0 for i in range(len(leads))],
            "closed_at": [None if i % 2 else T2 for i in range(len(leads))],
        },
        schema_overrides={"opportunity_created_at": UTC_DT, "closed_at": UTC_DT},
    )


def history_frame(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": _ids("L", n),
            "from_stage": [None if i % 2 else "new" for i in range(n)],
            "to_stage": ["mql"] * n,
            "action": ["qualify"] * n,
            "occurred_at": [T1 + timedelta(microseconds=i) for i in range(n)],
            "fit_score": [i / 9 for i in range(n)],
            "grade": ["A1"] * n,
        },
        schema_overrides={"occurred_at": UTC_DT},
    )


def state_frame(n: int) -> pl.DataFrame:
    ids = _ids("L", n)
    return pl.DataFrame(
        {
            "lead_id": [*ids, "unknown-lead", ids[0]],
            "stage": ["mql"] * n + ["mql", None],
            "fit_score": [None if i % 4 == 0 else i / 11 for i in range(n + 2)],
            "owner_id": ["o1" if i % 2 else None for i in range(n + 2)],
            "became_mql_at": [T2] * (n + 2),
            "grade": ["B2"] * (n + 2),
            "email": ["not-a-state-column@example.com"] * (n + 2),
        },
        schema_overrides={"became_mql_at": UTC_DT},
    )


def write_everything(engine: Engine, n: int) -> list[Any]:
    """Every writer on ``n``-row frames; the counts each returned, in order."""
    accounts = n
    events, derived = events_frames(n)
    counts: list[Any] = []
    with engine.begin() as conn:
        conn.execute(sa.insert(t.owners).values(owner_id="o1", name="Rep"))
        counts.append(bulk.upsert_accounts(conn, accounts_frame(accounts), now=T0))
        counts.append(bulk.upsert_leads(conn, leads_frame(n, accounts), now=T0))
        counts.append(bulk.insert_events(conn, events, now=T0))
        counts.append(bulk.insert_events(conn, derived, now=T0))
        counts.append(bulk.upsert_outcomes(conn, outcomes_frame(n, 100.5), now=T0))
    with engine.begin() as conn:
        counts.append(bulk.upsert_accounts(conn, accounts_frame(accounts), now=T1))
        counts.append(bulk.upsert_accounts(conn, accounts_update(accounts), now=T1))
        counts.append(bulk.upsert_leads(conn, leads_frame(n, accounts), now=T1))
        counts.append(bulk.upsert_leads(conn, leads_update(n, accounts), now=T1))
        counts.append(bulk.insert_events(conn, pl.concat([events, events.head(3)]), now=T1))
        counts.append(bulk.upsert_outcomes(conn, outcomes_frame(n, 100.5), now=T1))
        counts.append(bulk.upsert_outcomes(conn, outcomes_frame(n, 99.25), now=T1))
        counts.append(bulk.append_stage_history(conn, history_frame(n)))
        counts.append(bulk.update_lead_state(conn, state_frame(n), now=T2))
        counts.append(bulk.update_lead_state(conn, state_frame(n).select("lead_id"), now=T2))
    return counts


def stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the writers touch, in key order (stage history without its serial id)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in TABLES:
            columns = [col for col in table.c if col.name != "id"]
            order = [*table.primary_key.columns] if table is not t.stage_history else columns
            if table is t.stage_history:
                order = [table.c.lead_id, table.c.occurred_at]
            query = sa.select(*columns).order_by(*order)
            rows[table.name] = [tuple(row) for row in conn.execute(query)]
    return rows


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (*reversed(TABLES), t.owners):
            conn.execute(sa.delete(table))


@pytest.mark.parametrize("n", [SMALL, BIG])
def test_plain_and_copy_paths_store_the_same(
    engine: Engine, n: int, copies: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres = engine.dialect.name == "postgresql"
    natural_counts = write_everything(engine, n)
    natural_rows = stored(engine)
    natural_copies = len(copies)
    clear(engine)
    copies.clear()
    # Move the threshold so every write takes the path its size would not pick.
    monkeypatch.setattr(_sql, "SMALL_WRITE_ROWS", -1 if n == SMALL else 10 * BIG)
    forced_counts = write_everything(engine, n)
    forced_rows = stored(engine)
    forced_copies = len(copies)

    plain, copy = (natural_copies, forced_copies) if n == SMALL else (forced_copies, natural_copies)
    assert plain == 0
    assert copy == (14 if postgres else 0)  # all 15 writes but the no-op state update
    assert forced_counts == natural_counts
    assert forced_rows == natural_rows

    accounts = n
    assert natural_counts[0] == bulk.WriteCounts(inserted=accounts, unchanged=1)
    assert natural_counts[1] == bulk.WriteCounts(inserted=n, unchanged=2)
    assert natural_counts[2] == bulk.WriteCounts(inserted=2 * n)
    assert natural_counts[5] == bulk.WriteCounts(unchanged=accounts + 1)
    changed_titles = len(range(0, n, 3))
    assert natural_counts[8] == bulk.WriteCounts(
        inserted=2, updated=changed_titles, unchanged=n - changed_titles
    )
    assert natural_counts[9] == bulk.WriteCounts(unchanged=2 * n + 3)
    assert natural_counts[12] == n
    assert natural_counts[13] == n  # the unknown lead is skipped, the repeated one counted once
    assert natural_counts[14] == 0

    leads = {row[0]: row for row in natural_rows["leads"]}
    names = [col.name for col in t.leads.c if col.name != "id"]
    first = dict(zip(names, leads["L0000"], strict=True))
    assert first["email"] == "first@example.com"
    # The repeated key's row won; a later null ``seats`` did not erase it.
    assert first["attributes"] == {"seats": n + 1, "budget_confirmed": (n + 1) % 2 == 0}
    assert first["stage"] == "new"  # the repeated key's null stage
    assert first["updated_at"] == T2


@pytest.mark.parametrize("threshold", [-1, 10 * BIG])
def test_duplicate_email_is_refused_on_both_paths(
    engine: Engine, threshold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sql, "SMALL_WRITE_ROWS", threshold)
    frame = pl.DataFrame({"lead_id": ["x1", "x2"], "email": ["same@example.com"] * 2})
    with pytest.raises(StorageError) as caught, engine.begin() as conn:
        bulk.upsert_leads(conn, frame, now=T0)
    assert caught.value.code == "storage_integrity"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.leads)).scalar_one() == 0


@pytest.mark.parametrize("threshold", [-1, 10 * BIG])
def test_whole_floats_fit_integer_columns_and_fractions_are_refused(
    engine: Engine, threshold: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sql, "SMALL_WRITE_ROWS", threshold)
    frame = pl.DataFrame({"account_id": ["a1", "a2"], "employees": [1200.0, None]})
    with engine.begin() as conn:
        assert bulk.upsert_accounts(conn, frame, now=T0) == bulk.WriteCounts(inserted=2)
        query = sa.select(t.accounts.c.employees).order_by(t.accounts.c.account_id)
        assert conn.execute(query).scalars().all() == [1200, None]
    for bad in (12.7, float("nan")):
        wrong = pl.DataFrame({"account_id": ["a3"], "employees": [bad]})
        with pytest.raises(UsageError, match="whole numbers"), engine.begin() as conn:
            bulk.upsert_accounts(conn, wrong, now=T0)
