"""Data quality: ICP match, completeness of the model's fields, contacts per account and
multi-threaded opportunities."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from leadgate.analytics.frames import (
    FunnelData,
    TableResult,
    grouped,
    narrow,
    ratio,
    reached,
    resolve_by,
)
from leadgate.model import columns as c


def _icp_match(facts: pl.DataFrame, grades: tuple[str, ...]) -> pl.Expr | None:
    """True when the lead's fit grade letter is one of ``grades`` and it is not excluded."""
    if c.FIT_GRADE in facts.columns:
        letter = pl.col(c.FIT_GRADE).cast(pl.String).str.slice(0, 1)
    elif c.GRADE in facts.columns:
        letter = pl.col(c.GRADE).cast(pl.String).str.slice(0, 1)
    else:
        return None
    match = letter.is_in(list(grades))
    if c.IS_EXCLUDED in facts.columns:
        match = match & ~pl.col(c.IS_EXCLUDED).fill_null(value=False)
    return pl.when(letter.is_null()).then(None).otherwise(match)


def _engaged(facts: pl.DataFrame) -> pl.Expr:
    engaged = pl.col(reached("mql"))
    if c.ENGAGEMENT_SCORE in facts.columns:
        engaged = engaged | (pl.col(c.ENGAGEMENT_SCORE).fill_null(0) > 0)
    return engaged


@dataclass(frozen=True)
class DataQualityQuery:
    """ICP match %, contacts per account, contacts per opportunity, multi-threaded opp %.

    * ``icp_match``: share of graded leads whose fit grade is in ``icp_grades`` (and that no
      exclusion hit); null (no data) without a grade column.
    * ``contacts_per_account``: mean leads per account (leads with an ``account_id``).
    * ``contacts_per_opportunity``: mean contacts of accounts with an opportunity.
    * ``multi_threaded_opportunities``: share of accounts with an opportunity where at least
      ``min_engaged`` contacts engaged (engagement score > 0 or reached MQL).
    """

    icp_grades: tuple[str, ...] = ("A", "B")
    min_engaged: int = 2
    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        facts = data.facts
        notes: list[str] = []
        icp = _icp_match(facts, self.icp_grades)
        if icp is None:
            notes.append("ICP match: no data (leads have no grade)")
            icp = pl.lit(None, pl.Boolean)
        lead_level = grouped(
            facts,
            self.by,
            [pl.len().cast(pl.Int64).alias("leads"), icp.mean().alias("icp_match")],
        )
        if c.ACCOUNT_ID not in facts.columns:
            notes.append("contacts per account: no data (leads have no account_id)")
            table = lead_level.with_columns(
                pl.lit(None, pl.Float64).alias(name)
                for name in (
                    "contacts_per_account",
                    "contacts_per_opportunity",
                    "multi_threaded_opportunities",
                )
            )
            return TableResult("data_quality", table, tuple(notes))
        needed = [c.ACCOUNT_ID, c.ENGAGEMENT_SCORE, reached("mql"), reached("opportunity")]
        keyed = narrow(facts, self.by, needed).filter(pl.col(c.ACCOUNT_ID).is_not_null())
        keys = [*resolve_by(keyed, self.by), pl.col(c.ACCOUNT_ID)]
        accounts = keyed.group_by(keys).agg(
            pl.len().alias("contacts"),
            _engaged(facts).sum().alias("engaged"),
            pl.col(reached("opportunity")).any().alias("has_opportunity"),
        )
        has_opp = pl.col("has_opportunity")
        aggs = [
            pl.col("contacts").mean().alias("contacts_per_account"),
            pl.col("contacts").filter(has_opp).mean().alias("contacts_per_opportunity"),
            ratio((has_opp & (pl.col("engaged") >= self.min_engaged)).sum(), has_opp.sum()).alias(
                "multi_threaded_opportunities"
            ),
        ]
        if self.by:
            account_level = accounts.group_by(list(self.by)).agg(aggs)
            table = lead_level.join(account_level, on=list(self.by), how="left")
        else:
            table = pl.concat([lead_level, accounts.select(aggs)], how="horizontal")
        return TableResult("data_quality", table, tuple(notes))


@dataclass(frozen=True)
class FieldCompletenessQuery:
    """Share of leads with a value in each field the model reads (``FunnelData.model_fields``).

    A field the leads do not have at all is 0 % complete. Account fields (``account.x``) are
    counted when the leads frame carries them (joined), otherwise reported as absent.
    """

    fields: tuple[str, ...] = ()
    by: tuple[str, ...] = ()

    def run(self, data: FunnelData) -> TableResult:
        facts = data.facts
        names = list(dict.fromkeys(self.fields or data.model_fields))
        if not names:
            empty = pl.DataFrame(
                schema={"field": pl.String, "filled": pl.Int64, "completeness": pl.Float64}
            )
            return TableResult("field_completeness", empty, ("no model fields given",))
        frames = []
        notes = []
        for name in names:
            present = name in facts.columns
            if not present:
                notes.append(f"{name}: column absent")
            filled = pl.col(name).is_not_null().sum() if present else pl.lit(0, pl.UInt32)
            aggs = [filled.cast(pl.Int64).alias("filled"), pl.len().cast(pl.Int64).alias("leads")]
            frames.append(
                grouped(facts, self.by, aggs).select(
                    *self.by,
                    pl.lit(name).alias("field"),
                    "filled",
                    ratio(pl.col("filled"), pl.col("leads")).alias("completeness"),
                )
            )
        table = pl.concat(frames)
        return TableResult("field_completeness", table, tuple(notes))


__all__ = ["DataQualityQuery", "FieldCompletenessQuery"]
