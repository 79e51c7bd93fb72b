"""Velocity: days spent in each funnel stage and the length of the sales cycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from leadgate.analytics.frames import (
    FUNNEL,
    WON_AT,
    FunnelData,
    TableResult,
    at,
    days,
    grouped,
    require,
)
from leadgate.model import columns as c

CYCLE: Final = "cycle"
"""The row for the whole cycle: from a lead's creation to the deal won."""


def _stage_days(stage: str) -> pl.Expr:
    """Days from entering ``stage`` to entering the next funnel stage the lead reached."""
    later = [pl.col(at(s)) for s in FUNNEL[FUNNEL.index(stage) + 1 :]]
    return days(pl.min_horizontal(later), pl.col(at(stage)))


@dataclass(frozen=True)
class VelocityQuery:
    """Median and 90th-percentile days in each stage, and the cycle length (created → won).

    A lead counts for a stage when both the date it entered the stage and the date it entered
    a later stage are known; p90 interpolates linearly between the nearest ranks.
    """

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        facts = data.facts
        require(facts, [c.CREATED_AT], "Velocity")
        spans = {stage: _stage_days(stage) for stage in FUNNEL[:-1]}
        spans[CYCLE] = days(pl.col(WON_AT), pl.col(c.CREATED_AT))
        frames = []
        for name, span in spans.items():
            clean = span.filter(span.is_not_null() & (span >= 0))
            aggs = [
                clean.len().cast(pl.Int64).alias("leads"),
                clean.median().alias("median_days"),
                clean.quantile(0.9, interpolation="linear").alias("p90_days"),
            ]
            frames.append(
                grouped(facts, self.by, aggs).select(
                    *self.by, pl.lit(name).alias("stage"), "leads", "median_days", "p90_days"
                )
            )
        notes = ("'cycle' is creation to won; other rows are days until the next stage",)
        return TableResult("velocity", pl.concat(frames), notes)


__all__ = ["CYCLE", "VelocityQuery"]
