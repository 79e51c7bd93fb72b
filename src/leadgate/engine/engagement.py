"""Engagement and product-usage points from events: decay, per-day and per-rule caps, floors.

Ages are whole UTC days between the event's day and the ``as_of`` day, so an event today has
age 0. For each rule and lead:

* each event counts ``points × decay(age)``; with ``max_per_day: n`` only ``n`` events of a
  day count;
* the rule's total is capped at ``cap`` (a magnitude, so ``-cap`` for negative rules) and
  rounded to cents of a point;
* the score is the sum of rule totals, limited by the section's ``cap`` and ``floor``; those
  limits appear in the ledger as adjustment rows, so ledger sums equal scores exactly.

Each rule filters the events first (type, properties, ``as_of`` and the rule's horizon) and
only then computes ages, so most events are touched once per rule by a cheap comparison and
never by arithmetic (see ``EventRules``).

Where events are seen from is data, not part of any expression: the events frame carries
the moment (``MOMENT``) and, for every horizon the model uses, the first instant inside it
(``since_column``). For a single ``as_of`` those are constant columns added per call (as
cheap to compare against as literals); for per-lead moments they are computed per event.
So the expressions below are built once per model (see ``engine/plan.py``) and serve every
``as_of``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import polars as pl

from leadgate.engine.conditions import ExprContext, to_expr
from leadgate.engine.ledger import KIND_DTYPE, LedgerTypes, adjustment_ids
from leadgate.model import columns as c
from leadgate.model.compiled import Decay, EventRule, EventScore, EventTest

_US_PER_DAY = 86_400_000_000
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
AGE = "__age_days"
DAY_COUNT = "__day_count"
DECAYED = "__decayed"
PRECISION = 2
#: The events' column holding the moment each event is seen from.
MOMENT: Final = "__as_of"
MOMENT_DTYPE: Final = pl.Datetime("us", "UTC")

#: A step of a compiled plan: a lazy query applied to a frame given at call time.
Query = Callable[[pl.LazyFrame], pl.LazyFrame]


def since_column(days: int) -> str:
    """The events' column holding the first instant of the last ``days`` whole UTC days."""
    return f"__since_{days}"


def _day(moment: pl.Expr) -> pl.Expr:
    return moment.dt.epoch("us").floordiv(_US_PER_DAY)


def moment_literals(as_of: datetime, horizons: Iterable[int]) -> list[pl.Expr]:
    """For one ``as_of`` (UTC): the moment and each horizon's first instant, as constants."""
    micros = (as_of - EPOCH) // timedelta(microseconds=1)
    day = micros // _US_PER_DAY
    return [
        pl.lit(micros, pl.Int64).cast(MOMENT_DTYPE).alias(MOMENT),
        *[
            pl.lit((day - days + 1) * _US_PER_DAY, pl.Int64)
            .cast(MOMENT_DTYPE)
            .alias(since_column(days))
            for days in horizons
        ],
    ]


def moment_columns(horizons: Iterable[int]) -> list[pl.Expr]:
    """For per-event moments (``MOMENT`` present): each horizon's first instant per event."""
    return [
        ((_day(pl.col(MOMENT)) - days + 1) * _US_PER_DAY)
        .cast(MOMENT_DTYPE)
        .alias(since_column(days))
        for days in horizons
    ]


def age_expr() -> pl.Expr:
    """An event's age in whole UTC days at its moment (0 for an event on the same day)."""
    return (_day(pl.col(MOMENT)) - _day(pl.col(c.OCCURRED_AT))).cast(pl.Int32).alias(AGE)


def seen_by(horizon_days: int | None = None) -> pl.Expr:
    """Events at or before their moment and, with a horizon, younger than it in whole days."""
    mask = pl.col(c.OCCURRED_AT) <= pl.col(MOMENT)
    if horizon_days is not None:
        mask = mask & (pl.col(c.OCCURRED_AT) >= pl.col(since_column(horizon_days)))
    return mask


def decay_factor(decay: Decay, age: pl.Expr) -> pl.Expr | None:
    """The multiplier for an event of ``age`` days (1 at age 0, never negative).

    None means "always 1": no decay, or a window (the caller filters by the horizon).
    """
    if decay.kind == "half_life":
        assert decay.days is not None
        return (age.cast(pl.Float64) * (-math.log(2) / decay.days)).exp()
    if decay.kind == "linear":
        assert decay.days is not None
        return (1.0 - age.cast(pl.Float64) / decay.days).clip(lower_bound=0.0)
    return None


def horizon_days(decay: Decay) -> int | None:
    """Events this many days old or older contribute nothing (None: no horizon)."""
    if decay.kind in ("linear", "window"):
        assert decay.days is not None
        return math.ceil(decay.days)
    return None


def horizons(rules: Iterable[EventRule], tests: Iterable[EventTest]) -> list[int]:
    """Every horizon the rules and event tests use (each needs a ``since_column``)."""
    found = {horizon_days(rule.decay) for rule in rules}
    found |= {test.within_days for test in tests}
    return sorted(days for days in found if days is not None)


