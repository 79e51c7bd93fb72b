"""The lead lifecycle as a state machine: sales actions, and automatic moves from scores.

Stages::

    new ─▶ iql ─▶ mql | pql ─▶ sal ─▶ sql ─▶ opportunity ─▶ won | lost
      side exits: recycled (reason, date to re-check) and disqualified (reason code)

Marketing stages (new, iql, mql, pql, recycled) move automatically from the engine's stage
recommendation; sales stages (sal, sql, opportunity, won, lost) move by sales actions, except
``sal → sql`` which happens automatically once a readiness framework passes. Everything here
is pure: the caller passes ``as_of`` and the current state, and gets decisions back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

import polars as pl

from leadgate.engine.inputs import utc_literal
from leadgate.exceptions import TransitionError
from leadgate.model import columns as c

Stage = Literal[
    "new",
    "iql",
    "mql",
    "pql",
    "sal",
    "sql",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "disqualified",
]
Action = Literal["accept", "recycle", "disqualify", "convert", "won", "lost", "reopen"]

STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
MARKETING_STAGES: Final[frozenset[str]] = frozenset({"new", "iql", "mql", "pql", "recycled"})
QUALIFIED_STAGES: Final[frozenset[str]] = frozenset({"mql", "pql"})
CLOSED_STAGES: Final[frozenset[str]] = frozenset({"won", "lost", "disqualified"})

#: Sales actions: the stages each is allowed from, and the stage it leads to.
ACTIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    "accept": (frozenset({"mql", "pql"}), "sal"),
    "recycle": (frozenset({"iql", "mql", "pql", "sal", "sql"}), "recycled"),
    "disqualify": (
        frozenset({"new", "iql", "mql", "pql", "sal", "sql", "recycled"}),
        "disqualified",
    ),
    "convert": (frozenset({"sal", "sql"}), "opportunity"),
    "won": (frozenset({"opportunity"}), "won"),
    "lost": (frozenset({"opportunity"}), "lost"),
    "reopen": (frozenset({"lost", "disqualified"}), "new"),
}
#: Actions that must say why.
NEEDS_REASON: Final[frozenset[str]] = frozenset({"recycle", "disqualify", "lost"})

#: The lifecycle date column set when a lead first enters a stage.
BECAME_AT: Final[dict[str, str]] = c.BECAME_AT

DEFAULT_RECHECK_DAYS: Final = 30
FROM_STAGE: Final = "from_stage"
TO_STAGE: Final = "to_stage"
REASON: Final = "reason"
RECHECK_AT: Final = "recheck_at"
RECOMMENDED: Final = "recommended_stage"


@dataclass(frozen=True)
class Move:
    """The outcome of a sales action: where the lead goes, and why."""

    from_stage: str
    to_stage: str
    action: str
    reason: str | None
    recheck_at: datetime | None = None


def apply_action(
    stage: str,
    action: str,
    *,
    reason: str | None = None,
    at: datetime,
    recheck_days: int = DEFAULT_RECHECK_DAYS,
    recheck_at: datetime | None = None,
) -> Move:
    """Check a sales action against the lead's stage and return the move it makes.

    Raises:
        TransitionError: The action is unknown, not allowed from ``stage``, or lacks a reason.
    """
    if action not in ACTIONS:
        raise TransitionError(
            f"Unknown lifecycle action {action!r}.",
            hint=f"Use one of: {', '.join(ACTIONS)}.",
            code="unknown_action",
        )
    allowed_from, target = ACTIONS[action]
    if stage not in allowed_from:
        possible = sorted(a for a, (src, _) in ACTIONS.items() if stage in src)
        raise TransitionError(
            f"Cannot {action} a lead in stage {stage!r}: {action} is allowed from "
            f"{', '.join(sorted(allowed_from))}.",
            hint=(
                f"From {stage!r} you can: {', '.join(possible)}."
                if possible
                else f"{stage!r} is final; reopen it first if it was closed by mistake."
            ),
        )
    if action in NEEDS_REASON and not (reason and reason.strip()):
        raise TransitionError(
            f"A reason is required to {action} a lead.",
            hint="Pass a reason code, e.g. --reason no_budget.",
            code="reason_required",
        )
    when = None
    if target == "recycled":
        when = recheck_at if recheck_at is not None else at + timedelta(days=recheck_days)
        if when < at:
            raise TransitionError(
                "The re-check date of a recycled lead cannot be in the past.",
                hint="Give a date after the action, or leave it out for the default.",
                code="bad_recheck_date",
            )
    return Move(stage, target, action, reason.strip() if reason else None, when)


def auto_transitions(
    state: pl.DataFrame,
    scores: pl.DataFrame,
    *,
    as_of: datetime,
    recheck_days: int = DEFAULT_RECHECK_DAYS,
) -> pl.DataFrame:
    """Automatic stage moves for many leads at once, from the engine's recommendations.

    Args:
        state: ``lead_id``, ``stage`` (current lifecycle stage) and ``recheck_at``.
        scores: ``lead_id``, ``stage`` (the engine's recommendation) and ``exclusion_reason``.
        as_of: the moment of the decision.
        recheck_days: when a decayed lead is recycled, re-check it after this many days.

    Returns:
        Only the leads that move: ``lead_id``, ``from_stage``, ``to_stage``, ``reason``,
        ``recheck_at``. Applying them and running again returns nothing (idempotent).

    The rules, in order:
        * an open marketing lead the model now excludes → ``disqualified`` (reason: the
          exclusion reason code);
        * ``new``/``iql`` moving up the marketing ladder (``new → iql → mql | pql``);
          a recommendation of ``sql`` before sales accepted the lead counts as ``mql``;
        * ``mql``/``pql`` nobody accepted whose recommendation fell below qualified →
          ``recycled`` with reason ``decayed`` and a re-check date;
        * ``recycled`` past its re-check date that qualifies again → ``mql``/``pql``
          (reason ``requalified``);
        * ``sal`` whose framework passed (recommendation ``sql``) → ``sql``.
    """
    joined = state.lazy().join(
        scores.lazy().select(c.LEAD_ID, pl.col(c.STAGE).alias(RECOMMENDED), c.EXCLUSION_REASON),
        on=c.LEAD_ID,
        how="inner",
    )
    # The rules are built once (below); the moment reaches them as two constant columns.
    return (
        joined.with_columns(
            utc_literal(as_of).alias(_AS_OF),
            utc_literal(as_of + timedelta(days=recheck_days)).alias(_LATER),
        )
        .with_columns(pl.col(c.STAGE).alias(FROM_STAGE), _TO.alias(TO_STAGE))
        .filter(pl.col(TO_STAGE).is_not_null())
        .select(
            c.LEAD_ID,
            FROM_STAGE,
            TO_STAGE,
            _REASON.alias(REASON),
            _RECHECK.dt.cast_time_unit("us").alias(RECHECK_AT),
        )
        .collect(engine="in-memory", optimizations=_PLAIN)
    )


#: A join and projections: optimising the query costs more than it saves (half the time on
#: a real-time group's few leads), and there is nothing to push down.
_PLAIN: Final = pl.QueryOptFlags.none()
_AS_OF: Final = "__as_of"
_LATER: Final = "__recheck_later"


def _ladder_rank(stage: pl.Expr) -> pl.Expr:
    """A stage's rung on the marketing ladder: ``new`` 0, ``iql`` 1, ``mql``/``pql`` 2 (others 0).

    A ``when`` chain rather than ``replace_strict`` with a mapping: on the few rows of a
    real-time group that one costs ~0.4 ms a call (its lookup table is built per query).
    """
    return pl.when(stage == "iql").then(1).when(stage.is_in(["mql", "pql"])).then(2).otherwise(0)


def _rules() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The target stage, reason and re-check date of :func:`auto_transitions`, as expressions.

    Built once: constructing them costs more than running them on a real-time group's rows.
    """
    rec = pl.col(RECOMMENDED)
    marketing_target = (
        pl.when(rec.is_in(["sql", "mql"]))
        .then(pl.lit("mql"))
        .when(rec == "pql")
        .then(pl.lit("pql"))
        .when(rec == "iql")
        .then(pl.lit("iql"))
        .otherwise(pl.lit("new"))
    )
    stage = pl.col(c.STAGE)
    due = pl.col(RECHECK_AT).is_null() | (pl.col(RECHECK_AT) <= pl.col(_AS_OF))
    none = pl.lit(None, pl.String)
    to = (
        pl.when(stage.is_in(sorted(MARKETING_STAGES)) & (rec == "disqualified"))
        .then(pl.lit("disqualified"))
        .when(stage.is_in(["new", "iql"]) & (_ladder_rank(marketing_target) > _ladder_rank(stage)))
        .then(marketing_target)
        .when(stage.is_in(sorted(QUALIFIED_STAGES)) & rec.is_in(["new", "iql"]))
        .then(pl.lit("recycled"))
        .when((stage == "recycled") & due & rec.is_in(["sql", "mql", "pql"]))
        .then(marketing_target)
        .when((stage == "sal") & (rec == "sql"))
        .then(pl.lit("sql"))
        .otherwise(none)
    )
    reason = (
        pl.when(pl.col(TO_STAGE) == "disqualified")
        .then(pl.col(c.EXCLUSION_REASON))
        .when(pl.col(TO_STAGE) == "recycled")
        .then(pl.lit("decayed"))
        .when(pl.col(FROM_STAGE) == "recycled")
        .then(pl.lit("requalified"))
        .when(pl.col(TO_STAGE) == "sql")
        .then(pl.lit("framework_passed"))
        .otherwise(pl.format("recommended_{}", pl.col(RECOMMENDED)))
    )
    recheck = pl.when(pl.col(TO_STAGE) == "recycled").then(pl.col(_LATER))
    return to, reason, recheck.otherwise(pl.lit(None, pl.Datetime("us", "UTC")))


_TO, _REASON, _RECHECK = _rules()


__all__ = [
    "ACTIONS",
    "BECAME_AT",
    "CLOSED_STAGES",
    "MARKETING_STAGES",
    "STAGES",
    "Action",
    "Move",
    "Stage",
    "apply_action",
    "auto_transitions",
]
