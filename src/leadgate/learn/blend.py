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
    linear_input,
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


#: Small trees and strong L2 because lead data is small and noisy. The learning rate is
#: LightGBM's default (0.1), fixed a priori for scoring speed: the number of trees is chosen
#: by early stopping inside the training rows (see the trainer), typically 20-100 trees.
#: (A fixed 300 trees at 0.03 scored 3-4 times slower for an out-of-fold AUC within 0.001.)
BOOSTER_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.1,
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
#: Trees when no held-out rows choose the number (a fit with ``valid`` stops early).
BOOSTER_ROUNDS = 100
#: Early stopping: at most this many trees, stop after ``PATIENCE`` rounds without a
#: better held-out log loss.
MAX_ROUNDS = 500
PATIENCE = 30
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

    def linear_inputs(self, frame: pl.DataFrame, booster: Floats) -> Floats:
        """The logistic regression's input columns (see :func:`linear_input`)."""
        return np.column_stack(
            [
                linear_input(e, frame.get_column(e.name), booster[:, i])
                for i, e in enumerate(self.encodings)
            ]
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

    def _boosted(self, booster: Floats) -> Floats:
        """The booster's log-odds, predicted in one call on all cores."""
        predicted = self._model().predict(booster, raw_score=True, num_threads=0)
        return np.asarray(predicted, dtype=np.float64)

    def _linear(self, frame: pl.DataFrame, booster: Floats) -> Floats:
        linear: Floats = self.linear_parts(self.linear_inputs(frame, booster)).sum(axis=1)
        return linear + self._linear_base()

    def parts(self, frame: pl.DataFrame) -> tuple[Floats, Floats]:
        """The booster's and the linear model's log-odds, before blending."""
        b = self.booster_matrix(frame)
        return self._boosted(b), self._linear(frame, b)

    def raw(self, frame: pl.DataFrame) -> Floats:
        """Blended log-odds before calibration (a part with weight 0 is not computed)."""
        b = self.booster_matrix(frame)
        blended: Floats = np.zeros(frame.height)
        if self.weight > 0:
            blended += self.weight * self._boosted(b)
        if self.weight < 1:
            blended += (1 - self.weight) * self._linear(frame, b)
        return blended

    def contributions(self, frame: pl.DataFrame) -> tuple[Floats, Floats]:
        """Per-feature log-odds contributions and the base value; they sum to ``raw``.

        The booster's are LightGBM's own TreeSHAP values (``pred_contrib``), the linear
        model's are coefficient × centred input; both are blended with the blend's weight.
        """
        b = self.booster_matrix(frame)
        linear = self.linear_parts(self.linear_inputs(frame, b))
        contrib: Floats = (1 - self.weight) * linear
        base: Floats = np.full(frame.height, (1 - self.weight) * self._linear_base())
        if self.weight > 0:
            tree = np.asarray(
                self._model().predict(b, pred_contrib=True, num_threads=0), dtype=np.float64
            )
            contrib += self.weight * tree[:, :-1]
            base += self.weight * tree[:, -1]
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


def fit_blend(
    frame: pl.DataFrame,
    y: Floats,
    features: list[str],
    *,
    seed: int = 0,
    rounds: int = BOOSTER_ROUNDS,
    valid: tuple[pl.DataFrame, Floats] | None = None,
) -> tuple[Blend, int]:
    """Fit encodings, the booster and the logistic regression on the training rows.

    With ``valid`` rows the booster stops once their log loss has not improved for
    ``PATIENCE`` rounds (at most ``MAX_ROUNDS``); returns the blend and its number of trees.
    """
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
    design, _ = blend.linear_matrix(blend.linear_inputs(frame, b))
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
    params = {**BOOSTER_PARAMS, "seed": seed}
    if valid is None:
        booster = lgb.train(params, data, num_boost_round=rounds)
        used = rounds
    else:
        checked = Blend(encodings, "", (), 0.0, ())
        held = lgb.Dataset(checked.booster_matrix(valid[0]), valid[1], reference=data)
        booster = lgb.train(
            params,
            data,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[held],
            callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
        )
        used = max(1, int(booster.best_iteration))
    blend = Blend(
        encodings=encodings,
        booster=booster.model_to_string(num_iteration=used),
        coef=tuple(map(float, linear.coef_[0])),
        intercept=float(linear.intercept_[0]),
        means=tuple(map(float, design.mean(axis=0))),
        weight=BOOSTER_WEIGHT,
    )
    return blend, used
