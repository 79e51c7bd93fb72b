"""Routing: which team and which rep get a qualified lead. Pure and column-wise.

The model's ordered rules pick a team (first match wins). A lead at an account that already
has an eligible owner goes to that owner, and so do the other new leads at the same account
in the batch. Within a team every method is the same computation: each eligible rep offers
*slots* (at most its remaining capacity), each slot gets a sort key, and the team's k-th lead
takes the team's k-th slot:

* ``round_robin`` — slot ``j`` of the rep ``r`` places after the cursor has key ``(j, r)``,
  so reps take turns, continuing after the rep who got the previous batch's last lead;
* ``weighted`` — key ``(load + j + 1) / weight``: shares proportional to the weights, over
  the capacity period (``load`` is what the rep already got in it);
* ``capacity`` — key ``(load + j + 1) / capacity``: the least-utilised rep first.

A full rep offers no slot, so capacities hold exactly over a batch; out-of-office and
inactive reps (``eligible`` false) offer none either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from leadgate.engine.conditions import ExprContext, to_expr
from leadgate.engine.lifecycle import threshold_expr
from leadgate.model import columns as c
from leadgate.model.cache import ModelCache
from leadgate.model.compiled import (
    ACCOUNT_OWNER_RULE,
    FieldTest,
    QualificationModel,
)
from leadgate.model.compiler import walk

OWNER_ID: Final = "owner_id"
TEAM_ID: Final = "team_id"
RULE_ID: Final = "rule_id"
METHOD: Final = "method"
REASON: Final = "reason"
ESCALATE_TO: Final = "escalate_to"
POSITION: Final = "position"
WEIGHT: Final = "weight"
CAPACITY: Final = "capacity"
ELIGIBLE: Final = "eligible"
ASSIGNED: Final = "assigned"
LAST_OWNER_ID: Final = "last_owner_id"

#: Why a lead was (or was not) assigned.
ASSIGNED_BY_RULE: Final = "rule"
BY_ACCOUNT_OWNER: Final = "account_owner"
NO_RULE_MATCHED: Final = "no_rule_matched"
NO_ELIGIBLE_REP: Final = "no_eligible_rep"
CAPACITY_FULL: Final = "capacity_full"

ROSTER_SCHEMA: Final = pl.Schema(
    {
        OWNER_ID: pl.String(),
        TEAM_ID: pl.String(),
        POSITION: pl.Int64(),
        WEIGHT: pl.Float64(),
        CAPACITY: pl.Int64(),
        ELIGIBLE: pl.Boolean(),
    }
)
LOAD_SCHEMA: Final = pl.Schema({OWNER_ID: pl.String(), ASSIGNED: pl.Int64()})
CURSOR_SCHEMA: Final = pl.Schema({TEAM_ID: pl.String(), LAST_OWNER_ID: pl.String()})
ACCOUNT_OWNER_SCHEMA: Final = pl.Schema({c.ACCOUNT_ID: pl.String(), OWNER_ID: pl.String()})
ASSIGNMENT_SCHEMA: Final = pl.Schema(
    {
        c.LEAD_ID: pl.String(),
        OWNER_ID: pl.String(),
        TEAM_ID: pl.String(),
        RULE_ID: pl.String(),
        METHOD: pl.String(),
        REASON: pl.String(),
        ESCALATE_TO: pl.String(),
    }
)
_ORDER: Final = "__order"
#: Routing runs on a few leads at a time: planning optimisations cost more than they save.
_PLAIN: Final = pl.QueryOptFlags.none()
_K: Final = "__k"


@dataclass(frozen=True)
class RoutingResult:
    """One row per lead (``ASSIGNMENT_SCHEMA``) and each team's new round-robin cursor."""

    assignments: pl.DataFrame
    cursors: pl.DataFrame


def routing_fields(model: QualificationModel) -> tuple[str, ...]:
    """Lead (and ``account.``) fields the routing conditions read."""
    return _rules_of(model).fields


@dataclass(frozen=True)
class _CompiledRules:
    """What matching leads to a model's routing rules needs, built once per model."""

    fields: tuple[str, ...]
    rule_id: pl.Expr  # the id of the first rule a lead matches (null: none)
    rules: pl.LazyFrame  # rule_id, team_id, method


#: Per model version (see ``model/cache.py``).
_compiled: ModelCache[_CompiledRules] = ModelCache(8)


