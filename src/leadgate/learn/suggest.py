"""Translate outcomes into suggested point values for the rule model's fit and engagement
rules: a regularised logistic fit on the rules' match indicators, scaled to the model's points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.learn.metrics import roc_auc
from leadgate.learn.trainer import stratified_folds

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RulePoints:
    """One rule's current and suggested points and the evidence behind them."""

    rule_id: str
    kind: str
    current: float
    suggested: float
    log_odds: float
    matched_share: float


@dataclass(frozen=True)
class PointSuggestions:
    """Suggested points and the held-out AUC of the rule sum before and after adopting them."""

    rules: tuple[RulePoints, ...]
    auc_current: float
    auc_suggested: float
    rows: int

    @property
    def auc_change(self) -> float:
        return self.auc_suggested - self.auc_current

    def table(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "kind": [r.kind for r in self.rules],
                "rule": [r.rule_id for r in self.rules],
                "matched": [round(r.matched_share, 3) for r in self.rules],
                "log_odds": [round(r.log_odds, 3) for r in self.rules],
                "current": [r.current for r in self.rules],
                "suggested": [r.suggested for r in self.rules],
            }
        )

    def yaml_snippet(self) -> str:
        lines = [
            "# suggested by leadgate suggest-points",
            f"# held-out AUC of the rule sum: "
            f"{self.auc_current:.3f} now, {self.auc_suggested:.3f} with these points",
        ]
        for kind in ("fit", "engagement"):
            chosen = [r for r in self.rules if r.kind == kind]
            if chosen:
                lines.append(f"{kind}:")
                lines.append("  rules:")
                lines += [f"    - id: {r.rule_id}\n      points: {r.suggested:g}" for r in chosen]
        return "\n".join(lines) + "\n"


def _fit(x: Floats, y: Floats, c: float) -> Floats:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, solver="newton-cholesky", max_iter=200).fit(x, y)
    coef: Floats = model.coef_[0].astype(np.float64)
    return coef


def _scale(coef: Floats, current: Floats) -> Floats:
    """Map log-odds to the model's point range: the strongest rule gets the largest |points|."""
    top = float(np.abs(current).max()) if np.abs(current).max() > 0 else 25.0
    strongest = float(np.abs(coef).max())
    if strongest == 0:
        return np.zeros_like(coef)
    scaled: Floats = np.round(coef / strongest * top)
    return scaled


def suggest_points(
    indicators: pl.DataFrame,
    y: Floats,
    current: dict[str, float],
    kinds: dict[str, str],
    *,
    regularisation: float = 1.0,
    holdout_share: float = 0.3,
    seed: int = 0,
) -> PointSuggestions:
    """Suggest points for every rule column of ``indicators`` (1 = the rule matched the lead).

    The AUC change is measured on held-out leads: points are fitted on the rest, then the
    rule sum with current and with suggested points is ranked against the outcomes.
    """
    rules = indicators.columns
    x = indicators.cast(pl.Float64).to_numpy()
    now = np.asarray([current[r] for r in rules], dtype=np.float64)
    folds = stratified_folds(y, max(2, round(1 / holdout_share)), seed)
    test = folds == 0
    held_coef = _fit(x[~test], y[~test], regularisation)
    auc_current = roc_auc(y[test], x[test] @ now)
    auc_suggested = roc_auc(y[test], x[test] @ _scale(held_coef, now))
    coef = _fit(x, y, regularisation)
    points = _scale(coef, now)
    shares = x.mean(axis=0)
    return PointSuggestions(
        rules=tuple(
            RulePoints(
                r, kinds[r], float(now[i]), float(points[i]), float(coef[i]), float(shares[i])
            )
            for i, r in enumerate(rules)
        ),
        auc_current=auc_current,
        auc_suggested=auc_suggested,
        rows=len(y),
    )
