"""Readiness frameworks: which criteria are met, which are still unknown, pass or fail."""

from __future__ import annotations

import polars as pl

from leadgate.engine.conditions import joined_labels
from leadgate.model import columns as c
from leadgate.model.compiled import Criterion, Framework

_YES = ["true", "yes", "y", "1", "t"]


def answered(criterion: Criterion, schema: pl.Schema) -> pl.Expr:
    """True when the discovery answer for the criterion is known."""
    col = pl.col(criterion.field)
    known = col.is_not_null()
    if schema.get(criterion.field) in (pl.String, pl.Categorical):
        known = known & (col.cast(pl.String).str.strip_chars() != "")
    return known


def met(criterion: Criterion, schema: pl.Schema) -> pl.Expr:
    """True when the answer satisfies the criterion (never null)."""
    col = pl.col(criterion.field)
    dtype = schema.get(criterion.field)
    if criterion.kind == "non_empty":
        return answered(criterion, schema)
    if criterion.kind == "scale":
        return (col.cast(pl.Float64, strict=False) >= (criterion.min or 0.0)).fill_null(False)
    if dtype == pl.Boolean:
        return col.fill_null(False)
    if dtype is not None and dtype.is_numeric():
        return (col != 0).fill_null(False)
    return (
        col.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .is_in(pl.Series(_YES).implode())
        .fill_null(False)
    )


def _answered_column(framework: Framework, criterion: Criterion) -> str:
    return f"__fw_{framework.id}_{criterion.id}_answered"


def _met_column(framework: Framework, criterion: Criterion) -> str:
    return f"__fw_{framework.id}_{criterion.id}_met"


def criterion_exprs(framework: Framework, schema: pl.Schema) -> list[pl.Expr]:
    """Working columns: whether each criterion is answered and met (see ``framework_exprs``)."""
    exprs = []
    for crit in framework.criteria:
        exprs.append(answered(crit, schema).alias(_answered_column(framework, crit)))
        exprs.append(met(crit, schema).alias(_met_column(framework, crit)))
    return exprs


def framework_exprs(framework: Framework) -> list[pl.Expr]:
    """``fw_<id>_met`` (count), ``fw_<id>_missing`` (unknown criteria) and ``fw_<id>_passed``.

    They read the working columns of ``criterion_exprs``, computed in an earlier step, so
    each criterion is evaluated once.
    """
    met_cols = {crit.id: pl.col(_met_column(framework, crit)) for crit in framework.criteria}
    count = pl.sum_horizontal([e.cast(pl.UInt8) for e in met_cols.values()]).cast(pl.UInt8)
    missing = joined_labels(
        [(~pl.col(_answered_column(framework, crit)), crit.id) for crit in framework.criteria]
    )
    passed = count >= framework.at_least
    for req in framework.required:
        passed = passed & met_cols[req]
    fid = framework.id
    return [
        count.alias(c.framework_column(fid, "met")),
        pl.when(missing == "")
        .then(None)
        .otherwise(missing)
        .alias(c.framework_column(fid, "missing")),
        passed.alias(c.framework_column(fid, "passed")),
    ]
