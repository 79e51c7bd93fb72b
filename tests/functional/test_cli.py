"""The command line, driven as a user would, on files in a temporary folder."""

from __future__ import annotations

import csv

import polars as pl
import pytest

from leadgate.cli.app import main
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    data = generate_dataset(accounts=60, seed=3)
    data.accounts.write_parquet(folder / "accounts.parquet")
    data.leads.write_csv(folder / "leads.csv")
    data.events.write_parquet(folder / "events.parquet")
    (folder / "as_of").write_text(data.as_of.isoformat())
    return folder


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_ok(capsys):
    code, out, _ = run(capsys, "validate", EXAMPLE_MODEL)
    assert code == 0
    assert "is valid" in out


def test_validate_reports_line_and_hint(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE_MODEL.read_text().replace("half_life_days: 30}", "half_life_day: 30}", 1)
    )
    code, _, err = run(capsys, "validate", bad)
    assert code == 2
    assert f"{bad}:" in err
    assert "half_life_days" in err
    assert "Traceback" not in err


def test_compile_writes_a_versioned_artifact(tmp_path, capsys):
    out = tmp_path / "m.json"
    code, text, _ = run(capsys, "compile", EXAMPLE_MODEL, "--out", out)
    assert code == 0
    assert out.exists()
    assert "signalstack@" in text
    code, text, _ = run(capsys, "validate", out)
    assert code == 0


def test_schema_prints_json(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert '"schema_version"' in out


def test_score_writes_scores_ledger_and_accounts(data_dir, tmp_path, capsys):
    as_of = (data_dir / "as_of").read_text()
    out, ledger, accounts = tmp_path / "s.csv", tmp_path / "l.parquet", tmp_path / "a.ndjson"
    code, text, err = run(
        capsys,
        "score",
        "--model",
        EXAMPLE_MODEL,
        "--leads",
        data_dir / "leads.csv",
        "--accounts",
        data_dir / "accounts.parquet",
        "--events",
        data_dir / "events.parquet",
        "--as-of",
        as_of,
        "--out",
        out,
        "--ledger",
        ledger,
        "--accounts-out",
        accounts,
    )
    assert code == 0, err
    scores = pl.read_csv(out)
    leads = pl.read_csv(data_dir / "leads.csv")
    assert scores.height == leads.height
    assert {"grade", "stage", "top_reasons", "model_version"} <= set(scores.columns)
    assert pl.read_parquet(ledger).height > 0
    assert pl.read_ndjson(accounts).height == 60
    assert "scored" in text


def test_score_rejects_bad_rows_then_skips_them(data_dir, tmp_path, capsys):
    leads = pl.read_csv(data_dir / "leads.csv", infer_schema=False)
    bad = leads.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("yesterday-ish"))
        .otherwise(pl.col("created_at"))
        .alias("created_at")
    )
    path = tmp_path / "leads.csv"
    bad.write_csv(path)
    args = [
        "score",
        "--model",
        EXAMPLE_MODEL,
        "--leads",
        path,
        "--as-of",
        "2026-10-01",
        "--out",
        tmp_path / "s.csv",
    ]
    code, _, err = run(capsys, *args)
    assert code == 3
    assert "row 4" in err
    assert "created_at" in err
    code, _, err = run(capsys, *args, "--skip-invalid")
    assert code == 0
    assert pl.read_csv(tmp_path / "s.csv").height == leads.height - 1
    with (tmp_path / "s.problems.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["column"]) for r in rows] == [("4", "created_at")]


def test_score_missing_file_is_a_clear_error(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "score",
        "--model",
        EXAMPLE_MODEL,
        "--leads",
        tmp_path / "nope.csv",
        "--out",
        tmp_path / "s.csv",
    )
    assert code == 3
    assert "nope.csv" in err
    assert "Traceback" not in err


def test_bad_as_of(data_dir, tmp_path, capsys):
    code, _, err = run(
        capsys,
        "score",
        "--model",
        EXAMPLE_MODEL,
        "--leads",
        data_dir / "leads.csv",
        "--as-of",
        "last tuesday",
        "--out",
        tmp_path / "s.csv",
    )
    assert code == 4
    assert "ISO 8601" in err


def test_explain_prints_the_ledger_in_words(data_dir, capsys):
    scores_source = pl.read_csv(data_dir / "leads.csv")
    lead_id = str(scores_source["lead_id"][0])
    code, out, err = run(
        capsys,
        "explain",
        lead_id,
        "--model",
        EXAMPLE_MODEL,
        "--leads",
        data_dir / "leads.csv",
        "--accounts",
        data_dir / "accounts.parquet",
        "--events",
        data_dir / "events.parquet",
        "--as-of",
        (data_dir / "as_of").read_text(),
    )
    assert code == 0, err
    assert f"Lead {lead_id}: grade" in out
    assert "BANT:" in out


def test_explain_unknown_lead(data_dir, capsys):
    code, _, err = run(
        capsys,
        "explain",
        "999999999",
        "--model",
        EXAMPLE_MODEL,
        "--leads",
        data_dir / "leads.csv",
    )
    assert code == 4
    assert "999999999" in err


def test_demo_runs_and_writes(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--accounts", "80", "--out", tmp_path / "demo")
    assert code == 0, err
    assert "Recommended stage" in out
    assert "Top qualified leads" in out
    assert (tmp_path / "demo" / "scores.csv").exists()
    # The demo also runs the store path: SQLite import, requalify, lifecycle stages.
    assert "Lifecycle stages in sqlite:///" in out
    import polars as pl

    from leadgate.storage import make_engine, read_leads

    engine = make_engine(f"sqlite:///{tmp_path / 'demo' / 'leadgate.db'}")
    with engine.connect() as conn:
        stored = read_leads(conn)
    engine.dispose()
    scores = pl.read_csv(tmp_path / "demo" / "scores.csv")
    assert stored.height == scores.height
    assert stored["model_version"].n_unique() == 1
    # Recommendations and lifecycle agree where no sales action intervened.
    mql = set(scores.filter(pl.col("stage") == "mql")["lead_id"].cast(pl.String))
    assert mql == set(stored.filter(pl.col("recommended_stage") == "mql")["lead_id"])
