"""What is computed on the lead frame: fit, frameworks, grades, stage, roll-up and ledger.

Part of the compiled scoring plan (``engine/plan.py``): every expression is built once. Each
step reads only columns of earlier steps; a value several expressions need (persona,
thresholds, framework criteria, stage rules) is a working column computed once, because small
inputs run without Polars' common-subexpression pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import polars as pl

from leadgate.engine import accounts as account_rules
from leadgate.engine import engagement as eng
from leadgate.engine import explain, fit, lifecycle, readiness
from leadgate.engine.conditions import ExprContext
from leadgate.engine.ledger import LedgerTypes
from leadgate.model import columns as c
from leadgate.model.compiled import Condition, EventTest, FieldTest, QualificationModel
from leadgate.model.compiler import walk


def event_tests(model: QualificationModel) -> list[EventTest]:
    """The event tests of stage, temperature and engagement conditions, each once."""
    conditions = [model.temperature.hot, model.temperature.warm, *(s.when for s in model.stages)]
    if model.accounts.engaged_when is not None:
        conditions.append(model.accounts.engaged_when)
    found: list[EventTest] = []
    for cond in conditions:
        for node in walk(cond):
            if isinstance(node, EventTest) and node not in found:
                found.append(node)
    return found


def lead_conditions(model: QualificationModel) -> list[Condition]:
    """Every condition evaluated on the lead frame (event tests are resolved separately)."""
    found: list[Condition | None] = [s.when for s in model.segments]
    found += [e.when for e in model.exclusions]
    found += [p.when for p in model.personas]
    found += [r.when for r in model.fit_rules]
    found += [model.temperature.hot, model.temperature.warm, *(s.when for s in model.stages)]
    found.append(model.accounts.engaged_when)
    return [cond for cond in found if cond is not None]


class LeadPlan:
    """Everything computed on the lead frame: fit, frameworks, grades, stage, roll-up, ledger."""

    def __init__(
        self,
        model: QualificationModel,
        string_fields: frozenset[str],
        types: LedgerTypes,
        test_names: Mapping[EventTest, str],
        *,
        explain_points: bool,
        resolved: Mapping[str, Mapping[FieldTest, pl.Series]],
        joined_schema: pl.Schema,
    ) -> None:
        # before the threshold columns exist, thresholds are looked up in place
        early = ExprContext(
            threshold=lambda ref: lifecycle.threshold_expr(model, ref),
            event_test=lambda t: test_names[t],
            framework=lambda fid: c.framework_column(fid, "passed"),
            resolved=resolved,
            string_fields=string_fields,
        )
        ctx = replace(early, threshold=lambda ref: pl.col(lifecycle.threshold_column(ref.name)))
        # Each step reads only columns of earlier steps. A value several expressions need
        # (persona, thresholds, criteria, stage rules) is a working column computed once:
        # the plan runs without Polars' common-subexpression pass (see ``_run_fused``).
        fit_points = fit.fit_rule_columns(model, ctx)
        stages: list[list[pl.Expr]] = [
            [fit.segment_expr(model, early)],
            [
                fit.exclusion_expr(model, early),
                fit.persona_index_expr(model, early),
                *lifecycle.threshold_exprs(model),
            ],
            [
                *fit.persona_exprs(model),
                pl.col(c.EXCLUSION_REASON).is_not_null().alias(c.IS_EXCLUDED),
                lifecycle.value_expr(model),
            ],
        ]
        # the schema after those steps decides how criteria and required fields are read
        schema = _schema_after(joined_schema, stages)
        stages += [
            [
                *[e for fw in model.frameworks for e in readiness.criterion_exprs(fw, schema)],
                # Fit rule points are columns only when the ledger needs them; otherwise
                # they are summed in place, which keeps a million leads' peak memory lower.
                *(fit_points if explain_points else []),
            ],
            [
                fit.fit_score_expr(model, None if explain_points else fit_points),
                *[e for fw in model.frameworks for e in readiness.framework_exprs(fw)],
            ],
            lifecycle.grade_exprs(model),
            [lifecycle.grade_expr()],
            [
                lifecycle.temperature_expr(model, ctx),
                *lifecycle.stage_inputs(model, ctx, schema),
                account_rules.engaged_expr(model, ctx),
            ],
            lifecycle.stage_exprs(model),
        ]
        self.stages = [exprs for exprs in stages if exprs]
        # only what the output, the roll-up and the ledger read is materialised
        moment = [eng.MOMENT]
        keep = [*output_columns(model)[:-3], model.accounts.rollup_score, "__engaged", *moment]
        if explain_points:
            keep += fit.fit_columns(model)
        self.keep = list(dict.fromkeys(keep))
        self.rollup = account_rules.account_rollup(model)
        self.fit_ledger = explain.fit_ledger(model, types)
        self.top_reasons = explain.top_reasons(model)
        self.no_reasons = [pl.lit(None, pl.String).alias(c.TOP_REASONS)]
        self.finish = [
            pl.lit(model.version).alias(c.MODEL_VERSION),
            pl.col(eng.MOMENT).alias(c.AS_OF),
        ]
        self.output = output_columns(model)

    def scored(self, joined: pl.LazyFrame) -> pl.LazyFrame:
        """The lead frame with every score, grade and stage (``joined``: see ``plan.ScorePlan``)."""
        lf = joined
        for exprs in self.stages:
            lf = lf.with_columns(exprs)
        return lf.select(self.keep)

    def finished(self, scored: pl.LazyFrame, reasons: pl.LazyFrame | None) -> pl.LazyFrame:
        if reasons is None:
            leads = scored.with_columns(self.no_reasons)
        else:
            leads = scored.join(reasons, on=c.LEAD_ID, how="left", maintain_order="left")
        return leads.with_columns(self.finish).select(self.output)


def _schema_after(schema: pl.Schema, stages: Sequence[Sequence[pl.Expr]]) -> pl.Schema:
    lf = pl.LazyFrame(schema=schema)
    for exprs in stages:
        lf = lf.with_columns(exprs)
    return lf.collect_schema()


def output_columns(model: QualificationModel) -> list[str]:
    """The columns of the scored leads frame, in order."""
    frameworks = [
        c.framework_column(fw.id, part)
        for fw in model.frameworks
        for part in ("met", "missing", "passed")
    ]
    return [
        c.LEAD_ID,
        c.ACCOUNT_ID,
        c.EMAIL_DOMAIN,
        c.IS_FREE_EMAIL,
        c.SENIORITY,
        c.DEPARTMENT,
        c.SEGMENT,
        c.PERSONA,
        c.BUYING_ROLE,
        c.IS_EXCLUDED,
        c.EXCLUSION_REASON,
        c.FIT_SCORE,
        c.ENGAGEMENT_SCORE,
        c.PRODUCT_SCORE,
        c.POTENTIAL_VALUE,
        c.FIT_GRADE,
        c.ENGAGEMENT_GRADE,
        c.GRADE,
        c.TEMPERATURE,
        c.STAGE,
        c.MISSING_FIELDS,
        *frameworks,
        c.TOP_REASONS,
        c.MODEL_VERSION,
        c.AS_OF,
    ]
