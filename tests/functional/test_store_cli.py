"""The store from the command line: migrate, import, requalify, act on leads — on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from leadgate.cli.app import main
from leadgate.storage import make_engine, read_leads, read_stage_history
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL

AS_OF = datetime(2026, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    data = generate_dataset(accounts=60, leads_per_account=5, events_per_lead=12, as_of=AS_OF)
    data.accounts.write_csv(folder / "accounts.csv")
    data.leads.write_csv(folder / "leads.csv")
    data.events.write_csv(folder / "events.csv")
    data.outcomes.write_csv(folder / "outcomes.csv")
    return folder, data


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_refuses_an_unmigrated_database_with_a_hint(db_url, files, capsys):
    folder, _ = files
    code, _, err = cli(capsys, "import", "leads", folder / "leads.csv", "--database", db_url)
    assert code == 5
    assert "leadgate db upgrade" in err
    code, _, err = cli(capsys, "db", "current", "--database", db_url)
    assert code == 5
    assert "empty database" in err


def test_import_requalify_and_sales_actions(db_url, files, capsys, tmp_path):
    folder, data = files
    assert cli(capsys, "db", "upgrade", "--database", db_url)[0] == 0
    assert cli(capsys, "db", "upgrade", "--database", db_url)[0] == 0  # idempotent
    code, out, _ = cli(capsys, "db", "current", "--database", db_url)
    assert (code, "up to date" in out) == (0, True)

    for kind in ("accounts", "leads", "events", "outcomes"):
        code, out, err = cli(capsys, "import", kind, folder / f"{kind}.csv", "--database", db_url)
        assert code == 0, err
        rows = getattr(data, kind).height
        assert f"{rows:,} inserted" in out
    # Re-importing changes nothing; events are idempotent by id.
    code, out, _ = cli(capsys, "import", "events", folder / "events.csv", "--database", db_url)
    assert f"0 inserted, 0 updated, {data.events.height:,} unchanged" in out

    # Events about a lead that is not stored are rejected into a report, the rest imported.
    extra = data.events.head(3).with_columns(
        pl.Series("lead_id", [10**9, data.leads["lead_id"][0], 10**9 + 1]),
        pl.Series("event_id", [10**9, 10**9 + 1, 10**9 + 2]),
    )
    extra_file = tmp_path / "more_events.csv"
    extra.write_csv(extra_file)
    code, out, err = cli(capsys, "import", "events", extra_file, "--database", db_url)
    assert code == 0
    assert "1 inserted" in out
    assert "2 rejected" in out
    report = pl.read_csv(tmp_path / "more_events.rejected.csv")
    assert report.height == 2
    assert "more_events.rejected.csv" in err

    model = ["--model", EXAMPLE_MODEL, "--as-of", AS_OF.isoformat(), "--database", db_url]
    code, out, err = cli(capsys, "requalify", *model)
    assert code == 0, err
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            leads = read_leads(conn)
            history = read_stage_history(conn)
        assert leads["scored_at"].null_count() == 0
        assert leads["model_version"].n_unique() == 1
        moved = leads.filter(pl.col("stage") != "new")
        assert moved.height == history.height > 0
        mql = leads.filter(pl.col("stage") == "mql")
        assert mql.height > 0
        assert mql["became_mql_at"].to_list() == [AS_OF] * mql.height
        assert set(history["action"]) == {"requalify"}
        disq = leads.filter(pl.col("stage") == "disqualified")
        assert disq["disqualified_reason"].null_count() == 0

        # Second run: nothing changes.
        code, out, _ = cli(capsys, "requalify", *model)
        assert "0 changed scores, 0 stage moves" in out
        with engine.connect() as conn:
            assert read_stage_history(conn).height == history.height

        lead_id = mql["lead_id"][0]
        db = ["--database", db_url]
        code, out, _ = cli(capsys, "lead", "accept", lead_id, "--actor", "rep@x.io", *db)
        assert (code, "mql → sal" in out) == (0, True)
        code, _, err = cli(capsys, "lead", "accept", lead_id, *db)
        assert code == 7
        assert "Cannot accept a lead in stage 'sal'" in err
        code, _, err = cli(capsys, "lead", "recycle", lead_id, *db)
        assert code == 7
        assert "reason is required" in err
        assert cli(capsys, "lead", "convert", lead_id, *db)[0] == 0
        code, out, _ = cli(capsys, "lead", "won", lead_id, "--actor", "rep@x.io", *db)
        assert "opportunity → won" in out
        assert cli(capsys, "lead", "accept", "no-such-lead", *db)[0] == 8
        with engine.connect() as conn:
            lead = read_leads(conn, [lead_id]).row(0, named=True)
            steps = read_stage_history(conn, lead_id)
        assert lead["stage"] == "won"
        assert lead["became_mql_at"] == AS_OF  # kept from the first time
        assert lead["became_sal_at"] is not None
        assert lead["became_won_at"] is not None
        assert steps["to_stage"].to_list() == ["mql", "sal", "opportunity", "won"]
        assert steps["action"].to_list() == ["requalify", "accept", "convert", "won"]
        assert steps["actor"].to_list()[1] == "rep@x.io"
        assert steps["model_version"].null_count() == 0

        # Export back in a CRM's import format, rescored so reasons are in words.
        out = tmp_path / "hubspot.csv"
        code, _, err = cli(capsys, "export", "-o", out, "--format", "hubspot-contacts", *model)
        assert code == 0, err
        exported = pl.read_csv(out, infer_schema=False)
        assert exported.height == leads.height
        assert {"Record ID", "leadgate_grade", "leadgate_stage", "leadgate_reasons"} <= set(
            exported.columns
        )
        row = exported.filter(pl.col("Record ID") == str(lead_id)).row(0, named=True)
        assert row["leadgate_stage"] == "won"  # the lifecycle stage, not the recommendation
        assert row["leadgate_reasons"]
        # Formula injection is neutralised: no text cell starts with = + - @ (numbers may).
        number = r"^[-+]?[0-9.]+(e[-+]?[0-9]+)?$"
        risky = pl.all().str.contains(r"^[=+\-@]") & ~pl.all().str.contains(number)
        assert not any(exported.select(risky.any()).row(0))
        assert row["leadgate_reasons"].startswith("'+")
        code, _, err = cli(capsys, "export", "-o", out, "--format", "pipedrive", *db)
        assert code == 4
        assert "hubspot-contacts" in err
    finally:
        engine.dispose()
