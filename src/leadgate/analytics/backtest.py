"""Backtest comparison: what each model would have qualified, against what actually happened.

Pure Polars, no engine: the caller scores each lead as of its decision moment (see
:func:`decision_moment_expr`) and hands the per-lead decisions here together with outcomes
(opportunities, wins, amounts) and, when known, the sales stage history.

Definitions (also in ``docs/backtesting.md``):

* **qualified** — the recommended stage is MQL or higher (``mql``, ``pql`` or ``sql``; an
  excluded lead is ``disqualified`` and never qualified).
* **opportunity** — the lead has at least one outcome row; **won** — one of them is won;
  **lost** — it had an opportunity, none won and one closed lost; **revenue** — the amount of
  its won opportunities; **pipeline** — the amount of all its opportunities.
* **accepted / rejected / recycled** — a sales action in the stage history (``accept`` or a
  move to ``sal``; ``disqualify``; ``recycle`` or a move to ``recycled``). Automatic moves
  (``auto``, ``requalify``, ``import``) are not sales verdicts and are ignored.
* Volumes per month count leads by the month of their **decision moment** (when the MQL would
  have reached sales).

Example:
    >>> result = compare_decisions(new, baseline, moments, outcomes, history, window=w, rule=r)
    >>> result.report.to_dict()["change"]["qualified"]   # -0.3 = "cut MQL volume 30%"
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import polars as pl

from leadgate.model import columns as c

#: The recommended stages that count as "qualified" (marketing qualified or higher).
QUALIFIED_STAGES: tuple[str, ...] = ("mql", "pql", "sql")

DecisionKind = Literal["delay", "cadence"]
Role = Literal["new", "baseline"]
Cell = Literal["both", "only_new", "only_baseline", "neither"]
CELLS: tuple[Cell, ...] = ("both", "only_new", "only_baseline", "neither")

#: Per-lead columns of :attr:`BacktestResult.leads` (besides the per-model ones).
DECIDED_AT = "decided_at"
MONTH = "month"
OPPORTUNITY = "opportunity"
WON = "won"
LOST = "lost"
REVENUE = "revenue"
PIPELINE = "pipeline"
ACCEPTED = "accepted"
REJECTED = "rejected"
RECYCLED = "recycled"
SALES_REASON = "sales_reason"
CELL = "cell"

#: Stage-history actions that are not a salesperson's verdict.
AUTOMATIC_ACTIONS: tuple[str, ...] = ("auto", "requalify", "import")

SCHEMA_VERSION = 1


def qualified_column(role: Role) -> str:
    """Name of a model's qualified flag in the per-lead table, e.g. ``qualified_new``."""
    return f"qualified_{role}"


def stage_column(role: Role) -> str:
    """Name of a model's recommended stage in the per-lead table, e.g. ``stage_baseline``."""
    return f"stage_{role}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_interval(interval: timedelta) -> str:
    """``7d``, ``12h``, ``90m`` or ``30s``: the shortest exact spelling of an interval."""
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Window:
    """The leads backtested: created in ``[start, end)`` (UTC)."""

    start: datetime
    end: datetime

    def to_dict(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}


@dataclass(frozen=True)
class DecisionRule:
    """When a lead is judged: its creation plus a delay, or the first cadence tick after it.

    Cadence ticks are ``anchor + k * interval`` (the anchor is the window start); a lead is
    judged at the first tick at or after its creation.
    """

    kind: DecisionKind
    interval: timedelta
    anchor: datetime | None = None
    qualified_stages: tuple[str, ...] = QUALIFIED_STAGES

    @property
    def label(self) -> str:
        if self.kind == "delay":
            return f"creation + {format_interval(self.interval)}"
        return f"first {format_interval(self.interval)} tick at or after creation"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "interval": format_interval(self.interval),
            "interval_seconds": self.interval.total_seconds(),
            "anchor": None if self.anchor is None else _iso(self.anchor),
            "qualified_stages": list(self.qualified_stages),
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionRule:
        anchor = data.get("anchor")
        return cls(
            kind=data["kind"],
            interval=timedelta(seconds=float(data["interval_seconds"])),
            anchor=None if anchor is None else _parse_iso(anchor),
            qualified_stages=tuple(data["qualified_stages"]),
        )


