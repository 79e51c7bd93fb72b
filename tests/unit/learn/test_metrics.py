import numpy as np
import pytest

from leadgate.learn.metrics import (
    evaluate,
    expected_calibration_error,
    lift_by_decile,
    log_loss,
    pr_auc,
    roc_auc,
)


def test_roc_auc_counts_ordered_pairs_with_ties_as_half() -> None:
    y = np.array([0, 0, 1, 1, 0, 1], dtype=float)
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.8, 0.9])
    # 9 positive/negative pairs: 3 vs (0.1 ✓, 0.4 ✗, 0.8 ✗) 0.8 vs (✓, ✓, tie ½) 0.9 vs ✓✓✓
    assert roc_auc(y, p) == pytest.approx((1 + 2.5 + 3) / 9)


def test_roc_auc_of_one_class_is_nan() -> None:
    assert np.isnan(roc_auc(np.ones(3), np.array([0.1, 0.2, 0.3])))


def test_pr_auc_is_average_precision() -> None:
    y = np.array([1, 0, 1, 0], dtype=float)
    p = np.array([0.9, 0.8, 0.7, 0.1])
    # hits at ranks 1 and 3: precision 1 and 2/3
    assert pr_auc(y, p) == pytest.approx((1 + 2 / 3) / 2)


def test_log_loss_by_hand() -> None:
    y = np.array([1.0, 0.0])
    p = np.array([0.8, 0.4])
    assert log_loss(y, p) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_ece_weights_each_bin_gap_by_rows() -> None:
    # bin 0.1-0.2: two rows predicted 0.15, one converted (0.5) → gap 0.35
    # bin 0.9-1.0: two rows predicted 0.95, both converted → gap 0.05
    y = np.array([0, 1, 1, 1], dtype=float)
    p = np.array([0.15, 0.15, 0.95, 0.95])
    assert expected_calibration_error(y, p) == pytest.approx((2 * 0.35 + 2 * 0.05) / 4)


def test_lift_top_decile() -> None:
    y = np.array([1] * 10 + [0] * 90, dtype=float)
    p = np.linspace(1, 0, 100)
    lift = lift_by_decile(y, p)
    assert lift[0] == pytest.approx(10.0)
    assert lift[1:] == [0.0] * 9


def test_evaluate_gives_an_interval_around_the_auc() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.4).astype(float)
    p = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1)
    m = evaluate(y, p)
    assert m.auc_low <= m.roc_auc <= m.auc_high
    assert m.rows == 300
