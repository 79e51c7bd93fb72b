"""Funnel queries: stage counts and conversion between every pair of stages, cohorts, and the
lead qualification rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from leadgate.analytics.frames import (
    FUNNEL,
    REVENUE,
    FunnelData,
    TableResult,
    at,
    frame_records,
    grouped,
    ratio,
    reached,
    require,
)
from leadgate.model import columns as c


@dataclass(frozen=True)
class FunnelResult:
    """Stage counts and pairwise conversion.

    Attributes:
        stages: ``[*by, stage, leads, dated]``: leads that got at least this far, and how many
            of them have a recorded date for the stage.
        pairs: ``[*by, from_stage, to_stage, from_leads, to_leads, rate]`` for every ordered
            pair of funnel stages: ``to_leads`` reached both; ``rate = to_leads / from_leads``,
            null (no data) when nobody reached ``from_stage``.
    """

    stages: pl.DataFrame
    pairs: pl.DataFrame

    def to_frame(self) -> pl.DataFrame:
        return self.pairs

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": "funnel",
            "stages": frame_records(self.stages),
            "pairs": frame_records(self.pairs),
        }


@dataclass(frozen=True)
class FunnelQuery:
    """Conversion between every pair of stages (MQL → SAL → SQL → opportunity → won).

    Example:
        >>> FunnelQuery(by=("source",)).run(data).pairs  # doctest: +SKIP
    """

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> FunnelResult:
        facts = data.facts
        aggs = [pl.len().alias("_leads")]
        for stage in FUNNEL:
            aggs.append(pl.col(reached(stage)).sum().alias(stage))
            aggs.append(pl.col(at(stage)).is_not_null().sum().alias(f"_dated_{stage}"))
        aggs += [
            (pl.col(reached(first)) & pl.col(reached(second))).sum().alias(f"_{first}_{second}")
            for i, first in enumerate(FUNNEL)
            for second in FUNNEL[i + 1 :]
        ]
        wide = grouped(facts, self.by, aggs)
        keys = list(self.by)
        stages = pl.concat(
            [
                wide.select(
                    *keys,
                    pl.lit(stage).alias("stage"),
                    pl.col(stage).cast(pl.Int64).alias("leads"),
                    pl.col(f"_dated_{stage}").cast(pl.Int64).alias("dated"),
                )
                for stage in FUNNEL
            ]
        )
        pairs = pl.concat(
            [
                wide.select(
                    *keys,
                    pl.lit(first).alias("from_stage"),
                    pl.lit(second).alias("to_stage"),
                    pl.col(first).cast(pl.Int64).alias("from_leads"),
                    pl.col(f"_{first}_{second}").cast(pl.Int64).alias("to_leads"),
                    ratio(pl.col(f"_{first}_{second}"), pl.col(first)).alias("rate"),
                )
                for i, first in enumerate(FUNNEL)
                for second in FUNNEL[i + 1 :]
            ]
        )
        return FunnelResult(stages=stages, pairs=pairs)


@dataclass(frozen=True)
class CohortQuery:
    """Funnel counts and rates by the week or month a lead was created."""

    period: Literal["week", "month", "quarter"] = "month"
    by: tuple[str, ...] = field(default=())

    def run(self, data: FunnelData) -> TableResult:
        facts = data.facts
        require(facts, [c.CREATED_AT], "Cohorts")
        aggs = [pl.len().alias("leads")]
        aggs += [pl.col(reached(s)).sum().cast(pl.Int64).alias(s) for s in FUNNEL]
        table = grouped(facts, (self.period, *self.by), aggs).with_columns(
            ratio(pl.col("mql"), pl.col("leads")).alias("lead_to_mql"),
            ratio(pl.col("won"), pl.col("mql")).alias("mql_to_won"),
        )
        return TableResult(f"cohorts_by_{self.period}", table)


@dataclass(frozen=True)
class QualificationRateQuery:
    """Lead qualification rate: the share of leads that became MQL (or PQL)."""

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        aggs = [
            pl.len().alias("leads"),
            pl.col(reached("mql")).sum().cast(pl.Int64).alias("qualified"),
        ]
        table = grouped(data.facts, self.by, aggs).with_columns(
            ratio(pl.col("qualified"), pl.col("leads")).alias("qualification_rate")
        )
        return TableResult("qualification_rate", table)


@dataclass(frozen=True)
class BreakdownQuery:
    """Volume, conversion and revenue for each value of one or more breakdown columns."""

    by: tuple[str, ...]

    def run(self, data: FunnelData) -> TableResult:
        aggs = [pl.len().cast(pl.Int64).alias("leads")]
        aggs += [pl.col(reached(s)).sum().cast(pl.Int64).alias(s) for s in ("mql", "won")]
        aggs.append(pl.col(REVENUE).sum().alias("revenue"))
        table = grouped(data.facts, self.by, aggs).with_columns(
            ratio(pl.col("mql"), pl.col("leads")).alias("lead_to_mql"),
            ratio(pl.col("won"), pl.col("leads")).alias("lead_to_won"),
            ratio(pl.col("won"), pl.col("mql")).alias("mql_to_won"),
        )
        return TableResult(f"by_{'_'.join(self.by)}", table)


__all__ = ["BreakdownQuery", "CohortQuery", "FunnelQuery", "FunnelResult", "QualificationRateQuery"]
