"""The ingest writer's history cache (SQLite and PostgreSQL): exact, or not used at all.

Every write to ``events`` moves the events generation (triggers of migration 0004); the
cache serves a lead's history only while the generation is the one its last committed
group left. These tests write events behind the writer's back in every way the product
does (imports, erasure) and with plain SQL, and check the next group scores exactly what
a fresh read of the store gives.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from leadgate.engine.score import score
from leadgate.services import ingest
from leadgate.services.event_columns import EventInput
from leadgate.services.ingest import ingest_events
from leadgate.services.lifecycle import (
    StoredModel,
    load_stored_model,
    read_store_for,
    save_stored_model,
)
from leadgate.services.scoring_history import HistoryCache
from leadgate.storage import insert_events, read_leads, transaction, upsert_accounts, upsert_leads
from leadgate.storage.live import claim_events_generation, events_generation, read_scoring_events
from leadgate.storage.privacy import erase_person
from testkit import EXAMPLE_MODEL

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
LEADS = ["L1", "L2", "L3", "L4"]


@pytest.fixture
def stored(engine: Engine) -> StoredModel:
    stored = load_stored_model(EXAMPLE_MODEL)
    with transaction(engine) as conn:
        save_stored_model(conn, stored, NOW)
        upsert_accounts(conn, pl.DataFrame({"account_id": ["a"]}), now=NOW)
        upsert_leads(
            conn,
            pl.DataFrame(
                {
                    "lead_id": LEADS,
                    "account_id": ["a"] * 4,
                    "title": ["VP Sales", "Analyst", "CTO", "Intern"],
                }
            ),
            now=NOW,
        )
    return stored


def _event(event_id: str, lead_id: str, minutes: int, **properties: object) -> EventInput:
    kind = "form_submit" if "form" in properties else "page_view"
    at = NOW - timedelta(days=3) + timedelta(minutes=minutes)
    return EventInput(event_id, lead_id, kind, at, properties)  # type: ignore[arg-type]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(sorted(frame.columns)).sort(pl.all())


def _store_history(engine: Engine, stored: StoredModel, lead_ids: Sequence[str]) -> pl.DataFrame:
    with engine.connect() as conn:
        return read_scoring_events(conn, list(lead_ids), stored.model.event_fields)


def _cached_history(engine: Engine, cache: HistoryCache, stored: StoredModel) -> pl.DataFrame:
    """What the cache would serve for every lead right now (in a rolled-back transaction)."""
    with engine.connect() as conn, conn.begin() as outer:
        cache.begin(conn, stored.model.event_fields)
        frame = cache.reader({})(conn, LEADS, stored.model.event_fields)
        outer.rollback()
    cache.clear()  # a reader outside a group commits nothing; start over from the store
    return frame


def _scores(engine: Engine) -> pl.DataFrame:
    with engine.connect() as conn:
        leads = read_leads(conn, LEADS)
    return leads.select("lead_id", "fit_score", "engagement_score", "grade", "stage").sort(
        "lead_id"
    )


def _fresh_scores(engine: Engine, stored: StoredModel) -> pl.DataFrame:
    """The engine's scores from a full read of the store (no cache involved)."""
    with engine.connect() as conn:
        inputs = read_store_for(conn, stored.model, LEADS, scoring_only=True)
    scored = score(*inputs, stored.model, as_of=NOW, explain_points=False).leads
    return scored.select(
        pl.col("lead_id").cast(pl.String), "fit_score", "engagement_score", "grade"
    ).sort("lead_id")


def _check_against_store(engine: Engine, stored: StoredModel, lead_ids: Sequence[str]) -> None:
    """The scores ingest stored for ``lead_ids`` are the ones a full read gives."""
    wanted = pl.col("lead_id").is_in(list(lead_ids))
    stored_scores = _scores(engine).select("lead_id", "fit_score", "engagement_score", "grade")
    fresh = _fresh_scores(engine, stored).filter(wanted)
    assert fresh.height == len(set(lead_ids))
    assert stored_scores.filter(wanted).equals(fresh)


