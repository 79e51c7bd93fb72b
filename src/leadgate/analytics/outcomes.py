"""What qualification is worth: win rate, deal size, cycle, pipeline and revenue of qualified
versus not-qualified leads ("qualified" = reached MQL or PQL)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from leadgate.analytics.frames import (
    LOST,
    PIPELINE,
    REVENUE,
    WON_AT,
    FunnelData,
    TableResult,
    days,
    grouped,
    ratio,
    reached,
)
from leadgate.model import columns as c

QUALIFIED = "qualified"


@dataclass(frozen=True)
class QualifiedVsNotQuery:
    """Win rate, deal size and cycle length for qualified versus not-qualified leads.

    Columns: ``leads``, ``opportunities``, ``won``, ``lead_win_rate`` (won / leads),
    ``opportunity_win_rate`` (won / closed opportunities), ``avg_deal_size`` (mean revenue of
    won leads with an amount), ``median_cycle_days`` (created → won; negative spans left
    out), ``pipeline`` (open opportunity amount) and ``revenue`` (won amount).
    """

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        facts = data.facts.with_columns(pl.col(reached("mql")).alias(QUALIFIED))
        won = pl.col(reached("won"))
        closed = won | pl.col(LOST)
        span = days(pl.col(WON_AT), pl.col(c.CREATED_AT))
        cycle = (
            span.filter(won & (span >= 0)).median()
            if c.CREATED_AT in facts.columns
            else pl.lit(None, pl.Float64)
        )
        aggs = [
            pl.len().cast(pl.Int64).alias("leads"),
            pl.col(reached("opportunity")).sum().cast(pl.Int64).alias("opportunities"),
            won.sum().cast(pl.Int64).alias("won"),
            closed.sum().cast(pl.Int64).alias("_closed"),
            pl.col(REVENUE).filter(won & (pl.col(REVENUE) > 0)).mean().alias("avg_deal_size"),
            cycle.alias("median_cycle_days"),
            pl.col(PIPELINE).sum().alias("pipeline"),
            pl.col(REVENUE).sum().alias("revenue"),
        ]
        table = grouped(facts, (QUALIFIED, *self.by), aggs).with_columns(
            ratio(pl.col("won"), pl.col("leads")).alias("lead_win_rate"),
            ratio(pl.col("won"), pl.col("_closed")).alias("opportunity_win_rate"),
        )
        order = [
            QUALIFIED,
            *self.by,
            "leads",
            "opportunities",
            "won",
            "lead_win_rate",
            "opportunity_win_rate",
            "avg_deal_size",
            "median_cycle_days",
            "pipeline",
            "revenue",
        ]
        table = table.select(order).sort(
            [QUALIFIED, *self.by], descending=[True] + [False] * len(self.by)
        )
        return TableResult("qualified_vs_not", table)


@dataclass(frozen=True)
class PipelineQuery:
    """Pipeline (open opportunity amount) and revenue (won amount) from qualified leads, and
    their share of all pipeline and revenue."""

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        qualified = pl.col(reached("mql"))
        aggs = [
            pl.col(PIPELINE).filter(qualified).sum().alias("qualified_pipeline"),
            pl.col(PIPELINE).sum().alias("total_pipeline"),
            pl.col(REVENUE).filter(qualified).sum().alias("qualified_revenue"),
            pl.col(REVENUE).sum().alias("total_revenue"),
        ]
        table = grouped(data.facts, self.by, aggs).with_columns(
            ratio(pl.col("qualified_pipeline"), pl.col("total_pipeline")).alias("pipeline_share"),
            ratio(pl.col("qualified_revenue"), pl.col("total_revenue")).alias("revenue_share"),
        )
        return TableResult("pipeline", table)


__all__ = ["PipelineQuery", "QualifiedVsNotQuery"]
