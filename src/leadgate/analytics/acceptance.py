"""Sales acceptance: acceptance rate, rejection and recycle reasons, speed-to-lead and SLAs.

A *rejection* is a sales ``recycle`` or ``disqualify`` of a lead that was MQL/PQL and never
accepted (automatic recycling of a decayed MQL is not a rejection). Without stage history the
lead's current stage and reason columns are used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from leadgate.analytics.frames import (
    UTC_US,
    FunnelData,
    TableResult,
    at,
    days,
    grouped,
    narrow,
    ratio,
    reached,
    utc_columns,
)
from leadgate.model import columns as c

REJECTIONS: Final = ("recycled", "disqualified")
SALES_ACTIONS: Final = ("recycle", "disqualify")
FIRST_TOUCH: Final = "first_touch_at"
SLA_BREACHED: Final = "sla_breached"
NO_DATA: Final = "no data"
_CLOCK_TIMES: Final = ("stopped_at", "due_at", "breached_at")


def _rejection_rows(data: FunnelData) -> pl.DataFrame:
    """``lead_id, kind, reason, rejected_at`` for every sales rejection of a qualified lead."""
    history = data.stage_history
    schema = {c.LEAD_ID: pl.String, "kind": pl.String, "reason": pl.String}
    if history is not None and history.height:
        history = utc_columns(history, [c.OCCURRED_AT])
        rows = history.lazy().with_columns(pl.col(c.LEAD_ID).cast(pl.String))
        rows = rows.filter(
            pl.col("to_stage").is_in(list(REJECTIONS))
            & pl.col("from_stage").is_in(["mql", "pql", "sal"])
        )
        if "action" in history.columns:
            rows = rows.filter(pl.col("action").is_in(list(SALES_ACTIONS)))
        reason = pl.col("reason") if "reason" in history.columns else pl.lit(None, pl.String)
        when = pl.col(c.OCCURRED_AT)
        return rows.select(
            c.LEAD_ID,
            pl.col("to_stage").alias("kind"),
            reason.cast(pl.String).fill_null("(none)").alias("reason"),
            when.alias("rejected_at"),
        ).collect()
    facts = data.facts
    if c.STAGE not in facts.columns:
        return pl.DataFrame(schema={**schema, "rejected_at": pl.Datetime("us", "UTC")})
    reason_cols = {"recycled": "recycle_reason", "disqualified": "disqualified_reason"}
    frames = []
    for kind, column in reason_cols.items():
        reason = pl.col(column) if column in facts.columns else pl.lit(None, pl.String)
        dated = {"recycled": "recycled_at", "disqualified": "disqualified_at"}[kind]
        when = pl.col(dated) if dated in facts.columns else pl.lit(None, pl.Datetime("us", "UTC"))
        frames.append(
            facts.filter((pl.col(c.STAGE) == kind) & pl.col(at("mql")).is_not_null()).select(
                c.LEAD_ID,
                pl.lit(kind).alias("kind"),
                reason.cast(pl.String).fill_null("(none)").alias("reason"),
                when.alias("rejected_at"),
            )
        )
    return pl.concat(frames)


@dataclass(frozen=True)
class AcceptanceQuery:
    """Sales acceptance rate: accepted / (accepted + rejected) among MQLs; the rest pending."""

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        rejected_ids = _rejection_rows(data).select(c.LEAD_ID).unique()
        facts = data.facts.with_columns(
            pl.col(c.LEAD_ID).is_in(rejected_ids.get_column(c.LEAD_ID).implode()).alias("_rej")
        )
        qualified = pl.col(reached("mql"))
        accepted = qualified & pl.col(reached("sal"))
        rejected = qualified & ~pl.col(reached("sal")) & pl.col("_rej")
        aggs = [
            qualified.sum().cast(pl.Int64).alias("mqls"),
            accepted.sum().cast(pl.Int64).alias("accepted"),
            rejected.sum().cast(pl.Int64).alias("rejected"),
        ]
        table = grouped(facts, self.by, aggs).with_columns(
            (pl.col("mqls") - pl.col("accepted") - pl.col("rejected")).alias("pending"),
            ratio(pl.col("accepted"), pl.col("accepted") + pl.col("rejected")).alias(
                "acceptance_rate"
            ),
        )
        return TableResult("acceptance", table)


@dataclass(frozen=True)
class RejectionReasonsQuery:
    """Why sales recycled or disqualified qualified leads (and rejected them in feedback)."""

    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        rows = _rejection_rows(data).select(c.LEAD_ID, "kind", "reason")
        feedback = data.feedback
        if feedback is not None and feedback.height and "verdict" in feedback.columns:
            reason = pl.col("reason") if "reason" in feedback.columns else pl.lit(None, pl.String)
            rows = pl.concat(
                [
                    rows,
                    feedback.filter(pl.col("verdict") == "rejected").select(
                        pl.col(c.LEAD_ID).cast(pl.String),
                        pl.lit("feedback").alias("kind"),
                        reason.cast(pl.String).fill_null("(none)").alias("reason"),
                    ),
                ]
            )
        joined = rows.join(narrow(data.facts, self.by, ()), on=c.LEAD_ID, how="left")
        keys = ("kind", "reason", *self.by)
        table = grouped(joined, keys, [pl.col(c.LEAD_ID).n_unique().alias("leads")])
        totals = pl.col("leads").sum().over("kind")
        table = table.with_columns((pl.col("leads") / totals).alias("share_of_kind"))
        table = table.sort(["kind", "leads", "reason"], descending=[False, True, False])
        return TableResult("rejection_reasons", table)


@dataclass(frozen=True)
class SlaQuery:
    """Speed-to-lead and SLA attainment, when the data for them exists.

    * ``median_speed_to_lead_hours``: MQL (or creation) → ``first_touch_at``, when leads have
      that column; otherwise null ("no data").
    * ``sla_attainment``: the share of answered MQLs that sales accepted or rejected within
      ``sla_hours`` of becoming MQL (or ``1 - mean(sla_breached)`` when the leads carry an
      ``sla_breached`` flag); null ("no data") when no response times are known.
    """

    sla_hours: float = 4.0
    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        needed = [at("mql"), at("sal"), c.CREATED_AT, FIRST_TOUCH, SLA_BREACHED]
        facts = narrow(data.facts, self.by, needed)
        rejections = _rejection_rows(data)
        first = rejections.group_by(c.LEAD_ID).agg(pl.col("rejected_at").min())
        facts = facts.join(first, on=c.LEAD_ID, how="left")
        start = pl.col(at("mql"))
        response = pl.min_horizontal(pl.col(at("sal")), pl.col("rejected_at"))
        hours = days(response, start) * 24
        answered = start.is_not_null() & hours.is_not_null() & (hours >= 0)
        notes: list[str] = []
        aggs = [
            start.is_not_null().sum().cast(pl.Int64).alias("mqls"),
            answered.sum().cast(pl.Int64).alias("answered"),
            (answered & (hours <= self.sla_hours)).sum().cast(pl.Int64).alias("within_sla"),
            hours.filter(answered).median().alias("median_response_hours"),
        ]
        if SLA_BREACHED in facts.columns:
            breached = pl.col(SLA_BREACHED).cast(pl.Boolean)
            aggs.append((1 - breached.cast(pl.Float64).mean()).alias("sla_attainment"))
        if FIRST_TOUCH in facts.columns:
            origin = pl.coalesce(start, pl.col(c.CREATED_AT)) if c.CREATED_AT in facts else start
            touch = pl.col(FIRST_TOUCH)
            speed = days(touch, origin) * 24
            aggs.append(speed.filter(speed >= 0).median().alias("median_speed_to_lead_hours"))
        else:
            notes.append(f"speed-to-lead: {NO_DATA} (leads have no '{FIRST_TOUCH}' column)")
            aggs.append(pl.lit(None, pl.Float64).alias("median_speed_to_lead_hours"))
        table = grouped(facts, self.by, aggs)
        clocks = data.sla_clocks
        if clocks is not None and clocks.height and "sla_attainment" not in table.columns:
            table = _with_clock_attainment(table, clocks, data.facts, self.by)
        if "sla_attainment" not in table.columns:
            table = table.with_columns(
                ratio(pl.col("within_sla"), pl.col("answered")).alias("sla_attainment")
            )
        if table.get_column("sla_attainment").null_count() == table.height:
            notes.append(f"SLA attainment: {NO_DATA} (no acceptance or rejection times)")
        return TableResult("sla", table, tuple(notes))


def _with_clock_attainment(
    table: pl.DataFrame, clocks: pl.DataFrame, facts: pl.DataFrame, by: tuple[str, ...]
) -> pl.DataFrame:
    """SLA attainment from SLA clocks: met / (met + breached) among decided clocks."""
    clocks = utc_columns(clocks.with_columns(pl.col(c.LEAD_ID).cast(pl.String)), _CLOCK_TIMES)
    for name in _CLOCK_TIMES:
        if name not in clocks.columns:
            clocks = clocks.with_columns(pl.lit(None, UTC_US).alias(name))
    stopped, due, breached = (pl.col(n) for n in _CLOCK_TIMES)
    met = stopped.is_not_null() & breached.is_null() & (due.is_null() | (stopped <= due))
    decided = stopped.is_not_null() | breached.is_not_null()
    joined = clocks.join(facts, on=c.LEAD_ID, how="left")
    aggs = [met.sum().alias("_met"), decided.sum().alias("_decided")]
    attained = grouped(joined, by, aggs).with_columns(
        ratio(pl.col("_met"), pl.col("_decided")).alias("sla_attainment")
    )
    if by:
        return table.join(attained.drop("_met", "_decided"), on=list(by), how="left")
    return table.with_columns(attained.get_column("sla_attainment"))


__all__ = ["AcceptanceQuery", "RejectionReasonsQuery", "SlaQuery"]