def test_every_write_to_events_moves_the_generation(engine: Engine, stored: StoredModel) -> None:
    def generation() -> int:
        with engine.connect() as conn:
            return events_generation(conn)

    start = generation()
    frame = pl.DataFrame(
        {
            "event_id": ["x1", "x2"],
            "lead_id": ["L1", "L2"],
            "event_type": ["page_view", "page_view"],
            "occurred_at": [NOW - timedelta(hours=1)] * 2,
        }
    )
    with transaction(engine) as conn:
        insert_events(conn, frame, now=NOW)
    after_import = generation()
    assert after_import > start
    with transaction(engine) as conn:
        conn.execute(sa.text("UPDATE events SET event_type = 'email_open' WHERE event_id = 'x1'"))
    after_update = generation()
    assert after_update > after_import
    with transaction(engine) as conn:
        conn.execute(sa.text("DELETE FROM events WHERE event_id = 'x1'"))
    after_delete = generation()
    assert after_delete > after_update
    with transaction(engine) as conn:
        erase_person(conn, "L2", now=NOW)
    assert generation() > after_delete
    with transaction(engine) as conn:  # claiming writes nothing to events
        claimed = claim_events_generation(conn)
    assert claimed == generation()


def test_the_cache_serves_exactly_what_the_store_holds(engine: Engine, stored: StoredModel) -> None:
    cache = HistoryCache(min_leads=1)
    model = stored.model
    groups = [
        [[_event("e1", "L1", 1, url="/pricing")], [_event("e2", "L2", 2, form="demo")]],
        [[_event("e3", "L1", 3, url="/blog"), _event("e4", "L3", 4, url="/pricing")]],
        [[_event("e5", "L1", 5, form="demo")], [_event("e1", "L1", 1, url="/pricing")]],
        [[_event("e6", "L2", 6), _event("e7", "L4", 7, url="/docs")]],
        [[_event("e8", "L3", 8, url=None), _event("e9", "L1", 9)], [_event("e10", "L4", 10)]],
    ]
    touched: set[str] = set()
    for number, group in enumerate(groups):
        results = ingest_events(engine, model, group, now=NOW, history=cache)
        assert all(result.error is None for result in results)
        if number:
            assert cache.served > 0  # later groups found their leads in memory
        touched |= {event.lead_id for request in group for event in request}
        _check_against_store(engine, stored, sorted(touched))
    assert cache.events == 10
    cached = _cached_history(engine, cache, stored)
    assert _sorted(cached).equals(_sorted(_store_history(engine, stored, LEADS)))


@pytest.mark.parametrize("writer", ["import", "plain_sql_insert", "plain_sql_delete", "erasure"])
def test_a_write_behind_the_writers_back_is_never_missed(
    engine: Engine, stored: StoredModel, writer: str
) -> None:
    cache = HistoryCache(min_leads=1)
    model = stored.model
    first = [[_event("e1", "L1", 1, url="/pricing"), _event("e2", "L2", 2, url="/pricing")]]
    assert ingest_events(engine, model, first, now=NOW, history=cache)[0].error is None
    assert cache.events == 2
    at = NOW - timedelta(days=1)
    with transaction(engine) as conn:
        if writer == "import":  # what `leadgate import events` does
            frame = pl.DataFrame(
                {
                    "event_id": ["imp1", "imp2"],
                    "lead_id": ["L1", "L1"],
                    "event_type": ["form_submit", "page_view"],
                    "occurred_at": [at, at],
                    "form": ["demo", None],
                    "url": [None, "/pricing"],
                }
            )
            insert_events(conn, frame, now=NOW)
        elif writer == "plain_sql_insert":
            sqlite = conn.dialect.name == "sqlite"
            conn.execute(
                sa.text(
                    "INSERT INTO events (event_id, lead_id, event_type, occurred_at, "
                    "received_at, properties) VALUES ('sql1', 'L1', 'form_submit', :at, :now, "
                    + ('\'{"form": "demo"}\'' if sqlite else '\'{"form": "demo"}\'::jsonb')
                    + ")"
                ),
                {
                    "at": at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at,
                    "now": NOW.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else NOW,
                },
            )
        elif writer == "plain_sql_delete":
            conn.execute(sa.text("DELETE FROM events WHERE event_id = 'e1'"))
        else:
            erase_person(conn, "L2", now=NOW)
    served = cache.served
    second = [[_event("e3", "L1", 3, url="/blog")]]
    assert ingest_events(engine, model, second, now=NOW, history=cache)[0].error is None
    assert cache.served == served  # the write behind its back dropped the copy: L1 was read
    _check_against_store(engine, stored, ["L1"])
    held = _cached_history(engine, cache, stored)
    assert _sorted(held).equals(_sorted(_store_history(engine, stored, LEADS)))


