"""Quality measures of predicted probabilities: ranking, calibration and lift (numpy only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
EPS = 1e-12


def roc_auc(y: Floats, p: Floats) -> float:
    """Area under the ROC curve (ties get half credit); NaN if only one class is present."""
    y = np.asarray(y, dtype=np.float64)
    positives = float(y.sum())
    negatives = float(len(y) - positives)
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p), dtype=np.float64)
    sorted_p = np.asarray(p)[order]
    # average ranks of tied scores
    _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pr_auc(y: Floats, p: Floats) -> float:
    """Average precision (area under the precision-recall curve, step-wise)."""
    y = np.asarray(y, dtype=np.float64)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(p), kind="mergesort")
    hits = y[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def log_loss(y: Floats, p: Floats) -> float:
    """Mean binary cross-entropy."""
    q = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def expected_calibration_error(y: Floats, p: Floats, bins: int = 10) -> float:
    """ECE over equal-width probability bins: the row-weighted gap |observed - predicted|."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins).astype(np.float64)
    gap = np.abs(np.bincount(index, y, bins) - np.bincount(index, p, bins))
    return float(gap.sum() / max(count.sum(), 1.0))


def lift_by_decile(y: Floats, p: Floats) -> list[float]:
    """Conversion rate of each score decile (highest first) divided by the overall rate."""
    y = np.asarray(y, dtype=np.float64)
    base = float(y.mean()) if len(y) else 0.0
    if base == 0:
        return [0.0] * 10
    order = np.argsort(-np.asarray(p), kind="mergesort")
    return [
        float(part.mean() / base) if len(part) else 0.0 for part in np.array_split(y[order], 10)
    ]


def bootstrap_auc(y: Floats, p: Floats, *, rounds: int = 200, seed: int = 0) -> tuple[float, float]:
    """A 95% percentile bootstrap interval for the ROC AUC."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        pick = rng.integers(0, len(y), len(y))
        value = roc_auc(y[pick], p[pick])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


@dataclass(frozen=True)
class Metrics:
    """How well probabilities rank and how honest they are, on one evaluation set."""

    rows: int
    positives: int
    roc_auc: float
    pr_auc: float
    log_loss: float
    ece: float
    lift: tuple[float, ...]
    auc_low: float
    auc_high: float

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "lift": list(self.lift)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Metrics:
        values = dict(data)
        values["lift"] = tuple(values["lift"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]


def evaluate(y: Floats, p: Floats, *, bootstrap: bool = True) -> Metrics:
    """All measures at once; the bootstrap interval says how much to trust the AUC."""
    low, high = bootstrap_auc(y, p) if bootstrap else (float("nan"), float("nan"))
    return Metrics(
        rows=len(y),
        positives=int(np.asarray(y).sum()),
        roc_auc=roc_auc(y, p),
        pr_auc=pr_auc(y, p),
        log_loss=log_loss(y, p),
        ece=expected_calibration_error(y, p),
        lift=tuple(lift_by_decile(y, p)),
        auc_low=low,
        auc_high=high,
    )
