"""The maturity matrix a revenue council reviews: six capabilities, each rated from the
measured KPIs on four levels — 1 ad hoc, 2 defined, 3 managed, 4 modern.

Each rating names the KPI that drove it, its value, the cut-offs used, and what would move the
capability up a level. The cut-offs are deliberately simple and listed in ``RULES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from leadgate.analytics.acceptance import SlaQuery
from leadgate.analytics.frames import REVENUE, FunnelData, frame_records, reached
from leadgate.analytics.outcomes import QualifiedVsNotQuery
from leadgate.analytics.quality import DataQualityQuery, FieldCompletenessQuery
from leadgate.analytics.validation import LABEL, labelled, roc_auc
from leadgate.model import columns as c

LEVELS: Final = {1: "ad hoc", 2: "defined", 3: "managed", 4: "modern"}

#: capability → (KPI, cut-offs for levels 2, 3, 4 (value >= cut-off), advice per level 1-3).
RULES: Final[dict[str, tuple[str, tuple[float, float, float], tuple[str, str, str]]]] = {
    "definition of qualified": (
        "win-rate lift of qualified over not-qualified leads",
        (0.0, 1.5, 3.0),
        (
            "Write down one definition of qualified and record when leads become MQL.",
            "Tighten the definition until qualified leads win at least 1.5x as often.",
            "Reach a 3x win-rate lift and a score AUC of 0.75 (validate and re-tune).",
        ),
    ),
    "data & fit": (
        "mean completeness of the fields the model uses",
        (0.6, 0.8, 0.95),
        (
            "Capture the model's fields on at least 60 % of leads (forms, enrichment).",
            "Fill 80 % of the model's fields (enrichment, required form fields).",
            "Fill 95 % of the model's fields and keep the ICP grade on every lead.",
        ),
    ),
    "intent & engagement": (
        "ROC AUC of the engagement score for wins",
        (0.0, 0.55, 0.7),
        (
            "Track engagement events and score them (engagement_score).",
            "Re-weight engagement rules until the score beats chance (AUC 0.55).",
            "Add decay, caps and high-intent signals until the AUC reaches 0.7.",
        ),
    ),
    "buying-group insight": (
        "share of opportunities with several engaged contacts",
        (0.0, 0.2, 0.5),
        (
            "Link contacts to accounts (account_id) and record opportunities.",
            "Engage a second stakeholder on at least 20 % of opportunities.",
            "Multi-thread half of all opportunities (champion and economic buyer).",
        ),
    ),
    "routing & SLAs": (
        "SLA attainment (MQLs answered within the SLA)",
        (0.0, 0.6, 0.9),
        (
            "Record when sales accept or reject each MQL, so the SLA can be measured.",
            "Answer 60 % of MQLs within the SLA (routing, capacity, alerts).",
            "Answer 90 % of MQLs within the SLA (escalation, rebalancing).",
        ),
    ),
    "revenue insight": (
        "share of won leads with a recorded deal amount",
        (0.0, 0.5, 0.9),
        (
            "Record outcomes (opportunities, wins) against the leads they came from.",
            "Record the amount on at least half of the won deals.",
            "Record amounts on 90 % of won deals to report revenue by source and score.",
        ),
    ),
}


@dataclass(frozen=True)
class CapabilityRating:
    """One capability's level, the KPI that drove it and how to move up."""

    capability: str
    level: int
    label: str
    kpi: str
    value: float | None
    next_step: str


@dataclass(frozen=True)
class MaturityResult:
    ratings: tuple[CapabilityRating, ...]

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [vars(r) for r in self.ratings],
            schema={
                "capability": pl.String,
                "level": pl.Int64,
                "label": pl.String,
                "kpi": pl.String,
                "value": pl.Float64,
                "next_step": pl.String,
            },
            orient="row",
        )

    def to_dict(self) -> dict[str, Any]:
        return {"metric": "maturity", "rows": frame_records(self.to_frame())}


