"""Export stored leads — lifecycle stage, latest scores, grade, owner and reasons — for a CRM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from leadgate.engine.score import score
from leadgate.exceptions import UsageError
from leadgate.io import write_frame
from leadgate.io.contracts import OWNER
from leadgate.io.exports import EXPORT_COLUMNS, export_frame
from leadgate.model import columns as c
from leadgate.services.lifecycle import (
    RECOMMENDED,
    SCORE_COLUMNS,
    load_stored_model,
    read_store,
)
from leadgate.storage import read_leads

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

PLAIN: Final = "leadgate"
FORMATS: Final = (PLAIN, *(name for name in EXPORT_COLUMNS if name != "hubspot-companies"))
_STORED: Final = (
    c.LEAD_ID,
    c.EMAIL,
    c.ACCOUNT_ID,
    "owner_id",
    c.STAGE,
    *SCORE_COLUMNS,
    RECOMMENDED,
    c.MODEL_VERSION,
    "scored_at",
)


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    rows: int
    format: str
    rescored: bool


def export_leads(
    engine: Engine,
    out: Path,
    *,
    format: str = PLAIN,
    model: Path | None = None,
    as_of: datetime | None = None,
) -> ExportSummary:
    """Write every stored lead's stage, scores, grade and owner, in a CRM's import format.

    With ``model`` the leads are rescored as of ``as_of`` first, which adds the top reasons
    in words and refreshes the scores; the lifecycle stage is always the stored one.
    CSV output is safe from spreadsheet formula injection.
    """
    if format not in FORMATS:
        raise UsageError(f"Unknown export format {format!r}.", hint=f"Use one of {FORMATS}.")
    with engine.connect() as conn:
        leads = read_leads(conn)
        stored = leads.select([n for n in _STORED if n in leads.columns]).rename(
            {"owner_id": OWNER, "scored_at": c.AS_OF}
        )
        if model is not None:
            if as_of is None:
                raise UsageError("Rescoring for export needs an as-of time.", hint="--as-of")
            compiled = load_stored_model(model).model
            leads, accounts, events = read_store(conn, compiled)
            result = score(leads, accounts, events, compiled, as_of=as_of)
            fresh = result.leads.drop(c.STAGE, c.ACCOUNT_ID)
            keep = [n for n in stored.columns if n == c.LEAD_ID or n not in fresh.columns]
            stored = stored.select(keep).join(
                fresh, on=c.LEAD_ID, how="left", maintain_order="left"
            )
    frame = stored if format == PLAIN else export_frame(stored, format)
    write_frame(frame, out)
    return ExportSummary(out, frame.height, format, model is not None)


__all__ = ["FORMATS", "ExportSummary", "export_leads"]
