"""The inputs of every analytics query, and the one-row-per-lead facts they all read.

A lead *reached* a funnel stage when it has a date for that stage (a lifecycle column such as
``became_sal_at``, a stage-history row, or an outcome), is in it now, or reached a later sales
stage (a won lead was an opportunity, even if nobody recorded when): SAL → SQL → opportunity →
won counts are "got at least this far". MQL is different: only an MQL/PQL date or stage, or a
sales acceptance/SQL (sales accepts only MQLs), makes a lead qualified — a sales-sourced
opportunity is "not qualified but won", which is what validation needs to see.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, Final

import polars as pl

from leadgate.exceptions import UsageError
from leadgate.model import columns as c

FUNNEL: Final[tuple[str, ...]] = ("mql", "sal", "sql", "opportunity", "won")
"""The funnel stages in order; ``mql`` counts product-qualified leads (``pql``) too."""

STAGE_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "mql": ("mql", "pql"),
    "sal": ("sal",),
    "sql": ("sql",),
    "opportunity": ("opportunity",),
    "won": ("won",),
}
BECAME: Final[dict[str, str]] = {k: v for k, v in c.BECAME_AT.items() if k != "iql"}
PERIODS: Final[dict[str, str]] = {"week": "1w", "month": "1mo", "quarter": "1q"}
"""Breakdowns by the period a lead was created in (``by=("month",)``)."""
ALIASES: Final[dict[str, str]] = {"owner": "owner_id", "channel": c.SOURCE}
UTC_US: Final = pl.Datetime("us", "UTC")
DAY_US: Final = 86_400_000_000

# Columns of the facts frame.
WON_AT: Final = "won_at"
LOST: Final = "is_lost"
REVENUE: Final = "revenue"
PIPELINE: Final = "pipeline"
OPPORTUNITIES: Final = "opportunities"
OPPORTUNITY_AMOUNT: Final = "opportunity_amount"


def at(stage: str) -> str:
    """Facts column with the first date a lead entered a funnel stage."""
    return f"{stage}_at"


def reached(stage: str) -> str:
    """Facts column telling whether a lead got at least as far as a funnel stage."""
    return f"reached_{stage}"


@dataclass(frozen=True)
class FunnelData:
    """Everything the analytics read. Only ``leads`` is required.

    Attributes:
        leads: One row per lead: ``lead_id``, ``created_at``, ``stage``, scores, grade,
            segment, persona, source, owner, campaign, lifecycle dates (``became_*_at``)...
        stage_history: ``lead_id``, ``from_stage``, ``to_stage``, ``reason``, ``occurred_at``.
        outcomes: ``lead_id``, ``opportunity_created_at``, ``amount``, ``won``, ``closed_at``.
        feedback: ``lead_id``, ``verdict``, ``reason``, ``created_at``.
        model_fields: Fields the qualification model reads (for field completeness).
        sla_clocks: ``lead_id``, ``due_at``, ``stopped_at``, ``breached_at`` (one per clock).
    """

    leads: pl.DataFrame
    stage_history: pl.DataFrame | None = None
    outcomes: pl.DataFrame | None = None
    feedback: pl.DataFrame | None = None
    model_fields: tuple[str, ...] = ()
    sla_clocks: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        if c.LEAD_ID not in self.leads.columns:
            raise UsageError("The leads frame has no 'lead_id' column.", hint="add lead ids")

    @cached_property
    def facts(self) -> pl.DataFrame:
        """One row per lead: its columns, funnel dates, reach flags, revenue and pipeline."""
        return build_facts(self)

    @cached_property
    def months(self) -> float:
        """Length of the period the leads were created in, in months (at least one)."""
        created = self.facts.get_column(c.CREATED_AT) if c.CREATED_AT in self.facts else None
        if created is None or created.null_count() == created.len():
            return 1.0
        low, high = created.min(), created.max()
        assert isinstance(low, datetime)
        assert isinstance(high, datetime)
        return max(1.0, (high - low).total_seconds() / 86_400 / (365.25 / 12))


def parse_utc(text: pl.Expr) -> pl.Expr:
    """Parse ISO 8601 text (with or without an offset or a time) as UTC; bad text → null."""
    naive = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f")
    return pl.coalesce(
        text.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False
        ),
        *(
            text.str.to_datetime(fmt, time_unit="us", strict=False).dt.replace_time_zone("UTC")
            for fmt in naive
        ),
        text.str.to_date("%Y-%m-%d", strict=False)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC"),
    )


def utc_columns(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """Make the named columns tz-aware UTC datetimes (text is parsed; dates become midnight)."""
    fixes: list[pl.Expr] = []
    for name in names:
        if name not in frame.columns:
            continue
        dtype = frame.schema[name]
        col = pl.col(name)
        if dtype == pl.String:
            fixes.append(parse_utc(col).alias(name))
        elif dtype == pl.Date:
            fixes.append(col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
        elif isinstance(dtype, pl.Datetime):
            fixed = col.dt.cast_time_unit("us")
            fixed = (
                fixed.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else fixed.dt.convert_time_zone("UTC")
            )
            fixes.append(fixed)
        elif dtype == pl.Null:
            fixes.append(col.cast(UTC_US))
    return frame.with_columns(fixes) if fixes else frame


def _ids(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(c.LEAD_ID).cast(pl.String))


def _history_dates(history: pl.DataFrame) -> pl.LazyFrame:
    history = utc_columns(_ids(history), [c.OCCURRED_AT])
    stage = pl.col("to_stage")
    when = pl.col(c.OCCURRED_AT)
    named = {**{s: STAGE_SOURCES[s] for s in FUNNEL}, "lost": ("lost",)}
    return (
        history.lazy()
        .group_by(c.LEAD_ID)
        .agg(when.filter(stage.is_in(list(src))).min().alias(f"_h_{s}") for s, src in named.items())
    )


def _outcome_facts(outcomes: pl.DataFrame) -> pl.LazyFrame:
    outcomes = utc_columns(_ids(outcomes), [c.OPPORTUNITY_CREATED_AT, c.CLOSED_AT])
    for name, dtype in ((c.AMOUNT, pl.Float64), (c.WON, pl.Boolean)):
        if name not in outcomes.columns:
            outcomes = outcomes.with_columns(pl.lit(None, dtype).alias(name))
    for name in (c.OPPORTUNITY_CREATED_AT, c.CLOSED_AT):
        if name not in outcomes.columns:
            outcomes = outcomes.with_columns(pl.lit(None, UTC_US).alias(name))
    won = pl.col(c.WON).fill_null(value=False)
    amount = pl.col(c.AMOUNT).cast(pl.Float64)
    return (
        outcomes.lazy()
        .filter(pl.col(c.LEAD_ID).is_not_null())
        .group_by(c.LEAD_ID)
        .agg(
            pl.len().cast(pl.Int64).alias(OPPORTUNITIES),
            pl.col(c.OPPORTUNITY_CREATED_AT).min().alias("_o_opportunity"),
            pl.col(c.CLOSED_AT).filter(won).min().alias("_o_won"),
            won.any().alias("_o_is_won"),
            (pl.col(c.WON) == False).any().alias("_o_lost"),  # noqa: E712
            amount.filter(won).sum().alias(REVENUE),
            amount.filter(pl.col(c.WON).is_null()).sum().alias(PIPELINE),
            amount.sum().alias(OPPORTUNITY_AMOUNT),
        )
    )


def build_facts(data: FunnelData) -> pl.DataFrame:
    """The facts frame behind every query (see the module docstring for "reached")."""
    leads = utc_columns(_ids(data.leads), [c.CREATED_AT, *BECAME.values(), "first_touch_at"])
    lazy = leads.lazy()
    sources: dict[str, list[pl.Expr]] = {s: [] for s in [*FUNNEL, "lost"]}
    for stage, names in {**STAGE_SOURCES, "lost": ("lost",)}.items():
        sources[stage] += [pl.col(BECAME[n]) for n in names if BECAME[n] in leads.columns]
    flags: dict[str, list[pl.Expr]] = {s: [] for s in [*FUNNEL, "lost"]}
    if data.stage_history is not None and data.stage_history.height:
        lazy = lazy.join(_history_dates(data.stage_history), on=c.LEAD_ID, how="left")
        for stage, exprs in sources.items():
            exprs.append(pl.col(f"_h_{stage}"))
    extra: list[pl.Expr] = []
    if data.outcomes is not None:
        lazy = lazy.join(_outcome_facts(data.outcomes), on=c.LEAD_ID, how="left")
        sources["opportunity"].append(pl.col("_o_opportunity"))
        sources["won"].append(pl.col("_o_won"))
        flags["won"].append(pl.col("_o_is_won").fill_null(value=False))
        flags["lost"].append(pl.col("_o_lost").fill_null(value=False))
        flags["opportunity"].append(pl.col(OPPORTUNITIES).fill_null(0) > 0)
        extra += [pl.col(n).fill_null(0) for n in (OPPORTUNITIES,)]
        extra += [pl.col(n).fill_null(0.0) for n in (REVENUE, PIPELINE, OPPORTUNITY_AMOUNT)]
    else:
        extra += [pl.lit(0, pl.Int64).alias(OPPORTUNITIES)]
        extra += [pl.lit(0.0).alias(n) for n in (REVENUE, PIPELINE, OPPORTUNITY_AMOUNT)]
    if c.STAGE in leads.columns:
        current = pl.col(c.STAGE)
        for stage, names in {**STAGE_SOURCES, "lost": ("lost",)}.items():
            flags[stage].append(current.is_in(list(names)).fill_null(value=False))
    dates = [
        (pl.min_horizontal(exprs) if exprs else pl.lit(None, UTC_US)).alias(at(stage))
        for stage, exprs in sources.items()
    ]
    lazy = lazy.with_columns(*dates, *extra)
    own = {
        s: pl.any_horizontal([pl.col(at(s)).is_not_null(), *flags[s]]) for s in [*FUNNEL, "lost"]
    }
    reach: list[pl.Expr] = []
    later = own["won"]
    reach.append(later.alias(reached("won")))
    for stage in ("opportunity", "sql", "sal"):
        later = own[stage] | later
        if stage == "opportunity":
            later = later | own["lost"]
        reach.append(later.alias(reached(stage)))
    # An opportunity does not make a lead marketing-qualified (sales-sourced deals exist);
    # a sales acceptance or SQL does, because sales only accepts MQLs/PQLs.
    reach.append((own["mql"] | own["sal"] | own["sql"]).alias(reached("mql")))
    lazy = lazy.with_columns(*reach).with_columns(own["lost"].alias(LOST))
    lazy = lazy.with_columns(pl.col(at("won")).alias(WON_AT))
    drop = [n for n in lazy.collect_schema().names() if n.startswith(("_h_", "_o_"))]
    return lazy.drop(drop).collect()


def resolve_by(facts: pl.DataFrame, by: Sequence[str]) -> list[pl.Expr]:
    """Breakdown expressions for ``by`` names; a period name buckets ``created_at``.

    Raises:
        UsageError: A column is missing (the message lists what can be used).
    """
    exprs: list[pl.Expr] = []
    for name in by:
        if name in PERIODS:
            if c.CREATED_AT not in facts.columns:
                raise UsageError(
                    f"Cannot break down by {name}: the leads have no 'created_at' column.",
                    hint="include when each lead was created",
                )
            every = PERIODS[name]
            exprs.append(pl.col(c.CREATED_AT).dt.truncate(every).dt.date().alias(name))
        elif name in facts.columns:
            exprs.append(pl.col(name))
        elif ALIASES.get(name) in facts.columns:
            exprs.append(pl.col(ALIASES[name]).alias(name))
        else:
            usable = sorted(
                n
                for n, t in facts.schema.items()
                if t in (pl.String, pl.Categorical, pl.Boolean) and n != c.LEAD_ID
            )
            raise UsageError(
                f"Cannot break down by {name!r}: the leads have no such column.",
                hint=f"use one of {', '.join([*PERIODS, *usable])}",
            )
    return exprs


def narrow(facts: pl.DataFrame, by: Sequence[str], columns: Sequence[str]) -> pl.DataFrame:
    """Only the columns a query reads (cheaper joins and filters on wide facts)."""
    wanted = [c.LEAD_ID, *columns, *by, *(ALIASES.get(name, name) for name in by)]
    if any(name in PERIODS for name in by):
        wanted.append(c.CREATED_AT)
    return facts.select(name for name in dict.fromkeys(wanted) if name in facts.columns)


def grouped(frame: pl.DataFrame, by: Sequence[str], aggs: Sequence[pl.Expr]) -> pl.DataFrame:
    """Aggregate ``frame`` overall (no ``by``) or per breakdown group, sorted by the groups."""
    if not by:
        return frame.select(aggs)
    keys = resolve_by(frame, by)
    return frame.group_by(keys).agg(aggs).sort(list(by), nulls_last=True)


def require(frame: pl.DataFrame, names: Sequence[str], metric: str) -> None:
    """Raise a clear ``UsageError`` when a metric's input columns are missing."""
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise UsageError(
            f"{metric} needs the column(s) {', '.join(missing)}, which the leads do not have.",
            hint="include them in the leads file, or read the leads from the store",
        )


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator``, null (no data) when the denominator is zero."""
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    """Whole and fractional days between two datetimes."""
    return (later - earlier).dt.total_microseconds() / DAY_US


def jsonable(value: Any) -> Any:
    """Turn a frame value into plain JSON (dates as ISO text, NaN as null)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def frame_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-ready dicts."""
    return [{k: jsonable(v) for k, v in row.items()} for row in frame.to_dicts()]


@dataclass(frozen=True)
class TableResult:
    """A metric's result: a tidy table plus notes (e.g. what "no data" means here)."""

    metric: str
    table: pl.DataFrame
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pl.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "rows": frame_records(self.table), "notes": list(self.notes)}


__all__ = [
    "FUNNEL",
    "PERIODS",
    "FunnelData",
    "TableResult",
    "at",
    "build_facts",
    "days",
    "frame_records",
    "grouped",
    "narrow",
    "ratio",
    "reached",
    "require",
    "resolve_by",
]
