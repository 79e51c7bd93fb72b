"""The single scoring entry point used by batch, real time, backtests and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from leadgate.engine.inputs import check_as_of, check_inputs
from leadgate.engine.plan import plan_for
from leadgate.model.compiled import QualificationModel, ThresholdRef


@dataclass(frozen=True)
class ScoreResult:
    """Scores per lead, the ledger that explains them, and the account roll-up."""

    leads: pl.DataFrame
    ledger: pl.DataFrame | None
    accounts: pl.DataFrame
    model_version: str
    #: the moment scored at, or the name of the leads' column holding each lead's own moment
    as_of: datetime | str


def score(
    leads: pl.DataFrame,
    accounts: pl.DataFrame | None,
    events: pl.DataFrame | None,
    model: QualificationModel,
    *,
    as_of: datetime | str,
    explain_points: bool = True,
) -> ScoreResult:
    """Score leads as of a moment, explain every point, and roll contacts up to accounts.

    Events after ``as_of`` are ignored, so scoring "as of last March" reproduces what a live
    system would have said then. Inputs are never modified. The model's expressions are
    built once per model version and input shape and then reused (``engine/plan.py``), so
    scoring one lead costs a few milliseconds.

    Args:
        leads: one row per lead; needs ``lead_id`` and the fields the model reads.
        accounts: one row per account (``account_id`` and the ``account.`` fields used).
        events: ``lead_id``, ``event_type``, ``occurred_at`` (UTC) and event properties.
        model: a compiled qualification model.
        as_of: the moment to score at (timezone-aware), or the name of a column of ``leads``
            holding each lead's own moment (timezone-aware, no nulls, one row per lead). Then
            every lead is scored exactly as if it were scored alone at its own moment: only its
            events at or before that moment count, and decay, windows and ``within_days`` are
            measured from it. Account roll-ups use those per-lead results.
        explain_points: also build the ledger and the top reasons.

    Example:
        >>> result = score(leads, accounts, events, model, as_of=datetime(2026, 3, 1, tzinfo=UTC))
        >>> result.leads.select("lead_id", "grade", "stage")
    """
    if not isinstance(as_of, str):
        as_of = check_as_of(as_of)
    column = as_of if isinstance(as_of, str) else None
    inputs = check_inputs(model, leads, accounts, events, as_of_column=column)
    plan = plan_for(model, inputs, as_of_column=column, explain_points=explain_points)
    leads_out, ledger, accounts_out = plan.run(inputs, as_of)
    return ScoreResult(
        leads=leads_out,
        ledger=ledger,
        accounts=accounts_out,
        model_version=model.version,
        as_of=as_of,
    )


__all__ = ["ScoreResult", "ThresholdRef", "score"]
