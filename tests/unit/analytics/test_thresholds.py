"""The threshold explorer and its recommendation rule."""

from __future__ import annotations

import polars as pl
import pytest

from analyticskit import MONTHS, funnel_data
from leadgate.analytics.thresholds import ThresholdQuery, candidate_thresholds
from leadgate.exceptions import UsageError


def test_volume_conversion_and_wins_per_threshold() -> None:
    result = ThresholdQuery(score="fit_score", thresholds=(20, 60, 80)).run(funnel_data())
    assert result.months == pytest.approx(MONTHS)
    rows = {r["threshold"]: r for r in result.table.iter_rows(named=True)}
    assert (rows[20]["volume"], rows[20]["wins"]) == (6, 2)
    assert (rows[60]["volume"], rows[60]["wins"]) == (4, 1)  # 90, 80, 70, 60
    assert (rows[80]["volume"], rows[80]["wins"]) == (2, 1)
    assert rows[60]["conversion"] == pytest.approx(0.25)
    assert rows[60]["volume_per_month"] == pytest.approx(4 / MONTHS)
    assert rows[80]["expected_wins_per_month"] == pytest.approx(1 / MONTHS)
    assert rows[80]["capture"] == pytest.approx(0.5)


def test_recommendation_without_capacity_uses_youden_j() -> None:
    result = ThresholdQuery(score="fit_score", thresholds=(20, 60, 80)).run(funnel_data())
    j = dict(zip(result.table["threshold"], result.table["youden_j"], strict=True))
    # TPR − FPR: 20 → 1 − 1; 60 → 0.5 − 0.75; 80 → 0.5 − 0.25.
    assert j == {20: pytest.approx(0.0), 60: pytest.approx(-0.25), 80: pytest.approx(0.25)}
    assert result.recommended == 80
    assert "Youden" in result.rule


def test_recommendation_against_sales_capacity() -> None:
    result = ThresholdQuery(score="fit_score", capacity=2, thresholds=(20, 60, 80)).run(
        funnel_data()
    )
    rows = {r["threshold"]: r for r in result.table.iter_rows(named=True)}
    # Worked leads a month = min(volume / month, 2) × conversion.
    assert rows[20]["expected_wins_at_capacity"] == pytest.approx(2 / 3)
    assert rows[60]["expected_wins_at_capacity"] == pytest.approx(0.5)
    assert rows[80]["expected_wins_at_capacity"] == pytest.approx(2 / MONTHS * 0.5)
    assert (rows[80]["within_capacity"], rows[60]["within_capacity"]) == (True, False)
    assert result.recommended == 80
    assert result.table.filter(pl.col("recommended"))["threshold"].to_list() == [80]


def test_ties_go_to_the_higher_threshold() -> None:
    result = ThresholdQuery(score="fit_score", capacity=100, thresholds=(85, 90)).run(funnel_data())
    assert result.recommended == 90  # both catch L1 alone


def test_default_candidates_are_score_quantiles() -> None:
    # Lower quantiles at 0 %, 5 %, ..., 95 %: the top rank is floor(0.95 × (n − 1)).
    assert candidate_thresholds(pl.Series([1.0, 2.0, 3.0, 4.0])) == (1.0, 2.0, 3.0)
    result = ThresholdQuery(score="fit_score").run(funnel_data())
    assert result.table["threshold"].to_list() == [20, 40, 60, 70, 80]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(UsageError, match="capacity"):
        ThresholdQuery(score="fit_score", capacity=0).run(funnel_data())
