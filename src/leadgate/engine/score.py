"""The single scoring entry point used by batch, real time, backtests and the CLI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import polars as pl

from leadgate.engine import accounts as account_rules
from leadgate.engine import engagement as eng
from leadgate.engine import explain, fit, lifecycle, readiness
from leadgate.engine.conditions import ExprContext, resolve_strings, string_tests
from leadgate.engine.inputs import Inputs, check_as_of, check_inputs
from leadgate.engine.ledger import LedgerTypes, ledger_types
from leadgate.engine.normalize import normalize_leads
from leadgate.model import columns as c
from leadgate.model.compiled import Condition, EventTest, QualificationModel, ThresholdRef
from leadgate.model.compiler import walk


@dataclass(frozen=True)
class ScoreResult:
    """Scores per lead, the ledger that explains them, and the account roll-up."""

    leads: pl.DataFrame
    ledger: pl.DataFrame | None
    accounts: pl.DataFrame
    model_version: str
    #: the moment scored at, or the name of the leads' column holding each lead's own moment
    as_of: datetime | str


_EVENT_AS_OF = "__as_of"
_LEADS: Final = "in-memory"

#: Below this many rows, text tests run directly: resolving them per distinct value costs
#: a few eager queries each, which only pays off on large frames (e.g. a single lead).
RESOLVE_MIN_ROWS = 5_000


def _event_tests(model: QualificationModel) -> list[EventTest]:
    conditions = [model.temperature.hot, model.temperature.warm, *(s.when for s in model.stages)]
    if model.accounts.engaged_when is not None:
        conditions.append(model.accounts.engaged_when)
    found: list[EventTest] = []
    for cond in conditions:
        for node in walk(cond):
            if isinstance(node, EventTest) and node not in found:
                found.append(node)
    return found


def _lead_conditions(model: QualificationModel) -> list[Condition]:
    """Every condition evaluated on the lead frame (event tests are resolved separately)."""
    found: list[Condition | None] = [s.when for s in model.segments]
    found += [e.when for e in model.exclusions]
    found += [p.when for p in model.personas]
    found += [r.when for r in model.fit_rules]
    found += [model.temperature.hot, model.temperature.warm, *(s.when for s in model.stages)]
    found.append(model.accounts.engaged_when)
    return [cond for cond in found if cond is not None]


def _lead_strings(model: QualificationModel, frame: pl.DataFrame) -> dict[str, pl.Series]:
    """Distinct values of the text fields lead conditions test, where that saves work.

    A test on a column with few distinct values (country, industry, seniority) runs once
    per value and becomes a membership test; a near-unique column (e-mail) is left as is.
    """
    if frame.height < RESOLVE_MIN_ROWS:
        return {}
    tests = [t for cond in _lead_conditions(model) for t in string_tests(cond)]
    fields = sorted({t.field for t in tests if t.field in frame.columns})
    distinct = _distinct(frame, fields)
    return {
        name: values
        for name, values in distinct.items()
        if values.len() * 4 <= max(frame.height, 1)
    }


def _distinct(events: pl.DataFrame, fields: Iterable[str]) -> dict[str, pl.Series]:
    """Distinct values of text event fields (for a Categorical, its whole dictionary)."""
    out: dict[str, pl.Series] = {}
    for name in fields:
        dtype = events.schema.get(name)
        if isinstance(dtype, pl.Categorical):
            out[name] = dtype.categories.to_series().cast(pl.Categorical)
        elif isinstance(dtype, pl.Enum):
            out[name] = pl.Series(dtype.categories).cast(dtype)
        elif dtype == pl.String:
            out[name] = events.get_column(name).drop_nulls().unique()
    return out


def _event_context(model: QualificationModel, events: pl.DataFrame) -> ExprContext:
    rules = [*model.engagement.rules, *model.product.rules]
    tests = [t for r in rules for t in string_tests(r.where)]
    tests += [t for e in _event_tests(model) for t in string_tests(e)]
    if events.height < RESOLVE_MIN_ROWS:
        return ExprContext()
    distinct = _distinct(events, sorted({t.field for t in tests}))
    return ExprContext(resolved=resolve_strings(distinct, tests))


def _lead_frame(
    model: QualificationModel,
    leads: pl.DataFrame,
    accounts: pl.DataFrame,
    extra: Sequence[str] = (),
) -> pl.LazyFrame:
    wanted = [c.LEAD_ID, c.ACCOUNT_ID, c.EMAIL, c.TITLE, *model.lead_fields, *extra]
    present = [name for name in dict.fromkeys(wanted) if name in leads.columns]
    base = (
        leads.lazy()
        .select(present)
        .with_columns(
            pl.lit(None, pl.String).alias(name)
            for name in (c.EMAIL, c.TITLE)
            if name not in leads.columns
        )
    )
    acc = (
        accounts.lazy()
        .select(
            pl.col(c.ACCOUNT_ID),
            *[pl.col(f).alias(c.account_column(f)) for f in model.account_fields],
        )
        .unique(subset=c.ACCOUNT_ID, keep="first")
    )
    if acc.collect_schema()[c.ACCOUNT_ID] != leads.schema[c.ACCOUNT_ID]:
        acc = acc.with_columns(pl.col(c.ACCOUNT_ID).cast(leads.schema[c.ACCOUNT_ID]))
    # raw e-mail and title only feed normalisation unless the model reads them itself
    unread = [name for name in (c.EMAIL, c.TITLE) if name not in {*model.lead_fields, *extra}]
    return (
        normalize_leads(base)
        .drop(unread)
        .join(acc, on=c.ACCOUNT_ID, how="left", coalesce=True, maintain_order="left")
    )


def _events(
    model: QualificationModel, inputs: Inputs, as_of: datetime | str
) -> tuple[pl.LazyFrame, eng.AsOf]:
    """The event columns the model reads, and where each event is seen from."""
    id_dtype = inputs.leads.schema[c.LEAD_ID]
    events = inputs.events.lazy().select(
        c.LEAD_ID, c.EVENT_TYPE, c.OCCURRED_AT, *sorted(set(model.event_fields))
    )
    if inputs.events.schema[c.LEAD_ID] != id_dtype:
        events = events.with_columns(pl.col(c.LEAD_ID).cast(id_dtype))
    if isinstance(as_of, datetime):
        return events, as_of
    # each event is seen from its own lead's moment
    moments = inputs.leads.lazy().select(c.LEAD_ID, pl.col(as_of).alias(_EVENT_AS_OF))
    # events keep their order, so every lead's sums add up in the same order as if alone
    joined = events.join(moments, on=c.LEAD_ID, how="inner", maintain_order="left")
    return joined, _EVENT_AS_OF


def score(
    leads: pl.DataFrame,
    accounts: pl.DataFrame | None,
    events: pl.DataFrame | None,
    model: QualificationModel,
    *,
    as_of: datetime | str,
    explain_points: bool = True,
) -> ScoreResult:
    """Score leads as of a moment, explain every point, and roll contacts up to accounts.

    Events after ``as_of`` are ignored, so scoring "as of last March" reproduces what a live
    system would have said then. Inputs are never modified.

    Args:
        leads: one row per lead; needs ``lead_id`` and the fields the model reads.
        accounts: one row per account (``account_id`` and the ``account.`` fields used).
        events: ``lead_id``, ``event_type``, ``occurred_at`` (UTC) and event properties.
        model: a compiled qualification model.
        as_of: the moment to score at (timezone-aware), or the name of a column of ``leads``
            holding each lead's own moment (timezone-aware, no nulls, one row per lead). Then
            every lead is scored exactly as if it were scored alone at its own moment: only its
            events at or before that moment count, and decay, windows and ``within_days`` are
            measured from it. Account roll-ups use those per-lead results.
        explain_points: also build the ledger and the top reasons.

    Example:
        >>> result = score(leads, accounts, events, model, as_of=datetime(2026, 3, 1, tzinfo=UTC))
        >>> result.leads.select("lead_id", "grade", "stage")
    """
    if not isinstance(as_of, str):
        as_of = check_as_of(as_of)
    inputs = check_inputs(
        model, leads, accounts, events, as_of_column=as_of if isinstance(as_of, str) else None
    )
    types = ledger_types(model, inputs.leads.schema[c.LEAD_ID])
    ev_ctx = _event_context(model, inputs.events)
    events_lf, seen_from = _events(model, inputs, as_of)
    rule_frames = eng.section_ledger(
        events_lf, model.engagement, "engagement", ev_ctx, seen_from, types
    )
    rule_frames += eng.section_ledger(events_lf, model.product, "product", ev_ctx, seen_from, types)
    tests = _event_tests(model)
    test_names = {t: f"__event_test_{i}" for i, t in enumerate(tests)}
    test_queries = eng.event_test_counts(events_lf, tests, test_names, ev_ctx, seen_from)
    # Small inputs (real time: one lead) run on the in-memory engine, which has far less
    # fixed cost per query than the streaming engine that suits millions of events. Queries
    # on the lead frame (joins that keep the leads' order, many columns) always use the
    # in-memory engine: on a million leads it needs about half the CPU time of streaming.
    small = inputs.leads.height < RESOLVE_MIN_ROWS
    engine: Literal["in-memory", "auto"] = "in-memory" if small else "auto"
    sections = {"engagement": model.engagement, "product": model.product}
    event_rows = pl.concat(rule_frames) if rule_frames else types.empty().lazy()
    # Without the ledger, the per-rule rows are summed as they stream and never held.
    first = event_rows if explain_points else eng.section_totals(event_rows, sections)
    collected = pl.collect_all([first, *test_queries], engine=engine)
    test_counts = collected[1:]
    event_ledger = collected[0] if explain_points else types.empty()
    if explain_points:
        totals = eng.section_totals(event_ledger.lazy(), sections).collect(engine=engine)
    else:
        totals = collected[0]

    extra = [as_of] if isinstance(as_of, str) else []
    base = _lead_frame(model, inputs.leads, inputs.accounts, extra).collect(engine=_LEADS)
    lead_tests = [t for cond in _lead_conditions(model) for t in string_tests(cond)]
    resolved = resolve_strings(_lead_strings(model, base), lead_tests)
    # every per-lead event figure in one frame, attached to the leads by a single join
    per_lead = pl.concat([totals.lazy(), *(t.lazy() for t in test_counts)], how="diagonal")
    scores = [*eng.SCORE_COLUMNS.values(), *test_names.values()]
    per_lead = per_lead.group_by(c.LEAD_ID).agg(pl.col(scores).sum())  # nulls sum to 0
    lf = base.lazy().join(per_lead, on=c.LEAD_ID, how="left", maintain_order="left")
    lf = lf.with_columns(pl.col(scores).fill_null(0))

    ctx = ExprContext(
        threshold=lambda ref: lifecycle.threshold_expr(model, ref),
        event_test=lambda t: test_names[t],
        framework=lambda fid: c.framework_column(fid, "passed"),
        resolved=resolved,
        string_fields=frozenset(
            name for name, dtype in inputs.leads.schema.items() if dtype == pl.String
        ),
    )
    lf = lf.with_columns(fit.segment_expr(model, ctx))
    lf = lf.with_columns(fit.exclusion_expr(model, ctx), *fit.persona_exprs(model, ctx))
    # Fit rule points are columns only when the ledger needs them; otherwise they are
    # summed in place, which keeps a million leads' peak memory lower.
    fit_points = fit.fit_rule_columns(model, ctx)
    lf = lf.with_columns(
        pl.col(c.EXCLUSION_REASON).is_not_null().alias(c.IS_EXCLUDED),
        *(fit_points if explain_points else []),
        lifecycle.value_expr(model),
    )
    schema = lf.collect_schema()
    lf = lf.with_columns(
        fit.fit_score_expr(model, None if explain_points else fit_points),
        *[e for fw in model.frameworks for e in readiness.framework_exprs(fw, schema)],
    )
    lf = lf.with_columns(lifecycle.grade_exprs(model))
    lf = lf.with_columns(
        lifecycle.grade_expr(),
        lifecycle.temperature_expr(model, ctx),
        *lifecycle.stage_exprs(model, ctx, schema),
        account_rules.engaged_expr(model, ctx),
    )
    # only what the output, the roll-up and the ledger read is materialised
    keep = [*_output_columns(model)[:-3], model.accounts.rollup_score, "__engaged", *extra]
    if explain_points:
        keep += fit.fit_columns(model)
    scored = lf.select(list(dict.fromkeys(keep))).collect(engine=_LEADS)
    accounts_out = (  # sorted so the same inputs always give the same frame
        account_rules.account_rollup(scored.lazy(), inputs.accounts.lazy(), model)
        .sort(c.ACCOUNT_ID)
        .collect(engine=_LEADS)
    )

    leads_out, ledger = _explained(
        scored,
        event_ledger,
        eng.adjustments(totals.lazy(), sections, types),
        model,
        types,
        explain_points=explain_points,
        engine=engine,
    )
    moment = pl.col(as_of) if isinstance(as_of, str) else pl.lit(as_of)
    leads_out = leads_out.with_columns(
        pl.lit(model.version).alias(c.MODEL_VERSION), moment.alias(c.AS_OF)
    )
    return ScoreResult(
        leads=leads_out.select(_output_columns(model)).collect(engine=_LEADS),
        ledger=ledger,
        accounts=accounts_out,
        model_version=model.version,
        as_of=as_of,
    )


def _explained(
    scored: pl.DataFrame,
    event_ledger: pl.DataFrame,
    limits: pl.LazyFrame,
    model: QualificationModel,
    types: LedgerTypes,
    *,
    explain_points: bool,
    engine: Literal["in-memory", "auto"],
) -> tuple[pl.LazyFrame, pl.DataFrame | None]:
    """The leads with their top reasons, and the full ledger (when points are explained)."""
    if not explain_points:
        return scored.lazy().with_columns(pl.lit(None, pl.String).alias(c.TOP_REASONS)), None
    fit_rows = explain.fit_ledger(scored.lazy(), model, types)
    fit_part, limit_part = pl.collect_all([fit_rows, limits], engine=engine)
    ledger = pl.concat([fit_part, event_ledger, limit_part])
    # sorting millions of ledger rows streams with less memory than the in-memory engine
    reasons = explain.top_reasons(ledger.lazy(), model).collect(engine=engine).lazy()
    return scored.lazy().join(reasons, on=c.LEAD_ID, how="left", maintain_order="left"), ledger


def _output_columns(model: QualificationModel) -> list[str]:
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


__all__ = ["ScoreResult", "ThresholdRef", "score"]
