"""``leadgate train / predict / score --predictor / explain --predictor / suggest-points``,
driven as a user would, on the synthetic company, X Education and Olist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from leadgate.cli.app import main
from leadgate.synth import generate_dataset
from testkit import EXAMPLE_MODEL

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def shared(path: str) -> Path:
    full = DATA / path
    if not full.exists():
        pytest.fail(f"{full} is missing: these tests read the public datasets in ../shared/data")
    return full


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    folder = tmp_path_factory.mktemp("company")
    data = generate_dataset(accounts=400, seed=3)
    data.accounts.write_parquet(folder / "accounts.parquet")
    data.leads.write_parquet(folder / "leads.parquet")
    data.events.write_parquet(folder / "events.parquet")
    data.outcomes.write_parquet(folder / "outcomes.parquet")
    (folder / "as_of").write_text(data.as_of.isoformat())
    return folder


@pytest.fixture(scope="module")
def company_predictor(company):
    out = company / "predictor.json"
    code = main([
        "train", "--leads", str(company / "leads.parquet"),
        "--outcomes", str(company / "outcomes.parquet"),
        "--events", str(company / "events.parquet"),
        "--accounts", str(company / "accounts.parquet"),
        "--model", str(EXAMPLE_MODEL), "--no-validation", "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    return out


def test_train_with_the_rule_model_warns_about_thin_data(company, capsys) -> None:
    code, out, err = run(
        capsys, "train", "--leads", company / "leads.parquet",
        "--outcomes", company / "outcomes.parquet", "--events", company / "events.parquet",
        "--accounts", company / "accounts.parquet", "--model", EXAMPLE_MODEL,
        "--no-validation", "--out", company / "thin.json",
    )  # fmt: skip
    assert code == 0, err
    assert "uncertain" in err
    assert "global predictor" in err
    assert "Top features" in out
    document = json.loads((company / "thin.json").read_text())
    assert "fit_score" in document["features"]
    assert "email" not in document["features"]
    assert document["deal_sizes"]["wins"] > 0


def test_score_with_a_predictor_adds_probability_value_and_reasons(
    company, company_predictor, capsys
) -> None:
    out = company / "scores.csv"
    code, _, err = run(
        capsys, "score", "--model", EXAMPLE_MODEL, "--leads", company / "leads.parquet",
        "--events", company / "events.parquet", "--accounts", company / "accounts.parquet",
        "--as-of", (company / "as_of").read_text(), "--predictor", company_predictor,
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    scores = pl.read_csv(out)
    assert {"p_convert", "expected_value", "p_reasons_up", "grade", "stage"} <= set(scores.columns)
    assert scores["p_convert"].is_between(0, 1).all()
    assert (scores["expected_value"] >= 0).all()
    # The blended grade sits next to the rule grade and keeps its engagement digit.
    assert scores.columns.index("blended_grade") == scores.columns.index("grade") + 1
    assert set(scores["p_grade"].unique()) <= {"A", "B", "C", "D"}
    assert (scores["blended_grade"].str.slice(1) == scores["grade"].str.slice(1)).all()
    assert (scores["blended_grade"] != scores["grade"]).any()


def test_explain_with_a_predictor_gives_reasons_in_words(
    company, company_predictor, capsys
) -> None:
    lead_id = pl.read_parquet(company / "leads.parquet")["lead_id"][0]
    code, out, err = run(
        capsys, "explain", lead_id, "--model", EXAMPLE_MODEL,
        "--leads", company / "leads.parquet", "--events", company / "events.parquet",
        "--accounts", company / "accounts.parquet", "--predictor", company_predictor,
        "--as-of", (company / "as_of").read_text(),
    )  # fmt: skip
    assert code == 0, err
    assert "predicted conversion" in out
    assert "the odds" in out


def test_suggest_points_prints_a_table_and_yaml(company, capsys) -> None:
    code, out, err = run(
        capsys, "suggest-points", "--model", EXAMPLE_MODEL,
        "--leads", company / "leads.parquet", "--outcomes", company / "outcomes.parquet",
        "--events", company / "events.parquet", "--accounts", company / "accounts.parquet",
        "--yaml-out", company / "points.yaml",
    )  # fmt: skip
    assert code == 0, err
    assert "held-out ROC AUC" in out
    assert "rules:" in (company / "points.yaml").read_text()


def test_xeducation_adapter_train_predict_and_leak_refusal(tmp_path, capsys) -> None:
    folder = shared("xeducation")
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "xeducation" / "load.py"),
         "--data", str(folder), "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    leads = pl.read_csv(tmp_path / "leads.csv", infer_schema_length=0)
    # A planted leak: the sales outcome copied into a lead column.
    converted = set(pl.read_csv(tmp_path / "outcomes.csv")["lead_id"].cast(pl.String).to_list())
    leads.with_columns(
        pl.col("lead_id").is_in(list(converted)).cast(pl.String).alias("sales_verdict")
    ).write_csv(tmp_path / "leaky.csv")
    code, _, err = run(
        capsys, "train", "--leads", tmp_path / "leaky.csv", "--outcomes",
        tmp_path / "outcomes.csv", "--decision-delay", "0", "--no-validation",
        "--out", tmp_path / "leaky.json",
    )  # fmt: skip
    assert code != 0
    assert "sales_verdict" in err
    assert "--exclude" in err
    code, out, err = run(
        capsys, "train", "--leads", tmp_path / "leads.csv", "--outcomes",
        tmp_path / "outcomes.csv", "--model", ROOT / "examples" / "xeducation" / "model.yaml",
        "--decision-delay", "0", "--no-validation", "--out", tmp_path / "predictor.json",
    )  # fmt: skip
    assert code == 0, err
    assert "total_time_spent_on_website" in out
    features = json.loads((tmp_path / "predictor.json").read_text())["features"]
    assert "tags" not in features
    assert "lead_quality" not in features
    code, _, err = run(
        capsys, "predict", "--predictor", tmp_path / "predictor.json",
        "--model", ROOT / "examples" / "xeducation" / "model.yaml",
        "--leads", tmp_path / "leads.csv", "--out", tmp_path / "predictions.csv",
        "--as-of", "2020-01-01", "--reasons-top", "100",
    )  # fmt: skip
    assert code == 0, err
    predictions = pl.read_csv(tmp_path / "predictions.csv")
    assert predictions.height == 9240
    assert {"p_grade", "grade", "blended_grade"} <= set(predictions.columns)
    explained = predictions.filter(
        pl.col("p_reasons_up").is_not_null() | pl.col("p_reasons_down").is_not_null()
    )
    assert explained.height == 100
    assert explained["p_convert"].min() >= predictions["p_convert"].sort(descending=True)[99]
    outcomes = pl.read_csv(tmp_path / "outcomes.csv")
    rate = predictions.join(outcomes, on="lead_id", how="semi")["p_convert"].mean()
    assert rate > predictions["p_convert"].mean() + 0.2


def test_olist_train_with_time_ordered_validation(tmp_path, capsys) -> None:
    mql = pl.read_csv(shared("olist/olist_marketing_qualified_leads_dataset.csv"))
    deals = pl.read_csv(shared("olist/olist_closed_deals_dataset.csv"))
    mql.head(3000).select(
        pl.col("mql_id").alias("lead_id"),
        pl.col("first_contact_date").alias("created_at"),
        "origin",
        "landing_page_id",
    ).write_csv(tmp_path / "leads.csv")
    deals.select(pl.col("mql_id").alias("lead_id"), pl.lit(value=True).alias("won")).write_csv(
        tmp_path / "outcomes.csv"
    )
    code, out, err = run(
        capsys, "train", "--leads", tmp_path / "leads.csv", "--outcomes",
        tmp_path / "outcomes.csv", "--decision-delay", "0", "--folds", "2",
        "--time-trend", "--out", tmp_path / "olist.json",
    )  # fmt: skip
    assert code == 0, err
    assert "Validation" in out
    document = json.loads((tmp_path / "olist.json").read_text())
    assert "decision_month" in document["features"]
    assert document["metrics"]["time_ordered"]["rows"] == 600
    assert document["metrics"]["cross_validation"]["roc_auc"] > 0.6
