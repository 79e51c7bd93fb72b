"""``leadgate backtest`` driven as a user would: files, the store, and clear errors."""

from __future__ import annotations

import csv
import json

import pytest

from leadgate.cli.app import main
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL

WINDOW = ("--from", "2026-01-01", "--to", "2026-07-01")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    data = generate_dataset(accounts=80, seed=5)
    data.accounts.write_csv(folder / "accounts.csv")
    data.leads.write_csv(folder / "leads.csv")
    data.events.write_parquet(folder / "events.parquet")
    data.events.write_csv(folder / "events.csv")
    data.outcomes.write_csv(folder / "outcomes.csv")
    strict = folder / "strict.yaml"
    text = EXAMPLE_MODEL.read_text()
    thresholds = "default: {mql_fit: 40, mql_engagement: 30"
    assert thresholds in text  # the stricter copy must really differ
    strict.write_text(text.replace(thresholds, "default: {mql_fit: 45, mql_engagement: 40"))
    return folder


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def file_args(folder):
    return (
        "--leads",
        folder / "leads.csv",
        "--events",
        folder / "events.parquet",
        "--outcomes",
        folder / "outcomes.csv",
        "--accounts",
        folder / "accounts.csv",
    )


def test_backtest_two_models_from_files(files, tmp_path, capsys):
    report, review = tmp_path / "report.json", tmp_path / "review.csv"
    code, out, err = cli(
        capsys,
        "backtest",
        "--model",
        files / "strict.yaml",
        "--baseline",
        EXAMPLE_MODEL,
        *file_args(files),
        *WINDOW,
        "--decision-delay",
        "14d",
        "--json",
        report,
        "--out-dir",
        tmp_path / "out",
        "--review",
        review,
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert "New vs baseline: MQL volume" in out
    data = json.loads(report.read_text())
    assert data["decision_rule"]["label"] == "creation + 14d"
    assert [m["role"] for m in data["models"]] == ["new", "baseline"]
    new, base = data["summaries"]
    # the stricter thresholds can only qualify a subset of what the example model does
    assert new["qualified"] <= base["qualified"]
    only_new = next(cell for cell in data["cells"] if cell["cell"] == "only_new")
    assert only_new["leads"] == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "report.json",
        "decisions.parquet",
        "disagreements.csv",
    }
    with review.open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:5] == ["lead_id", "company", "title", "segment", "review_reason"]
    assert not {"email", "first_name", "last_name", "phone"} & set(header)
    assert (tmp_path / "review.ledger.csv").exists()


def test_stage_history_file_gives_sales_figures(files, tmp_path, capsys):
    import polars as pl

    outcomes = pl.read_csv(files / "outcomes.csv")
    accepted = outcomes["lead_id"].head(40)
    history = tmp_path / "history.csv"
    pl.DataFrame(
        {
            "lead_id": accepted,
            "to_stage": ["sal"] * accepted.len(),
            "action": ["accept"] * accepted.len(),
            "occurred_at": ["2026-08-01T00:00:00Z"] * accepted.len(),
        }
    ).write_csv(history)
    out = tmp_path / "out"
    code, text, err = cli(
        capsys,
        "backtest",
        "-m",
        EXAMPLE_MODEL,
        *file_args(files),
        *WINDOW,
        "--stage-history",
        history,
        "--out-dir",
        out,
    )
    assert code == 0, err
    assert "accepted by sales" in text
    report = json.loads((out / "report.json").read_text())
    decisions = pl.read_parquet(out / "decisions.parquet")
    expected = decisions.filter(
        pl.col("qualified_new") & pl.col("lead_id").is_in(accepted.implode())
    ).height
    assert report["has_stage_history"] is True
    assert report["summaries"][0]["accepted"] == expected
    assert decisions["accepted"].sum() == decisions["lead_id"].is_in(accepted.implode()).sum()


def test_backtest_one_model_on_a_cadence(files, capsys):
    code, out, err = cli(
        capsys,
        "backtest",
        "-m",
        EXAMPLE_MODEL,
        *file_args(files),
        *WINDOW,
        "--cadence",
        "1w",
    )
    assert code == 0, err
    assert "first 7d tick at or after creation" in out
    assert "New vs baseline" not in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--from", "last tuesday", "--to", "2026-07-01"), "--from 'last tuesday' is not a date"),
        (("--from", "2026-07-01", "--to", "2026-01-01"), "must be after --from"),
        ((*WINDOW, "--decision-delay", "a week"), "is not a duration"),
        ((*WINDOW, "--decision-delay", "7d", "--cadence", "1w"), "cannot be used together"),
        ((*WINDOW, "--cadence", "0d"), "longer than zero"),
        (("--from", "2030-01-01", "--to", "2030-02-01"), "No lead was created"),
        ((*WINDOW, "--json", "no/such/folder/r.json"), "does not exist"),
        ((*WINDOW, "--review", "no/such/folder/r.csv"), "does not exist"),
        ((*WINDOW, "--review-margin", "-1"), "must not be negative"),
        ((*WINDOW, "--database", "sqlite:///x.db"), "either --database or the input files"),
    ],
)
def test_bad_options_exit_with_usage(files, capsys, extra, message):
    code, _, err = cli(capsys, "backtest", "-m", EXAMPLE_MODEL, *file_args(files), *extra)
    assert code == 4
    assert message in err
    assert "Traceback" not in err


def test_missing_inputs_are_clear(files, tmp_path, capsys):
    code, _, err = cli(
        capsys, "backtest", "-m", EXAMPLE_MODEL, "--leads", files / "leads.csv", *WINDOW
    )
    assert code == 4
    assert "missing --events, --outcomes" in err
    args = list(file_args(files))
    args[args.index("--outcomes") + 1] = tmp_path / "nope.csv"
    code, _, err = cli(capsys, "backtest", "-m", EXAMPLE_MODEL, *args, *WINDOW)
    assert code == 3
    assert "nope.csv" in err
    code, _, err = cli(capsys, "backtest", "-m", tmp_path / "nope.yaml", *file_args(files), *WINDOW)
    assert code in (2, 3, 4)
    assert "Traceback" not in err


def test_backtest_from_the_store_matches_the_files(files, db_url, tmp_path, capsys):
    assert cli(capsys, "db", "upgrade", "--database", db_url)[0] == 0
    for kind, name in (
        ("accounts", "accounts.csv"),
        ("leads", "leads.csv"),
        ("events", "events.csv"),
        ("outcomes", "outcomes.csv"),
    ):
        code, _, err = cli(capsys, "import", kind, files / name, "--database", db_url)
        assert code == 0, err
    from_files, from_store = tmp_path / "files.json", tmp_path / "store.json"
    common = ("-m", files / "strict.yaml", "--baseline", EXAMPLE_MODEL, *WINDOW)
    code, _, err = cli(capsys, "backtest", *common, *file_args(files), "--json", from_files)
    assert code == 0, err
    code, _, err = cli(capsys, "backtest", *common, "--database", db_url, "--json", from_store)
    assert code == 0, err
    a, b = json.loads(from_files.read_text()), json.loads(from_store.read_text())
    assert b["has_stage_history"] is True
    assert (a["leads"], a["months"], a["disagreements"]) == (
        b["leads"],
        b["months"],
        b["disagreements"],
    )
    for x, y in zip(a["summaries"], b["summaries"], strict=True):
        assert (x["qualified"], x["won"], x["revenue_captured"]) == (
            y["qualified"],
            y["won"],
            y["revenue_captured"],
        )
