"""Account roll-up: account score, buying-group coverage, multi-threading and MQA."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from leadgate.engine.conditions import ExprContext, to_expr
from leadgate.model import columns as c
from leadgate.model.compiled import QualificationModel


def _rollup(method: str, score: pl.Expr, k: int) -> pl.Expr:
    if method == "sum":
        return score.sum()
    if method == "max":
        return score.max()
    if method == "mean":
        return score.mean()
    return score.top_k(k).mean()


def engaged_expr(model: QualificationModel, ctx: ExprContext) -> pl.Expr:
    """Whether a contact counts as an engaged member of the buying group."""
    rule = model.accounts.engaged_when
    engaged = pl.col(c.ENGAGEMENT_SCORE) > 0 if rule is None else to_expr(rule, ctx)
    return (engaged & ~pl.col(c.IS_EXCLUDED)).alias("__engaged")


def account_rollup(
    model: QualificationModel,
) -> Callable[[pl.LazyFrame, pl.LazyFrame], pl.LazyFrame]:
    """The query giving one row per account: its contacts' roll-up and whether it is an MQA.

    The query takes the scored leads (they must hold ``__engaged``, see ``engaged_expr``)
    and the accounts. Excluded contacts do not count. Accounts without contacts get zero
    counts and a score of 0.
    """
    rules = model.accounts
    roles = rules.required_roles
    counted = pl.col(c.ACCOUNT_ID).is_not_null() & ~pl.col(c.IS_EXCLUDED)
    score = pl.col(rules.rollup_score)
    engaged = pl.col("__engaged")
    aggs = [
        pl.len().cast(pl.UInt32).alias(c.CONTACT_COUNT),
        engaged.sum().cast(pl.UInt32).alias(c.ENGAGED_CONTACTS),
        _rollup(rules.method, score, rules.k).round(2).alias(c.ACCOUNT_SCORE),
        *[
            (engaged & (pl.col(c.BUYING_ROLE) == role)).any().alias(f"__role_{role}")
            for role in roles
        ],
    ]
    base = [
        pl.col(c.ACCOUNT_ID),
        *[pl.col(f).alias(c.account_column(f)) for f in model.account_fields],
    ]
    filled = [
        pl.col(c.CONTACT_COUNT).fill_null(0),
        pl.col(c.ENGAGED_CONTACTS).fill_null(0),
        pl.col(c.ACCOUNT_SCORE).fill_null(0.0),
        *[pl.col(f"__role_{r}").fill_null(False) for r in roles],
    ]
    present = [pl.when(pl.col(f"__role_{r}")).then(pl.lit(r)) for r in roles]
    absent = [pl.when(~pl.col(f"__role_{r}")).then(pl.lit(r)) for r in roles]
    coverage = (
        pl.sum_horizontal([pl.col(f"__role_{r}").cast(pl.Float64) for r in roles]) / len(roles)
        if roles
        else pl.lit(1.0)
    )
    summary = [
        (pl.concat_str(present, separator=",", ignore_nulls=True) if roles else pl.lit("")).alias(
            c.ROLES_PRESENT
        ),
        (pl.concat_str(absent, separator=",", ignore_nulls=True) if roles else pl.lit("")).alias(
            c.ROLES_MISSING
        ),
        coverage.round(4).alias(c.ROLE_COVERAGE),
    ]
    mqa = pl.lit(False) if rules.mqa is None else to_expr(rules.mqa, ExprContext())
    output = [
        pl.col(c.ACCOUNT_ID),
        pl.col(c.CONTACT_COUNT),
        pl.col(c.ENGAGED_CONTACTS),
        pl.col(c.ACCOUNT_SCORE),
        pl.col(c.ROLE_COVERAGE),
        pl.col(c.ROLES_PRESENT),
        pl.col(c.ROLES_MISSING),
        mqa.alias(c.IS_MQA),
        pl.lit(model.version).alias(c.MODEL_VERSION),
    ]

    def query(scored: pl.LazyFrame, accounts: pl.LazyFrame) -> pl.LazyFrame:
        rolled = scored.filter(counted).group_by(c.ACCOUNT_ID).agg(aggs)
        joined = accounts.select(base).join(rolled, on=c.ACCOUNT_ID, how="left")
        return joined.with_columns(filled).with_columns(summary).select(output)

    return query
