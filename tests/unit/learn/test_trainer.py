import numpy as np
import polars as pl
import pytest

from leadgate.exceptions import UsageError
from leadgate.learn import LABEL, TrainingConfig, TrainingSet, train
from leadgate.learn.calibration import choose_calibration, fit_platt
from leadgate.learn.metrics import expected_calibration_error
from leadgate.learn.trainer import grouped_folds, recent_outcome_gap
from learnkit import planted

FAST = TrainingConfig(evaluate=False)


def test_trains_a_predictor_that_ranks_the_planted_effects() -> None:
    frame = planted(900)
    report = train(TrainingSet(frame, ("visits", "channel", "noise")), FAST)
    p = report.predictor.predict(frame)
    webinar = p[frame["channel"].to_numpy() == "webinar"].mean()
    ads = p[frame["channel"].to_numpy() == "ads"].mean()
    assert webinar > ads + 0.3
    names = [n for n, _ in report.predictor.importances]
    assert names[-1] == "noise"
    assert report.predictor.version.startswith("p-")


def test_a_planted_leaky_column_is_refused_with_how_to_exclude_it() -> None:
    frame = planted(600)
    frame = frame.with_columns(
        pl.when(pl.col(LABEL) == 1)
        .then(pl.lit("Closed won"))
        .otherwise(pl.lit("Lost"))
        .alias("sales_status")
    )
    with pytest.raises(UsageError) as error:
        train(TrainingSet(frame, ("visits", "channel", "sales_status")), FAST)
    assert "sales_status" in error.value.message
    assert "--exclude" in error.value.hint


def test_a_near_perfect_numeric_column_is_refused_but_can_be_allowed() -> None:
    frame = planted(600)
    frame = frame.with_columns((pl.col(LABEL) * 10 + pl.col("noise") * 0.1).alias("days_to_close"))
    with pytest.raises(UsageError, match="days_to_close"):
        train(TrainingSet(frame, ("visits", "days_to_close")), FAST)
    report = train(
        TrainingSet(frame, ("visits", "days_to_close")),
        TrainingConfig(evaluate=False, allow_leaky=("days_to_close",)),
    )
    assert report.predictor.features == ("visits", "days_to_close")


def test_thin_segments_fall_back_to_the_global_predictor_and_warn() -> None:
    frame = planted(900).with_columns(
        pl.when(pl.col("lead_id") <= 850)
        .then(pl.lit("smb"))
        .otherwise(pl.lit("enterprise"))
        .alias("segment")
    )
    config = TrainingConfig(evaluate=False, min_segment_outcomes=100, small_data_outcomes=500)
    report = train(TrainingSet(frame, ("visits", "channel"), segment_column="segment"), config)
    assert set(report.predictor.segment_calibrations) == {"smb"}
    assert any("enterprise" in w and "global" in w for w in report.warnings)
    assert any("uncertain" in w for w in report.warnings)


def test_validation_reports_cv_and_time_ordered_metrics_with_an_interval() -> None:
    frame = planted(500)
    report = train(TrainingSet(frame, ("visits", "channel")), TrainingConfig(folds=3))
    cv = report.predictor.metrics["cross_validation"]
    newest = report.predictor.metrics["time_ordered"]
    assert cv.rows == 500
    assert newest.rows == 100
    assert cv.auc_low < cv.roc_auc < cv.auc_high
    assert cv.roc_auc > 0.7


def test_one_class_is_refused() -> None:
    frame = planted(100).with_columns(pl.lit(0, pl.Int8).alias(LABEL))
    with pytest.raises(UsageError, match="one class"):
        train(TrainingSet(frame, ("visits",)), FAST)


def test_calibration_improves_ece_of_overconfident_scores() -> None:
    rng = np.random.default_rng(3)
    true_logit = rng.normal(0, 1.5, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-true_logit))).astype(float)
    raw = 3 * true_logit + 1  # overconfident and shifted
    before = expected_calibration_error(y, 1 / (1 + np.exp(-raw)))
    calibration = choose_calibration(raw, y)
    after = expected_calibration_error(y, calibration.apply(raw))
    assert before > 0.1
    assert after < 0.03
    platt = fit_platt(raw, y)
    assert platt.slope == pytest.approx(1 / 3, abs=0.05)


def test_identical_rows_stay_in_one_fold() -> None:
    frame = planted(300).select("visits", "channel")
    doubled = pl.concat([frame, frame, frame.head(50)])
    y = np.tile(np.arange(2.0), doubled.height // 2 + 1)[: doubled.height]
    folds = grouped_folds(doubled, y, 3, seed=0)
    keys = doubled.hash_rows(seed=0).to_numpy()
    for key in np.unique(keys):
        assert len(set(folds[keys == key].tolist())) == 1
    assert set(folds.tolist()) == {0, 1, 2}


def test_early_stopping_on_the_training_rows_chooses_the_number_of_trees() -> None:
    from leadgate.learn.blend import MAX_ROUNDS

    # Pure noise: the held-out loss stops improving almost at once.
    noisy = planted(600, seed=4).with_columns(
        pl.Series(LABEL, np.random.default_rng(1).integers(0, 2, 600).astype(np.int8))
    )
    report = train(TrainingSet(noisy, ("noise", "visits")), FAST)
    noise_trees = report.predictor.blend.booster.count("Tree=")
    signal = train(TrainingSet(planted(3000, seed=5), ("visits", "channel", "noise")), FAST)
    signal_trees = signal.predictor.blend.booster.count("Tree=")
    assert 1 <= noise_trees < signal_trees < MAX_ROUNDS


def test_recent_leads_that_have_not_closed_yet_draw_a_warning() -> None:
    frame = planted(1000)
    newest = frame["decision_at"] >= frame["decision_at"].sort()[850]
    censored = frame.with_columns(
        pl.when(pl.Series(newest)).then(0).otherwise(pl.col(LABEL)).cast(pl.Int8).alias(LABEL)
    )
    y = censored[LABEL].cast(pl.Float64).to_numpy()
    warning = recent_outcome_gap(censored, y)
    assert warning is not None
    assert "not had time to close" in warning
    assert recent_outcome_gap(frame, frame[LABEL].cast(pl.Float64).to_numpy()) is None
    assert any(
        "not had time to close" in w
        for w in train(TrainingSet(censored, ("visits",)), FAST).warnings
    )


def test_default_probability_grades_come_from_out_of_fold_probabilities() -> None:
    frame = planted(900)
    predictor = train(TrainingSet(frame, ("visits", "channel")), FAST).predictor
    bounds = dict(predictor.probability_grades)
    assert list(bounds) == ["A", "B", "C"]
    assert 0 < bounds["C"] < bounds["B"] < bounds["A"] < 1
    top = (predictor.predict(frame) >= bounds["A"]).mean()
    assert 0.05 < top < 0.2  # about a tenth of the training leads are A


def test_few_distinct_rows_fall_back_to_plain_stratified_folds() -> None:
    frame = pl.DataFrame({"channel": ["a", "b"] * 20})
    y = np.array([0.0, 1.0] * 20)
    folds = grouped_folds(frame, y, 3, seed=0)
    assert set(folds.tolist()) == {0, 1, 2}
    for fold in range(3):
        assert set(y[folds != fold].tolist()) == {0.0, 1.0}
