"""The learners: LightGBM with native categories and a regularised logistic regression,
blended in log-odds. Both are imported lazily (never at CLI start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.exceptions import UsageError
from leadgate.learn.encoding import (
    FeatureEncoding,
    booster_column,
    fit_encoding,
    linear_columns,
    linear_part,
    linear_width,
    out_of_fold_target,
)

Floats = npt.NDArray[np.float64]


def require(module: str) -> Any:
    """Import an optional learning library, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(
            f"predictive scoring needs {module}, which is not installed.",
            hint="pip install 'leadgate[learn]' (LightGBM and scikit-learn)",
        ) from None


#: Tuned on X Education and Olist (5-fold CV); small trees and strong L2 because lead data
#: is small and noisy.
BOOSTER_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 30,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "cat_smooth": 20,
    "cat_l2": 10,
    "min_data_per_group": 30,
    "max_cat_threshold": 32,
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
}
BOOSTER_ROUNDS = 300
LINEAR_C = 1.0
#: The booster's share of the blended log-odds, unless training chooses one (see trainer).
BOOSTER_WEIGHT = 0.5
#: The shares training chooses from, by out-of-fold log loss.
WEIGHT_GRID = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0)


@dataclass(frozen=True)
class Blend:
    """A fitted blend: encodings, the booster (LightGBM model string) and the linear model."""

    encodings: tuple[FeatureEncoding, ...]
    booster: str
    coef: tuple[float, ...]
    intercept: float
    means: tuple[float, ...]
    weight: float = BOOSTER_WEIGHT

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.encodings]

    def booster_matrix(self, frame: pl.DataFrame) -> Floats:
        return np.column_stack(
            [booster_column(e, frame.get_column(e.name)) for e in self.encodings]
        )

    def linear_matrix(self, booster: Floats) -> tuple[Floats, list[int]]:
        """Design matrix and, per design column, the index of the feature it came from."""
        blocks, owners = [], []
        for i, enc in enumerate(self.encodings):
            block, _ = linear_columns(enc, booster[:, i])
            blocks.append(block)
            owners += [i] * block.shape[1]
        return np.column_stack(blocks), owners

    def _model(self) -> Any:
        lgb = require("lightgbm")

        return lgb.Booster(model_str=self.booster)

    def linear_parts(self, booster: Floats) -> Floats:
        """Per feature, the linear model's centred log-odds contribution (rows × features)."""
        coef, means = np.asarray(self.coef), np.asarray(self.means)
        parts = np.empty((len(booster), len(self.encodings)))
        start = 0
        for i, enc in enumerate(self.encodings):
            width = linear_width(enc)
            own = coef[start : start + width]
            parts[:, i] = linear_part(enc, booster[:, i], own) - own @ means[start : start + width]
            start += width
        return parts

    def _linear_base(self) -> float:
        return float(self.intercept + np.asarray(self.coef) @ np.asarray(self.means))

    def parts(self, frame: pl.DataFrame) -> tuple[Floats, Floats]:
        """The booster's and the linear model's log-odds, before blending."""
        b = self.booster_matrix(frame)
        linear = self.linear_parts(b).sum(axis=1) + self._linear_base()
        boosted = np.asarray(
            self._model().predict(b, raw_score=True, num_threads=0), dtype=np.float64
        )
        return boosted, linear

    def raw(self, frame: pl.DataFrame) -> Floats:
        """Blended log-odds before calibration."""
        boosted, linear = self.parts(frame)
        blended: Floats = self.weight * boosted + (1 - self.weight) * linear
        return blended

    def contributions(self, frame: pl.DataFrame) -> tuple[Floats, Floats]:
        """Per-feature log-odds contributions and the base value; they sum to ``raw``."""
        b = self.booster_matrix(frame)
        tree = np.asarray(
            self._model().predict(b, pred_contrib=True, num_threads=0), dtype=np.float64
        )
        contrib: Floats = self.weight * tree[:, :-1] + (1 - self.weight) * self.linear_parts(b)
        base: Floats = self.weight * tree[:, -1] + (1 - self.weight) * self._linear_base()
        return contrib, base

    def to_dict(self) -> dict[str, Any]:
        return {
            "encodings": [e.to_dict() for e in self.encodings],
            "booster": self.booster,
            "coef": list(self.coef),
            "intercept": self.intercept,
            "means": list(self.means),
            "weight": self.weight,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Blend:
        return cls(
            encodings=tuple(FeatureEncoding.from_dict(e) for e in data["encodings"]),
            booster=data["booster"],
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
            means=tuple(data["means"]),
            weight=float(data["weight"]),
        )


def fit_blend(frame: pl.DataFrame, y: Floats, features: list[str], *, seed: int = 0) -> Blend:
    """Fit encodings, the booster and the logistic regression on the training rows."""
    lgb = require("lightgbm")
    require("sklearn")
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    encodings = tuple(fit_encoding(name, frame.get_column(name), y) for name in features)
    folds = np.random.default_rng(seed).integers(0, 5, len(y))
    columns = []
    for enc in encodings:
        series = frame.get_column(enc.name)
        if enc.kind == "target_encoded":  # training rows never see their own label
            columns.append(out_of_fold_target(series, y, folds))
        else:
            columns.append(booster_column(enc, series))
    b = np.column_stack(columns)
    blend = Blend(encodings, "", (), 0.0, ())
    design, _ = blend.linear_matrix(b)
    linear = LogisticRegression(C=LINEAR_C, solver="liblinear", max_iter=500).fit(
        sparse.csr_matrix(design), y
    )
    categorical = [i for i, e in enumerate(encodings) if e.booster_categorical]
    data = lgb.Dataset(
        b,
        y,
        feature_name=[f"f{i}" for i in range(len(encodings))],
        categorical_feature=categorical,
        free_raw_data=True,
    )
    booster = lgb.train({**BOOSTER_PARAMS, "seed": seed}, data, num_boost_round=BOOSTER_ROUNDS)
    return Blend(
        encodings=encodings,
        booster=booster.model_to_string(),
        coef=tuple(map(float, linear.coef_[0])),
        intercept=float(linear.intercept_[0]),
        means=tuple(map(float, design.mean(axis=0))),
        weight=BOOSTER_WEIGHT,
    )
