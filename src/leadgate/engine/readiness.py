"""Readiness frameworks: which criteria are met, which are still unknown, pass or fail."""

from __future__ import annotations

import polars as pl

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


def framework_exprs(framework: Framework, schema: pl.Schema) -> list[pl.Expr]:
    """``fw_<id>_met`` (count), ``fw_<id>_missing`` (unknown criteria) and ``fw_<id>_passed``."""
    met_exprs = {crit.id: met(crit, schema) for crit in framework.criteria}
    count = pl.sum_horizontal([e.cast(pl.UInt8) for e in met_exprs.values()]).cast(pl.UInt8)
    missing = pl.concat_str(
        [pl.when(~answered(crit, schema)).then(pl.lit(crit.id)) for crit in framework.criteria],
        separator=",",
        ignore_nulls=True,
    )
    passed = count >= framework.at_least
    for req in framework.required:
        passed = passed & met_exprs[req]
    fid = framework.id
    return [
        count.alias(c.framework_column(fid, "met")),
        pl.when(missing == "")
        .then(None)
        .otherwise(missing)
        .alias(c.framework_column(fid, "missing")),
        passed.alias(c.framework_column(fid, "passed")),
    ]