def decision_moment_expr(rule: DecisionRule, created_at: str = c.CREATED_AT) -> pl.Expr:
    """Each lead's decision moment (UTC) from its creation time.

    Raises:
        ValueError: a cadence without an anchor or with a zero interval.
    """
    created = pl.col(created_at).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if rule.kind == "delay":
        return (created + pl.duration(microseconds=_micros(rule.interval))).alias(DECIDED_AT)
    step = _micros(rule.interval)
    if rule.anchor is None or step <= 0:
        raise ValueError("a cadence needs an anchor and a positive interval")
    anchor = pl.lit(rule.anchor.astimezone(UTC)).dt.cast_time_unit("us")
    since = (created - anchor).dt.total_microseconds()
    ticks = (since + (step - 1)).floordiv(step)  # ceil for the non-negative offsets we get
    return (anchor + pl.duration(microseconds=ticks * step)).alias(DECIDED_AT)


def _micros(interval: timedelta) -> int:
    return round(interval.total_seconds() * 1_000_000)


@dataclass(frozen=True)
class ModelRef:
    """A model taking part: its role in the comparison, its name and version (content hash)."""

    role: Role
    name: str
    version: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class ModelDecisions:
    """One model's per-lead decisions: ``lead_id``, ``stage`` (recommended) and scores."""

    ref: ModelRef
    frame: pl.DataFrame


@dataclass(frozen=True)
class ModelSummary:
    """What one model's qualified set would have done.

    ``precision`` is wins among qualified / qualified (equal to ``win_rate``), ``recall`` is
    qualified wins / all wins. Rates are ``None`` when their denominator is zero; sales
    figures are ``None`` when no stage history was given.
    """

    role: Role
    leads: int
    qualified: int
    qualified_rate: float | None
    opportunities: int
    opportunity_rate: float | None
    won: int
    win_rate: float | None
    lost: int
    revenue_captured: float
    pipeline_captured: float
    missed_wins: int
    missed_revenue: float
    precision: float | None
    recall: float | None
    accepted: int | None = None
    acceptance_rate: float | None = None
    rejected: int | None = None
    recycled: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MonthVolume:
    """Leads decided in a month (``YYYY-MM``) and how many each model qualified."""

    month: str
    leads: int
    new: int
    baseline: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ComparisonCell:
    """One cell of the decision confusion (both / only new / only baseline / neither)."""

    cell: Cell
    leads: int
    opportunities: int
    won: int
    lost: int
    revenue: float
    accepted: int | None = None
    rejected: int | None = None
    recycled: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Change:
    """Relative change new vs baseline (``-0.3`` = 30% fewer); ``None`` when baseline is 0."""

    qualified: float | None
    opportunities: float | None
    opportunity_rate: float | None
    won: float | None
    win_rate: float | None
    revenue_captured: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BacktestReport:
    """The backtest's figures, stable for JSON (``to_dict``/``from_dict``) and the HTML report.

    Attributes:
        models: The new model first, then the baseline if there is one.
        window: Leads created in ``[start, end)``.
        decision_rule: When each lead was judged and which stages count as qualified.
        leads: Leads backtested.
        summaries: One per model, in the order of ``models``.
        months: Per decision month, leads and qualified volume per model.
        cells: The decision confusion with outcomes (empty without a baseline).
        change: New vs baseline (``None`` without a baseline).
        disagreements: Leads the two models decided differently.
        has_stage_history: Whether accepted/rejected/recycled figures are known.
    """

    models: tuple[ModelRef, ...]
    window: Window
    decision_rule: DecisionRule
    leads: int
    summaries: tuple[ModelSummary, ...]
    months: tuple[MonthVolume, ...]
    cells: tuple[ComparisonCell, ...] = ()
    change: Change | None = None
    disagreements: int = 0
    has_stage_history: bool = False
    schema_version: int = SCHEMA_VERSION

    def summary(self, role: Role) -> ModelSummary:
        """The summary of the ``new`` or ``baseline`` model."""
        return next(s for s in self.summaries if s.role == role)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "models": [m.to_dict() for m in self.models],
            "window": self.window.to_dict(),
            "decision_rule": self.decision_rule.to_dict(),
            "leads": self.leads,
            "summaries": [s.to_dict() for s in self.summaries],
            "months": [m.to_dict() for m in self.months],
            "cells": [cell.to_dict() for cell in self.cells],
            "change": None if self.change is None else self.change.to_dict(),
            "disagreements": self.disagreements,
            "has_stage_history": self.has_stage_history,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestReport:
        """Rebuild a report from :meth:`to_dict` output (e.g. ``leadgate backtest --json``)."""
        window = data["window"]
        change = data.get("change")
        return cls(
            models=tuple(ModelRef(**m) for m in data["models"]),
            window=Window(_parse_iso(window["start"]), _parse_iso(window["end"])),
            decision_rule=DecisionRule.from_dict(data["decision_rule"]),
            leads=int(data["leads"]),
            summaries=tuple(ModelSummary(**s) for s in data["summaries"]),
            months=tuple(MonthVolume(**m) for m in data["months"]),
            cells=tuple(ComparisonCell(**cell) for cell in data.get("cells", [])),
            change=None if change is None else Change(**change),
            disagreements=int(data.get("disagreements", 0)),
            has_stage_history=bool(data.get("has_stage_history", False)),
            schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
        )


