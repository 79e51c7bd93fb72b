"""Working-session selection: the leads a revenue team should look at together.

Two kinds of lead are picked from a backtest's per-lead table:

* **borderline** — on the edge of a stage: the per-segment ``thresholds`` a stage rule
  compares ``fit_score``, ``engagement_score`` or ``product_score`` with are all met or
  missed by at most ``margin`` points, and one score is within ``margin`` of its threshold
  (see :func:`borderline`);
* **disagreements with reality** — qualified but rejected by sales or lost, and not qualified
  but won.

Pure Polars; the caller adds the ledger text and writes the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from leadgate.analytics.backtest import (
    LOST,
    REJECTED,
    WON,
    qualified_column,
)
from leadgate.model import columns as c
from leadgate.model.compiled import FieldTest, QualificationModel, ThresholdRef
from leadgate.model.compiler import walk

SCORE_FIELDS: tuple[str, ...] = (c.FIT_SCORE, c.ENGAGEMENT_SCORE, c.PRODUCT_SCORE)
DEFAULT_MARGIN = 5.0

REVIEW_REASON = "review_reason"
NEAR_THRESHOLD = "near_threshold"
DISTANCE = "threshold_distance"

BORDERLINE = "borderline"
QUALIFIED_BUT_REJECTED = "qualified_but_rejected"
QUALIFIED_BUT_LOST = "qualified_but_lost"
NOT_QUALIFIED_BUT_WON = "not_qualified_but_won"


@dataclass(frozen=True)
class ThresholdTest:
    """A stage rule's comparison of a score with a per-segment threshold."""

    stage: str
    field: str
    op: str
    threshold: str


_BOUND_OPS = ("gte", "gt", "lte", "lt")


def threshold_tests(model: QualificationModel) -> tuple[ThresholdTest, ...]:
    """Every score-vs-threshold comparison (``>=``, ``>``, ``<=``, ``<``) in the stage rules."""
    found: list[ThresholdTest] = []
    for rule in model.stages:
        for node in walk(rule.when):
            if (
                isinstance(node, FieldTest)
                and node.field in SCORE_FIELDS
                and node.op in _BOUND_OPS
                and isinstance(node.value, ThresholdRef)
            ):
                test = ThresholdTest(rule.stage, node.field, node.op, node.value.name)
                if test not in found:
                    found.append(test)
    return tuple(found)


def _threshold_value(model: QualificationModel, name: str) -> pl.Expr:
    default = model.thresholds.value(name)
    expr = pl.lit(default)
    for segment, _pairs in reversed(model.thresholds.segments):
        bound = model.thresholds.value(name, segment)
        if bound != default:
            expr = pl.when(pl.col(c.SEGMENT) == segment).then(pl.lit(bound)).otherwise(expr)
    return expr.cast(pl.Float64)


def _stage_parts(
    tests: list[ThresholdTest], model: QualificationModel, margin: float
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """For one stage: every test within reach, the nearest distance, and the text."""
    gaps, distances, texts = [], [], []
    for test in tests:
        bound = _threshold_value(model, test.threshold)
        score = pl.col(test.field).cast(pl.Float64).fill_null(0.0)
        short = bound - score if test.op in ("gte", "gt") else score - bound
        gaps.append(short.clip(lower_bound=0.0))
        distances.append((score - bound).abs())
        texts.append(
            pl.format("{}: {} {} vs {}", pl.lit(test.stage), pl.lit(test.field), score, bound)
        )
    reachable = pl.max_horizontal(gaps) <= margin
    nearest = pl.min_horizontal(distances)
    text = pl.concat_str(
        [pl.when(d <= margin).then(t) for d, t in zip(distances, texts, strict=True)],
        separator=", ",
        ignore_nulls=True,
    )
    return reachable & (nearest <= margin), nearest, text


def borderline(scores: pl.DataFrame, model: QualificationModel, margin: float) -> pl.DataFrame:
    """Leads on the edge of a stage: a decision that ``margin`` points would flip.

    For each stage whose rule compares scores with thresholds (per segment, else the
    default), a lead is borderline when every such comparison is passed or short by at most
    ``margin`` points, and at least one score is within ``margin`` of its threshold: it just
    made the stage, or just missed it. Other parts of a rule (value, required fields) are not
    considered; excluded leads are never borderline.

    Args:
        scores: ``lead_id``, ``segment``, ``is_excluded`` and the score columns.
        model: The model whose thresholds apply.
        margin: Points either side of a threshold that count as borderline.

    Returns:
        ``lead_id``, ``near_threshold`` (e.g. ``mql: fit_score 38.0 vs 40.0``) and
        ``threshold_distance`` (the smallest distance), one row per borderline lead.
    """
    schema = pl.Schema(
        {c.LEAD_ID: scores.schema[c.LEAD_ID], NEAR_THRESHOLD: pl.String(), DISTANCE: pl.Float64()}
    )
    tests = [t for t in threshold_tests(model) if t.field in scores.columns]
    stages = list(dict.fromkeys(t.stage for t in tests))
    if not stages:
        return pl.DataFrame(schema=schema)
    lf = scores.lazy()
    if c.IS_EXCLUDED in scores.columns:
        lf = lf.filter(~pl.col(c.IS_EXCLUDED).fill_null(False))
    parts = []
    for stage in stages:
        near, nearest, text = _stage_parts([t for t in tests if t.stage == stage], model, margin)
        parts.append(
            lf.filter(near).select(c.LEAD_ID, text.alias(NEAR_THRESHOLD), nearest.alias(DISTANCE))
        )
    return (
        pl.concat(parts)
        .sort(c.LEAD_ID, DISTANCE)
        .group_by(c.LEAD_ID, maintain_order=True)
        .agg(pl.col(NEAR_THRESHOLD).str.join("; "), pl.col(DISTANCE).min())
        .collect()
        .cast(schema)
    )


def review_leads(table: pl.DataFrame, near: pl.DataFrame) -> pl.DataFrame:
    """The backtest's per-lead rows worth a working session, with why (``review_reason``).

    Args:
        table: The backtest's per-lead table (``qualified_new``, ``won``, ``lost``, ...).
        near: :func:`borderline` output for the new model.
    """
    q = pl.col(qualified_column("new"))
    reasons = [
        pl.when(pl.col(NEAR_THRESHOLD).is_not_null()).then(pl.lit(BORDERLINE)),
        pl.when(q & pl.col(LOST)).then(pl.lit(QUALIFIED_BUT_LOST)),
        pl.when(~q & pl.col(WON)).then(pl.lit(NOT_QUALIFIED_BUT_WON)),
    ]
    if REJECTED in table.columns:
        reasons.insert(1, pl.when(q & pl.col(REJECTED)).then(pl.lit(QUALIFIED_BUT_REJECTED)))
    return (
        table.lazy()
        .join(near.lazy(), on=c.LEAD_ID, how="left")
        .with_columns(
            pl.concat_str(reasons, separator="; ", ignore_nulls=True).alias(REVIEW_REASON)
        )
        .filter(pl.col(REVIEW_REASON) != "")
        .sort(c.LEAD_ID)
        .collect()
    )


__all__ = [
    "BORDERLINE",
    "DEFAULT_MARGIN",
    "DISTANCE",
    "NEAR_THRESHOLD",
    "NOT_QUALIFIED_BUT_WON",
    "QUALIFIED_BUT_LOST",
    "QUALIFIED_BUT_REJECTED",
    "REVIEW_REASON",
    "ThresholdTest",
    "borderline",
    "review_leads",
    "threshold_tests",
]
