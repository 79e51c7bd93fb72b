"""Funnel analytics as a use case: read the store or files into ``FunnelData`` and run a query.

Personal columns (e-mail, names, phone) are dropped as soon as the leads are read: no metric
needs them and nothing personal can leak into a report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import polars as pl

from leadgate.analytics.frames import BECAME, FunnelData
from leadgate.exceptions import UsageError
from leadgate.io import LEADS, OUTCOMES, FrameContract, contracts, read_frame
from leadgate.model import columns as c
from leadgate.model.loader import load_model

PERSONAL: Final = (c.EMAIL, c.FIRST_NAME, c.LAST_NAME, c.PHONE)

ANALYTICS_LEADS: Final = FrameContract(
    name="leads",
    required=(c.LEAD_ID,),
    types={
        **LEADS.types,
        c.STAGE: "string",
        **dict.fromkeys(BECAME.values(), "datetime"),
        **dict.fromkeys(
            (c.FIT_SCORE, c.ENGAGEMENT_SCORE, c.PRODUCT_SCORE, c.POTENTIAL_VALUE), "float"
        ),
        **dict.fromkeys((c.GRADE, c.SEGMENT, c.PERSONA, "owner_id", "campaign"), "string"),
        "first_touch_at": "datetime",
    },
    unique=c.LEAD_ID,
)
STAGE_HISTORY: Final = replace(
    contracts.STAGE_HISTORY, required=(c.LEAD_ID, "to_stage", c.OCCURRED_AT)
)
"""Analytics dates every stage, so its history file needs ``occurred_at`` too."""
FEEDBACK: Final = FrameContract(
    name="feedback",
    required=(c.LEAD_ID, "verdict"),
    types={c.LEAD_ID: "id", "verdict": "string", "reason": "string", c.CREATED_AT: "datetime"},
)


@dataclass(frozen=True)
class AnalyticsSource:
    """Where the data comes from: a database URL, or files (leads at least)."""

    database: str | None = None
    leads: Path | None = None
    stage_history: Path | None = None
    outcomes: Path | None = None
    feedback: Path | None = None
    model: Path | None = None


def _model_fields(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    model = load_model(path)
    return tuple(dict.fromkeys(model.lead_fields))


def _private(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([n for n in PERSONAL if n in frame.columns])


def _read(path: Path | None, contract: FrameContract) -> pl.DataFrame | None:
    return None if path is None else _private(read_frame(path, contract).frame)


def load_funnel_data(source: AnalyticsSource) -> FunnelData:
    """Read the analytics inputs from the store or from files.

    Raises:
        UsageError: Both or neither of a database and a leads file were given.
    """
    if (source.database is None) == (source.leads is None):
        raise UsageError(
            "Give either --database or --leads (with optional --stage-history, --outcomes).",
            hint="e.g. leadgate report --database sqlite:///leadgate.db",
        )
    fields = _model_fields(source.model)
    if source.database is not None:
        return _from_store(source.database, fields)
    leads = _read(source.leads, ANALYTICS_LEADS)
    assert leads is not None
    return FunnelData(
        leads=leads,
        stage_history=_read(source.stage_history, STAGE_HISTORY),
        outcomes=_read(source.outcomes, OUTCOMES),
        feedback=_read(source.feedback, FEEDBACK),
        model_fields=fields,
    )


def _from_store(url: str, fields: tuple[str, ...]) -> FunnelData:
    from leadgate.services.database import open_database
    from leadgate.storage import read_leads, read_outcomes, read_stage_history
    from leadgate.storage.analytics_frames import read_feedback, read_sla_clocks

    with open_database(url) as engine, engine.connect() as conn:
        leads = _private(read_leads(conn))
        return FunnelData(
            leads=leads,
            stage_history=read_stage_history(conn),
            outcomes=read_outcomes(conn),
            feedback=read_feedback(conn),
            model_fields=fields,
            sla_clocks=read_sla_clocks(conn),
        )


__all__ = [
    "ANALYTICS_LEADS",
    "FEEDBACK",
    "STAGE_HISTORY",
    "AnalyticsSource",
    "load_funnel_data",
]
