"""Turn a feature frame into the matrices the learners read, the same way at fit and predict time.

Every learned encoding (category vocabularies, target-encoding tables, medians, scales, bin
edges) is plain data so a predictor artifact can store it as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
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
#: A number with at most this many distinct values gets one linear bin per value.
FEW_VALUES = 24
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
    #: The training range of a number: the linear model clips to it (no extrapolation).
    bounds: tuple[float, float] = (-np.inf, np.inf)

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
            "bounds": [_finite_or_none(b) for b in self.bounds],
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
            bounds=(_bound(data["bounds"][0], -np.inf), _bound(data["bounds"][1], np.inf)),
        )

    @property
    def booster_categorical(self) -> bool:
        return self.kind == "categorical"


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _bound(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _logit(rate: Floats | float) -> Any:
    return np.log(np.clip(rate, 1e-6, 1 - 1e-6) / (1 - np.clip(rate, 1e-6, 1 - 1e-6)))


def is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.Boolean


def _as_text(series: pl.Series) -> pl.Series:
    """Categories compared case-insensitively without surrounding spaces ("google" is
    "Google"); an empty text is missing."""
    text = series.cast(pl.String).str.strip_chars().str.to_lowercase()
    return text.replace("", None)


def _bin_edges(finite: Floats) -> Floats:
    """Decile edges; a number with few distinct values gets one bin per value instead."""
    distinct = np.unique(finite)
    if len(distinct) <= FEW_VALUES:
        edges: Floats = (distinct[1:] + distinct[:-1]) / 2
        return edges
    return np.unique(np.quantile(finite, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1]))


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
        edges = _bin_edges(finite)
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
            bounds=(float(finite.min()), float(finite.max())),
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


def _by_distinct(series: pl.Series) -> tuple[list[str | None], npt.NDArray[np.int64]]:
    """The series' distinct texts, normalised, and per row the index of its text (missing →
    -1). Normalising and looking up only the distinct values keeps 1M rows cheap."""
    text = series.cast(pl.String)
    distinct = text.drop_nulls().unique()
    if distinct.is_empty():
        return [], np.full(len(text), -1, dtype=np.int64)
    rows = text.cast(pl.Enum(distinct.to_list())).to_physical().cast(pl.Int64).fill_null(-1)
    return _as_text(distinct).to_list(), rows.to_numpy().astype(np.int64)


def _lookup(series: pl.Series, value: Callable[[str], float], missing: float) -> Floats:
    """Per row, ``value(normalised text)``; ``missing`` for a missing or empty text."""
    distinct, rows = _by_distinct(series)
    table = np.array(
        [missing if text is None else value(text) for text in distinct] + [missing],
        dtype=np.float64,
    )
    looked: Floats = table[rows]  # row -1 (missing) reads the last entry
    return looked


def booster_column(enc: FeatureEncoding, series: pl.Series) -> Floats:
    """One column for the booster: numbers as they are, categories as integer codes."""
    if enc.kind == "numeric":
        return series.cast(pl.Float64).to_numpy().astype(np.float64)
    if enc.kind == "target_encoded":
        return _lookup(series, lambda text: enc.table.get(text, enc.prior), enc.prior)
    return level_codes(enc, series)


def level_codes(enc: FeatureEncoding, series: pl.Series) -> Floats:
    """Category → its index among ``levels``; rarer ones → ``len(levels)``; missing →
    ``len(levels) + 1``, a level of its own (a field left empty on a form says something,
    and the booster may group it with any side of a split, which it cannot do with NaN)."""
    index = {level: float(i) for i, level in enumerate(enc.levels)}
    other = float(len(enc.levels))
    return _lookup(series, lambda text: index.get(text, other), other + 1)


def linear_input(enc: FeatureEncoding, series: pl.Series, booster_values: Floats) -> Floats:
    """The column the logistic regression reads: the booster's, except that a target-encoded
    category is one-hot encoded over its frequent levels (the L2 penalty shrinks rare ones)."""
    if enc.kind == "target_encoded":
        return level_codes(enc, series)
    return booster_values


def linear_columns(enc: FeatureEncoding, booster_values: Floats) -> tuple[Floats, list[str]]:
    """The logistic regression's design columns for one feature (from its booster column)."""
    if enc.kind == "numeric":
        missing = np.isnan(booster_values)
        filled = np.clip(np.where(missing, enc.median, booster_values), *enc.bounds)
        logged = np.log1p(np.clip(filled, 0, None)) if enc.log else filled
        mean, sd, log_mean, log_sd = enc.scale
        bins = np.searchsorted(np.asarray(enc.edges), filled, side="right")
        cols = [(filled - mean) / sd, (logged - log_mean) / log_sd, missing.astype(np.float64)]
        names = [f"{enc.name}", f"{enc.name} (log)", f"{enc.name} missing"]
        for k in range(len(enc.edges) + 1):
            cols.append((bins == k).astype(np.float64))
            names.append(f"{enc.name} bin {k}")
        return np.column_stack(cols), names
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
    return len(enc.levels) + 2


def linear_part(enc: FeatureEncoding, booster_values: Floats, coef: Floats) -> Floats:
    """``design_columns(feature) @ coef`` without building the design (fast on many rows)."""
    if enc.kind != "numeric":
        missing = np.isnan(booster_values)
        codes = np.where(missing, len(enc.levels) + 1, booster_values).astype(np.int64)
        gathered: Floats = coef[codes]
        return gathered
    missing = np.isnan(booster_values)
    filled = np.clip(np.where(missing, enc.median, booster_values), *enc.bounds)
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
