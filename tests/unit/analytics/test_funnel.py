"""Funnel counts, pairwise conversion, cohorts, qualification rate and breakdowns."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from analyticskit import funnel_data, funnel_leads
from leadgate.analytics.frames import FunnelData
from leadgate.analytics.funnel import (
    BreakdownQuery,
    CohortQuery,
    FunnelQuery,
    QualificationRateQuery,
)
from leadgate.exceptions import UsageError


def _pairs(result_pairs: pl.DataFrame) -> dict[tuple[str, str], tuple[int, int, float | None]]:
    return {
        (r["from_stage"], r["to_stage"]): (r["from_leads"], r["to_leads"], r["rate"])
        for r in result_pairs.iter_rows(named=True)
    }


def test_stage_counts_are_got_at_least_this_far() -> None:
    stages = FunnelQuery().run(funnel_data()).stages
    # MQL: L1-L4 and L6 (L5 was never qualified); SAL/SQL: L1, L2 + implied by L5's and L6's
    # opportunities; won: L1, L5.
    assert dict(zip(stages["stage"], stages["leads"], strict=True)) == {
        "mql": 5, "sal": 4, "sql": 4, "opportunity": 4, "won": 2,
    }  # fmt: skip
    assert dict(zip(stages["stage"], stages["dated"], strict=True)) == {
        "mql": 5, "sal": 2, "sql": 1, "opportunity": 4, "won": 2,
    }  # fmt: skip


def test_conversion_between_every_pair_counts_leads_that_reached_both() -> None:
    pairs = _pairs(FunnelQuery().run(funnel_data()).pairs)
    assert len(pairs) == 10
    assert pairs["mql", "sal"] == (5, 3, pytest.approx(0.6))  # L1, L2, L6
    assert pairs["mql", "won"] == (5, 1, pytest.approx(0.2))  # L1 only: L5 was no MQL
    assert pairs["sal", "won"] == (4, 2, pytest.approx(0.5))
    assert pairs["opportunity", "won"] == (4, 2, pytest.approx(0.5))


def test_funnel_by_source() -> None:
    pairs = FunnelQuery(by=("source",)).run(funnel_data()).pairs
    web = pairs.filter((pl.col("source") == "web") & (pl.col("to_stage") == "won"))
    mql_won = web.filter(pl.col("from_stage") == "mql").row(0, named=True)
    assert (mql_won["from_leads"], mql_won["to_leads"]) == (2, 1)  # L1, L2 → L1


def test_a_stage_nobody_reached_has_no_rate() -> None:
    leads = funnel_leads().filter(pl.col("lead_id") == "L5").drop("stage")
    pairs = _pairs(FunnelQuery().run(FunnelData(leads)).pairs)
    assert pairs["mql", "won"] == (0, 0, None)


def test_stage_history_alone_dates_the_stages() -> None:
    leads = pl.DataFrame({"lead_id": [1, 2]})
    history = pl.DataFrame(
        {
            "lead_id": ["1", "1", "2"],
            "from_stage": ["new", "mql", "new"],
            "to_stage": ["mql", "sal", "pql"],
            "occurred_at": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03"],
        }
    )
    stages = FunnelQuery().run(FunnelData(leads, stage_history=history)).stages
    assert dict(zip(stages["stage"], stages["dated"], strict=True))["mql"] == 2  # pql counts
    assert dict(zip(stages["stage"], stages["leads"], strict=True))["sal"] == 1


def test_cohorts_by_month() -> None:
    table = CohortQuery(period="month").run(funnel_data()).table
    jan, feb = table.rows(named=True)
    assert jan["month"] == date(2026, 1, 1)
    assert (jan["leads"], jan["mql"], jan["won"]) == (5, 4, 2)
    assert jan["lead_to_mql"] == pytest.approx(0.8)
    assert jan["mql_to_won"] == pytest.approx(0.5)  # counts, not pairs: 2 won / 4 MQL
    assert (feb["month"], feb["leads"], feb["mql"], feb["won"]) == (date(2026, 2, 1), 1, 1, 0)


def test_cohorts_by_week_start_on_monday() -> None:
    table = CohortQuery(period="week").run(funnel_data()).table
    # 1 Jan 2026 is a Thursday: L1, L2 (d1) and L3 (d2) fall in the week of 29 December.
    first = table.row(0, named=True)
    assert (first["week"], first["leads"]) == (date(2025, 12, 29), 3)


def test_qualification_rate_overall_and_by_segment() -> None:
    overall = QualificationRateQuery().run(funnel_data()).table.row(0, named=True)
    assert (overall["leads"], overall["qualified"]) == (6, 5)
    assert overall["qualification_rate"] == pytest.approx(5 / 6)
    by = QualificationRateQuery(by=("segment",)).run(funnel_data()).table
    rates = dict(zip(by["segment"], by["qualification_rate"], strict=True))
    assert rates == {"ent": pytest.approx(2 / 3), "smb": pytest.approx(1.0)}


def test_breakdown_by_owner_alias_and_missing_owner() -> None:
    table = BreakdownQuery(by=("owner",)).run(funnel_data()).table
    rows = {r["owner"]: r for r in table.iter_rows(named=True)}
    assert rows["o1"]["leads"] == 3
    assert rows["o1"]["won"] == 1
    assert rows[None]["lead_to_won"] == pytest.approx(1.0)  # L5 has no owner
    assert rows["o2"]["revenue"] == 0.0


def test_unknown_breakdown_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'region'") as caught:
        FunnelQuery(by=("region",)).run(funnel_data())
    assert "segment" in caught.value.hint


def test_period_breakdown_needs_created_at() -> None:
    data = FunnelData(funnel_leads().drop("created_at"))
    with pytest.raises(UsageError, match="created_at"):
        QualificationRateQuery(by=("month",)).run(data)


def test_results_serialise_to_json_ready_dicts() -> None:
    document = CohortQuery().run(funnel_data()).to_dict()
    assert document["rows"][0]["month"] == "2026-01-01"
    assert FunnelQuery().run(funnel_data()).to_dict()["stages"][0]["stage"] == "mql"


def test_the_callers_frames_are_not_changed() -> None:
    leads = funnel_leads()
    before = leads.clone()
    FunnelQuery().run(FunnelData(leads))
    assert leads.equals(before)
