"""Stage recommendation, grades, temperature and potential value.

Stages are tried in precedence order (SQL, PQL, MQL, IQL). The first stage whose rule holds
decides: if its required fields are known the lead is recommended for it; if not, the lead
falls to the next stage that holds and ``missing_fields`` names what blocks the higher one.
An excluded lead is ``disqualified``; a lead that meets no rule stays ``new``.
"""

from __future__ import annotations

import polars as pl

from leadgate.engine.conditions import (
    ExprContext,
    first_label,
    first_of,
    joined_labels,
    to_expr,
)
from leadgate.model import columns as c
from leadgate.model.compiled import QualificationModel, StageRule, ThresholdRef


def threshold_expr(model: QualificationModel, ref: ThresholdRef) -> pl.Expr:
    """The segment's value of a threshold, or its default."""
    default = dict(model.thresholds.default)[ref.name]
    cases = [
        (pl.col(c.SEGMENT) == segment, pl.lit(dict(pairs)[ref.name]))
        for segment, pairs in model.thresholds.segments
        if dict(pairs).get(ref.name) is not None
    ]
    return first_of(cases, pl.lit(default))


def value_expr(model: QualificationModel) -> pl.Expr:
    """Potential deal value: from a field when known, else by segment, else the default."""
    rule = model.value
    by_segment = first_of(
        [(pl.col(c.SEGMENT) == segment, pl.lit(amount)) for segment, amount in rule.by_segment],
        pl.lit(rule.default),
    )
    if rule.from_field is None:
        return by_segment.cast(pl.Float64).alias(c.POTENTIAL_VALUE)
    src = rule.from_field
    derived = pl.col(src.field).cast(pl.Float64) * src.per_unit
    derived = derived.clip(lower_bound=src.minimum, upper_bound=src.maximum)
    return pl.coalesce(derived, by_segment).cast(pl.Float64).alias(c.POTENTIAL_VALUE)


def _band(column: str, bands: tuple[tuple[str, float], ...], worst: str, name: str) -> pl.Expr:
    cases = [(pl.col(column) >= bound, label) for label, bound in bands]
    return first_label(cases, worst).alias(name)


def grade_exprs(model: QualificationModel) -> list[pl.Expr]:
    return [
        _band(c.FIT_SCORE, model.grades.fit, "D", c.FIT_GRADE),
        _band(c.ENGAGEMENT_SCORE, model.grades.engagement, "4", c.ENGAGEMENT_GRADE),
    ]


def grade_expr() -> pl.Expr:
    return pl.concat_str([pl.col(c.FIT_GRADE), pl.col(c.ENGAGEMENT_GRADE)]).alias(c.GRADE)


def temperature_expr(model: QualificationModel, ctx: ExprContext) -> pl.Expr:
    cases = [(to_expr(model.temperature.hot, ctx), "hot")]
    cases.append((to_expr(model.temperature.warm, ctx), "warm"))
    return first_label(cases, "cold").alias(c.TEMPERATURE)


def _field_known(name: str, schema: pl.Schema) -> pl.Expr:
    col = pl.col(name)
    known = col.is_not_null()
    if schema.get(name) in (pl.String, pl.Categorical):
        known = known & (col.cast(pl.String).str.strip_chars() != "")
    return known


def threshold_column(name: str) -> str:
    """Working column holding a threshold's value for the lead's segment."""
    return f"__threshold_{name}"


def threshold_exprs(model: QualificationModel) -> list[pl.Expr]:
    """Each threshold's value for the lead's segment, once per lead (needs ``segment``)."""
    return [
        threshold_expr(model, ThresholdRef(name)).alias(threshold_column(name))
        for name, _ in model.thresholds.default
    ]


def _held(rule: StageRule) -> str:
    return f"__stage_{rule.stage}_holds"


def _known(name: str) -> str:
    return f"__known_{name}"


def stage_inputs(model: QualificationModel, ctx: ExprContext, schema: pl.Schema) -> list[pl.Expr]:
    """Working columns for ``stage_exprs``: whether each stage's rule holds, and whether each
    required field is known. Computed once, read by both the stage and ``missing_fields``."""
    exprs = [to_expr(rule.when, ctx).alias(_held(rule)) for rule in model.stages]
    fields = dict.fromkeys(f for rule in model.stages for f in rule.required_fields)
    exprs += [_field_known(name, schema).alias(_known(name)) for name in fields]
    return exprs


def _missing_list(rule: StageRule) -> pl.Expr:
    return joined_labels([(~pl.col(_known(f)), f) for f in rule.required_fields])


def stage_exprs(model: QualificationModel) -> list[pl.Expr]:
    """``stage`` (recommended) and ``missing_fields`` (what blocks a higher stage).

    They read the working columns of ``stage_inputs``, computed in an earlier step.
    """
    held = {rule.stage: pl.col(_held(rule)) for rule in model.stages}
    ok = {
        rule.stage: pl.all_horizontal([pl.col(_known(f)) for f in rule.required_fields])
        if rule.required_fields
        else pl.lit(True)
        for rule in model.stages
    }
    none = pl.lit(None, pl.String)
    stage_cases = [(pl.col(c.IS_EXCLUDED), "disqualified")]
    stage_cases += [(held[r.stage] & ok[r.stage], str(r.stage)) for r in model.stages]
    missing: pl.Expr = none
    if any(rule.required_fields for rule in model.stages):
        missing_cases = [(pl.col(c.IS_EXCLUDED), none)]
        for rule in model.stages:
            if rule.required_fields:
                missing_cases.append((held[rule.stage] & ~ok[rule.stage], _missing_list(rule)))
            missing_cases.append((held[rule.stage], none))
        missing = first_of(missing_cases, none)
    return [
        first_label(stage_cases, "new").alias(c.STAGE),
        missing.alias(c.MISSING_FIELDS),
    ]
