"""Map raw blended scores (log-odds) to honest probabilities: Platt scaling or isotonic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from leadgate.learn.metrics import log_loss

Floats = npt.NDArray[np.float64]
Method = Literal["platt", "isotonic", "none"]
FLOOR = 1e-4


def sigmoid(x: Floats) -> Floats:
    result: Floats = 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))
    return result


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration map; ``none`` passes the raw score through a sigmoid."""

    method: Method = "none"
    slope: float = 1.0
    intercept: float = 0.0
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()

    def apply(self, raw: Floats) -> Floats:
        if self.method == "isotonic":
            values = np.interp(raw, np.asarray(self.xs), np.asarray(self.ys))
            clipped: Floats = np.clip(values, FLOOR, 1 - FLOOR)
            return clipped
        return sigmoid(self.slope * raw + self.intercept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "slope": self.slope,
            "intercept": self.intercept,
            "xs": list(self.xs),
            "ys": list(self.ys),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            data["method"],
            float(data["slope"]),
            float(data["intercept"]),
            tuple(data["xs"]),
            tuple(data["ys"]),
        )


def fit_platt(raw: Floats, y: Floats) -> Calibration:
    """Logistic fit of the label on the raw score (Platt scaling)."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e4, solver="newton-cholesky").fit(raw[:, None], y)
    return Calibration(
        "platt", slope=float(fitted.coef_[0, 0]), intercept=float(fitted.intercept_[0])
    )


def fit_isotonic(raw: Floats, y: Floats) -> Calibration:
    """Monotone step fit of the label on the raw score (pool adjacent violators)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=FLOOR, y_max=1 - FLOOR).fit(raw, y)
    return Calibration(
        "isotonic", xs=tuple(map(float, iso.X_thresholds_)), ys=tuple(map(float, iso.y_thresholds_))
    )


def choose_calibration(raw: Floats, y: Floats, *, seed: int = 0) -> Calibration:
    """Fit Platt and isotonic on halves, keep the one with the lower held-out log loss.

    Isotonic needs many rows to beat Platt; with fewer than 1,000 Platt is used directly.
    """
    if len(y) < 1000 or y.min() == y.max():
        return fit_platt(raw, y) if y.min() != y.max() else Calibration()
    half = np.random.default_rng(seed).random(len(y)) < 0.5
    losses: dict[str, float] = {}
    for method, fit in (("platt", fit_platt), ("isotonic", fit_isotonic)):
        loss = 0.0
        for part in (half, ~half):
            fitted = fit(raw[part], y[part])
            loss += log_loss(y[~part], fitted.apply(raw[~part])) * (~part).sum()
        losses[method] = loss
    best = min(losses, key=lambda m: losses[m])
    return fit_platt(raw, y) if best == "platt" else fit_isotonic(raw, y)
