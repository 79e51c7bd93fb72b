"""Qualified versus not qualified, and pipeline / revenue from qualified leads."""

from __future__ import annotations

import pytest

from analyticskit import funnel_data
from leadgate.analytics.frames import FunnelData
from leadgate.analytics.outcomes import PipelineQuery, QualifiedVsNotQuery


def test_qualified_versus_not() -> None:
    table = QualifiedVsNotQuery().run(funnel_data()).table
    qualified, other = table.rows(named=True)
    assert qualified["qualified"] is True
    assert (qualified["leads"], qualified["opportunities"], qualified["won"]) == (5, 3, 1)
    assert qualified["lead_win_rate"] == pytest.approx(0.2)
    assert qualified["opportunity_win_rate"] == pytest.approx(0.5)  # won L1, lost L2
    assert qualified["avg_deal_size"] == pytest.approx(1000.0)
    assert qualified["median_cycle_days"] == pytest.approx(16.0)
    assert (qualified["pipeline"], qualified["revenue"]) == (3000.0, 1000.0)
    assert other["qualified"] is False
    assert (other["leads"], other["won"], other["lead_win_rate"]) == (1, 1, 1.0)
    assert (other["avg_deal_size"], other["median_cycle_days"]) == (2000.0, 15.0)


def test_qualified_versus_not_by_source() -> None:
    table = QualifiedVsNotQuery(by=("source",)).run(funnel_data()).table
    rows = {(r["qualified"], r["source"]): r for r in table.iter_rows(named=True)}
    assert rows[True, "ads"]["leads"] == 3
    assert rows[True, "ads"]["won"] == 0
    assert rows[True, "ads"]["opportunity_win_rate"] is None  # no closed opportunity


def test_pipeline_and_revenue_from_qualified_leads() -> None:
    row = PipelineQuery().run(funnel_data()).table.row(0, named=True)
    assert (row["qualified_pipeline"], row["total_pipeline"]) == (3000.0, 3000.0)
    assert (row["qualified_revenue"], row["total_revenue"]) == (1000.0, 3000.0)
    assert row["revenue_share"] == pytest.approx(1 / 3)
    assert row["pipeline_share"] == pytest.approx(1.0)


def test_without_outcomes_revenue_is_zero_and_shares_no_data() -> None:
    data = funnel_data(outcomes=None)
    row = PipelineQuery().run(data).table.row(0, named=True)
    assert row["total_revenue"] == 0.0
    assert row["revenue_share"] is None
    assert isinstance(data, FunnelData)
