"""Scoring files: read and check the inputs, score them, and write the results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from leadgate.engine import ScoreResult, score
from leadgate.exceptions import Problem, UsageError
from leadgate.io import ACCOUNTS, EVENTS, LEADS, align_id_types, read_frame, write_frame
from leadgate.io import write_problems_report as _write_problems
from leadgate.io.contracts import FrameContract
from leadgate.model import columns as c
from leadgate.model import load_model
from leadgate.model.compiled import QualificationModel

Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ScoreRequest:
    """What to score: a model and the input files, as of a moment."""

    model: Path
    leads: Path
    as_of: datetime
    accounts: Path | None = None
    events: Path | None = None
    skip_invalid: bool = False
    only_leads: tuple[str, ...] = ()
    #: a trained predictor: adds p_convert, expected value and its reasons (stages may read it)
    predictor: Path | None = None


@dataclass(frozen=True)
class ScoreRun:
    """A finished scoring run: the result and the rows that could not be used."""

    model: QualificationModel
    result: ScoreResult
    problems: tuple[Problem, ...] = ()
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class _Reads:
    skip_invalid: bool
    problems: list[Problem] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)

    def frame(self, path: Path | None, contract: FrameContract) -> pl.DataFrame | None:
        if path is None:
            return None
        result = read_frame(path, contract, skip_invalid=self.skip_invalid)
        self.problems += result.problems
        self.read[contract.name] = result.rows_read
        self.rejected[contract.name] = result.rows_rejected
        return result.frame


def score_files(request: ScoreRequest, step: Step = _quiet) -> ScoreRun:
    """Load the model and files, then score.

    Raises:
        ModelError: the model is invalid.
        InputDataError: a file is unreadable, or has bad rows and ``skip_invalid`` is off.
    """
    step("Loading the model")
    model = load_model(request.model)
    reads = _Reads(request.skip_invalid)
    step("Reading leads")
    leads = reads.frame(request.leads, LEADS)
    assert leads is not None
    step("Reading accounts")
    accounts = reads.frame(request.accounts, ACCOUNTS)
    step("Reading events")
    events = reads.frame(request.events, EVENTS)
    leads, accounts, events = _align(leads, accounts, events)
    if request.only_leads:
        leads = _only(leads, request.only_leads)
        if events is not None:
            events = events.filter(pl.col(c.LEAD_ID).is_in(leads[c.LEAD_ID].implode()))
    predictions = None
    if request.predictor is not None:
        from leadgate.services.predicting import attach_predictions

        step("Predicting conversion")
        leads, predictions = attach_predictions(
            request.predictor, model, leads, accounts, events, request.as_of
        )
    else:
        from leadgate.services.predicting import require_predictor

        require_predictor(model)
    step(f"Scoring {leads.height:,} leads")
    result = score(leads, accounts, events, model, as_of=request.as_of)
    if predictions is not None:
        from dataclasses import replace

        from leadgate.services.predicting import merge_predictions

        result = replace(result, leads=merge_predictions(result.leads, predictions, model))
    return ScoreRun(
        model=model,
        result=result,
        problems=tuple(reads.problems),
        rows_read=reads.read,
        rows_rejected=reads.rejected,
    )


def _align(
    leads: pl.DataFrame, accounts: pl.DataFrame | None, events: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame | None]:
    if events is not None:
        leads, events = align_id_types((leads, c.LEAD_ID), (events, c.LEAD_ID))
    if accounts is not None and c.ACCOUNT_ID in leads.columns:
        leads, accounts = align_id_types((leads, c.ACCOUNT_ID), (accounts, c.ACCOUNT_ID))
    return leads, accounts, events


def _only(leads: pl.DataFrame, ids: tuple[str, ...]) -> pl.DataFrame:
    column = leads.get_column(c.LEAD_ID)
    wanted: list[object] = list(ids)
    if column.dtype.is_integer():
        try:
            wanted = [int(i) for i in ids]
        except ValueError:
            raise UsageError(
                f"lead ids {', '.join(ids)} are not numbers, but the leads file's ids are.",
                hint="pass the lead_id exactly as it appears in the leads file",
            ) from None
    picked = leads.filter(column.is_in(pl.Series(wanted, dtype=column.dtype).implode()))
    unknown = sorted(set(map(str, wanted)) - set(map(str, picked[c.LEAD_ID].to_list())))
    if unknown:
        raise UsageError(
            f"no lead with id {', '.join(unknown)} in the leads file.",
            hint="check the id, or the --leads file",
        )
    return picked


def write_outputs(
    result: ScoreResult,
    out: Path,
    *,
    ledger_out: Path | None = None,
    accounts_out: Path | None = None,
) -> list[Path]:
    """Write scores (and optionally the ledger and accounts); returns the paths written."""
    write_frame(result.leads, out)
    written = [out]
    if ledger_out is not None and result.ledger is not None:
        write_frame(result.ledger, ledger_out)
        written.append(ledger_out)
    if accounts_out is not None:
        write_frame(result.accounts, accounts_out)
        written.append(accounts_out)
    return written


def write_problems_report(problems: tuple[Problem, ...], next_to: Path) -> Path:
    """Write the rejected-rows report beside an input or output file."""
    path = next_to.with_name(next_to.name.split(".")[0] + ".problems.csv")
    _write_problems(list(problems), path)
    return path
