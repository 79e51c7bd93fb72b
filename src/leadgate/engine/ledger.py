"""The ledger's shape: one row per contributing rule per lead, with compact rule columns.

Rule ids and kinds are ``pl.Enum`` columns (the model knows every id in advance), which keeps
a ledger of tens of millions of rows small and cheap to group, join and sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from leadgate.model import columns as c
from leadgate.model.compiled import QualificationModel

KINDS = ("fit", "engagement", "product")
KIND_DTYPE = pl.Enum(KINDS)
PERSONA_RULE = "persona"


def adjustment_ids(kind: str) -> tuple[str, str]:
    return f"{kind}_cap", f"{kind}_floor"


@dataclass(frozen=True)
class LedgerTypes:
    """The dtypes of a model's ledger columns."""

    rule_id: pl.Enum
    lead_id: pl.DataType

    def schema(self) -> pl.Schema:
        columns: dict[str, pl.DataType] = {
            c.LEAD_ID: self.lead_id,
            c.RULE_ID: self.rule_id,
            c.RULE_KIND: KIND_DTYPE,
            c.EVENT_COUNT: pl.UInt32(),
            c.RAW_POINTS: pl.Float64(),
            c.DECAY_FACTOR: pl.Float64(),
            c.POINTS: pl.Float64(),
        }
        return pl.Schema(columns)

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema())


def ledger_types(model: QualificationModel, lead_id: pl.DataType) -> LedgerTypes:
    rule_ids = list(dict.fromkeys(row[1] for row in catalogue_rows(model)))
    return LedgerTypes(rule_id=pl.Enum(rule_ids), lead_id=lead_id)


def catalogue_rows(model: QualificationModel) -> list[tuple[str, str, str]]:
    """(kind, rule id, description) for every rule that can appear in the ledger."""

    def words(rule_id: str, description: str) -> str:
        return description or rule_id.replace("_", " ")

    rows = [("fit", PERSONA_RULE, "Matches a buyer persona")]
    rows += [("fit", r.id, words(r.id, r.description)) for r in model.fit_rules]
    for kind, section in (("engagement", model.engagement), ("product", model.product)):
        rows += [(kind, r.id, words(r.id, r.description)) for r in section.rules]
        cap, floor = adjustment_ids(kind)
        rows += [
            (kind, cap, f"{kind.capitalize()} capped at the model's maximum"),
            (kind, floor, f"{kind.capitalize()} raised to the model's floor"),
        ]
    return rows


def rule_catalogue(model: QualificationModel) -> pl.DataFrame:
    """Every rule id with its kind and its description in words."""
    rows = catalogue_rows(model)
    types = ledger_types(model, pl.Int64())
    return pl.DataFrame(
        {
            c.RULE_KIND: pl.Series([r[0] for r in rows], dtype=KIND_DTYPE),
            c.RULE_ID: pl.Series([r[1] for r in rows], dtype=types.rule_id),
            c.DESCRIPTION: [r[2] for r in rows],
        }
    )