def _rules_of(model: QualificationModel) -> _CompiledRules:
    """The model's routing rules as expressions: from the cache, or built and kept.

    Building the conditions' expressions costs more than matching a real-time group's few
    leads, and they are a pure function of the (frozen) model.
    """
    return _compiled.get(model.version, model, lambda: _compile_rules(model))


def _compile_rules(model: QualificationModel) -> _CompiledRules:
    names: dict[str, None] = {}
    for rule in model.routing.rules:
        if rule.when is not None:
            for node in walk(rule.when):
                if isinstance(node, FieldTest):
                    names[node.field] = None
    ctx = ExprContext(threshold=lambda ref: threshold_expr(model, ref))
    rule_id: pl.Expr = pl.lit(None, pl.String)
    for rule in reversed(model.routing.rules):
        test = pl.lit(True) if rule.when is None else to_expr(rule.when, ctx)
        rule_id = pl.when(test).then(pl.lit(rule.id)).otherwise(rule_id)
    rules = pl.LazyFrame(
        {
            RULE_ID: [r.id for r in model.routing.rules],
            TEAM_ID: [r.team for r in model.routing.rules],
            METHOD: [r.method for r in model.routing.rules],
        },
        schema={RULE_ID: pl.String, TEAM_ID: pl.String, METHOD: pl.String},
    )
    return _CompiledRules(tuple(names), rule_id, rules)


def match_rules(leads: pl.DataFrame, model: QualificationModel) -> pl.DataFrame:
    """The first routing rule each lead matches: ``lead_id, rule_id, team_id, method``.

    ``leads`` needs the fields of :func:`routing_fields` (missing ones count as missing
    values) and ``segment`` when a condition uses a threshold. No match gives nulls.
    """
    return _matched(leads.lazy(), leads.columns, model).collect(
        engine="in-memory", optimizations=_PLAIN
    )


def rule_matches(
    leads: pl.LazyFrame, columns: Sequence[str], model: QualificationModel
) -> pl.LazyFrame:
    """:func:`match_rules` as a query, for a caller that collects it with more work.

    ``columns`` are the names of ``leads``' columns.
    """
    return _matched(leads, columns, model)


def _matched(
    leads: pl.LazyFrame, columns: Sequence[str], model: QualificationModel, *carried: pl.Expr
) -> pl.LazyFrame:
    """:func:`match_rules` as a lazy frame, with the ``carried`` columns after ``lead_id``."""
    compiled = _rules_of(model)
    absent = {f: pl.lit(None).alias(f) for f in compiled.fields if f not in columns}
    if model.routing.rules and c.SEGMENT not in columns:  # a threshold reads it
        absent[c.SEGMENT] = pl.lit(None, pl.String).alias(c.SEGMENT)
    frame = leads.with_columns(absent.values()) if absent else leads
    matched = frame.select(
        pl.col(c.LEAD_ID).cast(pl.String), compiled.rule_id.alias(RULE_ID), *carried
    )
    return matched.join(compiled.rules, on=RULE_ID, how="left", maintain_order="left")


def assign(
    leads: pl.DataFrame,
    model: QualificationModel,
    roster: pl.DataFrame,
    *,
    load: pl.DataFrame | None = None,
    cursors: pl.DataFrame | None = None,
    account_owners: pl.DataFrame | None = None,
) -> RoutingResult:
    """Assign ``leads`` (in the order given) to reps.

    Args:
        leads: ``lead_id``, optional ``account_id`` and the fields the rules read.
        model: The compiled model (its ``routing`` section).
        roster: ``ROSTER_SCHEMA``: reps with team, rotation position, weight, capacity per
            period (null: unlimited) and whether they can take leads now.
        load: Leads each rep already got in the current capacity period.
        cursors: Per team, the rep who got the previous batch's last lead.
        account_owners: Owner of each account that already has one.

    Returns:
        The assignments, in the order of ``leads``, and the teams' new cursors.
    """
    # One lazy plan collected once: the service routes a handful of leads at a time, where
    # the fixed cost of each eager step would outweigh the work.
    reps = roster.lazy().select(_CASTS["roster"]).cache()
    loads = _frame(load, "load")
    last_reps = _frame(cursors, "cursor")
    owners = _frame(account_owners, "account_owner").unique(c.ACCOUNT_ID, keep="first")
    frame, columns = leads.lazy(), leads.columns
    if c.ACCOUNT_ID not in columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c.ACCOUNT_ID))
        columns = [*columns, c.ACCOUNT_ID]
    matched = _matched(
        frame,
        columns,
        model,
        pl.col(c.ACCOUNT_ID).cast(pl.String),
        pl.int_range(pl.len()).alias(_ORDER),
    ).select(c.LEAD_ID, RULE_ID, TEAM_ID, METHOD, c.ACCOUNT_ID, _ORDER)
    sticky = model.routing.account_ownership
    matched = _account_owners(matched, owners, reps) if sticky else _no_owner(matched)
    matched = matched.with_columns(_FOLLOWER[sticky]).cache()
    queue = matched.filter(pl.col("__sticky_owner").is_null() & ~pl.col("__follower")).cache()
    sticky_load = (
        matched.filter(pl.col("__sticky_owner").is_not_null())
        .group_by("__sticky_owner")
        .len(ASSIGNED)
        .rename({"__sticky_owner": OWNER_ID})
        .cast({ASSIGNED: pl.Int64})
    )
    loads = pl.concat([loads, sticky_load]).group_by(OWNER_ID).agg(pl.col(ASSIGNED).sum())
    routed, new_cursors = _fill_slots(queue, reps, loads, last_reps)
    assignments = _assemble(matched, routed, reps, model.routing.escalate_to)
    done, turned = pl.collect_all(
        [assignments, new_cursors], engine="in-memory", optimizations=_PLAIN
    )
    return RoutingResult(done, turned)


