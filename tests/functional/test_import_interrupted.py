"""An import killed halfway leaves whole batches only, and running it again finishes the job.

``python -m leadgate import events`` runs as a real process with ``--batch-size 1000`` and is
killed with SIGKILL (no clean-up of any kind) as soon as its first batch is visible in the
database; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Engine

from leadgate.services.importing import import_file
from leadgate.storage import make_engine, read_events, upgrade
from leadgate.storage import tables as t
from leadgate.synth import generate_dataset

AS_OF = datetime(2026, 9, 30, tzinfo=UTC)
BATCH = 1000
TIMEOUT = 60.0  # seconds; a guard against a hung process, never reached when all is well
KILLED_APP = "leadgate_killed_import"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """About 60,000 events (60 batches) of 1,500 leads, written as CSV."""
    folder = tmp_path_factory.mktemp("interrupted")
    data = generate_dataset(accounts=300, leads_per_account=5, events_per_lead=40, as_of=AS_OF)
    data.accounts.write_csv(folder / "accounts.csv")
    data.leads.write_csv(folder / "leads.csv")
    data.events.write_csv(folder / "events.csv")
    assert data.events.height > 50 * BATCH
    return folder, data.events


def import_command(file: Path, url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "leadgate",
        "import",
        "events",
        str(file),
        "--batch-size",
        str(BATCH),
        "--database",
        url,
    ]


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar_one())


def wait_for(condition, what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``TIMEOUT`` seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def wait_for_killed_session(engine: Engine) -> None:
    """On PostgreSQL, wait until the killed client's server session has ended.

    Until then its open transaction could in principle still be running; once the backend is
    gone, whatever it did is either committed or rolled back for good.
    """
    if engine.dialect.name != "postgresql":
        return  # SQLite: the writer was the killed process itself

    def gone() -> bool:
        with engine.connect() as conn:
            sessions = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"),
                {"app": KILLED_APP},
            ).scalar_one()
        return sessions == 0

    wait_for(gone, "the killed import's PostgreSQL session to end")


def expected_events(events: pl.DataFrame) -> pl.DataFrame:
    """The file's events as the store gives them back (ids as text, properties as columns)."""
    return events.with_columns(
        pl.col("event_id").cast(pl.String),
        pl.col("lead_id").cast(pl.String),
        *(
            pl.col(name).cast(pl.String)
            for name in ("event_type", "url", "form", "asset", "feature")
        ),
    )


def stored_events(engine: Engine) -> pl.DataFrame:
    with engine.connect() as conn:
        return read_events(conn)


def assert_identical(stored: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Every stored event equals its row in the file, column by column."""
    # A property no stored event has is no column at all; then the file has none either.
    for name in set(expected.columns) - set(stored.columns):
        assert expected[name].null_count() == expected.height, name
    assert_frame_equal(
        stored.sort("event_id"),
        expected.select(stored.columns).sort("event_id"),
        check_column_order=False,
    )


def test_killed_import_leaves_whole_batches_and_can_be_run_again(
    db_url: str, dataset: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    folder, events = dataset
    total = events.height
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        for kind in ("accounts", "leads"):
            import_file(engine, kind, folder / f"{kind}.csv", now=AS_OF)
        assert event_count(engine) == 0

        separator = "&" if "?" in db_url else "?"
        killed_url = f"{db_url}{separator}application_name={KILLED_APP}"
        if engine.dialect.name != "postgresql":
            killed_url = db_url
        process = subprocess.Popen(
            import_command(folder / "events.csv", killed_url),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def some_committed() -> bool:
                assert process.poll() is None, "the import ended before it could be killed"
                return event_count(engine) > 0

            wait_for(some_committed, "the first committed batch")
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=TIMEOUT)
        assert process.returncode == -signal.SIGKILL
        wait_for_killed_session(engine)

        # Only whole batches, and exactly the file's first ones, each row as it is in the file.
        stored = event_count(engine)
        assert 0 < stored < total
        assert stored % BATCH == 0
        expected = expected_events(events)
        partial = stored_events(engine)
        assert partial.height == stored
        assert partial["event_id"].sort().to_list() == sorted(expected["event_id"][:stored])
        assert_identical(partial, expected.head(stored))

        # Running the same command again completes the import and touches nothing stored.
        rerun = subprocess.run(
            import_command(folder / "events.csv", db_url),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert rerun.returncode == 0, rerun.stderr
        summary = re.search(
            r"([\d,]+) rows read — ([\d,]+) inserted, ([\d,]+) updated, ([\d,]+) unchanged, "
            r"([\d,]+) rejected",
            rerun.stdout,
        )
        assert summary is not None, rerun.stdout
        read, inserted, updated, unchanged, rejected = (
            int(group.replace(",", "")) for group in summary.groups()
        )
        assert (read, inserted, updated, unchanged, rejected) == (
            total,
            total - stored,
            0,
            stored,
            0,
        )
        assert event_count(engine) == total
        assert_identical(stored_events(engine), expected)
    finally:
        engine.dispose()