@dataclass(frozen=True)
class BacktestResult:
    """The report and the per-lead table behind it (one row per backtested lead)."""

    report: BacktestReport
    leads: pl.DataFrame = field(repr=False)

    def disagreements(self) -> pl.DataFrame:
        """Leads the two models decided differently, with what happened to them."""
        if CELL not in self.leads.columns:
            return self.leads.clear()
        return self.leads.filter(pl.col(CELL).is_in(["only_new", "only_baseline"]))


def outcome_facts(outcomes: pl.DataFrame | None, id_dtype: pl.DataType) -> pl.LazyFrame:
    """Per lead: ``opportunity``, ``won``, ``lost``, ``revenue`` and ``pipeline``."""
    schema = {
        c.LEAD_ID: id_dtype,
        OPPORTUNITY: pl.Boolean(),
        WON: pl.Boolean(),
        LOST: pl.Boolean(),
        REVENUE: pl.Float64(),
        PIPELINE: pl.Float64(),
    }
    if outcomes is None:
        return pl.LazyFrame(schema=schema)
    lf = outcomes.lazy()
    names = outcomes.columns
    won = pl.col(c.WON).fill_null(False) if c.WON in names else pl.lit(False)
    closed_lost = (pl.col(c.WON) == False) if c.WON in names else pl.lit(False)  # noqa: E712
    amount = pl.col(c.AMOUNT).cast(pl.Float64) if c.AMOUNT in names else pl.lit(0.0)
    return (
        lf.filter(pl.col(c.LEAD_ID).is_not_null())
        .with_columns(pl.col(c.LEAD_ID).cast(id_dtype))
        .group_by(c.LEAD_ID)
        .agg(
            pl.lit(True).alias(OPPORTUNITY),
            won.any().alias(WON),
            closed_lost.fill_null(False).any().alias(LOST),
            amount.filter(won).sum().fill_null(0.0).alias(REVENUE),
            amount.sum().fill_null(0.0).alias(PIPELINE),
        )
        .with_columns((pl.col(LOST) & ~pl.col(WON)).alias(LOST))
        .select(list(schema))
    )


