"""The threshold explorer: what each candidate MQL threshold would do to volume and wins.

For a threshold ``t`` the leads with ``score >= t`` would be MQLs. Per month (the span of the
leads' creation dates): ``volume_per_month``, their ``conversion`` to the outcome, the
``expected_wins_per_month`` and the share of all wins they capture. With a sales capacity
(leads a month sales can work), ``expected_wins_at_capacity = min(volume, capacity) ×
conversion``: past capacity, extra MQLs only dilute the ones worked.

Recommendation rule:
    * with a capacity: the threshold with the most expected wins at capacity; on a tie the
      higher threshold (fewer leads for the same wins);
    * without one: the threshold with the highest Youden's J (true-positive rate minus
      false-positive rate), the best balance of wins caught and leads let through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from leadgate.analytics.frames import FunnelData, frame_records
from leadgate.analytics.validation import LABEL, SCORE, Label, labelled
from leadgate.exceptions import UsageError

DEFAULT_QUANTILES = tuple(round(0.05 * i, 2) for i in range(20))


@dataclass(frozen=True)
class ThresholdResult:
    """One row per candidate threshold, and the recommended one with its rule."""

    score: str
    capacity: float | None
    months: float
    table: pl.DataFrame
    recommended: float | None
    rule: str

    def to_frame(self) -> pl.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "thresholds",
            "score": self.score,
            "capacity_per_month": self.capacity,
            "months": self.months,
            "recommended": self.recommended,
            "rule": self.rule,
            "rows": frame_records(self.table),
        }


def candidate_thresholds(scores: pl.Series) -> tuple[float, ...]:
    """Distinct score quantiles at 0 %, 5 %, ..., 95 % (rounded to 0.01 when above 1)."""
    ordered = scores.drop_nulls().sort()
    if ordered.len() == 0:
        return ()
    last = ordered.len() - 1
    picks = ordered.gather([int(q * last + 1e-9) for q in DEFAULT_QUANTILES]).to_list()
    return tuple(sorted({round(float(v), 2 if abs(float(v)) > 1 else 4) for v in picks}))


@dataclass(frozen=True)
class ThresholdQuery:
    """Explore MQL thresholds for ``score`` against a monthly sales ``capacity``."""

    score: str
    capacity: float | None = None
    thresholds: tuple[float, ...] = ()
    label: Label = "won"

    def run(self, data: FunnelData) -> ThresholdResult:
        if self.capacity is not None and self.capacity <= 0:
            raise UsageError("The sales capacity must be positive.", hint="e.g. --capacity 500")
        frame = labelled(data, self.score, self.label)
        months = data.months
        cuts = self.thresholds or candidate_thresholds(frame.get_column(SCORE))
        total = frame.height
        positives = int(frame.get_column(LABEL).sum())
        negatives = total - positives
        rows = frame.select(
            pl.concat_list(
                pl.struct(
                    pl.lit(t).alias("threshold"),
                    (pl.col(SCORE) >= t).sum().alias("volume"),
                    ((pl.col(SCORE) >= t) & pl.col(LABEL)).sum().alias("wins"),
                )
                for t in cuts
            ).alias("rows")
        )
        table = (
            rows.explode("rows")
            .unnest("rows")
            .with_columns(pl.col("volume").cast(pl.Int64), pl.col("wins").cast(pl.Int64))
        )
        conversion = pl.when(pl.col("volume") > 0).then(pl.col("wins") / pl.col("volume"))
        table = table.with_columns(
            (pl.col("volume") / months).alias("volume_per_month"),
            conversion.alias("conversion"),
            (pl.col("wins") / months).alias("expected_wins_per_month"),
            (pl.col("wins") / positives if positives else pl.lit(None, pl.Float64)).alias(
                "capture"
            ),
            (pl.col("wins") / positives if positives else pl.lit(0.0)).alias("_tpr"),
            ((pl.col("volume") - pl.col("wins")) / negatives if negatives else pl.lit(0.0)).alias(
                "_fpr"
            ),
        )
        if self.capacity is not None:
            worked = pl.min_horizontal(pl.col("volume_per_month"), pl.lit(self.capacity))
            table = table.with_columns(
                (pl.col("volume_per_month") <= self.capacity).alias("within_capacity"),
                (worked * pl.col("conversion").fill_null(0.0)).alias("expected_wins_at_capacity"),
            )
            key = "expected_wins_at_capacity"
            rule = (
                f"most expected wins a month when sales work at most {self.capacity:g} leads "
                "a month (ties: the higher threshold)"
            )
        else:
            table = table.with_columns((pl.col("_tpr") - pl.col("_fpr")).alias("youden_j"))
            key = "youden_j"
            rule = "highest Youden's J (share of wins caught minus share of non-wins let through)"
        recommended: float | None = None
        if table.height and positives:
            best = table.sort([key, "threshold"], descending=[True, True]).row(0, named=True)
            recommended = float(best["threshold"])
        table = table.drop("_tpr", "_fpr").with_columns(
            (pl.col("threshold") == recommended).alias("recommended")
        )
        return ThresholdResult(self.score, self.capacity, months, table, recommended, rule)


__all__ = ["ThresholdQuery", "ThresholdResult", "candidate_thresholds"]
