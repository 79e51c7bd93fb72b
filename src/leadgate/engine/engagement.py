"""Engagement and product-usage points from events: decay, per-day and per-rule caps, floors.

Ages are whole UTC days between the event's day and the ``as_of`` day, so an event today has
age 0. For each rule and lead:

* each event counts ``points × decay(age)``; with ``max_per_day: n`` only ``n`` events of a
  day count;
* the rule's total is capped at ``cap`` (a magnitude, so ``-cap`` for negative rules) and
  rounded to cents of a point;
* the score is the sum of rule totals, limited by the section's ``cap`` and ``floor``; those
  limits appear in the ledger as adjustment rows, so ledger sums equal scores exactly.

Each rule is one lazy query that filters the events first (type, properties, ``as_of`` and
the rule's horizon) and only then computes ages, so most events are touched once per rule
by a cheap comparison and never by arithmetic.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

import polars as pl

from leadgate.engine.conditions import ExprContext, to_expr
from leadgate.engine.ledger import KIND_DTYPE, LedgerTypes, adjustment_ids
from leadgate.model import columns as c
from leadgate.model.compiled import Decay, EventRule, EventScore, EventTest

_US_PER_DAY = 86_400_000_000
AGE = "__age_days"
DAY_COUNT = "__day_count"
DECAYED = "__decayed"
PRECISION = 2


def as_of_day(as_of: datetime) -> int:
    """The UTC day number (days since 1970-01-01) of ``as_of``."""
    return math.floor(as_of.timestamp() / 86_400)


#: When events are seen from: one moment for every lead, or the name of an events column
#: holding each event's lead's own moment (a UTC timestamp).
AsOf = datetime | str


def _day(moment: pl.Expr) -> pl.Expr:
    return moment.dt.epoch("us").floordiv(_US_PER_DAY)


def _age(as_of: AsOf) -> pl.Expr:
    today = _day(pl.col(as_of)) if isinstance(as_of, str) else pl.lit(as_of_day(as_of), pl.Int64)
    return (today - _day(pl.col(c.OCCURRED_AT))).cast(pl.Int32)


def age_expr(as_of: AsOf) -> pl.Expr:
    """An event's age in whole UTC days at ``as_of`` (0 for an event on the same day)."""
    return _age(as_of).alias(AGE)


@functools.lru_cache(maxsize=256)
def _moment(moment: datetime) -> pl.Expr:
    # Building a datetime literal costs ~0.4 ms; a scoring call needs a few dozen of them.
    return pl.lit(moment, pl.Datetime("us", "UTC"))


def seen_by(as_of: AsOf, horizon_days: int | None = None) -> pl.Expr:
    """Events at or before ``as_of`` and, with a horizon, younger than it in whole days."""
    if isinstance(as_of, str):
        mask = pl.col(c.OCCURRED_AT) <= pl.col(as_of)
        if horizon_days is not None:
            mask = mask & (_age(as_of) < horizon_days)
        return mask
    mask = pl.col(c.OCCURRED_AT) <= _moment(as_of)
    if horizon_days is not None:
        first_day = (as_of_day(as_of) - horizon_days + 1) * 86_400
        mask = mask & (pl.col(c.OCCURRED_AT) >= _moment(datetime.fromtimestamp(first_day, UTC)))
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


def rule_mask(event_type: str, where: pl.Expr | None) -> pl.Expr:
    mask = pl.col(c.EVENT_TYPE) == event_type
    return mask if where is None else mask & where


def _per_lead(matched: pl.LazyFrame, rule: EventRule) -> pl.LazyFrame:
    """Counted events and decayed event weight per lead."""
    factor = decay_factor(rule.decay, pl.col(AGE))
    if rule.max_per_day is None:
        weight = pl.len() if factor is None else factor.sum()
        return matched.group_by(c.LEAD_ID).agg(
            pl.len().alias(c.EVENT_COUNT), weight.cast(pl.Float64).alias(DECAYED)
        )
    per_day = matched.group_by(c.LEAD_ID, AGE).agg(
        pl.len().clip(upper_bound=rule.max_per_day).alias(DAY_COUNT)
    )
    counted = pl.col(DAY_COUNT)
    weight = counted.sum() if factor is None else (counted * factor).sum()
    return per_day.group_by(c.LEAD_ID).agg(
        counted.sum().alias(c.EVENT_COUNT), weight.cast(pl.Float64).alias(DECAYED)
    )