def _frame(frame: pl.DataFrame | None, kind: str) -> pl.LazyFrame:
    if frame is None:
        return pl.LazyFrame(schema=_SCHEMAS[kind])
    return frame.lazy().select(_CASTS[kind])


# Built once: on a live group's few leads and reps, building the expressions of a routing
# query costs about as much as running it.
_SCHEMAS: Final = {
    "roster": ROSTER_SCHEMA,
    "load": LOAD_SCHEMA,
    "cursor": CURSOR_SCHEMA,
    "account_owner": ACCOUNT_OWNER_SCHEMA,
}
_CASTS: Final = {
    kind: tuple(pl.col(n).cast(t) for n, t in schema.items()) for kind, schema in _SCHEMAS.items()
}
_FOLLOWER: Final = {
    sticky: (
        pl.col(c.ACCOUNT_ID).is_not_null()
        & (pl.col(_ORDER) != pl.col(_ORDER).min().over(c.ACCOUNT_ID))
        & pl.lit(sticky)
        & pl.col("__sticky_owner").is_null()
    ).alias("__follower")
    for sticky in (False, True)
}


def _no_owner(matched: pl.LazyFrame) -> pl.LazyFrame:
    return matched.with_columns(pl.lit(None, pl.String).alias("__sticky_owner"))


def _account_owners(
    matched: pl.LazyFrame, owners: pl.LazyFrame, roster: pl.LazyFrame
) -> pl.LazyFrame:
    """Attach the account's owner when that rep can take leads (ownership beats capacity)."""
    able = roster.filter(pl.col(ELIGIBLE)).select(OWNER_ID)
    usable = owners.join(able, on=OWNER_ID, how="semi").rename({OWNER_ID: "__sticky_owner"})
    return matched.join(usable, on=c.ACCOUNT_ID, how="left", maintain_order="left")


def _rotation(roster: pl.LazyFrame, cursors: pl.LazyFrame) -> pl.LazyFrame:
    """Eligible reps with ``__rot``: their turn order after the team's cursor (0 = next)."""
    last = cursors.join(
        roster.select(OWNER_ID, pl.col(POSITION).alias("__last_pos")),
        left_on=LAST_OWNER_ID,
        right_on=OWNER_ID,
        how="inner",
    ).select(TEAM_ID, "__last_pos")
    reps = roster.filter(pl.col(ELIGIBLE)).join(last, on=TEAM_ID, how="left")
    return reps.with_columns(_ROTATION)


def _rotation_expr() -> pl.Expr:
    index = pl.col(POSITION).rank("ordinal").over(TEAM_ID).cast(pl.Int64) - 1
    start = ((pl.col(POSITION) <= pl.col("__last_pos")).fill_null(False).sum().over(TEAM_ID)).cast(
        pl.Int64
    )
    size = pl.len().over(TEAM_ID).cast(pl.Int64)
    return ((index - start) % size).cast(pl.Int64).alias("__rot")


_ROTATION: Final = _rotation_expr()


