"""Lifecycle use cases: sales actions on one lead, and re-qualification of every stored lead.

Each use case is one transaction: the stage change, the lifecycle dates, the stage-history
row (with actor, reason, model version and the scores at that moment) and any feedback are
committed together or not at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from leadgate.engine.score import score
from leadgate.engine.transitions import (
    BECAME_AT,
    FROM_STAGE,
    REASON,
    RECHECK_AT,
    TO_STAGE,
    Move,
    apply_action,
    auto_transitions,
)
from leadgate.exceptions import NotFoundError
from leadgate.model import columns as c
from leadgate.model.artifact import artifact_document, is_artifact_path
from leadgate.model.compiled import QualificationModel
from leadgate.model.loader import load_model, load_spec
from leadgate.services import sla
from leadgate.storage import (
    append_stage_history,
    read_accounts,
    read_events,
    read_leads,
    save_model,
    transaction,
    update_lead_state,
)
from leadgate.storage.repositories import record_feedback

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

SCORE_COLUMNS: Final = (
    c.FIT_SCORE,
    c.ENGAGEMENT_SCORE,
    c.PRODUCT_SCORE,
    c.POTENTIAL_VALUE,
    c.GRADE,
    c.TEMPERATURE,
    c.SEGMENT,
    c.PERSONA,
    c.BUYING_ROLE,
)
RECOMMENDED: Final = "recommended_stage"
_FEEDBACK: Final = {"accept": "accepted", "recycle": "rejected", "disqualify": "rejected"}


@dataclass(frozen=True)
class StoredModel:
    """A compiled model and the artifact JSON stored with every score it makes."""

    model: QualificationModel
    artifact_json: str


def load_stored_model(path: Path) -> StoredModel:
    """Load a model file (YAML) or artifact (JSON) together with its artifact text."""
    if is_artifact_path(path):
        return StoredModel(load_model(path), path.read_text("utf-8"))
    document = artifact_document(load_spec(path))
    return StoredModel(load_model(path), json.dumps(document, sort_keys=True))


def _save(conn: Connection, stored: StoredModel, now: datetime) -> None:
    model = stored.model
    digest = str(json.loads(stored.artifact_json).get("sha256", ""))
    save_model(conn, model.version, model.name, digest, stored.artifact_json, now=now)


def read_store(
    conn: Connection, model: QualificationModel
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Leads, accounts and events as the engine expects them, read from the store.

    Custom fields and event properties live in JSON, so a field the model reads may have no
    value anywhere yet (no discovery answer recorded, no event with that property): it is
    added as an empty column, which conditions treat as missing.
    """
    leads = _with_fields(read_leads(conn), model.lead_fields)
    accounts = _with_fields(read_accounts(conn), model.account_fields)
    events = _with_fields(read_events(conn), model.event_fields)
    return leads, accounts, events