def sales_facts(history: pl.DataFrame | None, id_dtype: pl.DataType) -> pl.LazyFrame | None:
    """Per lead: ``accepted``, ``rejected``, ``recycled`` and the last sales ``reason``."""
    if history is None:
        return None
    names = history.columns
    to_stage = pl.col("to_stage").cast(pl.String) if "to_stage" in names else pl.lit(None)
    action = pl.col("action").cast(pl.String) if "action" in names else pl.lit(None, pl.String)
    reason = pl.col("reason").cast(pl.String) if "reason" in names else pl.lit(None, pl.String)
    order = pl.col("occurred_at") if "occurred_at" in names else pl.int_range(pl.len())
    manual = action.is_null() | ~action.is_in(list(AUTOMATIC_ACTIONS))
    lf = history.lazy().filter(manual & pl.col(c.LEAD_ID).is_not_null())
    verdict = (action == "disqualify") | (to_stage == "disqualified")
    return (
        lf.with_columns(pl.col(c.LEAD_ID).cast(id_dtype))
        .sort(order)
        .group_by(c.LEAD_ID)
        .agg(
            ((action == "accept") | (to_stage == "sal")).fill_null(False).any().alias(ACCEPTED),
            verdict.fill_null(False).any().alias(REJECTED),
            ((action == "recycle") | (to_stage == "recycled"))
            .fill_null(False)
            .any()
            .alias(RECYCLED),
            reason.drop_nulls().last().alias(SALES_REASON),
        )
    )


def _ratio(part: int | float, whole: int | float) -> float | None:
    return None if whole == 0 else part / whole


def _change(new: float | None, base: float | None) -> float | None:
    if new is None or base is None or base == 0:
        return None
    return new / base - 1.0


def _decision_columns(decisions: ModelDecisions, stages: tuple[str, ...]) -> pl.LazyFrame:
    role = decisions.ref.role
    stage = pl.col(c.STAGE).cast(pl.String)
    qualified = stage.is_in(list(stages)).fill_null(False)
    if c.IS_EXCLUDED in decisions.frame.columns:
        qualified = qualified & ~pl.col(c.IS_EXCLUDED).fill_null(False)
    return decisions.frame.lazy().select(
        c.LEAD_ID,
        stage.alias(stage_column(role)),
        qualified.alias(qualified_column(role)),
    )


def lead_table(
    new: ModelDecisions,
    baseline: ModelDecisions | None,
    moments: pl.DataFrame,
    outcomes: pl.DataFrame | None,
    stage_history: pl.DataFrame | None,
    *,
    rule: DecisionRule,
) -> pl.DataFrame:
    """One row per backtested lead: decisions of each model and what actually happened.

    Args:
        new: The new model's decisions.
        baseline: The baseline's decisions (same leads), if any.
        moments: ``lead_id`` and ``decided_at`` of every backtested lead.
        outcomes: Outcome rows (``lead_id``, ``won``, ``amount``, ...), if any.
        stage_history: Stage-history rows (``lead_id``, ``to_stage``, ``action``, ``reason``).
        rule: The decision rule (its ``qualified_stages`` are used).
    """
    id_dtype = moments.schema[c.LEAD_ID]
    lf = moments.lazy().select(c.LEAD_ID, DECIDED_AT)
    lf = lf.with_columns(pl.col(DECIDED_AT).dt.strftime("%Y-%m").alias(MONTH))
    lf = lf.join(_decision_columns(new, rule.qualified_stages), on=c.LEAD_ID, how="left")
    if baseline is not None:
        lf = lf.join(_decision_columns(baseline, rule.qualified_stages), on=c.LEAD_ID, how="left")
    lf = lf.join(outcome_facts(outcomes, id_dtype), on=c.LEAD_ID, how="left")
    facts = [OPPORTUNITY, WON, LOST]
    sales = sales_facts(stage_history, id_dtype)
    if sales is not None:
        lf = lf.join(sales, on=c.LEAD_ID, how="left")
        facts += [ACCEPTED, REJECTED, RECYCLED]
    lf = lf.with_columns(
        *(pl.col(name).fill_null(False) for name in facts),
        *(pl.col(name).fill_null(False) for name in map(qualified_column, _roles(baseline))),
        pl.col(REVENUE).fill_null(0.0),
        pl.col(PIPELINE).fill_null(0.0),
    )
    if baseline is not None:
        q_new, q_base = pl.col(qualified_column("new")), pl.col(qualified_column("baseline"))
        lf = lf.with_columns(
            pl.when(q_new & q_base)
            .then(pl.lit("both"))
            .when(q_new)
            .then(pl.lit("only_new"))
            .when(q_base)
            .then(pl.lit("only_baseline"))
            .otherwise(pl.lit("neither"))
            .cast(pl.Enum(CELLS))
            .alias(CELL)
        )
    return lf.sort(c.LEAD_ID).collect()


