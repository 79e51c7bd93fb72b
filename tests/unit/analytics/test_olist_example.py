"""The Olist example: the adapter and the analytics on real data, with figures worked out
independently from the raw CSVs (plain ``csv`` and ``datetime``)."""

from __future__ import annotations

import csv
import importlib.util
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

from leadgate.analytics.frames import FunnelData
from leadgate.analytics.funnel import BreakdownQuery, FunnelQuery
from leadgate.analytics.validation import ValidationQuery
from leadgate.analytics.velocity import VelocityQuery

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / ".." / "shared" / "data" / "olist"
EXAMPLE = REPO / "examples" / "olist" / "load.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("olist_load", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def olist() -> ModuleType:
    if not (DATA / "olist_marketing_qualified_leads_dataset.csv").is_file():
        pytest.fail(f"The Olist data is missing: expected it in {DATA.resolve()} (see README).")
    return _example()


@pytest.fixture(scope="module")
def data(olist: ModuleType) -> FunnelData:
    frames = olist.load_olist(DATA)
    leads = olist.with_scores(frames.leads)
    return FunnelData(leads, stage_history=frames.stage_history, outcomes=frames.outcomes)


def _raw() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    with (DATA / "olist_marketing_qualified_leads_dataset.csv").open(newline="") as f:
        mqls = list(csv.DictReader(f))
    with (DATA / "olist_closed_deals_dataset.csv").open(newline="") as f:
        deals = list(csv.DictReader(f))
    return mqls, deals


def test_8000_mqls_842_won(data: FunnelData) -> None:
    pairs = FunnelQuery().run(data).pairs
    row = pairs.filter((pairs["from_stage"] == "mql") & (pairs["to_stage"] == "won")).row(
        0, named=True
    )
    assert (row["from_leads"], row["to_leads"]) == (8000, 842)
    assert row["rate"] == pytest.approx(0.10525)


def test_conversion_by_origin_matches_the_raw_files(data: FunnelData) -> None:
    mqls, deals = _raw()
    origin = {row["mql_id"]: row["origin"] or None for row in mqls}
    leads = Counter(origin.values())
    won = Counter(origin[row["mql_id"]] for row in deals)
    table = BreakdownQuery(by=("source",)).run(data).table
    got = {
        r["source"]: (r["leads"], r["won"], r["lead_to_won"]) for r in table.iter_rows(named=True)
    }
    assert got.keys() == leads.keys()
    for name, count in leads.items():
        assert got[name][:2] == (count, won[name])
        assert got[name][2] == pytest.approx(won[name] / count)
    assert got["organic_search"][:2] == (2296, 271)


def test_median_days_to_close(data: FunnelData) -> None:
    mqls, deals = _raw()
    first = {row["mql_id"]: datetime.fromisoformat(row["first_contact_date"]) for row in mqls}
    spans = [
        (datetime.fromisoformat(row["won_date"]) - first[row["mql_id"]]).total_seconds() / 86400
        for row in deals
    ]
    kept = [s for s in spans if s >= 0]  # one deal is recorded as won before first contact
    assert len(spans) - len(kept) == 1
    table = VelocityQuery().run(data).table
    row = next(r for r in table.iter_rows(named=True) if r["stage"] == "cycle")
    assert row["leads"] == 841
    assert row["median_days"] == pytest.approx(statistics.median(kept))
    assert int(row["median_days"]) == 14
    whole_days = [
        (datetime.fromisoformat(r["won_date"]).date() - first[r["mql_id"]].date()).days
        for r in deals
    ]
    assert statistics.median(whole_days) == 14


def test_example_model_ranks_wins_above_chance(data: FunnelData) -> None:
    from sklearn.metrics import roc_auc_score

    result = ValidationQuery(score="fit_score").run(data)
    facts = data.facts
    expected = roc_auc_score(facts["reached_won"].to_list(), facts["fit_score"].to_list())
    assert result.roc_auc == pytest.approx(expected)
    assert result.roc_auc is not None
    assert result.roc_auc > 0.55


def test_command_line_writes_the_three_files(olist: ModuleType, tmp_path: Path) -> None:
    assert olist.main(["--data", str(DATA), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "leads.csv",
        "outcomes.csv",
        "stage_history.csv",
    ]
    assert olist.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
