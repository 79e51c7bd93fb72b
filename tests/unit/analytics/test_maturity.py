"""The maturity matrix: levels from KPIs, the KPI that drove them, how to move up."""

from __future__ import annotations

import pytest

from analyticskit import funnel_data
from leadgate.analytics.maturity import MaturityQuery, rate


@pytest.mark.parametrize(
    ("value", "level", "label"),
    [(None, 1, "ad hoc"), (0.5, 2, "defined"), (0.6, 3, "managed"), (0.9, 4, "modern")],
)
def test_rate_uses_the_cut_offs(value: float | None, level: int, label: str) -> None:
    rating = rate("routing & SLAs", value)
    assert (rating.level, rating.label, rating.value) == (level, label, value)
    assert "SLA" in rating.kpi


def test_next_step_names_what_moves_the_capability_up() -> None:
    assert "60 %" in rate("routing & SLAs", 0.5).next_step
    assert "Keep measuring" in rate("routing & SLAs", 0.95).next_step


def test_maturity_of_the_funnel() -> None:
    result = MaturityQuery().run(funnel_data())
    levels = {r.capability: (r.level, r.value) for r in result.ratings}
    # Qualified leads win 0.2 vs 1.0 for the rest: a lift of 0.2 → defined, not managed.
    assert levels["definition of qualified"] == (2, pytest.approx(0.2))
    # Completeness of source, title, employees: (1 + 0.5 + 0) / 3.
    assert levels["data & fit"] == (1, pytest.approx(0.5))
    # Engagement AUC: won 10 beats all four; won 0 ties two zeros, loses to 5 and 3 → 5 / 8.
    assert levels["intent & engagement"] == (3, pytest.approx(0.625))
    assert levels["buying-group insight"] == (4, pytest.approx(0.5))
    assert levels["routing & SLAs"] == (2, pytest.approx(0.25))
    assert levels["revenue insight"] == (4, pytest.approx(1.0))  # both wins have an amount
    frame = result.to_frame()
    assert frame.height == 6
    assert result.to_dict()["rows"][0]["capability"] == "definition of qualified"


def test_definition_is_capped_at_managed_without_a_strong_score() -> None:
    assert rate("definition of qualified", 5.0, cap=3).level == 3
    assert rate("definition of qualified", 5.0).level == 4


def test_all_leads_qualified_leaves_no_lift_to_judge() -> None:
    import polars as pl

    from analyticskit import funnel_leads

    leads = funnel_leads().filter(pl.col("lead_id") != "L5")
    result = MaturityQuery().run(funnel_data(leads=leads))
    definition = result.ratings[0]
    assert (definition.level, definition.value) == (1, None)