def rate(capability: str, value: float | None, *, cap: int = 4) -> CapabilityRating:
    """Rate one capability from its KPI value (``None`` = no data = ad hoc)."""
    kpi, cuts, advice = RULES[capability]
    level = 1
    if value is not None:
        level = 1 + sum(value >= cut for cut in cuts)
    level = min(level, cap)
    step = advice[level - 1] if level < 4 else "Keep measuring; review the definition quarterly."
    return CapabilityRating(capability, level, LEVELS[level], kpi, value, step)


def _auc(data: FunnelData, score: str) -> float | None:
    if score not in data.facts.columns:
        return None
    frame = labelled(data, score, "won")
    return roc_auc(frame) if frame.height and frame.get_column(LABEL).any() else None


def win_rate_lift(qualified_vs_not: pl.DataFrame) -> float | None:
    """Win rate of qualified over not-qualified leads (``QualifiedVsNotQuery`` table)."""
    rates = dict(zip(qualified_vs_not["qualified"], qualified_vs_not["lead_win_rate"], strict=True))
    qualified, other = rates.get(True), rates.get(False)
    if qualified is None or other is None:  # nothing to compare with
        return None
    if not other:
        return 99.0 if qualified > 0 else 0.0  # capped: no non-qualified lead ever won
    return float(qualified / other)


def _first(table: pl.DataFrame, column: str) -> float | None:
    value = table.get_column(column)[0] if table.height and column in table.columns else None
    return None if value is None else float(value)


@dataclass(frozen=True)
class MaturityKpis:
    """The KPIs the ratings are judged from (``None`` = no data)."""

    win_rate_lift: float | None
    score_auc: float | None
    field_completeness: float | None
    engagement_auc: float | None
    multi_threaded: float | None
    sla_attainment: float | None
    won_with_amount: float | None


def assess(kpis: MaturityKpis) -> MaturityResult:
    """Rate the six capabilities from measured KPIs."""
    strong_score = (kpis.score_auc or 0.0) >= 0.75
    return MaturityResult(
        (
            rate("definition of qualified", kpis.win_rate_lift, cap=4 if strong_score else 3),
            rate("data & fit", kpis.field_completeness),
            rate("intent & engagement", kpis.engagement_auc),
            rate("buying-group insight", kpis.multi_threaded),
            rate("routing & SLAs", kpis.sla_attainment),
            rate("revenue insight", kpis.won_with_amount),
        )
    )


def measure(
    data: FunnelData,
    *,
    qualified_vs_not: pl.DataFrame,
    completeness: pl.DataFrame,
    quality: pl.DataFrame,
    sla: pl.DataFrame,
    score_auc: float | None,
) -> MaturityKpis:
    """The KPIs from query results already computed (the report reuses its own)."""
    won = data.facts.filter(pl.col(reached("won")))
    with_amount = float((won.get_column(REVENUE) > 0).mean()) if won.height else None  # type: ignore[arg-type]
    fill = completeness["completeness"].mean() if completeness.height else None
    return MaturityKpis(
        win_rate_lift=win_rate_lift(qualified_vs_not),
        score_auc=score_auc,
        field_completeness=None if fill is None else float(fill),  # type: ignore[arg-type]
        engagement_auc=_auc(data, c.ENGAGEMENT_SCORE),
        multi_threaded=_first(quality, "multi_threaded_opportunities"),
        sla_attainment=_first(sla, "sla_attainment"),
        won_with_amount=with_amount,
    )


@dataclass(frozen=True)
class MaturityQuery:
    """Rate the six capabilities from ``data``; ``score`` is the qualification score."""

    score: str = c.FIT_SCORE
    sla_hours: float = 4.0

    def run(self, data: FunnelData) -> MaturityResult:
        kpis = measure(
            data,
            qualified_vs_not=QualifiedVsNotQuery().run(data).table,
            completeness=FieldCompletenessQuery().run(data).table,
            quality=DataQualityQuery().run(data).table,
            sla=SlaQuery(sla_hours=self.sla_hours).run(data).table,
            score_auc=_auc(data, self.score),
        )
        return assess(kpis)


__all__ = [
    "LEVELS",
    "RULES",
    "CapabilityRating",
    "MaturityKpis",
    "MaturityQuery",
    "MaturityResult",
    "assess",
    "measure",
    "rate",
    "win_rate_lift",
]