def rule_mask(event_type: str, where: pl.Expr | None) -> pl.Expr:
    mask = pl.col(c.EVENT_TYPE) == event_type
    return mask if where is None else mask & where


RULE_INDEX = "__rule"


class EventRules:
    """The engagement and product rules of a model, as one query giving the ledger rows.

    Each rule filters the events on its own (type, properties, moment, horizon), which
    keeps most events to one cheap comparison per rule. Rules without ``max_per_day``
    contribute one row per matching event, tagged with the rule's position and weighted by
    its decay factor, and a single group-by per lead and rule sums them all; a rule with a
    daily maximum counts its events per lead and day first, then sums per lead. One
    projection then turns every rule's event count and decayed weight into ledger rows,
    each rule's points and cap looked up by its position.

    Summing the plain rules in one group-by keeps one lead cheap (a group-by costs ~0.1 ms
    however few the rows) and is also faster on 20 M events than a group-by per rule. The
    capped rules keep their own group-bys: on 20 M events, one (lead, rule, day) grouping
    for all of them and a regrouping per (lead, rule) cost ~0.5 s more than per-rule
    groupings (``benchmarks/score_scale.py``).
    """

    def __init__(
        self, sections: Mapping[str, EventScore], ctx: ExprContext, types: LedgerTypes
    ) -> None:
        rules = [(kind, rule) for kind, section in sections.items() for rule in section.rules]
        self.empty = types.empty()
        # (filter, projection) of each plain rule's matching events
        self.plain: list[tuple[pl.Expr, list[pl.Expr]]] = []
        self.daily: list[_DailyRule] = []
        age = age_expr()
        one = pl.lit(1, pl.UInt32).alias(c.EVENT_COUNT)
        for i, (_kind, rule) in enumerate(rules):
            where = None if rule.where is None else to_expr(rule.where, ctx)
            mask = rule_mask(rule.event_type, where) & seen_by(horizon_days(rule.decay))
            index = pl.lit(i, pl.UInt16).alias(RULE_INDEX)
            factor = decay_factor(rule.decay, age)
            if rule.max_per_day is None:
                weight = pl.lit(1.0) if factor is None else factor
                self.plain.append((mask, [pl.col(c.LEAD_ID), index, one, weight.alias(DECAYED)]))
            else:
                self.daily.append(_DailyRule(mask, index, rule))
        self.sums = [pl.col(c.EVENT_COUNT).sum(), pl.col(DECAYED).sum()]
        position = pl.col(RULE_INDEX)

        def per_rule(values: Sequence[object], dtype: pl.DataType) -> pl.Expr:
            return pl.lit(pl.Series(values, dtype=dtype)).gather(position)

        points = per_rule([rule.points for _, rule in rules], pl.Float64())
        decayed = pl.col(DECAYED) * points
        upper = per_rule(
            [r.cap if r.cap is not None and r.points >= 0 else None for _, r in rules],
            pl.Float64(),
        )
        lower = per_rule(
            [-r.cap if r.cap is not None and r.points < 0 else None for _, r in rules],
            pl.Float64(),
        )
        capped = pl.min_horizontal(decayed, upper.fill_null(decayed))
        capped = pl.max_horizontal(capped, lower.fill_null(capped))
        self.ledger_row = [
            pl.col(c.LEAD_ID),
            per_rule([rule.id for _, rule in rules], types.rule_id).alias(c.RULE_ID),
            per_rule([kind for kind, _ in rules], KIND_DTYPE).alias(c.RULE_KIND),
            pl.col(c.EVENT_COUNT).cast(pl.UInt32),
            (pl.col(c.EVENT_COUNT).cast(pl.Float64) * points).alias(c.RAW_POINTS),
            (pl.col(DECAYED) / pl.col(c.EVENT_COUNT)).alias(c.DECAY_FACTOR),
            capped.round(PRECISION).alias(c.POINTS),
        ]

    def rows(self, events: pl.LazyFrame) -> pl.LazyFrame:
        """One ledger row per lead and rule with matching events."""
        return self.ledger_rows(self.parts(events))

    def parts(self, events: pl.LazyFrame) -> list[pl.LazyFrame]:
        """Event counts and decayed weights per lead and rule: the plain rules summed
        together (``plain_part``), then each rule with a daily maximum (``daily_parts``)."""
        plain = self.plain_part(events)
        return [*([] if plain is None else [plain]), *self.daily_parts(events)]

    def plain_part(self, events: pl.LazyFrame) -> pl.LazyFrame | None:
        """The rules without a daily maximum, summed in one group-by (None: there are none)."""
        if not self.plain:
            return None
        matched = pl.concat([events.filter(mask).select(row) for mask, row in self.plain])
        return matched.group_by(c.LEAD_ID, RULE_INDEX).agg(self.sums)

    def daily_parts(self, events: pl.LazyFrame) -> list[pl.LazyFrame]:
        """One query per rule with a daily maximum.

        Large inputs collect them one at a time: collected together, their (lead, day)
        groupings are all held at once (~350 MB more at 20 M events, for no gain in time).
        """
        return [rule.per_lead(events) for rule in self.daily]

    def ledger_rows(self, parts: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        """The ledger rows of ``parts``."""
        if not parts:
            return self.empty.lazy()
        return pl.concat(parts, how="vertical_relaxed").select(self.ledger_row)


class _DailyRule:
    """A rule with ``max_per_day``: events counted per lead and day, capped, then decayed."""

    def __init__(self, mask: pl.Expr, index: pl.Expr, rule: EventRule) -> None:
        assert rule.max_per_day is not None
        self.mask = mask
        self.age = age_expr()
        self.per_day = [pl.len().clip(upper_bound=rule.max_per_day).alias(DAY_COUNT)]
        counted = pl.col(DAY_COUNT)
        factor = decay_factor(rule.decay, pl.col(AGE))
        weight = counted.sum() if factor is None else (counted * factor).sum()
        self.sums = [
            counted.sum().cast(pl.UInt32).alias(c.EVENT_COUNT),
            weight.cast(pl.Float64).alias(DECAYED),
        ]
        self.row = [pl.col(c.LEAD_ID), index, pl.col(c.EVENT_COUNT), pl.col(DECAYED)]

    def per_lead(self, events: pl.LazyFrame) -> pl.LazyFrame:
        matched = events.filter(self.mask).with_columns(self.age)
        per_day = matched.group_by(c.LEAD_ID, AGE).agg(self.per_day)
        return per_day.group_by(c.LEAD_ID).agg(self.sums).select(self.row)


#: The score column of each event section (by its ledger kind).
SCORE_COLUMNS: Final = {"engagement": c.ENGAGEMENT_SCORE, "product": c.PRODUCT_SCORE}


def _raw(kind: str) -> str:
    return f"__raw_{kind}"


def _limited(kind: str) -> str:
    return f"__limited_{kind}"


def _limit(section: EventScore, total: pl.Expr) -> pl.Expr:
    if section.cap is not None:
        total = total.clip(upper_bound=section.cap)
    if section.floor is not None:
        total = total.clip(lower_bound=section.floor)
    return total


def section_totals(sections: Mapping[str, EventScore]) -> Query:
    """Per lead with event rows: each section's score, limited by its cap and floor.

    One pass over the ledger for every section. A section's columns are null for a lead
    without rows of that kind (its score is 0 and it gets no adjustment row).
    """
    kind = pl.col(c.RULE_KIND)
    raw = [
        pl.when((kind == name).any())
        .then(pl.col(c.POINTS).filter(kind == name).sum().round(PRECISION))
        .alias(_raw(name))
        for name in sections
    ]
    limited = [
        _limit(section, pl.col(_raw(name))).alias(_limited(name))
        for name, section in sections.items()
    ]
    scores = [
        pl.col(_limited(name)).round(PRECISION).alias(SCORE_COLUMNS[name]) for name in sections
    ]

    def query(ledger: pl.LazyFrame) -> pl.LazyFrame:
        return ledger.group_by(c.LEAD_ID).agg(raw).with_columns(limited).with_columns(scores)

    return query


def adjustments(sections: Mapping[str, EventScore], types: LedgerTypes) -> Query:
    """Ledger rows for the section caps and floors that changed a lead's total."""
    parts = []
    for kind in sections:
        raw, limited = pl.col(_raw(kind)), pl.col(_limited(kind))
        cap_id, floor_id = adjustment_ids(kind)
        row = [
            pl.col(c.LEAD_ID),
            pl.when(limited > raw)
            .then(pl.lit(floor_id, types.rule_id))
            .otherwise(pl.lit(cap_id, types.rule_id))
            .alias(c.RULE_ID),
            pl.lit(kind, KIND_DTYPE).alias(c.RULE_KIND),
            pl.lit(0, pl.UInt32).alias(c.EVENT_COUNT),
            pl.lit(0.0).alias(c.RAW_POINTS),
            pl.lit(1.0).alias(c.DECAY_FACTOR),
            (limited - raw).round(PRECISION).alias(c.POINTS),
        ]
        parts.append((limited != raw, row))
    empty = types.empty()

    def query(totals: pl.LazyFrame) -> pl.LazyFrame:
        if not parts:
            return empty.lazy()
        return pl.concat([totals.filter(changed).select(row) for changed, row in parts])

    return query


def event_test_counts(
    tests: Sequence[EventTest], names: Mapping[EventTest, str], ctx: ExprContext
) -> list[Query]:
    """Per lead, how many events match each event test used by stages or temperature."""
    queries = []
    for test in tests:
        where = None if test.where is None else to_expr(test.where, ctx)
        mask = rule_mask(test.event_type, where) & seen_by(test.within_days)
        count = [pl.len().cast(pl.UInt32).alias(names[test])]
        queries.append(_count_query(mask, count))
    return queries


def _count_query(mask: pl.Expr, count: list[pl.Expr]) -> Query:
    def query(events: pl.LazyFrame) -> pl.LazyFrame:
        return events.filter(mask).group_by(c.LEAD_ID).agg(count)

    return query
