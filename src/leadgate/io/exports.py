"""Scores back into a CRM: leadgate's output columns renamed to the CRM's import headers.

HubSpot matches import headers to contact/company properties by label or internal name, so
the scores go to custom properties named ``leadgate_*``; Salesforce matches Data Loader
columns to field API names, so they go to custom fields ``Leadgate_*__c``. Create those
properties/fields in the CRM once (see ``docs/imports.md``). Write the result with
:func:`~leadgate.io.write_frame`, which makes CSV safe from formula injection.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import polars as pl

from leadgate.exceptions import UsageError
from leadgate.io.contracts import OWNER
from leadgate.model import columns as c

_SCORES: Final = (
    c.FIT_SCORE,
    c.ENGAGEMENT_SCORE,
    c.PRODUCT_SCORE,
    c.POTENTIAL_VALUE,
    c.GRADE,
    c.FIT_GRADE,
    c.ENGAGEMENT_GRADE,
    c.TEMPERATURE,
    c.STAGE,
    c.SEGMENT,
    c.PERSONA,
    c.EXCLUSION_REASON,
    c.MISSING_FIELDS,
    c.TOP_REASONS,
    c.MODEL_VERSION,
    c.AS_OF,
)


def _hubspot(key: str) -> dict[str, str]:
    names = {c.TOP_REASONS: "reasons", c.AS_OF: "scored_at"}
    return {
        key: "Record ID",
        **({c.EMAIL: "Email", OWNER: "Contact owner"} if key == c.LEAD_ID else {}),
        **{column: f"leadgate_{names.get(column, column)}" for column in _SCORES},
    }


def _salesforce_field(column: str) -> str:
    names = {c.TOP_REASONS: "reasons", c.AS_OF: "scored_at"}
    words = names.get(column, column).split("_")
    return "Leadgate_" + "_".join(word.capitalize() for word in words) + "__c"


def _salesforce() -> dict[str, str]:
    return {
        c.LEAD_ID: "Id",
        c.EMAIL: "Email",
        OWNER: "OwnerId",
        **{column: _salesforce_field(column) for column in _SCORES},
    }


_ACCOUNT_SCORES: Final = (
    c.ACCOUNT_SCORE,
    c.CONTACT_COUNT,
    c.ENGAGED_CONTACTS,
    c.ROLE_COVERAGE,
    c.ROLES_MISSING,
    c.IS_MQA,
    c.MODEL_VERSION,
    c.AS_OF,
)

EXPORT_COLUMNS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "hubspot-contacts": _hubspot(c.LEAD_ID),
        "hubspot-companies": {
            c.ACCOUNT_ID: "Record ID",
            c.DOMAIN: "Company Domain Name",
            **{
                column: f"leadgate_{'scored_at' if column == c.AS_OF else column}"
                for column in _ACCOUNT_SCORES
            },
        },
        "salesforce-leads": _salesforce(),
        "salesforce-contacts": _salesforce(),
    }
)
"""``{leadgate column: CRM import header}`` for every built-in mapping."""

LIST_SEPARATOR: Final = "; "


def _flat(name: str, dtype: pl.DataType) -> pl.Expr:
    """Lists (reasons, missing fields) as ``"; "``-joined text, which every CRM can hold."""
    if isinstance(dtype, pl.List):
        return pl.col(name).list.eval(pl.element().cast(pl.String)).list.join(LIST_SEPARATOR)
    return pl.col(name)


def export_frame(scores: pl.DataFrame, mapping_name: str) -> pl.DataFrame:
    """Scores renamed to a CRM's import headers, ready for :func:`~leadgate.io.write_frame`.

    Only columns the CRM format names are kept, in its order; list columns are joined with
    ``"; "``. The record id column must be present.

    Example:
        ``write_frame(export_frame(result.leads, "hubspot-contacts"), "hubspot.csv")`` gives
        ``Record ID,Email,leadgate_fit_score,...,leadgate_grade,leadgate_stage,...``.

    Raises:
        UsageError: Unknown mapping name or no record id column in ``scores``.
    """
    headers = EXPORT_COLUMNS.get(mapping_name)
    if headers is None:
        raise UsageError(
            f"There is no export format {mapping_name!r}.",
            hint=f"Use one of {', '.join(EXPORT_COLUMNS)} (custom mappings only import).",
        )
    key = next(iter(headers))
    if key not in scores.columns:
        raise UsageError(
            f"Cannot export to {mapping_name}: the scores have no {key!r} column.",
            hint=f"Pass the scored frame with its {key} column (e.g. ScoreResult.leads).",
        )
    present = [column for column in headers if column in scores.columns]
    return scores.select(
        _flat(column, scores.schema[column]).alias(headers[column]) for column in present
    )
