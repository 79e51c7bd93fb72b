"""The report use case: every section, score detection, JSON, backtest input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyticskit import funnel_data
from leadgate.exceptions import UsageError
from leadgate.services.reporting import ReportOptions, build_report, load_backtest, write_json

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_report_runs_every_section(tmp_path: Path) -> None:
    report = build_report(funnel_data(), ReportOptions(capacity=2), now=NOW)
    assert report.leads == 6
    assert report.validation is not None
    assert report.validation.score == "fit_score"
    assert report.thresholds is not None
    assert report.thresholds.capacity == 2
    assert [t.metric for t in report.breakdowns] == ["by_segment", "by_source", "by_owner_id"]
    document = json.loads(write_json(report, tmp_path / "r.json").read_text("utf-8"))
    assert document["qualification_rate"]["rows"][0]["qualified"] == 5
    assert document["acceptance"]["rows"][0]["acceptance_rate"] == pytest.approx(0.6)
    assert document["funnel"]["pairs"][3]["rate"] == pytest.approx(0.2)
    assert len(document["maturity"]["rows"]) == 6
    assert document["generated_at"] == "2026-03-01T00:00:00+00:00"


def test_without_a_score_validation_is_left_out() -> None:
    leads = funnel_data().leads.drop("fit_score", "engagement_score")
    report = build_report(funnel_data(leads=leads), ReportOptions(), now=NOW)
    assert report.validation is None
    assert report.thresholds is None
    assert "No score column" in report.notes[0]


def test_unknown_score_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no score column 'p'"):
        build_report(funnel_data(), ReportOptions(score="p"), now=NOW)


def test_backtest_must_be_a_json_object(tmp_path: Path) -> None:
    good = tmp_path / "b.json"
    good.write_text('{"models": []}', "utf-8")
    assert load_backtest(good) == {"models": []}
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", "utf-8")
    with pytest.raises(UsageError, match="not a backtest report"):
        load_backtest(bad)
    with pytest.raises(UsageError, match="Cannot read"):
        load_backtest(tmp_path / "missing.json")
