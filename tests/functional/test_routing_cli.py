"""Routing and SLAs from the command line: roster → requalify → route → sweep, both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from leadgate.cli.app import main
from leadgate.services.privacy import record_consent
from leadgate.storage import make_engine, read_leads, transaction
from leadgate.storage import routing as store
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL

AS_OF = datetime(2026, 9, 30, 13, tzinfo=UTC)  # a Wednesday
ROSTER = Path(EXAMPLE_MODEL).parent / "teams.yaml"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("routing")
    data = generate_dataset(accounts=40, leads_per_account=5, events_per_lead=12, as_of=AS_OF)
    data.accounts.write_csv(folder / "accounts.csv")
    data.leads.write_csv(folder / "leads.csv")
    data.events.write_csv(folder / "events.csv")
    return folder


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_roster_route_and_sweep(db_url, files, capsys, tmp_path):
    db = ["--database", db_url]
    assert cli(capsys, "db", "upgrade", *db)[0] == 0
    for kind in ("accounts", "leads", "events"):
        code, _, err = cli(capsys, "import", kind, files / f"{kind}.csv", *db)
        assert code == 0, err
    code, out, err = cli(capsys, "team", "import", ROSTER, *db)
    assert code == 0, err
    assert "3 teams, 9 reps" in out

    model = ["--model", EXAMPLE_MODEL]
    code, _, err = cli(capsys, "requalify", *model, "--as-of", AS_OF.isoformat(), *db)
    assert code == 0, err
    engine = make_engine(db_url)
    with engine.connect() as conn:
        queued = read_leads(conn).filter(
            pl.col("stage").is_in(["mql", "pql"]) & pl.col("owner_id").is_null()
        )
    objector = queued["lead_id"].sort()[0]
    with transaction(engine) as conn:
        record_consent(conn, objector, "all", "objected", recorded_at=AS_OF)
    code, out, err = cli(capsys, "route", *model, "--at", AS_OF.isoformat(), *db)
    assert code == 0, err
    assert "leads assigned" in out
    assert "1 leads held back: no valid consent" in err

    try:
        with engine.connect() as conn:
            held = read_leads(conn, [objector])
        assert held["owner_id"].to_list() == [None]
        with engine.connect() as conn:
            assignments = store.read_assignments(conn)
            clocks = store.read_clocks(conn)
        assert assignments.height > 0
        assert set(assignments["rule_id"].drop_nulls()) <= {
            "enterprise",
            "emea",
            "everyone_else",
            "account_owner",
        }
        assert assignments["model_version"].str.starts_with("signalstack@").all()
        assert clocks.height > 0
        assert (clocks["outcome"] == "open").all()
        assert clocks["due_at"].is_not_null().all()

        later = "2026-10-30T12:00:00Z"
        code, out, err = cli(capsys, "sla", "sweep", *model, "--now", later, *db)
        assert code == 0, err
        breached = int(out.split(" new breaches")[0].split()[-1].replace(",", ""))
        assert breached == clocks.height
        with engine.connect() as conn:
            swept = store.read_clocks(conn)
            outbox = store.read_outbox(conn)
        assert swept.filter(pl.col("breached_at").is_not_null()).height == breached
        assert outbox.filter(pl.col("kind") == "sla.breached").height == breached

        # A second sweep at the same moment escalates nothing again.
        code, out, _ = cli(capsys, "sla", "sweep", *model, "--now", later, *db)
        assert code == 0
        assert out.startswith("✓ 0 new breaches")
        with engine.connect() as conn:
            assert store.read_outbox(conn).height == outbox.height
    finally:
        engine.dispose()


def test_bad_roster_names_file_and_line(db_url, capsys, tmp_path):
    assert cli(capsys, "db", "upgrade", "--database", db_url)[0] == 0
    roster = tmp_path / "teams.yaml"
    roster.write_text(
        "teams:\n  - id: sdr\n    timezone: Mars/Olympus\n    reps:\n      - {id: a, name: A}\n"
    )
    code, _, err = cli(capsys, "team", "import", roster, "--database", db_url)
    assert code == 3
    assert "teams.yaml:3" in err
    assert "Mars/Olympus" in err