def _fill_slots(
    queue: pl.LazyFrame, roster: pl.LazyFrame, load: pl.LazyFrame, cursors: pl.LazyFrame
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Match each team's queued leads with the team's slots, in rank order."""
    demand = (
        queue.filter(pl.col(TEAM_ID).is_not_null())
        .group_by(TEAM_ID)
        .agg(pl.len().alias("__demand"), pl.col(METHOD).first())
    )
    reps = (
        _rotation(roster, cursors)
        .join(demand, on=TEAM_ID, how="inner")
        .join(load, on=OWNER_ID, how="left")
        .with_columns(pl.col(ASSIGNED).fill_null(0))
    )
    usable, slots, key, k, rank = _SLOTS
    reps = reps.filter(usable).with_columns(slots).cache()
    offered = (
        reps.explode("__j")
        .filter(pl.col("__j").is_not_null())
        .with_columns(key)
        .sort(TEAM_ID, "__key", "__rot")
        .with_columns(k)
        .select(TEAM_ID, _K, OWNER_ID)
    )
    ranked = queue.with_columns(rank)
    routed = ranked.join(offered, on=[TEAM_ID, _K], how="left", maintain_order="left")
    routed = routed.join(
        reps.select(TEAM_ID).unique().with_columns(pl.lit(True).alias("__has_reps")),
        on=TEAM_ID,
        how="left",
    ).cache()
    last = (
        routed.filter(pl.col(OWNER_ID).is_not_null())
        .sort(_K)
        .group_by(TEAM_ID)
        .agg(pl.col(OWNER_ID).last().alias(LAST_OWNER_ID))
    )
    new_cursors = pl.concat(
        [cursors.join(last, on=TEAM_ID, how="anti"), last.select(_CASTS["cursor"])]
    ).sort(TEAM_ID)
    return routed.select(_ORDER, OWNER_ID, "__has_reps"), new_cursors


def _slot_exprs() -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """Which reps offer slots, their slots, each slot's key, its rank, each lead's rank."""
    method = pl.col(METHOD)
    remaining = (pl.col(CAPACITY) - pl.col(ASSIGNED)).clip(lower_bound=0)
    usable = (
        pl.when(method == "capacity")
        .then(pl.col(CAPACITY).is_not_null())
        .when(method == "weighted")
        .then(pl.col(WEIGHT) > 0)
        .otherwise(True)
    )
    slots = pl.min_horizontal(remaining.fill_null(pl.col("__demand")), pl.col("__demand"))
    j = pl.col("__j").cast(pl.Float64)
    used = pl.col(ASSIGNED).cast(pl.Float64) + j + 1.0
    key = (
        pl.when(method == "round_robin")
        .then(j)
        .when(method == "weighted")
        .then(used / pl.col(WEIGHT))
        .otherwise(used / pl.col(CAPACITY).cast(pl.Float64))
    )
    rank = pl.col(_ORDER).rank("ordinal").over(TEAM_ID).cast(pl.Int64) - 1
    return (
        usable.fill_null(False),
        pl.int_ranges(0, slots.cast(pl.Int64)).alias("__j"),
        key.alias("__key"),
        pl.int_range(pl.len(), dtype=pl.Int64).over(TEAM_ID).alias(_K),
        rank.alias(_K),
    )


_SLOTS: Final = _slot_exprs()


def _assemble(
    matched: pl.LazyFrame, routed: pl.LazyFrame, roster: pl.LazyFrame, escalate_to: str | None
) -> pl.LazyFrame:
    frame = matched.join(routed, on=_ORDER, how="left")
    # followers take what the first lead of their account got
    first = frame.filter(~pl.col("__follower")).select(
        c.ACCOUNT_ID,
        pl.coalesce("__sticky_owner", OWNER_ID).alias("__account_rep"),
    )
    first = first.filter(pl.col(c.ACCOUNT_ID).is_not_null()).unique(c.ACCOUNT_ID)
    frame = frame.join(first, on=c.ACCOUNT_ID, how="left", maintain_order="left")
    frame = frame.with_columns(_BY_ACCOUNT)
    teams = roster.select(OWNER_ID, pl.col(TEAM_ID).alias("__owner_team"))
    frame = frame.join(teams, on=OWNER_ID, how="left", maintain_order="left")
    return (
        frame.sort(_ORDER)
        .select(
            *_ASSIGNMENT,
            pl.when(pl.col(OWNER_ID).is_null())
            .then(pl.lit(escalate_to, pl.String))
            .alias(ESCALATE_TO),
        )
        .cast(ASSIGNMENT_SCHEMA)
    )


def _by_account_exprs() -> tuple[pl.Expr, pl.Expr]:
    """The owner (the account's when it has one) and whether the account decided it."""
    by_account = pl.col("__sticky_owner").is_not_null() | (
        pl.col("__follower") & pl.col("__account_rep").is_not_null()
    )
    owner = (
        pl.when(pl.col("__sticky_owner").is_not_null())
        .then(pl.col("__sticky_owner"))
        .when(pl.col("__follower"))
        .then(pl.col("__account_rep"))
        .otherwise(pl.col(OWNER_ID))
    )
    return owner.alias(OWNER_ID), by_account.alias("__by_account")


def _assignment_exprs() -> tuple[pl.Expr, ...]:
    """An assignment's columns but ``escalate_to``."""
    reason = (
        pl.when(pl.col("__by_account"))
        .then(pl.lit(BY_ACCOUNT_OWNER))
        .when(pl.col(OWNER_ID).is_not_null())
        .then(pl.lit(ASSIGNED_BY_RULE))
        .when(pl.col(RULE_ID).is_null())
        .then(pl.lit(NO_RULE_MATCHED))
        .when(pl.col("__has_reps").fill_null(False))
        .then(pl.lit(CAPACITY_FULL))
        .otherwise(pl.lit(NO_ELIGIBLE_REP))
    )
    return (
        pl.col(c.LEAD_ID),
        pl.col(OWNER_ID),
        pl.when(pl.col("__by_account"))
        .then(pl.col("__owner_team"))
        .otherwise(pl.col(TEAM_ID))
        .alias(TEAM_ID),
        pl.when(pl.col("__by_account"))
        .then(pl.lit(ACCOUNT_OWNER_RULE))
        .otherwise(pl.col(RULE_ID))
        .alias(RULE_ID),
        pl.when(pl.col("__by_account")).then(pl.lit(None)).otherwise(pl.col(METHOD)).alias(METHOD),
        reason.alias(REASON),
    )


_BY_ACCOUNT: Final = _by_account_exprs()
_ASSIGNMENT: Final = _assignment_exprs()


def next_reps(
    leads: pl.DataFrame, roster: pl.DataFrame, load: pl.DataFrame | None = None
) -> pl.DataFrame:
    """For reassignment: the next eligible rep in each lead's team after its current owner.

    Args:
        leads: ``lead_id, team_id, owner_id`` (the current owner, who is skipped).
        roster: ``ROSTER_SCHEMA``.
        load: Leads each rep already got this period; full reps are skipped.

    Returns:
        ``lead_id, owner_id`` (null when nobody else in the team can take it).
    """
    roster = roster.select(pl.col(n).cast(t) for n, t in ROSTER_SCHEMA.items())
    load = _frame(load, "load").collect(engine="in-memory", optimizations=_PLAIN)
    able = (
        roster.join(load, on=OWNER_ID, how="left")
        .filter(
            pl.col(ELIGIBLE)
            & (pl.col(CAPACITY).is_null() | (pl.col(ASSIGNED).fill_null(0) < pl.col(CAPACITY)))
        )
        .select(TEAM_ID, pl.col(OWNER_ID).alias("__candidate"), pl.col(POSITION).alias("__pos"))
    )
    current = roster.select(OWNER_ID, pl.col(POSITION).alias("__cur_pos"))
    base = leads.select(
        pl.col(c.LEAD_ID).cast(pl.String),
        pl.col(TEAM_ID).cast(pl.String),
        pl.col(OWNER_ID).cast(pl.String),
    ).join(current, on=OWNER_ID, how="left", maintain_order="left")
    span = roster.get_column(POSITION).max()
    modulus = (0 if span is None else int(span)) + 1  # type: ignore[arg-type]
    pairs = (
        base.join(able, on=TEAM_ID, how="inner")
        .filter(pl.col("__candidate").ne_missing(pl.col(OWNER_ID)))
        .with_columns(
            ((pl.col("__pos") - pl.col("__cur_pos").fill_null(-1) - 1) % modulus).alias("__gap")
        )
        .sort(c.LEAD_ID, "__gap")
        .group_by(c.LEAD_ID)
        .agg(pl.col("__candidate").first().alias("__next"))
    )
    return base.join(pairs, on=c.LEAD_ID, how="left", maintain_order="left").select(
        c.LEAD_ID, pl.col("__next").alias(OWNER_ID)
    )


__all__ = [
    "ASSIGNMENT_SCHEMA",
    "ROSTER_SCHEMA",
    "RoutingResult",
    "assign",
    "match_rules",
    "next_reps",
    "routing_fields",
    "rule_matches",
]
