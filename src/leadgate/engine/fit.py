"""Fit: segment, exclusions, persona and buying role, and ICP fit points."""

from __future__ import annotations

import polars as pl

from leadgate.engine.conditions import ExprContext, first_label, first_value, to_expr
from leadgate.engine.ledger import PERSONA_RULE
from leadgate.model import columns as c
from leadgate.model.compiled import QualificationModel

NO_SEGMENT = None


def _first_match(
    cases: list[tuple[pl.Expr, str]], name: str, default: str | None = None
) -> pl.Expr:
    return first_label(cases, default).alias(name)


def segment_expr(model: QualificationModel, ctx: ExprContext) -> pl.Expr:
    """The first segment whose condition holds (a segment without one always holds)."""
    cases = [
        (pl.lit(True) if s.when is None else to_expr(s.when, ctx), s.id) for s in model.segments
    ]
    return _first_match(cases, c.SEGMENT)


def exclusion_expr(model: QualificationModel, ctx: ExprContext) -> pl.Expr:
    """The reason code of the first exclusion that applies, else null."""
    cases = [(to_expr(e.when, ctx), e.reason) for e in model.exclusions]
    return _first_match(cases, c.EXCLUSION_REASON)


def exclusion_rule_expr(model: QualificationModel, ctx: ExprContext) -> pl.Expr:
    cases = [(to_expr(e.when, ctx), e.id) for e in model.exclusions]
    return _first_match(cases, "__exclusion_id")


def persona_cases(model: QualificationModel, ctx: ExprContext) -> list[tuple[pl.Expr, int]]:
    cases = []
    for i, persona in enumerate(model.personas):
        cond = to_expr(persona.when, ctx)
        if persona.segments is not None:
            cond = cond & pl.col(c.SEGMENT).is_in(pl.Series(persona.segments).implode()).fill_null(
                False
            )
        cases.append((cond, i))
    return cases


#: Working column: the position of the lead's persona in the model (null: none matched).
PERSONA_INDEX = "__persona_index"


def persona_index_expr(model: QualificationModel, ctx: ExprContext) -> pl.Expr:
    """Which persona the lead matches: the first whose condition holds (see ``persona_exprs``)."""
    cases = [(cond, pl.lit(i, pl.UInt32)) for cond, i in persona_cases(model, ctx)]
    return first_value(cases, pl.lit(None, pl.UInt32)).alias(PERSONA_INDEX)


def persona_exprs(model: QualificationModel) -> list[pl.Expr]:
    """Persona id, buying role and persona points, looked up from ``persona_index_expr``."""
    if not model.personas:
        return [
            pl.lit(None, pl.String).alias(c.PERSONA),
            pl.lit(None, pl.String).alias(c.BUYING_ROLE),
            pl.lit(0.0).alias("__fit_persona"),
        ]
    index = pl.col(PERSONA_INDEX)
    positions = list(range(len(model.personas)))

    def lookup(values: list[str]) -> pl.Expr:
        return index.replace_strict(positions, values, default=None, return_dtype=pl.String)

    points = [float(p.points) for p in model.personas]
    return [
        lookup([p.id for p in model.personas]).alias(c.PERSONA),
        lookup([p.buying_role for p in model.personas]).alias(c.BUYING_ROLE),
        index.replace_strict(positions, points, default=0.0, return_dtype=pl.Float64).alias(
            "__fit_persona"
        ),
    ]


def fit_rule_columns(model: QualificationModel, ctx: ExprContext) -> list[pl.Expr]:
    """One points column per fit rule (0 when the rule does not apply)."""
    return [
        pl.when(to_expr(rule.when, ctx))
        .then(pl.lit(rule.points))
        .otherwise(0.0)
        .alias(f"__fit_{rule.id}")
        for rule in model.fit_rules
    ]


def fit_columns(model: QualificationModel) -> dict[str, str]:
    """Working column → ledger rule id, for persona points and every fit rule."""
    return {"__fit_persona": PERSONA_RULE, **{f"__fit_{r.id}": r.id for r in model.fit_rules}}


def fit_score_expr(model: QualificationModel, rules: list[pl.Expr] | None = None) -> pl.Expr:
    """Persona points plus every fit rule's points: from the working columns, or from the
    rule expressions themselves when given (``fit_rule_columns``, in model order)."""
    if rules is None:
        rules = [pl.col(n) for n in fit_columns(model) if n != "__fit_persona"]
    # Added one term at a time, in model order (never null: every term has a value): a
    # horizontal sum evaluates all its terms first, ~150 MB of columns at a million leads.
    total = pl.col("__fit_persona")
    for points in rules:
        total = total + points
    return total.round(2).alias(c.FIT_SCORE)
