"""Turn a feature frame into the matrices the learners read, the same way at fit and predict time.

Every learned encoding (category vocabularies, target-encoding tables, medians, scales, bin
edges) is plain data so a predictor artifact can store it as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

Floats = npt.NDArray[np.float64]
FeatureKind = Literal["numeric", "categorical", "target_encoded"]

#: Categories seen fewer times than this share one "other" level.
MIN_LEVEL_COUNT = 5
#: Categories with more distinct values than this are target-encoded (out of fold in training).
HIGH_CARDINALITY = 50
#: Pseudo-count that shrinks a category's conversion rate towards the overall rate.
TARGET_SMOOTHING = 20.0
NUMERIC_BINS = 10
OTHER = "__other__"


@dataclass(frozen=True)
class FeatureEncoding:
    """How one input column becomes model inputs."""

    name: str
    kind: FeatureKind
    levels: tuple[str, ...] = ()
    median: float = 0.0
    log: bool = False
    scale: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0)
    edges: tuple[float, ...] = ()
    table: dict[str, float] = field(default_factory=dict)
    prior: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "levels": list(self.levels),
            "median": self.median,
            "log": self.log,
            "scale": list(self.scale),
            "edges": list(self.edges),
            "table": dict(sorted(self.table.items())),
            "prior": self.prior,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureEncoding:
        return cls(
            name=data["name"],
            kind=data["kind"],
            levels=tuple(data["levels"]),
            median=float(data["median"]),
            log=bool(data["log"]),
            scale=(
                float(data["scale"][0]),
                float(data["scale"][1]),
                float(data["scale"][2]),
                float(data["scale"][3]),
            ),
            edges=tuple(data["edges"]),
            table={str(k): float(v) for k, v in data["table"].items()},
            prior=float(data["prior"]),
        )

    @property
    def booster_categorical(self) -> bool:
        return self.kind == "categorical"


def _logit(rate: Floats | float) -> Any:
    return np.log(np.clip(rate, 1e-6, 1 - 1e-6) / (1 - np.clip(rate, 1e-6, 1 - 1e-6)))


def is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean


def _as_text(series: pl.Series) -> pl.Series:
    return series.cast(pl.String)


def fit_encoding(name: str, series: pl.Series, y: Floats) -> FeatureEncoding:
    """Learn one column's encoding from the training rows."""
    if is_numeric(series.dtype):
        values = series.cast(pl.Float64).to_numpy().astype(np.float64)
        finite = values[~np.isnan(values)]
        if not len(finite):
            finite = np.zeros(1)
        median = float(np.median(finite))
        log = bool(finite.min() >= 0)
        filled = np.where(np.isnan(values), median, values)
        logged = np.log1p(np.clip(filled, 0, None)) if log else filled
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1]))
        scale = (
            float(filled.mean()),
            float(filled.std() or 1.0),
            float(logged.mean()),
            float(logged.std() or 1.0),
        )
        return FeatureEncoding(
            name,
            "numeric",
            median=median,
            log=log,
            scale=scale,
            edges=tuple(float(e) for e in edges),
        )
    text = _as_text(series)
    counts = text.drop_nulls().value_counts(sort=True)
    kept = counts.filter(pl.col("count") >= MIN_LEVEL_COUNT)
    levels = tuple(sorted(str(v) for v in kept.get_column(text.name).to_list()))
    if counts.height <= HIGH_CARDINALITY:
        return FeatureEncoding(name, "categorical", levels=levels)
    return target_encoding(name, text, y, levels)


def target_encoding(
    name: str, text: pl.Series, y: Floats, levels: tuple[str, ...] = ()
) -> FeatureEncoding:
    """Smoothed log-odds of conversion per category (unseen → the overall log-odds)."""
    prior = float(np.mean(y))
    stats = (
        pl.DataFrame({"level": text, "y": y})
        .drop_nulls("level")
        .group_by("level")
        .agg(pl.len().alias("n"), pl.col("y").sum().alias("s"))
    )
    rates = (stats["s"].to_numpy() + TARGET_SMOOTHING * prior) / (
        stats["n"].to_numpy() + TARGET_SMOOTHING
    )
    table = dict(zip(stats["level"].to_list(), _logit(rates).tolist(), strict=True))
    return FeatureEncoding(
        name, "target_encoded", levels=levels, table=table, prior=float(_logit(prior))
    )


