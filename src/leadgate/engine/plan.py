"""The scoring plan: a model's Polars expressions, built once and reused by every call.

Turning a model into expressions is pure Python work (~1,000 expression nodes, ~10 ms), as
much as scoring one lead takes. A ``ScorePlan`` holds those expressions for one model version,
one input shape (the names and types of the columns the model reads) and one explain flag;
``plan_for`` keeps recent plans. ``as_of`` is not part of any expression: it reaches the
queries as data (constant columns added per call, see ``engagement.moment_literals``), so the
plan that scores one lead right now also scores a million leads as of last March.

A call assembles lazy queries from the ready expressions (~10 µs per query step). Frames of
more than ``RESOLVE_MIN_ROWS`` rows get one more, data-dependent step: text tests resolved
against the distinct values of their columns (``conditions``), which rewrites some
expressions; ``resolution.ResolvedPlans`` keeps those plans while the frames bring no value
they have not classified, so a long-lived caller builds them once. Then:

* small inputs (a few leads, up to a few thousand events) collect everything in one
  ``collect_all`` without query optimisation;
* mid-size inputs (up to ``FUSED_MAX_LEADS`` leads and ``FUSED_MAX_EVENTS`` events: the
  service's ingest groups, a territory's rescore) do the same with the resolved plans and
  filter and projection push-down (with many leads, the normalised leads are collected
  first, as their values decide the lead plan);
* large inputs are collected in stages (events on the streaming engine, lead frame in
  memory, daily-capped rules one at a time) to keep peak memory down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Final, Literal

import polars as pl

from leadgate.engine import engagement as eng
from leadgate.engine.conditions import ExprContext, string_tests
from leadgate.engine.event_plan import EventPlan, event_string_tests
from leadgate.engine.inputs import Inputs
from leadgate.engine.lead_plan import LeadPlan, event_tests, lead_conditions
from leadgate.engine.ledger import ledger_types
from leadgate.engine.normalize import TitleMemo, lead_normalizer
from leadgate.engine.resolution import ResolvedPlans, distinct_values
from leadgate.model import columns as c
from leadgate.model.cache import ModelCache
from leadgate.model.compiled import QualificationModel

#: Below this many rows, text tests run directly: resolving them per distinct value costs
#: a few eager queries each, which only pays off on large frames (e.g. not for one lead).
RESOLVE_MIN_ROWS = 5_000
#: Below this many events and leads, everything runs in one query, as for small inputs (in
#: one query: ~0.6x the CPU of the stages for 1,300 leads and 50,000 events, ~0.7x for 5,000
#: and 200,000; no more memory at 50,000 and 1,000,000).
FUSED_MAX_EVENTS = 1_000_000
FUSED_MAX_LEADS = 50_000
#: How many plans are kept (each is a few hundred KiB of expressions).
CACHE_SIZE = 32

Engine = Literal["in-memory", "auto"]
Columns = tuple[tuple[str, pl.DataType], ...]
_IN_MEMORY: Final = "in-memory"
#: No query optimisation: for small inputs it costs more than it saves.
_PLAIN: Final = pl.QueryOptFlags.none()
#: Mid-size inputs in one query: pushing filters and column selections down pays off there
#: (~10% of a service group of ~1,300 leads and ~50,000 events); the other passes do not.
_FUSED: Final = pl.QueryOptFlags.none(predicate_pushdown=True, projection_pushdown=True)


def lead_strings(model: QualificationModel, frame: pl.DataFrame) -> dict[str, pl.Series]:
    """Distinct values of the text fields lead conditions test, where that saves work.

    A test on a column with few distinct values (country, industry, seniority) runs once
    per value and becomes a membership test; a near-unique column (e-mail) is left as is.
    """
    if frame.height < RESOLVE_MIN_ROWS:
        return {}
    tests = [t for cond in lead_conditions(model) for t in string_tests(cond)]
    fields = sorted({t.field for t in tests if t.field in frame.columns})
    distinct = distinct_values(frame, fields)
    return {
        name: values
        for name, values in distinct.items()
        if values.len() * 4 <= max(frame.height, 1)
    }


@dataclass(frozen=True)
class Shape:
    """What a plan depends on besides the model: the columns it reads and their types."""

    leads: Columns
    accounts: Columns
    events: Columns
    #: the leads' column holding each lead's own moment, or None for one ``as_of``
    as_of_column: str | None

    @classmethod
    def of(cls, model: QualificationModel, inputs: Inputs, as_of_column: str | None) -> Shape:
        return cls(
            leads=_columns(inputs.leads, lead_columns(model, as_of_column)),
            accounts=_columns(inputs.accounts, [c.ACCOUNT_ID, *model.account_fields]),
            events=_columns(inputs.events, event_columns(model)),
            as_of_column=as_of_column,
        )


def _columns(frame: pl.DataFrame, names: Sequence[str]) -> Columns:
    schema = frame.schema
    return tuple((name, schema[name]) for name in names if name in schema)


def lead_columns(model: QualificationModel, as_of_column: str | None) -> list[str]:
    """The lead columns scoring reads (others are never looked at).

    ``seniority`` and ``department`` are read when present: a CRM's value wins over the one
    classified from the title.
    """
    extra = [as_of_column] if as_of_column is not None else []
    given = [c.SENIORITY, c.DEPARTMENT]
    return list(
        dict.fromkeys(
            [c.LEAD_ID, c.ACCOUNT_ID, c.EMAIL, c.TITLE, *given, *model.lead_fields, *extra]
        )
    )


def event_columns(model: QualificationModel) -> list[str]:
    return [c.LEAD_ID, c.EVENT_TYPE, c.OCCURRED_AT, *sorted(set(model.event_fields))]


class ScorePlan:
    """A model compiled for one input shape: ``run`` scores frames of that shape."""

    def __init__(self, model: QualificationModel, shape: Shape, *, explain_points: bool) -> None:
        self.model = model
        self.shape = shape
        self.explain_points = explain_points
        leads = dict(shape.leads)
        self.types = ledger_types(model, leads[c.LEAD_ID])
        tests = event_tests(model)
        self.test_names = {t: f"__event_test_{i}" for i, t in enumerate(tests)}
        self.horizons = eng.horizons([*model.engagement.rules, *model.product.rules], tests)
        self.sections = {"engagement": model.engagement, "product": model.product}
        self.scores = [*eng.SCORE_COLUMNS.values(), *self.test_names.values()]
        self.fill = [pl.col(self.scores).fill_null(0)]
        self.totals = eng.section_totals(self.sections)
        self.adjustments = eng.adjustments(self.sections, self.types)
        # inputs
        self.lead_select = [name for name, _ in shape.leads]
        self.lead_fill = [
            pl.lit(None, pl.String).alias(name) for name in (c.EMAIL, c.TITLE) if name not in leads
        ]
        events = dict(shape.events)
        self.event_select = [name for name, _ in shape.events]
        self.event_cast = (
            [pl.col(c.LEAD_ID).cast(leads[c.LEAD_ID])]
            if events.get(c.LEAD_ID) != leads[c.LEAD_ID]
            else []
        )
        self.moment_columns = eng.moment_columns(self.horizons)
        if shape.as_of_column is not None:
            self.lead_moment = [pl.col(shape.as_of_column).alias(eng.MOMENT)]
        accounts = dict(shape.accounts)
        self.account_select = [
            pl.col(c.ACCOUNT_ID),
            *[pl.col(f).alias(c.account_column(f)) for f in model.account_fields],
        ]
        self.account_cast = (
            [pl.col(c.ACCOUNT_ID).cast(leads[c.ACCOUNT_ID])]
            if accounts.get(c.ACCOUNT_ID) != leads[c.ACCOUNT_ID]
            else []
        )
        # raw e-mail and title only feed normalisation unless the model reads them itself
        read = {*model.lead_fields, *([shape.as_of_column] if shape.as_of_column else [])}
        self.unread = [name for name in (c.EMAIL, c.TITLE) if name not in read]
        normalize_schema = pl.Schema(
            [(n, d) for n, d in shape.leads]
            + [(n, pl.String()) for n in (c.EMAIL, c.TITLE) if n not in leads]
        )
        self.normalize = lead_normalizer(normalize_schema)
        self.titles = TitleMemo()
        self.events = EventPlan(model, ExprContext(), self.types, self.test_names)
        self.joined_schema = self._joined_schema()
        # Text tests of large frames are resolved against the values seen so far, and the
        # plans built from them kept (``engine/resolution.py``); the builders do not refer
        # back to this plan (no reference cycle).
        types, names = self.types, self.test_names
        event_strings = event_string_tests(model, tests)
        self.event_strings = sorted({t.field for t in event_strings})
        self.resolved_events = ResolvedPlans(
            event_strings,
            lambda resolved: EventPlan(model, ExprContext(resolved=resolved), types, names),
        )
        lead_plan = partial(
            LeadPlan,
            model,
            frozenset(name for name, dtype in shape.leads if dtype == pl.String),
            types,
            names,
            explain_points=explain_points,
            joined_schema=self.joined_schema,
        )
        self.leads = lead_plan(resolved={})
        lead_tests = [t for cond in lead_conditions(model) for t in string_tests(cond)]
        self.resolved_leads = ResolvedPlans(
            lead_tests, lambda resolved: lead_plan(resolved=resolved)
        )

    def _joined_schema(self) -> pl.Schema:
        """The columns the lead plan starts from (found by planning on empty frames)."""
        shape = self.shape
        empty = Inputs(
            leads=pl.DataFrame(schema=pl.Schema(shape.leads)),
            accounts=pl.DataFrame(schema=pl.Schema(shape.accounts)),
            events=pl.DataFrame(schema=pl.Schema(shape.events)),
        )
        as_of = shape.as_of_column or eng.EPOCH
        events = self.event_input(empty, as_of)
        base = self.base(self.lead_input(empty.leads, as_of), empty.accounts.lazy())
        totals = self.totals(self.events.rows(events))
        return self.joined(base, totals, self.events.test_counts(events)).collect_schema()

    # --- inputs, per call ----------------------------------------------------------------

    def lead_input(self, leads: pl.DataFrame, as_of: datetime | str) -> pl.LazyFrame:
        lf = leads.lazy().select(self.lead_select)
        if self.lead_fill:
            lf = lf.with_columns(self.lead_fill)
        if isinstance(as_of, str):
            return lf.with_columns(self.lead_moment)
        return lf.with_columns(eng.moment_literals(as_of, [])[0])

    def event_input(self, inputs: Inputs, as_of: datetime | str) -> pl.LazyFrame:
        """The event columns the model reads, and where each event is seen from."""
        events = inputs.events.lazy().select(self.event_select)
        if self.event_cast:
            events = events.with_columns(self.event_cast)
        if not isinstance(as_of, str):
            return events.with_columns(eng.moment_literals(as_of, self.horizons))
        # each event is seen from its own lead's moment
        moments = inputs.leads.lazy().select(pl.col(c.LEAD_ID), *self.lead_moment)
        # events keep their order, so every lead's sums add up in the same order as if alone
        joined = events.join(moments, on=c.LEAD_ID, how="inner", maintain_order="left")
        return joined.with_columns(self.moment_columns) if self.moment_columns else joined

    def base(
        self,
        leads: pl.LazyFrame,
        accounts: pl.LazyFrame,
        titles: pl.DataFrame | None = None,
    ) -> pl.LazyFrame:
        """Normalised leads with their account's fields (``titles``: see ``lead_normalizer``)."""
        acc = accounts.select(self.account_select).unique(subset=c.ACCOUNT_ID, keep="first")
        if self.account_cast:
            acc = acc.with_columns(self.account_cast)
        normalized = self.normalize(leads, titles)
        if self.unread:
            normalized = normalized.drop(self.unread)
        return normalized.join(
            acc, on=c.ACCOUNT_ID, how="left", coalesce=True, maintain_order="left"
        )

    def joined(
        self, base: pl.LazyFrame, totals: pl.LazyFrame, counts: Sequence[pl.LazyFrame]
    ) -> pl.LazyFrame:
        """The leads with every per-lead event figure, attached by a single join."""
        if counts:  # nulls sum to 0
            frames = pl.concat([totals, *counts], how="diagonal")
            per_lead = frames.group_by(c.LEAD_ID).agg(pl.col(self.scores).sum())
        else:  # one row per lead already
            per_lead = totals.select(c.LEAD_ID, *eng.SCORE_COLUMNS.values())
        lf = base.join(per_lead, on=c.LEAD_ID, how="left", maintain_order="left")
        return lf.with_columns(self.fill)

    # --- scoring ---------------------------------------------------------------------------

    def run(
        self, inputs: Inputs, as_of: datetime | str
    ) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame]:
        """Scores, ledger (when points are explained) and account roll-up of the inputs."""
        events = self.event_input(inputs, as_of)
        leads = self.lead_input(inputs.leads, as_of)
        height = inputs.leads.height
        if height < RESOLVE_MIN_ROWS and inputs.events.height < RESOLVE_MIN_ROWS:
            titles = self._title_classes(inputs.leads)
            base = self.base(leads, inputs.accounts.lazy(), titles)
            return self._run_fused(inputs, events, base, self.events, self.leads, _PLAIN)
        event_plan = self.event_plan(inputs.events)
        if height < FUSED_MAX_LEADS and inputs.events.height < FUSED_MAX_EVENTS:
            if height < RESOLVE_MIN_ROWS:
                titles = self._title_classes(inputs.leads)
                base = self.base(leads, inputs.accounts.lazy(), titles)
                return self._run_fused(inputs, events, base, event_plan, self.leads, _FUSED)
            # many leads: titles are classified in the query, and the lead plan depends on
            # the normalised leads' values
            base_frame = self.base(leads, inputs.accounts.lazy()).collect(engine=_IN_MEMORY)
            lead_plan = self.lead_plan_for(base_frame)
            return self._run_fused(inputs, events, base_frame.lazy(), event_plan, lead_plan, _FUSED)
        return self._run_large(inputs, events, self.base(leads, inputs.accounts.lazy()), event_plan)

    def event_plan(self, events: pl.DataFrame) -> EventPlan:
        """The event plan for ``events``: text tests resolved on large frames."""
        if events.height < RESOLVE_MIN_ROWS:
            return self.events
        return self.resolved_events.plan(distinct_values(events, self.event_strings))

    def lead_plan_for(self, base: pl.DataFrame) -> LeadPlan:
        """The lead plan for the normalised leads: text tests resolved on large frames."""
        strings = lead_strings(self.model, base)
        return self.resolved_leads.plan(strings) if strings else self.leads

    def _title_classes(self, leads: pl.DataFrame) -> pl.DataFrame:
        if c.TITLE in leads.columns:
            return self.titles.classes(leads.get_column(c.TITLE))
        return self.titles.classes(pl.Series(c.TITLE, [], dtype=pl.String))

    def _run_fused(
        self,
        inputs: Inputs,
        events: pl.LazyFrame,
        base: pl.LazyFrame,
        event_plan: EventPlan,
        plan: LeadPlan,
        optimizations: pl.QueryOptFlags,
    ) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame]:
        """Everything in one ``collect_all``; parts several queries read are computed once.

        On a few rows, planning is what costs: query optimisation takes longer than the
        queries it would improve (one lead: ~9 ms with Polars' optimisations, ~5 ms without,
        see ``benchmarks/score_scale.py``), so small inputs skip it (``_PLAIN``). Mid-size
        inputs gain from filter and projection push-down only (``_FUSED``).
        """
        events = events.cache()  # read by every rule
        rows = event_plan.rows(events).cache()
        totals = self.totals(rows).cache()
        scored = plan.scored(self.joined(base, totals, event_plan.test_counts(events))).cache()
        accounts = self._accounts(scored, inputs)
        if not self.explain_points:
            leads_out, accounts_out = pl.collect_all(
                [plan.finished(scored, None), accounts],
                engine=_IN_MEMORY,
                optimizations=optimizations,
            )
            return leads_out, None, accounts_out
        ledger = pl.concat([plan.fit_ledger(scored), rows, self.adjustments(totals)]).cache()
        reasons = plan.top_reasons(ledger)
        leads_out, ledger_out, accounts_out = pl.collect_all(
            [plan.finished(scored, reasons), ledger, accounts],
            engine=_IN_MEMORY,
            optimizations=optimizations,
        )
        return leads_out, ledger_out, accounts_out

    def _run_large(
        self, inputs: Inputs, events: pl.LazyFrame, base: pl.LazyFrame, event_plan: EventPlan
    ) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame]:
        """Stage by stage, each on the Polars engine that suits it.

        Event queries (millions of rows, group-bys) run on the streaming engine; queries over
        the lead frame (order-keeping joins, ~100 column expressions) on the in-memory engine;
        the ledger's top reasons (a sort of millions of rows) stream with less memory.
        """
        small = inputs.leads.height < RESOLVE_MIN_ROWS
        engine: Engine = _IN_MEMORY if small else "auto"
        # Per lead and rule sums (a few million rows), the daily-capped rules one at a time.
        rules = event_plan.rules
        plain = rules.plain_part(events)
        first = [] if plain is None else [plain]
        collected = pl.collect_all([*first, *event_plan.test_counts(events)], engine=engine)
        counts = [frame.lazy() for frame in collected[len(first) :]]
        summed = [frame.lazy() for frame in collected[: len(first)]]
        summed += [part.collect(engine=engine).lazy() for part in rules.daily_parts(events)]
        rows = rules.ledger_rows(summed)
        if self.explain_points:
            event_ledger = rows.collect(engine=engine)
            totals = self.totals(event_ledger.lazy()).collect(engine=engine)
        else:
            event_ledger = self.types.empty()
            totals = self.totals(rows).collect(engine=engine)
        del collected, summed, rows

        base_frame = base.collect(engine=_IN_MEMORY)
        plan = self.lead_plan_for(base_frame)
        joined = self.joined(base_frame.lazy(), totals.lazy(), counts)
        scored = plan.scored(joined).collect(engine=_IN_MEMORY).lazy()
        # the wide working frame and the per-lead event figures are freed before the roll-up
        del base_frame, joined, counts
        # sorted so the same inputs always give the same frame
        accounts_out = self._accounts(scored, inputs).collect(engine=_IN_MEMORY)
        if not self.explain_points:
            leads_out = plan.finished(scored, None).collect(engine=_IN_MEMORY)
            return leads_out, None, accounts_out
        fit_part, limit_part = pl.collect_all(
            [plan.fit_ledger(scored), self.adjustments(totals.lazy())], engine=engine
        )
        ledger = pl.concat([fit_part, event_ledger, limit_part])
        # sorting millions of ledger rows streams with less memory than the in-memory engine
        reasons = plan.top_reasons(ledger.lazy()).collect(engine=engine).lazy()
        leads_out = plan.finished(scored, reasons).collect(engine=_IN_MEMORY)
        return leads_out, ledger, accounts_out

    def _accounts(self, scored: pl.LazyFrame, inputs: Inputs) -> pl.LazyFrame:
        # sorted so the same inputs always give the same frame
        return self.leads.rollup(scored, inputs.accounts.lazy()).sort(c.ACCOUNT_ID)


# --- the cache ---------------------------------------------------------------------------


_plans: ModelCache[ScorePlan] = ModelCache(CACHE_SIZE)


def plan_for(
    model: QualificationModel, inputs: Inputs, *, as_of_column: str | None, explain_points: bool
) -> ScorePlan:
    """The plan for this model and these inputs' shape: from the cache, or built and kept.

    Plans are keyed by model version, input shape and explain flag. A hit must also be the
    same model (or an equal one): a version never serves a plan built from other content.
    """
    shape = Shape.of(model, inputs, as_of_column)
    return _plans.get(
        (model.version, shape, explain_points),
        model,
        lambda: ScorePlan(model, shape, explain_points=explain_points),
    )


def clear_plans() -> None:
    """Forget every cached plan (plans are rebuilt on demand)."""
    _plans.clear()


def cached_plans() -> int:
    """How many plans the cache holds."""
    return len(_plans)
