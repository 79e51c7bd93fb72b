"""Model validation: how well a score column ranks leads by what actually happened.

ROC AUC is the Mann-Whitney statistic on average ranks (ties count half); PR AUC is average
precision (the step-wise area, as scikit-learn computes it). Deciles rank leads by score, best
first (ties broken by input order), and split them into equal parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import polars as pl

from leadgate.analytics.frames import (
    ALIASES,
    FunnelData,
    frame_records,
    grouped,
    ratio,
    reached,
    require,
    resolve_by,
)
from leadgate.exceptions import UsageError
from leadgate.model import columns as c

Label = Literal["mql", "sal", "sql", "opportunity", "won"]
LABEL: Final = "_label"
SCORE: Final = "_score"


def labelled(data: FunnelData, score: str, label: Label, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Leads with a value for ``score``: ``_score`` (Float64), ``_label`` (bool), the grade
    and the columns the ``by`` breakdowns need."""
    facts = data.facts
    require(facts, [score], f"Validating {score!r}")
    if label not in ("mql", "sal", "sql", "opportunity", "won"):
        raise UsageError(f"Unknown outcome {label!r}.", hint="use won, opportunity, sql or sal")
    dtype = facts.schema[score]
    if not dtype.is_numeric() and dtype != pl.Boolean:
        raise UsageError(
            f"{score!r} is not a numeric score column.", hint="pass a score such as fit_score"
        )
    wanted = [c.GRADE, c.CREATED_AT, *by, *(ALIASES.get(name, name) for name in by)]
    keep = [name for name in dict.fromkeys(wanted) if name in facts.columns]
    return facts.select(
        *keep, pl.col(score).cast(pl.Float64).alias(SCORE), pl.col(reached(label)).alias(LABEL)
    ).filter(pl.col(SCORE).is_not_null() & pl.col(SCORE).is_not_nan())


def auc_expr(keys: list[str] | None = None) -> pl.Expr:
    """ROC AUC of ``_score`` for ``_label`` (per group when ``keys`` are given)."""
    rank = pl.col(SCORE).rank("average")
    if keys:
        rank = rank.over(keys)
    positives = pl.col(LABEL).sum().cast(pl.Float64)
    negatives = (~pl.col(LABEL)).sum().cast(pl.Float64)
    rank_sum = rank.filter(pl.col(LABEL)).sum()
    auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    return pl.when((positives > 0) & (negatives > 0)).then(auc).otherwise(None)


def roc_auc(frame: pl.DataFrame) -> float | None:
    """ROC AUC of a frame with ``_score`` and ``_label``; ``None`` without both classes."""
    value = frame.select(auc_expr()).item()
    return None if value is None else float(value)


def average_precision(frame: pl.DataFrame) -> float | None:
    """Average precision (PR AUC) of ``_score`` for ``_label``; ``None`` without positives."""
    total = int(frame.get_column(LABEL).sum())
    if total == 0:
        return None
    curve = (
        frame.group_by(SCORE)
        .agg(pl.col(LABEL).sum().alias("tp"), pl.len().alias("n"))
        .sort(SCORE, descending=True)
        .with_columns(pl.col("tp").cum_sum(), pl.col("n").cum_sum())
        .with_columns((pl.col("tp") / pl.col("n")).alias("precision"), pl.col("tp") / total)
    )
    recall_step = pl.col("tp").diff().fill_null(pl.col("tp"))
    return float(curve.select((recall_step * pl.col("precision")).sum()).item())


