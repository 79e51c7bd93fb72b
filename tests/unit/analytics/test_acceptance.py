"""Sales acceptance, rejection reasons, speed-to-lead and SLA attainment."""

from __future__ import annotations

import polars as pl
import pytest

from analyticskit import UTC_US, d, funnel_data, funnel_leads
from leadgate.analytics.acceptance import AcceptanceQuery, RejectionReasonsQuery, SlaQuery


def test_acceptance_rate() -> None:
    row = AcceptanceQuery().run(funnel_data()).table.row(0, named=True)
    # MQLs L1-L4, L6; accepted L1, L2, L6 (an opportunity implies acceptance); rejected L3, L4.
    assert (row["mqls"], row["accepted"], row["rejected"], row["pending"]) == (5, 3, 2, 0)
    assert row["acceptance_rate"] == pytest.approx(0.6)


def test_automatic_recycling_is_not_a_rejection() -> None:
    history = funnel_data().stage_history
    assert history is not None
    auto = history.with_columns(pl.lit("auto").alias("action"))
    row = AcceptanceQuery().run(funnel_data(stage_history=auto)).table.row(0, named=True)
    assert (row["rejected"], row["pending"]) == (0, 2)
    assert row["acceptance_rate"] == pytest.approx(1.0)


def test_without_history_the_current_stage_and_reason_columns_are_used() -> None:
    leads = funnel_leads().with_columns(
        pl.when(pl.col("lead_id") == "L3").then(pl.lit("no_budget")).alias("recycle_reason")
    )
    data = funnel_data(leads=leads, stage_history=None)
    assert AcceptanceQuery().run(data).table["rejected"].item() == 2
    reasons = RejectionReasonsQuery().run(data).table
    assert set(zip(reasons["kind"], reasons["reason"], strict=True)) == {
        ("recycled", "no_budget"),
        ("disqualified", "(none)"),
    }


def test_rejection_reasons_include_feedback() -> None:
    feedback = pl.DataFrame(
        {"lead_id": ["L3", "L4", "L4"], "verdict": ["rejected", "rejected", "accepted"],
         "reason": ["no_budget", "bad_fit", None]}
    )  # fmt: skip
    table = RejectionReasonsQuery().run(funnel_data(feedback=feedback)).table
    rows = {(r["kind"], r["reason"]): r for r in table.iter_rows(named=True)}
    assert rows["recycled", "no_budget"]["leads"] == 1
    assert rows["disqualified", "competitor"]["share_of_kind"] == pytest.approx(1.0)
    assert rows["feedback", "bad_fit"]["share_of_kind"] == pytest.approx(0.5)
    assert len(rows) == 4


def test_sla_attainment_from_response_times() -> None:
    result = SlaQuery(sla_hours=4).run(funnel_data())
    row = result.table.row(0, named=True)
    # Responses: L1 24 h, L2 24 h, L3 2 h (recycled), L4 24 h; L6 has no response date.
    assert (row["mqls"], row["answered"], row["within_sla"]) == (5, 4, 1)
    assert row["sla_attainment"] == pytest.approx(0.25)
    assert row["median_response_hours"] == pytest.approx(24.0)
    assert row["median_speed_to_lead_hours"] is None
    assert any("speed-to-lead: no data" in note for note in result.notes)


def test_speed_to_lead_when_first_touch_is_known() -> None:
    touch = {"L1": d(2, 3), "L2": d(3, 5)}
    leads = funnel_leads().with_columns(
        pl.col("lead_id").replace_strict(touch, default=None, return_dtype=UTC_US)
        .alias("first_touch_at")
    )  # fmt: skip
    row = SlaQuery().run(funnel_data(leads=leads)).table.row(0, named=True)
    assert row["median_speed_to_lead_hours"] == pytest.approx(4.0)  # 3 h and 5 h


def test_sla_from_sla_clocks() -> None:
    clocks = pl.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "due_at": [d(2, 4), d(3, 4), d(4, 4), d(11, 4)],
            "stopped_at": [d(2, 3), d(3, 6), None, None],
            "breached_at": [None, d(3, 4), d(4, 4), None],
        },
        schema_overrides=dict.fromkeys(("due_at", "stopped_at", "breached_at"), UTC_US),
    )
    row = SlaQuery().run(funnel_data(sla_clocks=clocks)).table.row(0, named=True)
    assert row["sla_attainment"] == pytest.approx(1 / 3)  # met L1; breached L2, L3; L4 open


def test_no_sla_data_says_no_data_not_zero() -> None:
    leads = funnel_leads().select("lead_id", "created_at", "source")
    result = SlaQuery().run(funnel_data(leads=leads, stage_history=None, outcomes=None))
    assert result.table["sla_attainment"].item() is None
    assert any("SLA attainment: no data" in note for note in result.notes)