def rule_points(
    events: pl.LazyFrame,
    rule: EventRule,
    kind: str,
    ctx: ExprContext,
    as_of: AsOf,
    types: LedgerTypes,
) -> pl.LazyFrame:
    """One ledger row per lead with matching events for ``rule``."""
    where = None if rule.where is None else to_expr(rule.where, ctx)
    mask = rule_mask(rule.event_type, where) & seen_by(as_of, horizon_days(rule.decay))
    per_lead = _per_lead(events.filter(mask).with_columns(age_expr(as_of)), rule)
    decayed = pl.col(DECAYED) * rule.points
    if rule.cap is not None:
        bound = {"upper_bound": rule.cap} if rule.points >= 0 else {"lower_bound": -rule.cap}
        decayed = decayed.clip(**bound)
    return per_lead.select(
        pl.col(c.LEAD_ID),
        pl.lit(rule.id, types.rule_id).alias(c.RULE_ID),
        pl.lit(kind, KIND_DTYPE).alias(c.RULE_KIND),
        pl.col(c.EVENT_COUNT).cast(pl.UInt32),
        (pl.col(c.EVENT_COUNT).cast(pl.Float64) * rule.points).alias(c.RAW_POINTS),
        (pl.col(DECAYED) / pl.col(c.EVENT_COUNT)).alias(c.DECAY_FACTOR),
        decayed.round(PRECISION).alias(c.POINTS),
    )


def section_ledger(
    events: pl.LazyFrame,
    section: EventScore,
    kind: str,
    ctx: ExprContext,
    as_of: AsOf,
    types: LedgerTypes,
) -> list[pl.LazyFrame]:
    """The per-rule ledger queries of one section (engagement or product)."""
    return [rule_points(events, rule, kind, ctx, as_of, types) for rule in section.rules]


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


def section_totals(ledger: pl.LazyFrame, sections: Mapping[str, EventScore]) -> pl.LazyFrame:
    """Per lead with event rows: each section's score, limited by its cap and floor.

    One pass over the ledger for every section. A section's columns are null for a lead
    without rows of that kind (its score is 0 and it gets no adjustment row).
    """
    kind = pl.col(c.RULE_KIND)
    raw = ledger.group_by(c.LEAD_ID).agg(
        pl.when((kind == name).any())
        .then(pl.col(c.POINTS).filter(kind == name).sum().round(PRECISION))
        .alias(_raw(name))
        for name in sections
    )
    limited = [
        _limit(section, pl.col(_raw(name))).alias(_limited(name))
        for name, section in sections.items()
    ]
    return raw.with_columns(limited).with_columns(
        pl.col(_limited(name)).round(PRECISION).alias(SCORE_COLUMNS[name]) for name in sections
    )


def adjustments(
    totals: pl.LazyFrame, sections: Mapping[str, EventScore], types: LedgerTypes
) -> pl.LazyFrame:
    """Ledger rows for the section caps and floors that changed a lead's total."""
    frames = []
    for kind in sections:
        raw, limited = pl.col(_raw(kind)), pl.col(_limited(kind))
        cap_id, floor_id = adjustment_ids(kind)
        frames.append(
            totals.filter(limited != raw).select(
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
            )
        )
    return pl.concat(frames) if frames else types.empty().lazy()


def event_test_counts(
    events: pl.LazyFrame,
    tests: Sequence[EventTest],
    names: Mapping[EventTest, str],
    ctx: ExprContext,
    as_of: AsOf,
) -> list[pl.LazyFrame]:
    """Per lead, how many events match each event test used by stages or temperature."""
    queries = []
    for test in tests:
        where = None if test.where is None else to_expr(test.where, ctx)
        mask = rule_mask(test.event_type, where) & seen_by(as_of, test.within_days)
        count = pl.len().cast(pl.UInt32).alias(names[test])
        queries.append(events.filter(mask).group_by(c.LEAD_ID).agg(count))
    return queries