def test_a_failed_group_leaves_nothing_cached(
    engine: Engine, stored: StoredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = HistoryCache(min_leads=1)
    model = stored.model
    good = [[_event("e1", "L1", 1, url="/pricing")]]
    assert ingest_events(engine, model, good, now=NOW, history=cache)[0].error is None
    assert cache.events == 1

    def broken(conn, lead_ids):  # fails after the history was read and the scores written
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest, "_states", broken)
    bad = [[_event("e2", "L1", 2, form="demo")]]
    assert isinstance(ingest_events(engine, model, bad, now=NOW, history=cache)[0].error, Exception)
    assert cache.events == 0  # the rolled-back read (with e2) is not kept
    monkeypatch.undo()
    again = [[_event("e3", "L1", 3, url="/blog")]]
    assert ingest_events(engine, model, again, now=NOW, history=cache)[0].error is None
    _check_against_store(engine, stored, ["L1"])
    held = _cached_history(engine, cache, stored)
    assert "e2" not in str(held)
    assert held.height == 2  # e1 and e3: the failed group's e2 was never stored


def test_claiming_the_generation_holds_off_other_writers_of_events(
    engine: Engine, stored: StoredModel
) -> None:
    """Another writer's events wait for the group (so they move the generation after it)."""
    order: list[str] = []
    claimed = threading.Event()

    def other_writer() -> None:
        claimed.wait(10)
        frame = pl.DataFrame(
            {
                "event_id": ["late"],
                "lead_id": ["L1"],
                "event_type": ["page_view"],
                "occurred_at": [NOW - timedelta(hours=2)],
            }
        )
        with transaction(engine) as conn:
            insert_events(conn, frame, now=NOW)
        order.append("other committed")

    thread = threading.Thread(target=other_writer)
    thread.start()
    with transaction(engine) as conn:
        before = claim_events_generation(conn)
        claimed.set()
        thread.join(0.5)  # it cannot finish while the claim is held
        order.append("group committed")
        assert events_generation(conn) == before
    thread.join(30)
    assert order == ["group committed", "other committed"]
    with engine.connect() as conn:
        assert events_generation(conn) > before


def test_a_small_group_reads_the_store_and_forgets_its_leads(
    engine: Engine, stored: StoredModel
) -> None:
    """Below ``min_leads`` a group reads from the store; what was held of its leads is
    stale from then on and is never served again."""
    cache = HistoryCache(min_leads=2)
    model = stored.model
    big = [[_event("e1", "L1", 1, url="/pricing"), _event("e2", "L2", 2, url="/pricing")]]
    assert ingest_events(engine, model, big, now=NOW, history=cache)[0].error is None
    assert (cache.events, cache.served, cache.read) == (2, 0, 2)
    small = [[_event("e3", "L1", 3, form="demo")]]
    assert ingest_events(engine, model, small, now=NOW, history=cache)[0].error is None
    assert (cache.served, cache.read) == (0, 3)  # L1 read from the store
    _check_against_store(engine, stored, ["L1"])
    again = [[_event("e4", "L1", 4), _event("e5", "L2", 5)]]
    assert ingest_events(engine, model, again, now=NOW, history=cache)[0].error is None
    assert (cache.served, cache.read) == (1, 4)  # L2 from memory, L1 (forgotten) from the store
    _check_against_store(engine, stored, ["L1", "L2"])
    held = _cached_history(engine, cache, stored)
    assert _sorted(held).equals(_sorted(_store_history(engine, stored, LEADS)))


def test_a_cache_that_fails_to_update_costs_only_the_cache(
    engine: Engine, stored: StoredModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group is committed before the cache takes what it read: a failure there must
    not report the group as failed (its retry would answer every event as a duplicate)."""
    cache = HistoryCache(min_leads=1)
    model = stored.model
    first = [[_event("e1", "L1", 1, url="/pricing")]]
    assert ingest_events(engine, model, first, now=NOW, history=cache)[0].error is None

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cache, "commit", broken)
    result = ingest_events(engine, model, [[_event("e2", "L1", 2)]], now=NOW, history=cache)[0]
    assert result.error is None
    assert [r.duplicate for r in result.receipts] == [False]
    assert cache.events == 0
    monkeypatch.undo()
    third = [[_event("e3", "L1", 3)]]
    assert ingest_events(engine, model, third, now=NOW, history=cache)[0].error is None
    _check_against_store(engine, stored, ["L1"])
