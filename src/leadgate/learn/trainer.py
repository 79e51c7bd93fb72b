"""Train a calibrated predictor on a training set built as of each lead's decision moment,
and measure it honestly: stratified k-fold CV and a time-ordered hold-out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.exceptions import UsageError
from leadgate.learn.blend import WEIGHT_GRID, Blend, fit_blend
from leadgate.learn.calibration import Calibration, choose_calibration, fit_platt
from leadgate.learn.features import DECISION_AT, LABEL
from leadgate.learn.grades import probability_bounds
from leadgate.learn.leakage import LeakCheck, screen
from leadgate.learn.metrics import Metrics, evaluate, log_loss
from leadgate.learn.predictor import Predictor, with_version

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class TrainingConfig:
    """Knobs of a training run; the defaults are what the quality benchmark measures."""

    folds: int = 5
    calibration_folds: int = 3
    seed: int = 0
    evaluate: bool = True
    holdout_share: float = 0.2
    #: A segment needs this many outcomes of each kind for its own calibration.
    min_segment_outcomes: int = 100
    #: Fewer positive (or negative) outcomes than this draws a "thin data" warning.
    small_data_outcomes: int = 200
    allow_leaky: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingSet:
    """One row per lead as of its decision moment: ``lead_id``, ``decision_at``, the label
    (``converted``) and the feature columns."""

    frame: pl.DataFrame
    features: tuple[str, ...]
    event_types: tuple[str, ...] = ()
    windows: tuple[int, ...] = ()
    decision_delay_days: float = 0.0
    segment_column: str | None = None


@dataclass(frozen=True)
class TrainingReport:
    predictor: Predictor
    leaks: tuple[LeakCheck, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def stratified_folds(y: Floats, k: int, seed: int) -> Ints:
    """Fold number per row, each class spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    folds = np.zeros(len(y), dtype=np.int64)
    for value in (0.0, 1.0):
        rows = np.flatnonzero(y == value)
        folds[rng.permutation(rows)] = np.arange(len(rows)) % k
    return folds


def grouped_folds(frame: pl.DataFrame, y: Floats, k: int, seed: int) -> Ints:
    """Stratified folds that keep identical rows together.

    Lead data holds exact duplicates (form re-submissions, CRM re-imports); a duplicate on both
    sides of a split makes the held-out loss optimistic and early stopping never stop.
    """
    keys = frame.hash_rows(seed=0).to_numpy()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    folds = stratified_folds(y[first], k, seed)[inverse.ravel()]
    for fold in range(k):  # too few distinct rows: every fold must train on both classes
        rest = y[folds != fold]
        if not (folds == fold).any() or not len(rest) or rest.min() == rest.max():
            return stratified_folds(y, k, seed)
    return folds


@dataclass(frozen=True)
class _Fitted:
    blend: Blend
    calibration: Calibration
    segment_calibrations: dict[str, Calibration]
    notes: list[str]
    #: Calibrated out-of-fold probabilities of the training rows (honest, unlike in-sample).
    out_of_fold: Floats


def _fit(
    frame: pl.DataFrame,
    y: Floats,
    features: list[str],
    config: TrainingConfig,
    segment_column: str | None,
) -> _Fitted:
    """Fit the blend; every data-driven choice is made on the training rows only: the number
    of trees (early stopping on each inner fold), the blend weight and the calibration (on
    the inner folds' out-of-fold scores)."""
    k = max(2, min(config.calibration_folds, int(min(y.sum(), len(y) - y.sum()))))
    folds = grouped_folds(frame.select(features), y, k, config.seed + 1)
    boosted, linear = np.zeros(len(y)), np.zeros(len(y))
    rounds = []
    for fold in range(k):
        inside = pl.Series(folds != fold)
        held = frame.filter(~inside)
        part, used = fit_blend(
            frame.filter(inside),
            y[folds != fold],
            features,
            seed=config.seed,
            valid=(held, y[folds == fold]),
        )
        rounds.append(used)
        boosted[folds == fold], linear[folds == fold] = part.parts(held)
    weight = _choose_weight(boosted, linear, y)
    raw = weight * boosted + (1 - weight) * linear
    calibration = choose_calibration(raw, y, seed=config.seed)
    segment_cals, notes = _segment_calibrations(frame, y, raw, segment_column, config)
    final, _ = fit_blend(frame, y, features, seed=config.seed, rounds=round(np.mean(rounds)))
    return _Fitted(
        replace(final, weight=weight), calibration, segment_cals, notes, calibration.apply(raw)
    )