def _roles(baseline: ModelDecisions | None) -> tuple[Role, ...]:
    return ("new",) if baseline is None else ("new", "baseline")


def _sales_aggs(has_history: bool, within: pl.Expr) -> list[pl.Expr]:
    if not has_history:
        return []
    return [(within & pl.col(n)).sum().alias(n) for n in (ACCEPTED, REJECTED, RECYCLED)]


def _summary(table: pl.DataFrame, role: Role, has_history: bool) -> ModelSummary:
    q = pl.col(qualified_column(role))
    won = pl.col(WON)
    row = table.select(
        pl.len().alias("leads"),
        q.sum().alias("qualified"),
        (q & pl.col(OPPORTUNITY)).sum().alias("opportunities"),
        (q & won).sum().alias("won"),
        (q & pl.col(LOST)).sum().alias("lost"),
        pl.col(REVENUE).filter(q).sum().alias("revenue"),
        pl.col(PIPELINE).filter(q).sum().alias("pipeline"),
        (~q & won).sum().alias("missed"),
        pl.col(REVENUE).filter(~q).sum().alias("missed_revenue"),
        won.sum().alias("all_won"),
        *_sales_aggs(has_history, q),
    ).row(0, named=True)
    qualified = int(row["qualified"])
    accepted = int(row[ACCEPTED]) if has_history else None
    return ModelSummary(
        role=role,
        leads=int(row["leads"]),
        qualified=qualified,
        qualified_rate=_ratio(qualified, row["leads"]),
        opportunities=int(row["opportunities"]),
        opportunity_rate=_ratio(row["opportunities"], qualified),
        won=int(row["won"]),
        win_rate=_ratio(row["won"], qualified),
        lost=int(row["lost"]),
        revenue_captured=float(row["revenue"]),
        pipeline_captured=float(row["pipeline"]),
        missed_wins=int(row["missed"]),
        missed_revenue=float(row["missed_revenue"]),
        precision=_ratio(row["won"], qualified),
        recall=_ratio(row["won"], row["all_won"]),
        accepted=accepted,
        acceptance_rate=None if accepted is None else _ratio(accepted, qualified),
        rejected=int(row[REJECTED]) if has_history else None,
        recycled=int(row[RECYCLED]) if has_history else None,
    )


def _months(table: pl.DataFrame, has_baseline: bool) -> tuple[MonthVolume, ...]:
    aggs = [pl.len().alias("leads"), pl.col(qualified_column("new")).sum().alias("new")]
    if has_baseline:
        aggs.append(pl.col(qualified_column("baseline")).sum().alias("baseline"))
    rows = table.group_by(MONTH).agg(aggs).sort(MONTH).to_dicts()
    return tuple(
        MonthVolume(
            month=str(r[MONTH]),
            leads=int(r["leads"]),
            new=int(r["new"]),
            baseline=int(r["baseline"]) if has_baseline else None,
        )
        for r in rows
    )


