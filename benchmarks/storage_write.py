"""Storage throughput: bulk upserts, idempotent re-runs, state updates and frame reads.

    python benchmarks/storage_write.py --leads 200000 --events 2000000
    python benchmarks/storage_write.py --backends sqlite --leads 20000 --events 200000

PostgreSQL runs in a throw-away database on ``--pg`` (dropped afterwards); it is skipped if
the server is unreachable.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from leadgate.storage import bulk, frames
from leadgate.storage.database import make_engine
from leadgate.storage.migrate import upgrade
from leadgate.synth.dataset import generate_dataset


def _data(leads: int, events: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    accounts = max(1, leads // 6)
    data = generate_dataset(
        accounts=accounts, leads_per_account=leads / accounts, events_per_lead=events / leads * 1.1
    )
    lead_frame = data.leads.head(leads)
    kept = lead_frame.select("lead_id")
    event_frame = data.events.join(kept, on="lead_id", how="semi").head(events)
    return data.accounts, lead_frame, event_frame


def _timed(label: str, rows: int, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(
        f"  {label:<34} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s  {result}"
    )
    return seconds


def run(url: str, accounts: pl.DataFrame, leads: pl.DataFrame, events: pl.DataFrame) -> None:
    engine = make_engine(url)
    upgrade(engine)
    try:
        write = bulk.write_in_batches
        _timed(
            "accounts upsert",
            accounts.height,
            lambda: write(engine, accounts, bulk.upsert_accounts),
        )
        _timed(
            "leads upsert (insert)", leads.height, lambda: write(engine, leads, bulk.upsert_leads)
        )
        _timed(
            "leads upsert (re-run, unchanged)",
            leads.height,
            lambda: write(engine, leads, bulk.upsert_leads),
        )
        _timed(
            "events insert",
            events.height,
            lambda: write(engine, events, bulk.insert_events, batch_size=200_000),
        )
        _timed(
            "events insert (re-run, duplicates)",
            events.height,
            lambda: write(engine, events, bulk.insert_events, batch_size=200_000),
        )
        state = leads.select(
            "lead_id",
            pl.lit("mql").alias("stage"),
            pl.col("created_at").alias("became_mql_at"),
            (pl.col("lead_id") % 100).cast(pl.Float64).alias("fit_score"),
            pl.lit("A1").alias("grade"),
        )

        def update_state() -> int:
            with engine.begin() as conn:
                return bulk.update_lead_state(conn, state)

        _timed("update_lead_state (one transaction)", state.height, update_state)

        def read(fn: Callable[[sa.Connection], pl.DataFrame]) -> Callable[[], str]:
            def action() -> str:
                with engine.connect() as conn:
                    return str(fn(conn).shape)

            return action

        _timed("read_leads", leads.height, read(frames.read_leads))
        _timed("read_events", events.height, read(frames.read_events))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    start = time.perf_counter()
    accounts, leads, events = _data(args.leads, args.events)
    print(
        f"data: {accounts.height:,} accounts, {leads.height:,} leads, {events.height:,} events "
        f"({time.perf_counter() - start:.1f} s to generate)"
    )
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                print(f"SQLite ({sa.__version__}, WAL, synchronous=NORMAL)")
                run(f"sqlite:///{Path(tmp) / 'bench.db'}", accounts, leads, events)
        elif backend == "postgresql":
            name = f"leadgate_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(f"{args.pg}/postgres", isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            except sa.exc.OperationalError as exc:
                print(f"PostgreSQL skipped: {exc.orig}")
                continue
            try:
                with admin.connect() as conn:
                    version = conn.exec_driver_sql("SHOW server_version").scalar()
                print(f"PostgreSQL {version} (psycopg 3, COPY + INSERT ... SELECT)")
                run(f"{args.pg}/{name}", accounts, leads, events)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