def _choose_weight(boosted: Floats, linear: Floats, y: Floats) -> float:
    """The booster's share with the lowest out-of-fold log loss (after Platt scaling)."""
    losses = {}
    for weight in WEIGHT_GRID:
        raw = weight * boosted + (1 - weight) * linear
        losses[weight] = log_loss(y, fit_platt(raw, y).apply(raw))
    return min(losses, key=lambda w: losses[w])


def _segment_calibrations(
    frame: pl.DataFrame, y: Floats, raw: Floats, column: str | None, config: TrainingConfig
) -> tuple[dict[str, Calibration], list[str]]:
    if column is None or column not in frame.columns:
        return {}, []
    segments = frame.get_column(column).cast(pl.String).fill_null("").to_numpy()
    own: dict[str, Calibration] = {}
    fallback = []
    for segment in sorted(set(segments) - {""}):
        rows = segments == segment
        wins, losses = y[rows].sum(), (1 - y[rows]).sum()
        if min(wins, losses) >= config.min_segment_outcomes:
            own[segment] = fit_platt(raw[rows], y[rows])
        else:
            fallback.append(f"{segment} ({int(wins)} won / {int(losses)} not)")
    notes = []
    if fallback:
        notes.append(
            f"segments below {config.min_segment_outcomes} outcomes of each kind use the global "
            f"predictor: {', '.join(fallback)}"
        )
    return own, notes


def _check_label(y: Floats) -> None:
    if len(y) == 0 or y.min() == y.max():
        raise UsageError(
            "the outcomes have only one class (all converted or none did); nothing to learn.",
            hint="check --outcomes: leads with a won outcome are positives, all others negatives",
        )
    if min(y.sum(), len(y) - y.sum()) < 10:
        raise UsageError(
            f"only {int(min(y.sum(), len(y) - y.sum()))} leads in the smaller class; "
            "a predictor needs at least 10 of each.",
            hint="collect more outcomes or use the rule model alone",
        )


def cross_validate(
    frame: pl.DataFrame, y: Floats, features: list[str], config: TrainingConfig
) -> Floats:
    """Out-of-fold calibrated probabilities from stratified k-fold CV (each fold fully trained)."""
    folds = stratified_folds(y, config.folds, config.seed)
    p = np.zeros(len(y))
    for fold in range(config.folds):
        inside = pl.Series(folds != fold)
        fitted = _fit(frame.filter(inside), y[folds != fold], features, config, None)
        p[folds == fold] = fitted.calibration.apply(fitted.blend.raw(frame.filter(~inside)))
    return p


def time_ordered(
    frame: pl.DataFrame, y: Floats, features: list[str], config: TrainingConfig
) -> tuple[Floats, Floats]:
    """Train on the older leads, test on the newest ``holdout_share`` (by decision moment, then
    by row order when moments tie)."""
    order = np.lexsort(
        (
            np.arange(frame.height),
            frame.get_column(DECISION_AT).to_physical().fill_null(0).to_numpy(),
        )
    )
    cut = int(len(order) * (1 - config.holdout_share))
    train_rows, test_rows = order[:cut], order[cut:]
    if (
        min(y[train_rows].sum(), (1 - y[train_rows]).sum()) < 10
        or y[test_rows].min() == y[test_rows].max()
    ):
        return np.zeros(0), np.zeros(0)
    fitted = _fit(frame[train_rows], y[train_rows], features, config, None)
    return y[test_rows], fitted.calibration.apply(fitted.blend.raw(frame[test_rows]))


#: The newest leads converting at less than this share of the older ones' rate draws a warning.
CENSORING_RATIO = 0.5