def _cells(table: pl.DataFrame, has_history: bool) -> tuple[ComparisonCell, ...]:
    out: list[ComparisonCell] = []
    for cell in CELLS:
        inside = pl.col(CELL) == cell
        row = table.select(
            inside.sum().alias("leads"),
            (inside & pl.col(OPPORTUNITY)).sum().alias("opportunities"),
            (inside & pl.col(WON)).sum().alias("won"),
            (inside & pl.col(LOST)).sum().alias("lost"),
            pl.col(REVENUE).filter(inside).sum().alias("revenue"),
            *_sales_aggs(has_history, inside),
        ).row(0, named=True)
        out.append(
            ComparisonCell(
                cell=cell,
                leads=int(row["leads"]),
                opportunities=int(row["opportunities"]),
                won=int(row["won"]),
                lost=int(row["lost"]),
                revenue=float(row["revenue"]),
                accepted=int(row[ACCEPTED]) if has_history else None,
                rejected=int(row[REJECTED]) if has_history else None,
                recycled=int(row[RECYCLED]) if has_history else None,
            )
        )
    return tuple(out)


def compare_decisions(
    new: ModelDecisions,
    baseline: ModelDecisions | None,
    moments: pl.DataFrame,
    outcomes: pl.DataFrame | None,
    stage_history: pl.DataFrame | None,
    *,
    window: Window,
    rule: DecisionRule,
) -> BacktestResult:
    """Compare each model's qualified set with what happened, and the two models' decisions.

    Args:
        new: The new model's per-lead decisions (``lead_id``, ``stage``, ``is_excluded``).
        baseline: The baseline's decisions on the same leads, or ``None``.
        moments: ``lead_id`` and ``decided_at`` of every backtested lead.
        outcomes: ``lead_id`` with ``won``, ``amount`` (and dates), or ``None``.
        stage_history: ``lead_id`` with ``to_stage``/``action``/``reason``, or ``None``.
        window: The creation window the leads were picked from.
        rule: When leads were judged, and which stages count as qualified.

    Returns:
        The report and the per-lead table.
    """
    table = lead_table(new, baseline, moments, outcomes, stage_history, rule=rule)
    has_history = stage_history is not None
    summaries = tuple(_summary(table, role, has_history) for role in _roles(baseline))
    cells: tuple[ComparisonCell, ...] = ()
    change: Change | None = None
    disagreements = 0
    if baseline is not None:
        cells = _cells(table, has_history)
        n, b = summaries
        change = Change(
            qualified=_change(n.qualified, b.qualified),
            opportunities=_change(n.opportunities, b.opportunities),
            opportunity_rate=_change(n.opportunity_rate, b.opportunity_rate),
            won=_change(n.won, b.won),
            win_rate=_change(n.win_rate, b.win_rate),
            revenue_captured=_change(n.revenue_captured, b.revenue_captured),
        )
        disagreements = sum(x.leads for x in cells if x.cell in ("only_new", "only_baseline"))
    models = (new.ref,) if baseline is None else (new.ref, baseline.ref)
    report = BacktestReport(
        models=models,
        window=window,
        decision_rule=rule,
        leads=table.height,
        summaries=summaries,
        months=_months(table, baseline is not None),
        cells=cells,
        change=change,
        disagreements=disagreements,
        has_stage_history=has_history,
    )
    return BacktestResult(report=report, leads=table)


__all__ = [
    "CELLS",
    "QUALIFIED_STAGES",
    "BacktestReport",
    "BacktestResult",
    "Change",
    "ComparisonCell",
    "DecisionRule",
    "ModelDecisions",
    "ModelRef",
    "ModelSummary",
    "MonthVolume",
    "Window",
    "compare_decisions",
    "decision_moment_expr",
    "format_interval",
    "lead_table",
    "outcome_facts",
    "qualified_column",
    "sales_facts",
    "stage_column",
]