def _decile_table(frame: pl.DataFrame, parts: int, base: float | None) -> pl.DataFrame:
    n = frame.height
    order = pl.col(SCORE).rank("ordinal", descending=True) - 1
    positives = max(int(frame.get_column(LABEL).sum()), 1)
    return (
        frame.with_columns((order * parts // max(n, 1) + 1).cast(pl.Int64).alias("decile"))
        .group_by("decile")
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col(LABEL).sum().cast(pl.Int64).alias("positives"),
            pl.col(SCORE).min().alias("min_score"),
            pl.col(SCORE).max().alias("max_score"),
        )
        .sort("decile")
        .with_columns((pl.col("positives") / pl.col("leads")).alias("conversion"))
        .with_columns(
            (pl.col("conversion") / base if base else pl.lit(None, pl.Float64)).alias("lift"),
            (pl.col("positives").cum_sum() / positives).alias("cumulative_capture"),
        )
    )


def _grade_table(frame: pl.DataFrame, base: float | None) -> pl.DataFrame | None:
    if c.GRADE not in frame.columns:
        return None
    return (
        frame.group_by(c.GRADE)
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col(LABEL).sum().cast(pl.Int64).alias("positives"),
        )
        .with_columns((pl.col("positives") / pl.col("leads")).alias("conversion"))
        .with_columns(
            (pl.col("conversion") / base if base else pl.lit(None, pl.Float64)).alias("lift")
        )
        .sort(c.GRADE, nulls_last=True)
    )


def _calibration(frame: pl.DataFrame, bins: int) -> pl.DataFrame | None:
    low, high = frame.get_column(SCORE).min(), frame.get_column(SCORE).max()
    if frame.height == 0 or not isinstance(low, float) or not isinstance(high, float):
        return None
    if low < 0 or high > 1:
        return None
    bucket = (pl.col(SCORE) * bins).floor().clip(0, bins - 1).cast(pl.Int64)
    return (
        frame.with_columns(bucket.alias("bin"))
        .group_by("bin")
        .agg(
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col(SCORE).mean().alias("mean_predicted"),
            pl.col(LABEL).cast(pl.Float64).mean().alias("observed"),
        )
        .sort("bin")
        .with_columns(
            (pl.col("bin") / bins).alias("from"), ((pl.col("bin") + 1) / bins).alias("to")
        )
        .select("from", "to", "leads", "mean_predicted", "observed")
    )


@dataclass(frozen=True)
class ValidationResult:
    """Summary (per breakdown group), deciles, grades and calibration of one score."""

    score: str
    label: str
    summary: pl.DataFrame
    roc_auc: float | None
    pr_auc: float | None
    base_rate: float | None
    deciles: pl.DataFrame
    by_grade: pl.DataFrame | None
    calibration: pl.DataFrame | None

    def to_frame(self) -> pl.DataFrame:
        return self.deciles

    def to_dict(self) -> dict[str, Any]:
        optional = {"by_grade": self.by_grade, "calibration": self.calibration}
        return {
            "metric": "validation",
            "score": self.score,
            "label": self.label,
            "roc_auc": self.roc_auc,
            "pr_auc": self.pr_auc,
            "base_rate": self.base_rate,
            "summary": frame_records(self.summary),
            "deciles": frame_records(self.deciles),
            **{k: None if v is None else frame_records(v) for k, v in optional.items()},
        }


@dataclass(frozen=True)
class ValidationQuery:
    """Validate a score column (rule-based or predictive) against an outcome.

    Example:
        >>> ValidationQuery(score="fit_score", label="won").run(data).roc_auc  # doctest: +SKIP
    """

    score: str = c.FIT_SCORE
    label: Label = "won"
    parts: int = 10
    calibration_bins: int = 10
    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> ValidationResult:
        frame = labelled(data, self.score, self.label, self.by)
        if self.by:  # materialise period / alias keys so ranks can run over them
            frame = frame.with_columns(resolve_by(frame, self.by))
        aggs = [
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col(LABEL).sum().cast(pl.Int64).alias("positives"),
            auc_expr(list(self.by) if self.by else None).alias("roc_auc"),
        ]
        summary = grouped(frame, self.by, aggs).with_columns(
            ratio(pl.col("positives"), pl.col("leads")).alias("base_rate")
        )
        positives = int(frame.get_column(LABEL).sum())
        base = positives / frame.height if frame.height else None
        return ValidationResult(
            score=self.score,
            label=self.label,
            summary=summary,
            roc_auc=roc_auc(frame),
            pr_auc=average_precision(frame),
            base_rate=base,
            deciles=_decile_table(frame, self.parts, base),
            by_grade=_grade_table(frame, base),
            calibration=_calibration(frame, self.calibration_bins),
        )


__all__ = [
    "Label",
    "ValidationQuery",
    "ValidationResult",
    "auc_expr",
    "average_precision",
    "labelled",
    "roc_auc",
]