def _with_fields(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    absent = [
        name
        for name in dict.fromkeys(fields)
        if name not in frame.columns and not name.startswith(c.ACCOUNT_PREFIX)
    ]
    return frame.with_columns(pl.lit(None).alias(name) for name in absent)


@dataclass(frozen=True)
class ActionResult:
    """A sales action that was applied."""

    lead_id: str
    move: Move
    at: datetime


def perform_action(
    engine: Engine,
    lead_id: str,
    action: str,
    *,
    at: datetime,
    actor: str | None = None,
    reason: str | None = None,
    recheck_at: datetime | None = None,
    recheck_days: int = 30,
) -> ActionResult:
    """Apply a sales action (``accept``, ``recycle``, ``disqualify``, ``convert``, ``won``,
    ``lost``, ``reopen``) to one lead.

    Raises:
        NotFoundError: No lead has that id.
        TransitionError: The action is not allowed from the lead's stage, or lacks a reason.
    """
    with transaction(engine) as conn:
        leads = read_leads(conn, [lead_id])
        if not leads.height:
            raise NotFoundError(
                f"Lead {lead_id!r} is not in the database.",
                hint="Check the id, or import the lead first (leadgate import leads FILE).",
            )
        lead = leads.row(0, named=True)
        move = apply_action(
            lead[c.STAGE],
            action,
            reason=reason,
            at=at,
            recheck_at=recheck_at,
            recheck_days=recheck_days,
        )
        update = {c.LEAD_ID: str(lead_id), **_stage_fields(lead, move, at)}
        update_lead_state(conn, pl.DataFrame([update]), now=at)
        append_stage_history(conn, _history([lead], [move], action, actor, at))
        moved = pl.DataFrame({c.LEAD_ID: [str(lead_id)], TO_STAGE: [move.to_stage]})
        sla.on_stage_change(conn, None, moved, action=action, at=at)
        if action in _FEEDBACK:
            record_feedback(
                conn, str(lead_id), _FEEDBACK[action], created_at=at, actor=actor, reason=reason
            )
    return ActionResult(str(lead_id), move, at)


def _stage_fields(lead: dict[str, Any], move: Move, at: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {c.STAGE: move.to_stage, "stage_changed_at": at}
    became = BECAME_AT.get(move.to_stage)
    if became is not None:
        fields[became] = lead.get(became) or at
    if move.to_stage == "recycled":
        fields |= {"recycle_reason": move.reason, RECHECK_AT: move.recheck_at}
    if move.to_stage == "disqualified":
        fields["disqualified_reason"] = move.reason
    if move.to_stage == "new":  # reopened
        fields |= {"disqualified_reason": None, RECHECK_AT: None}
    return fields


def _history(
    leads: list[dict[str, Any]], moves: list[Move], action: str, actor: str | None, at: datetime
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            c.LEAD_ID: [str(lead[c.LEAD_ID]) for lead in leads],
            FROM_STAGE: [m.from_stage for m in moves],
            TO_STAGE: [m.to_stage for m in moves],
            "action": [action] * len(moves),
            "actor": [actor] * len(moves),
            REASON: [m.reason for m in moves],
            "occurred_at": [at] * len(moves),
            c.MODEL_VERSION: [lead.get(c.MODEL_VERSION) for lead in leads],
            c.FIT_SCORE: [lead.get(c.FIT_SCORE) for lead in leads],
            c.ENGAGEMENT_SCORE: [lead.get(c.ENGAGEMENT_SCORE) for lead in leads],
            c.PRODUCT_SCORE: [lead.get(c.PRODUCT_SCORE) for lead in leads],
            c.GRADE: [lead.get(c.GRADE) for lead in leads],
        },
        schema_overrides={
            "occurred_at": pl.Datetime("us", "UTC"),
            "actor": pl.String,
            REASON: pl.String,
            c.MODEL_VERSION: pl.String,
            c.FIT_SCORE: pl.Float64,
            c.ENGAGEMENT_SCORE: pl.Float64,
            c.PRODUCT_SCORE: pl.Float64,
            c.GRADE: pl.String,
        },
    )


@dataclass(frozen=True)
class RequalifySummary:
    """What a re-qualification run did."""

    model_version: str
    as_of: datetime
    leads: int
    events: int
    rescored: int
    moves: pl.DataFrame  # from_stage, to_stage, reason, leads
    seconds: dict[str, float]


def requalify(
    engine: Engine,
    model_path: Path,
    *,
    as_of: datetime,
    now: datetime,
    recheck_days: int = 30,
) -> RequalifySummary:
    """Rescore every stored lead as of ``as_of`` and apply the automatic stage moves.

    Only leads whose scores or stage change are written, so a second run with the same
    model, data and ``as_of`` writes nothing.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    stored = load_stored_model(model_path)
    model = stored.model
    with engine.connect() as conn:
        leads, accounts, events = read_store(conn, model)
    timings["read"] = time.perf_counter() - clock

    clock = time.perf_counter()
    result = score(leads, accounts, events, model, as_of=as_of, explain_points=False)
    state = leads.select(c.LEAD_ID, c.STAGE, RECHECK_AT)
    moves = auto_transitions(state, result.leads, as_of=as_of, recheck_days=recheck_days)
    timings["score"] = time.perf_counter() - clock

    clock = time.perf_counter()
    changed = _changed_scores(leads, result.leads, model.version)
    history = _auto_history(moves, result.leads, model.version, as_of)
    updates = _lead_updates(leads, changed, _moved_state(moves, leads, as_of))
    with transaction(engine) as conn:
        _save(conn, stored, now)
        if updates.height:
            update_lead_state(conn, updates, now=now)
        if history.height:
            append_stage_history(conn, history)
        if moves.height:
            _sla_clocks(conn, model, moves, result.leads, as_of)
    timings["write"] = time.perf_counter() - clock
    summary = (
        moves.group_by(FROM_STAGE, TO_STAGE, REASON)
        .len("leads")
        .sort("leads", FROM_STAGE, TO_STAGE, descending=[True, False, False])
    )
    return RequalifySummary(
        model_version=model.version,
        as_of=as_of,
        leads=leads.height,
        events=events.height,
        rescored=changed.height,
        moves=summary,
        seconds=timings,
    )


def _sla_clocks(
    conn: Connection,
    model: QualificationModel,
    moves: pl.DataFrame,
    scored: pl.DataFrame,
    as_of: datetime,
) -> None:
    """Stop the moved leads' SLA clocks and start those of the stages they entered."""
    moved = moves.select(pl.col(c.LEAD_ID).cast(pl.String), TO_STAGE)
    teams = None
    if model.slas:
        teams = sla.teams_for(conn, model, scored, moved.get_column(c.LEAD_ID).to_list())
    sla.on_stage_change(conn, model, moved, action="requalify", at=as_of, teams=teams)


def _changed_scores(stored: pl.DataFrame, scored: pl.DataFrame, version: str) -> pl.DataFrame:
    """Leads whose latest scores, recommendation or model differ from what is stored."""
    new = scored.select(
        pl.col(c.LEAD_ID).cast(pl.String),
        *[pl.col(name) for name in SCORE_COLUMNS],
        pl.col(c.STAGE).alias(RECOMMENDED),
        pl.lit(version).alias(c.MODEL_VERSION),
        pl.col(c.AS_OF).alias("scored_at"),
    )
    compared = [*SCORE_COLUMNS, RECOMMENDED, c.MODEL_VERSION]
    old = stored.select(
        pl.col(c.LEAD_ID).cast(pl.String),
        *[pl.col(n).cast(new.schema[n]).alias(f"__old_{n}") for n in compared],
    )
    joined = new.join(old, on=c.LEAD_ID, how="left")
    differs = pl.any_horizontal([pl.col(n).ne_missing(pl.col(f"__old_{n}")) for n in compared])
    return joined.filter(differs).select(new.columns)


def _lead_updates(leads: pl.DataFrame, changed: pl.DataFrame, moved: pl.DataFrame) -> pl.DataFrame:
    """One row per lead whose scores or stage changed, with both its score and stage columns.

    Writing both in one bulk update halves the work of two partial updates; the side that
    did not change is written back as stored.
    """
    state_columns = [name for name in moved.columns if name != c.LEAD_ID]
    score_columns = [name for name in changed.columns if name != c.LEAD_ID]
    ids = pl.concat([changed.get_column(c.LEAD_ID), moved.get_column(c.LEAD_ID)]).unique()
    stored = leads.select(
        pl.col(c.LEAD_ID).cast(pl.String),
        *[pl.col(n).cast(moved.schema[n]) for n in state_columns],
        *[pl.col(n).cast(changed.schema[n]) for n in score_columns],
    ).filter(pl.col(c.LEAD_ID).is_in(ids.implode()))
    return stored.update(moved, on=c.LEAD_ID, include_nulls=True).update(
        changed, on=c.LEAD_ID, include_nulls=True
    )


def _moved_state(moves: pl.DataFrame, leads: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """New stage, stage date, first-time lifecycle dates and recycle/disqualify details."""
    frame = moves.join(
        leads.select(c.LEAD_ID, *sorted(set(BECAME_AT.values()))), on=c.LEAD_ID, how="left"
    )
    moment = pl.lit(as_of).dt.cast_time_unit("us")
    to = pl.col(TO_STAGE)
    columns = [
        pl.col(c.LEAD_ID),
        to.alias(c.STAGE),
        moment.alias("stage_changed_at"),
        pl.col(RECHECK_AT),
        pl.when(to == "recycled").then(pl.col(REASON)).alias("recycle_reason"),
        pl.when(to == "disqualified").then(pl.col(REASON)).alias("disqualified_reason"),
    ]
    for stage, column in BECAME_AT.items():
        first = pl.when((to == stage) & pl.col(column).is_null()).then(moment)
        columns.append(first.otherwise(pl.col(column)).alias(column))
    return frame.select(columns)


def _auto_history(
    moves: pl.DataFrame, scored: pl.DataFrame, version: str, as_of: datetime
) -> pl.DataFrame:
    scores = scored.select(
        pl.col(c.LEAD_ID).cast(pl.String),
        c.FIT_SCORE,
        c.ENGAGEMENT_SCORE,
        c.PRODUCT_SCORE,
        c.GRADE,
    )
    return moves.join(scores, on=c.LEAD_ID, how="left").select(
        c.LEAD_ID,
        FROM_STAGE,
        TO_STAGE,
        pl.lit("requalify").alias("action"),
        pl.lit("leadgate").alias("actor"),
        REASON,
        pl.lit(as_of).dt.cast_time_unit("us").alias("occurred_at"),
        pl.lit(version).alias(c.MODEL_VERSION),
        c.FIT_SCORE,
        c.ENGAGEMENT_SCORE,
        c.PRODUCT_SCORE,
        c.GRADE,
    )


__all__ = [
    "ActionResult",
    "RequalifySummary",
    "StoredModel",
    "load_stored_model",
    "perform_action",
    "read_store",
    "requalify",
]
