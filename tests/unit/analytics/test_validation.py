"""ROC AUC, PR AUC, deciles, grades and calibration; AUC checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyticskit import funnel_data, funnel_leads
from leadgate.analytics.validation import (
    LABEL,
    SCORE,
    ValidationQuery,
    average_precision,
    roc_auc,
)
from leadgate.exceptions import UsageError


def _frame(scores: list[float], labels: list[bool]) -> pl.DataFrame:
    return pl.DataFrame(
        {SCORE: scores, LABEL: labels}, schema={SCORE: pl.Float64, LABEL: pl.Boolean}
    )


def test_auc_and_average_precision_by_hand() -> None:
    frame = _frame([0.9, 0.8, 0.8, 0.3], [True, True, False, False])
    # Pairs (positive beats negative): 0.9>0.8, 0.9>0.3, 0.8=0.8 (half), 0.8>0.3 → 3.5 / 4.
    assert roc_auc(frame) == pytest.approx(0.875)
    # Precision 1 at recall 0.5, then 2/3 at recall 1 → 0.5 × 1 + 0.5 × 2/3.
    assert average_precision(frame) == pytest.approx(0.5 + 1 / 3)


def test_one_class_has_no_auc() -> None:
    assert roc_auc(_frame([0.1, 0.2], [False, False])) is None
    assert average_precision(_frame([0.1, 0.2], [False, False])) is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=2, max_size=40).filter(
        lambda rows: len({label for _, label in rows}) == 2
    )
)
def test_auc_and_pr_auc_match_scikit_learn(rows: list[tuple[int, bool]]) -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = [float(s) for s, _ in rows]
    labels = [label for _, label in rows]
    frame = _frame(scores, labels)
    assert roc_auc(frame) == pytest.approx(roc_auc_score(labels, scores))
    assert average_precision(frame) == pytest.approx(average_precision_score(labels, scores))


def test_validation_of_fit_score_on_the_funnel() -> None:
    result = ValidationQuery(score="fit_score", parts=3).run(funnel_data())
    # Won: L1 (90) and L5 (20); 90 beats all four others, 20 beats none → 4 / 8.
    assert result.roc_auc == pytest.approx(0.5)
    assert result.base_rate == pytest.approx(1 / 3)
    deciles = result.deciles.rows(named=True)
    # Ranked 90 L1, 80 L6 | 70 L2, 60 L3 | 40 L4, 20 L5.
    assert [(r["decile"], r["leads"], r["positives"]) for r in deciles] == [
        (1, 2, 1), (2, 2, 0), (3, 2, 1),
    ]  # fmt: skip
    assert deciles[0]["lift"] == pytest.approx(1.5)
    assert [r["cumulative_capture"] for r in deciles] == [0.5, 0.5, 1.0]
    grades = {r["grade"]: r for r in result.by_grade.rows(named=True)}  # type: ignore[union-attr]
    assert grades["A1"]["lift"] == pytest.approx(3.0)
    assert grades["B2"]["conversion"] == 0.0
    assert result.calibration is None  # scores are not probabilities


def test_validation_against_opportunity_and_by_segment() -> None:
    result = ValidationQuery(score="fit_score", label="opportunity", by=("segment",)).run(
        funnel_data()
    )
    rows = {r["segment"]: r for r in result.summary.iter_rows(named=True)}
    # ent: L1 90 (opp), L4 40, L5 20 (opp) → pairs: 90>40 yes, 20>40 no → 1 / 2.
    assert rows["ent"]["roc_auc"] == pytest.approx(0.5)
    # smb: L2 70 (opp), L3 60, L6 80 (opp) → 70>60, 80>60 → 1.
    assert rows["smb"]["roc_auc"] == pytest.approx(1.0)


def test_calibration_for_probabilities() -> None:
    p = {"L1": 0.95, "L2": 0.45, "L3": 0.15, "L4": 0.05, "L5": 0.55, "L6": 0.85}
    leads = funnel_leads().with_columns(pl.col("lead_id").replace_strict(p).alias("p_won"))
    result = ValidationQuery(score="p_won", calibration_bins=2).run(funnel_data(leads=leads))
    assert result.calibration is not None
    low, high = result.calibration.rows(named=True)
    assert (low["from"], low["to"], low["leads"], low["observed"]) == (0.0, 0.5, 3, 0.0)
    assert low["mean_predicted"] == pytest.approx((0.45 + 0.15 + 0.05) / 3)
    assert high["observed"] == pytest.approx(2 / 3)
    assert high["mean_predicted"] == pytest.approx((0.95 + 0.55 + 0.85) / 3)
    # Won 0.95 beats all four; won 0.55 beats 0.45, 0.15, 0.05 but not 0.85 → 7 / 8.
    assert result.roc_auc == pytest.approx(0.875)


def test_missing_or_text_score_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="predicted"):
        ValidationQuery(score="predicted").run(funnel_data())
    with pytest.raises(UsageError, match="not a numeric"):
        ValidationQuery(score="grade").run(funnel_data())


def test_null_scores_are_left_out() -> None:
    leads = funnel_leads().with_columns(
        pl.when(pl.col("lead_id") == "L5").then(None).otherwise(pl.col("fit_score"))
        .alias("fit_score")
    )  # fmt: skip
    result = ValidationQuery().run(funnel_data(leads=leads))
    assert result.summary["leads"].item() == 5
    assert result.roc_auc == pytest.approx(1.0)  # only L1 won among the scored
    assert np.isfinite(result.to_dict()["roc_auc"])
