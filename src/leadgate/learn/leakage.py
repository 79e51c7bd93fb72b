"""Screen candidate features for leaks: a column that alone (nearly) predicts the outcome was
almost always filled in after sales contact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.exceptions import UsageError
from leadgate.learn.encoding import is_numeric, out_of_fold_target
from leadgate.learn.metrics import roc_auc

Floats = npt.NDArray[np.float64]

#: A single feature with this ROC AUC (or more) is refused.
REFUSE_AUC = 0.97
#: A single feature with this ROC AUC (or more) draws a warning.
WARN_AUC = 0.90


@dataclass(frozen=True)
class LeakCheck:
    feature: str
    auc: float
    refused: bool


def single_feature_auc(series: pl.Series, y: Floats, *, seed: int = 0) -> float:
    """How well one column alone ranks the outcome (direction-free, out of fold for categories)."""
    if is_numeric(series.dtype):
        values = series.cast(pl.Float64).to_numpy().astype(np.float64)
        values = np.where(
            np.isnan(values), np.nanmin(values) - 1 if (~np.isnan(values)).any() else 0.0, values
        )
        auc = roc_auc(y, values)
    else:
        text = series.cast(pl.String).fill_null("__missing__")
        folds = np.random.default_rng(seed).integers(0, 5, len(y))
        auc = roc_auc(y, out_of_fold_target(text, y, folds))
    return float("nan") if np.isnan(auc) else max(auc, 1 - auc)


def screen(
    frame: pl.DataFrame,
    y: Floats,
    features: list[str],
    *,
    allow: tuple[str, ...] = (),
    refuse_auc: float = REFUSE_AUC,
    warn_auc: float = WARN_AUC,
) -> list[LeakCheck]:
    """Check every feature; raise on the first that is (near-)perfectly predictive.

    Raises:
        UsageError: a feature alone reaches ``refuse_auc`` and is not in ``allow``.
    """
    found = []
    for name in features:
        auc = single_feature_auc(frame.get_column(name), y)
        if np.isnan(auc) or auc < warn_auc:
            continue
        refused = auc >= refuse_auc and name not in allow
        if refused:
            raise UsageError(
                f"feature {name!r} alone predicts the outcome almost perfectly "
                f"(ROC AUC {auc:.3f}); it is probably filled in after sales contact.",
                hint=f"exclude it with `--exclude {name!r}` or list it under "
                "learning.never_features in the model; if it really is known before contact, "
                f"pass `--allow-leaky {name!r}`",
            )
        found.append(LeakCheck(name, auc, refused=False))
    return found