def booster_column(enc: FeatureEncoding, series: pl.Series) -> Floats:
    """One column for the booster: numbers as they are, categories as integer codes."""
    if enc.kind == "numeric":
        return series.cast(pl.Float64).to_numpy().astype(np.float64)
    text = _as_text(series)
    if enc.kind == "target_encoded":
        mapping = pl.DataFrame(
            {"k": list(enc.table), "v": list(enc.table.values())},
            schema={"k": pl.String, "v": pl.Float64},
        )
        looked = text.to_frame("k").join(mapping, on="k", how="left", maintain_order="left")
        return looked["v"].fill_null(enc.prior).to_numpy().astype(np.float64)
    codes = text.replace_strict(
        list(enc.levels),
        list(range(len(enc.levels))),
        default=len(enc.levels),
        return_dtype=pl.Float64,
    )
    return codes.to_numpy().astype(np.float64)


def linear_columns(enc: FeatureEncoding, booster_values: Floats) -> tuple[Floats, list[str]]:
    """The logistic regression's design columns for one feature (from its booster column)."""
    if enc.kind == "numeric":
        missing = np.isnan(booster_values)
        filled = np.where(missing, enc.median, booster_values)
        logged = np.log1p(np.clip(filled, 0, None)) if enc.log else filled
        mean, sd, log_mean, log_sd = enc.scale
        bins = np.searchsorted(np.asarray(enc.edges), filled, side="right")
        cols = [(filled - mean) / sd, (logged - log_mean) / log_sd, missing.astype(np.float64)]
        names = [f"{enc.name}", f"{enc.name} (log)", f"{enc.name} missing"]
        for k in range(len(enc.edges) + 1):
            cols.append((bins == k).astype(np.float64))
            names.append(f"{enc.name} bin {k}")
        return np.column_stack(cols), names
    if enc.kind == "target_encoded":
        return booster_values[:, None] - enc.prior, [f"{enc.name} (rate)"]
    count = len(enc.levels)
    columns = np.zeros((len(booster_values), count + 2), dtype=np.float64)
    missing = np.isnan(booster_values)
    codes = np.where(missing, count + 1, booster_values).astype(np.int64)
    columns[np.arange(len(codes)), codes] = 1.0
    return columns, [
        *(f"{enc.name} = {v}" for v in enc.levels),
        f"{enc.name} = other",
        f"{enc.name} missing",
    ]


def out_of_fold_target(series: pl.Series, y: Floats, folds: npt.NDArray[np.int64]) -> Floats:
    """Target-encode training rows with tables that never saw the row itself."""
    out = np.zeros(len(y), dtype=np.float64)
    for fold in np.unique(folds):
        inside = folds != fold
        text = _as_text(series.filter(pl.Series(inside)))
        enc = target_encoding(series.name, text, y[inside])
        out[~inside] = booster_column(enc, series.filter(pl.Series(~inside)))
    return out


def linear_width(enc: FeatureEncoding) -> int:
    """How many design columns :func:`linear_columns` makes for this feature."""
    if enc.kind == "numeric":
        return 3 + len(enc.edges) + 1
    if enc.kind == "target_encoded":
        return 1
    return len(enc.levels) + 2


def linear_part(enc: FeatureEncoding, booster_values: Floats, coef: Floats) -> Floats:
    """``design_columns(feature) @ coef`` without building the design (fast on many rows)."""
    if enc.kind == "target_encoded":
        result: Floats = (booster_values - enc.prior) * coef[0]
        return result
    if enc.kind == "categorical":
        missing = np.isnan(booster_values)
        codes = np.where(missing, len(enc.levels) + 1, booster_values).astype(np.int64)
        gathered: Floats = coef[codes]
        return gathered
    missing = np.isnan(booster_values)
    filled = np.where(missing, enc.median, booster_values)
    logged = np.log1p(np.clip(filled, 0, None)) if enc.log else filled
    mean, sd, log_mean, log_sd = enc.scale
    bins = np.searchsorted(np.asarray(enc.edges), filled, side="right")
    total: Floats = (
        (filled - mean) / sd * coef[0]
        + (logged - log_mean) / log_sd * coef[1]
        + missing * coef[2]
        + coef[3:][bins]
    )
    return total
