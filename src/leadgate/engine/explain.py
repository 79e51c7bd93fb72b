"""The fit part of the ledger, and the top reasons per lead in words."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from leadgate.engine.fit import fit_columns
from leadgate.engine.ledger import KIND_DTYPE, LedgerTypes, rule_catalogue
from leadgate.model import columns as c
from leadgate.model.compiled import QualificationModel

TOP_REASONS = 3

Query = Callable[[pl.LazyFrame], pl.LazyFrame]


def fit_ledger(model: QualificationModel, types: LedgerTypes) -> Query:
    """The query giving ledger rows for the fit rules and persona points of each lead."""
    names = fit_columns(model)
    row = [
        pl.col(c.LEAD_ID),
        pl.col(c.RULE_ID).replace_strict(names, return_dtype=types.rule_id),
        pl.lit("fit", KIND_DTYPE).alias(c.RULE_KIND),
        pl.lit(None, pl.UInt32).alias(c.EVENT_COUNT),
        pl.col(c.POINTS).alias(c.RAW_POINTS),
        pl.lit(1.0).alias(c.DECAY_FACTOR),
        pl.col(c.POINTS).round(2),
    ]
    contributed = pl.col(c.POINTS) != 0

    def query(leads: pl.LazyFrame) -> pl.LazyFrame:
        long = leads.select(c.LEAD_ID, *names).unpivot(
            index=c.LEAD_ID, on=list(names), variable_name=c.RULE_ID, value_name=c.POINTS
        )
        return long.filter(contributed).select(row)

    return query


def describe(ledger: pl.LazyFrame, model: QualificationModel) -> pl.LazyFrame:
    """Add each rule's description in words (use on a few leads' rows, not millions)."""
    return ledger.join(
        rule_catalogue(model).lazy(),
        on=[c.RULE_KIND, c.RULE_ID],
        how="left",
        maintain_order="left",
    )


def top_reasons(model: QualificationModel) -> Query:
    """The query giving, per lead, the largest contributions in words, e.g.
    ``+40 Requested a demo (2 events)``.

    The largest rows are picked on numbers first (by absolute points, ties by rule order in
    the model); only those few rows per lead are turned into text.
    """
    order = [pl.col(c.LEAD_ID), pl.col(c.POINTS).abs(), pl.col(c.RULE_ID).to_physical()]
    catalogue = rule_catalogue(model)
    sign = pl.when(pl.col(c.POINTS) >= 0).then(pl.lit("+")).otherwise(pl.lit(""))
    count = pl.col(c.EVENT_COUNT)
    events = (
        pl.when(count == 1)
        .then(pl.lit(" (1 event)"))
        .when(count > 1)
        .then(pl.format(" ({} events)", count))
        .otherwise(pl.lit(""))
    )
    text = pl.format("{}{} {}{}", sign, pl.col(c.POINTS), pl.col(c.DESCRIPTION), events)
    reasons = text.str.join("; ").alias(c.TOP_REASONS)
    contributed = pl.col(c.POINTS) != 0

    def query(ledger: pl.LazyFrame) -> pl.LazyFrame:
        top = (
            ledger.filter(contributed)
            .select(c.LEAD_ID, c.RULE_KIND, c.RULE_ID, c.POINTS, c.EVENT_COUNT)
            .sort(order, descending=[False, True, False])
            .group_by(c.LEAD_ID, maintain_order=True)
            .head(TOP_REASONS)
        )
        described = top.join(
            catalogue.lazy(), on=[c.RULE_KIND, c.RULE_ID], how="left", maintain_order="left"
        )
        return described.group_by(c.LEAD_ID, maintain_order=True).agg(reasons)

    return query