def recent_outcome_gap(frame: pl.DataFrame, y: Floats, share: float = 0.2) -> str | None:
    """A warning when the newest leads convert far less than the older ones: usually their
    deals have not had time to close yet (right-censored outcomes), not worse leads."""
    moments = frame.get_column(DECISION_AT)
    if moments.n_unique() <= 1:
        return None
    order = np.argsort(moments.to_physical().fill_null(0).to_numpy(), kind="stable")
    cut = int(len(y) * (1 - share))
    older, newer = y[order[:cut]], y[order[cut:]]
    if older.sum() < 20 or not len(newer) or newer.mean() >= CENSORING_RATIO * older.mean():
        return None
    since = moments[int(order[cut])]
    return (
        f"the newest {share:.0%} of leads (decision moments from {since:%Y-%m-%d}) converted "
        f"{newer.mean():.1%} against {older.mean():.1%} before: their deals have probably not "
        "had time to close yet. Train on leads old enough to have an outcome (drop recent "
        "leads from the leads file), or the predictor learns that new leads never convert"
    )


def data_hash(frame: pl.DataFrame, columns: list[str]) -> str:
    hashes = frame.select(columns).hash_rows(seed=0)
    return hashlib.sha256(hashes.to_numpy().tobytes()).hexdigest()[:16]


def _importances(blend: Blend, frame: pl.DataFrame, seed: int) -> tuple[tuple[str, float], ...]:
    sample = frame.sample(min(frame.height, 2000), seed=seed)
    contrib, _ = blend.contributions(sample)
    values = np.abs(contrib).mean(axis=0)
    pairs = sorted(zip(blend.names, map(float, values), strict=True), key=lambda t: -t[1])
    return tuple((n, round(v, 6)) for n, v in pairs)


def train(
    training: TrainingSet, config: TrainingConfig = TrainingConfig(), step: Step = _quiet
) -> TrainingReport:
    """Screen features for leaks, measure (CV and time-ordered), then fit the final predictor.

    Raises:
        UsageError: one class only, too few outcomes, or a feature that leaks the outcome.
    """
    frame = training.frame
    y = frame.get_column(LABEL).cast(pl.Float64).to_numpy()
    _check_label(y)
    features = list(training.features)
    if not features:
        raise UsageError(
            "no usable feature columns are left after the exclusions.",
            hint="check --exclude and learning.never_features",
        )
    step("Screening features for leaks")
    leaks = screen(frame, y, features, allow=config.allow_leaky)
    warnings = [
        f"feature {leak.feature!r} alone reaches ROC AUC {leak.auc:.3f}: check it is known "
        "before sales contact"
        for leak in leaks
    ]
    smaller = int(min(y.sum(), len(y) - y.sum()))
    if smaller < config.small_data_outcomes:
        warnings.append(
            f"only {smaller} outcomes in the smaller class: metrics are uncertain, read the AUC "
            "interval, not the point value"
        )
    gap = recent_outcome_gap(frame, y)
    if gap:
        warnings.append(gap)
    metrics: dict[str, Metrics] = {}
    if config.evaluate:
        step(f"Cross-validating ({config.folds} folds)")
        metrics["cross_validation"] = evaluate(y, cross_validate(frame, y, features, config))
        step("Time-ordered validation")
        y_new, p_new = time_ordered(frame, y, features, config)
        if len(y_new):
            metrics["time_ordered"] = evaluate(y_new, p_new)
    step("Fitting the final predictor")
    fitted = _fit(frame, y, features, config, training.segment_column)
    warnings += fitted.notes
    moments = frame.get_column(DECISION_AT)
    predictor = Predictor(
        blend=fitted.blend,
        calibration=fitted.calibration,
        features=tuple(features),
        event_types=training.event_types,
        windows=training.windows,
        decision_delay_days=training.decision_delay_days,
        segment_column=training.segment_column,
        segment_calibrations=fitted.segment_calibrations,
        metrics=metrics,
        importances=_importances(fitted.blend, frame, config.seed),
        training={
            "rows": frame.height,
            "positives": int(y.sum()),
            "first_decision_at": str(moments.min()),
            "last_decision_at": str(moments.max()),
            "data_hash": data_hash(frame, [*features, LABEL]),
        },
        warnings=tuple(warnings),
        probability_grades=probability_bounds(fitted.out_of_fold),
    )
    return TrainingReport(with_version(predictor), tuple(leaks), tuple(warnings))
