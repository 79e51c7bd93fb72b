"""Lifecycle use cases: sales actions on one lead, and re-qualification of every stored lead.

Each use case is one transaction: the stage change, the lifecycle dates, the stage-history
row (with actor, reason, model version and the scores at that moment) and any feedback are
committed together or not at all.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from leadgate.engine.inputs import utc_literal
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
from leadgate.exceptions import NotFoundError, PermissionDeniedError
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
from leadgate.storage.live import append_outbox, read_scoring_events
from leadgate.storage.repositories import record_feedback
from leadgate.storage.subsets import read_accounts as read_accounts_for

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
STAGE_CHANGED: Final = "lead.stage_changed"
_NO_MOVES: Final = pl.DataFrame(
    schema={
        c.LEAD_ID: pl.String,
        FROM_STAGE: pl.String,
        TO_STAGE: pl.String,
        REASON: pl.String,
        RECHECK_AT: pl.Datetime("us", "UTC"),
    }
)
HistoryReader = Callable[["Connection", list[str], Sequence[str]], pl.DataFrame]
"""Reads the scoring events of some leads (see :func:`read_store_for`)."""
#: Small queries run unoptimised: on a real-time group's few rows optimising costs more.
_PLAIN: Final = pl.QueryOptFlags.none()
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


def save_stored_model(conn: Connection, stored: StoredModel, now: datetime) -> None:
    """Store the model artifact once (scores, moves and assignments refer to its version)."""
    model = stored.model
    digest = str(json.loads(stored.artifact_json).get("sha256", ""))
    save_model(conn, model.version, model.name, digest, stored.artifact_json, now=now)


def register_model(engine: Engine, stored: StoredModel, *, now: datetime) -> None:
    """Store the model artifact (once) so the scores and moves made with it can name it."""
    with transaction(engine) as conn:
        save_stored_model(conn, stored, now)


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


def read_store_for(
    conn: Connection,
    model: QualificationModel,
    lead_ids: Sequence[str],
    *,
    field_types: FieldTypes | None = None,
    scoring_only: bool = False,
    history: HistoryReader | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Like :func:`read_store` for some leads only: them, their accounts and their events.

    With ``field_types``, a custom field that is empty for all of these leads gets the type
    it had before (see :class:`FieldTypes`). With ``scoring_only``, the events hold only the
    columns scoring reads (no event ids, only the properties the model names). With
    ``history``, the events come from it instead (called with the connection, the lead ids
    and the model's event fields; it must return what ``scoring_only`` reads).
    """
    leads = read_leads(conn, list(lead_ids))
    account_ids = leads.get_column(c.ACCOUNT_ID).drop_nulls().unique().to_list()
    accounts = read_accounts_for(conn, account_ids)
    if not accounts.height:  # the engine needs the account columns even when there are none
        accounts = read_accounts_for(conn, []).with_columns(pl.col(c.ACCOUNT_ID).cast(pl.String))
    if history is not None:
        events = history(conn, list(lead_ids), model.event_fields)
    elif scoring_only:
        events = read_scoring_events(conn, list(lead_ids), model.event_fields)
    else:
        events = read_events(conn, list(lead_ids))
    if field_types is None:
        leads = _with_fields(leads, model.lead_fields)
        accounts = _with_fields(accounts, model.account_fields)
        events = _with_fields(events, model.event_fields)
        return leads, accounts, events
    # What ``_with_fields`` then ``field_types.steady`` give, in one query per frame.
    leads = field_types.shaped(leads, "leads", model.lead_fields)
    accounts = field_types.shaped(accounts, "accounts", model.account_fields)
    events = field_types.shaped(events, "events", model.event_fields)
    return leads, accounts, events


@dataclass
class FieldTypes:
    """The types custom fields were read with, to give all-empty ones the same type again.

    Custom fields and event properties live in JSON, so their column type is inferred from
    the rows read: for a handful of leads whose ``budget`` is unknown it is ``Null``, for
    others ``Boolean``. Every such difference is another input shape for the engine, and
    another plan to build (its plan cache is keyed by shape). A long-lived caller (the
    service's ingest writer) keeps one of these and passes it in, so that an all-empty
    column is cast to the type the field had before — the type a read of every lead gives.
    """

    seen: dict[tuple[str, str], pl.DataType] = field(default_factory=dict)

    def shaped(self, frame: pl.DataFrame, part: str, names: Sequence[str]) -> pl.DataFrame:
        """The frame with the fields ``names`` it lacks added as empty columns (not the
        ``account.`` ones), and every all-empty field given the type it was read with
        before, if any; the type of a field read with values is remembered. One query.
        """
        schema = frame.schema
        columns: list[pl.Expr] = []
        for name in dict.fromkeys(names):
            dtype = schema.get(name)
            known = self.seen.get((part, name))
            if dtype is None:
                if not name.startswith(c.ACCOUNT_PREFIX):
                    columns.append(pl.lit(None, known).alias(name))
            elif dtype == pl.Null:
                if known is not None:
                    columns.append(pl.col(name).cast(known))
            elif known is None:
                self.seen[(part, name)] = dtype
        return frame.with_columns(columns) if columns else frame


def rescore_leads(
    conn: Connection,
    model: QualificationModel,
    lead_ids: Sequence[str],
    *,
    as_of: datetime,
    now: datetime,
    recheck_days: int = 30,
    action: str = "auto",
    field_types: FieldTypes | None = None,
    history: HistoryReader | None = None,
) -> tuple[pl.DataFrame, AppliedScores]:
    """Rescore some stored leads in the caller's transaction and apply their stage moves.

    Real-time ingest calls this with the leads its events name: only those leads, their
    accounts and their events are read, scored with the same engine as batch scoring.

    Returns:
        The engine's lead frame and what was written (with the stored leads as read).
    """
    leads, accounts, events = read_store_for(
        conn, model, lead_ids, field_types=field_types, scoring_only=True, history=history
    )
    if not leads.height:
        return leads, AppliedScores(0, _NO_MOVES, leads)
    result = score(leads, accounts, events, model, as_of=as_of, explain_points=False)
    applied = apply_scores(
        conn,
        model,
        leads,
        result.leads,
        as_of=as_of,
        now=now,
        recheck_days=recheck_days,
        action=action,
    )
    return result.leads, AppliedScores(applied.rescored, applied.moves, leads)


def _with_fields(frame: pl.DataFrame, fields: tuple[str, ...]) -> pl.DataFrame:
    absent = [
        name
        for name in dict.fromkeys(fields)
        if name not in frame.columns and not name.startswith(c.ACCOUNT_PREFIX)
    ]
    if not absent:  # even an empty ``with_columns`` is a query
        return frame
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
    model: QualificationModel | None = None,
    only_owner: str | None = None,
) -> ActionResult:
    """Apply a sales action (``accept``, ``recycle``, ``disqualify``, ``convert``, ``won``,
    ``lost``, ``reopen``) to one lead.

    The stage change, its history row, the SLA clocks it stops (and, given the ``model``,
    the clocks of the stage it enters), the feedback and a ``lead.stage_changed`` outbox
    message commit together.

    Args:
        only_owner: Refuse unless the lead is owned by this rep (a sales key acting);
            checked inside the transaction, so a reassignment cannot slip in between.

    Raises:
        NotFoundError: No lead has that id, or it was erased.
        PermissionDeniedError: ``only_owner`` is given and does not own the lead.
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
        if lead.get("erased_at") is not None:
            raise NotFoundError(f"Lead {lead_id!r} was erased.", hint="Check the id.")
        if only_owner is not None and lead.get("owner_id") != only_owner:
            raise PermissionDeniedError(
                f"Lead {lead_id!r} is not assigned to rep {only_owner!r}.",
                hint="A rep may act on their own leads only.",
            )
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
        history = _history([lead], [move], action, actor, at)
        append_stage_history(conn, history)
        append_outbox(conn, stage_messages(history))
        moved = pl.DataFrame({c.LEAD_ID: [str(lead_id)], TO_STAGE: [move.to_stage]})
        sla.on_stage_change(conn, model, moved, action=action, at=at)
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
    timings["score"] = time.perf_counter() - clock

    clock = time.perf_counter()
    with transaction(engine) as conn:
        save_stored_model(conn, stored, now)
        applied = apply_scores(
            conn, model, leads, result.leads, as_of=as_of, now=now, recheck_days=recheck_days
        )
    timings["write"] = time.perf_counter() - clock
    moves = applied.moves
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
        rescored=applied.rescored,
        moves=summary,
        seconds=timings,
    )


@dataclass(frozen=True)
class AppliedScores:
    """What writing a scoring run back to the store changed."""

    rescored: int  # leads whose scores, recommendation or model changed
    moves: pl.DataFrame  # lead_id, from_stage, to_stage, reason, recheck_at
    leads: pl.DataFrame | None = None  # the stored leads as read before (rescore_leads)


def apply_scores(
    conn: Connection,
    model: QualificationModel,
    leads: pl.DataFrame,
    scored: pl.DataFrame,
    *,
    as_of: datetime,
    now: datetime,
    recheck_days: int = 30,
    action: str = "requalify",
) -> AppliedScores:
    """Write fresh scores and the automatic stage moves they imply, in the caller's transaction.

    Shared by batch re-qualification (every lead) and real-time ingest (the leads an event
    names): only leads whose scores or stage change are written; each move gets its
    stage-history row, its SLA clocks stopped and started, and a ``lead.stage_changed``
    outbox message.

    Args:
        conn: Open transaction.
        model: The model that scored (its version is recorded).
        leads: The stored leads that were scored (``read_leads`` columns).
        scored: The engine's lead frame for them.
        as_of: The moment scored at (the time of the moves).
        now: The time stamped on updated rows.
        recheck_days: When a decayed lead is recycled, look again after this many days.
        action: Recorded in the stage history (``requalify`` or ``auto`` for ingest).
    """
    state = leads.select(c.LEAD_ID, c.STAGE, RECHECK_AT)
    moves = auto_transitions(state, scored, as_of=as_of, recheck_days=recheck_days)
    # The frames to write are lazy queries over these few inputs, collected together: for
    # the handful of leads of a real-time group each eager step's fixed cost is the work.
    # Their expressions and types are worked out once per input shape (see ``_Shape``).
    changed_query = _changed_scores(leads, scored, model.version)
    moved_query = _moved_state(moves, leads, as_of)
    update_query = _lead_updates(
        leads,
        changed_query,
        moved_query,
        changed_types=_changed_exprs(_shape(scored, _SCORED), model.version)[2],
        moved_types=_moved_types(_shape(moves, moves.columns), _shape(leads, _BECAME)),
    )
    queries = [changed_query, update_query]
    if moves.height:
        history_query = _auto_history(moves, scored, model.version, as_of, action)
        queries += [history_query, _stage_messages(history_query, _HISTORY_COLUMNS)]
    changed, updates, *moved = pl.collect_all(queries, engine="in-memory", optimizations=_PLAIN)
    if updates.height:
        update_lead_state(conn, updates, now=now)
    if moved and moved[0].height:
        history, messages = moved
        append_stage_history(conn, history)
        append_outbox(conn, messages)
    if moves.height:
        _sla_clocks(conn, model, moves, scored, leads, as_of, action)
    return AppliedScores(changed.height, moves)


def stage_messages(history: pl.DataFrame) -> pl.DataFrame:
    """One ``lead.stage_changed`` outbox message per stage-history row.

    The id is stable (lead, stage entered, moment), so a use case that is retried never
    queues the same change twice. The payload holds ids, stages and scores, never the
    person's data or the acting user.
    """
    return _stage_messages(history.lazy()).collect(engine="in-memory", optimizations=_PLAIN)


def _stage_messages(history: pl.LazyFrame, columns: tuple[str, ...] | None = None) -> pl.LazyFrame:
    """The messages of ``history`` (whose column names are ``columns``, when known)."""
    if columns is None:
        columns = tuple(history.collect_schema().names())
    return history.select(_message_exprs(columns))


@functools.lru_cache(maxsize=8)
def _message_exprs(columns: tuple[str, ...]) -> tuple[pl.Expr, ...]:
    at = pl.col("occurred_at").dt.convert_time_zone("UTC")
    fields = [
        pl.col(c.LEAD_ID).cast(pl.String),
        pl.col(FROM_STAGE).cast(pl.String),
        pl.col(TO_STAGE).cast(pl.String),
        pl.col("action").cast(pl.String),
        pl.col(REASON).cast(pl.String),
        at.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").alias("occurred_at"),
        *[
            pl.col(name).cast(dtype) if name in columns else pl.lit(None, dtype).alias(name)
            for name, dtype in (
                (c.MODEL_VERSION, pl.String),
                (c.GRADE, pl.String),
                (c.FIT_SCORE, pl.Float64),
                (c.ENGAGEMENT_SCORE, pl.Float64),
            )
        ],
    ]
    return (
        pl.concat_str(
            pl.lit(STAGE_CHANGED),
            pl.col(c.LEAD_ID).cast(pl.String),
            pl.col(TO_STAGE),
            at.dt.epoch("us").cast(pl.String),
            separator=":",
        ).alias("message_id"),
        pl.lit(STAGE_CHANGED).alias("kind"),
        pl.struct(fields).struct.json_encode().alias("payload"),
        at.dt.cast_time_unit("us").alias("created_at"),
    )


def _sla_clocks(
    conn: Connection,
    model: QualificationModel,
    moves: pl.DataFrame,
    scored: pl.DataFrame,
    leads: pl.DataFrame,
    as_of: datetime,
    action: str,
) -> None:
    """Stop the moved leads' SLA clocks and start those of the stages they entered."""
    # Two columns of a few rows: Series operations, not a query.
    moved = pl.DataFrame([moves.get_column(c.LEAD_ID).cast(pl.String), moves.get_column(TO_STAGE)])
    teams = None
    if model.slas:  # a query, collected with the clocks it starts
        ids = moved.get_column(c.LEAD_ID).to_list()
        teams = sla.calendar_teams(conn, model, scored, ids, leads=leads)
    sla.on_stage_change(conn, model, moved, action=action, at=as_of, teams=teams)


def _changed_scores(stored: pl.DataFrame, scored: pl.DataFrame, version: str) -> pl.LazyFrame:
    """Leads whose latest scores, recommendation or model differ from what is stored."""
    new_columns, old_columns, types = _changed_exprs(_shape(scored, _SCORED), version)
    joined = (
        scored.lazy()
        .select(new_columns)
        .join(stored.lazy().select(old_columns), on=c.LEAD_ID, how="left")
    )
    return joined.filter(_DIFFERS).select([name for name, _ in types])


_Shape = tuple[tuple[str, ...], tuple[pl.DataType, ...]]
"""Column names and types: what the expressions of a query over a frame depend on.

The queries that write a scoring run back are the same for every real-time group but for
their inputs, whose shape rarely changes: their expressions (and the types they give) are
built once per shape and kept, as building them costs more than running them on a few rows.
"""
_COMPARED: Final = (*SCORE_COLUMNS, RECOMMENDED, c.MODEL_VERSION)
_DIFFERS: Final = pl.any_horizontal([pl.col(n).ne_missing(pl.col(f"__old_{n}")) for n in _COMPARED])


_SCORED: Final = (c.LEAD_ID, *SCORE_COLUMNS, c.STAGE, c.AS_OF)
"""The columns of the engine's lead frame that are written back."""


def _shape(frame: pl.DataFrame, names: Sequence[str]) -> _Shape:
    """The shape of ``frame``'s columns ``names`` (a query reading only those)."""
    return tuple(names), tuple(frame.get_column(name).dtype for name in names)


def _empty(shape: _Shape) -> pl.LazyFrame:
    return pl.LazyFrame(schema=dict(zip(*shape, strict=True)))


@functools.lru_cache(maxsize=32)
def _changed_exprs(
    scored: _Shape, version: str
) -> tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...], tuple[tuple[str, pl.DataType], ...]]:
    """The new and the stored columns :func:`_changed_scores` compares, and its types."""
    new = (
        pl.col(c.LEAD_ID).cast(pl.String),
        *[pl.col(name) for name in SCORE_COLUMNS],
        pl.col(c.STAGE).alias(RECOMMENDED),
        pl.lit(version).alias(c.MODEL_VERSION),
        pl.col(c.AS_OF).alias("scored_at"),
    )
    types = _empty(scored).select(new).collect_schema()
    old = (
        pl.col(c.LEAD_ID).cast(pl.String),
        *[pl.col(n).cast(types[n]).alias(f"__old_{n}") for n in _COMPARED],
    )
    return new, old, tuple(types.items())


def _lead_updates(
    leads: pl.DataFrame,
    changed: pl.LazyFrame,
    moved: pl.LazyFrame,
    *,
    changed_types: tuple[tuple[str, pl.DataType], ...] | None = None,
    moved_types: tuple[tuple[str, pl.DataType], ...] | None = None,
) -> pl.LazyFrame:
    """One row per lead whose scores or stage changed, with both its score and stage columns.

    Writing both in one bulk update halves the work of two partial updates; the side that
    did not change is written back as stored. (Two left joins: what ``update`` with
    ``include_nulls`` does, in one query and without its own schema look-ups.) The types of
    ``changed`` and ``moved`` are looked up unless given.
    """
    if moved_types is None:
        moved_types = tuple(moved.collect_schema().items())
    if changed_types is None:
        changed_types = tuple(changed.collect_schema().items())
    stored_columns, columns = _update_exprs(moved_types, changed_types)
    return (
        leads.lazy()
        .select(stored_columns)
        .join(
            moved.with_columns(pl.lit(True).alias("__moved")),
            on=c.LEAD_ID,
            how="left",
            suffix="__m",
            maintain_order="left",
        )
        .join(
            changed.with_columns(pl.lit(True).alias("__changed")),
            on=c.LEAD_ID,
            how="left",
            suffix="__c",
            maintain_order="left",
        )
        .filter(pl.col("__moved").is_not_null() | pl.col("__changed").is_not_null())
        .select(columns)
    )


@functools.lru_cache(maxsize=32)
def _update_exprs(
    moved_types: tuple[tuple[str, pl.DataType], ...],
    changed_types: tuple[tuple[str, pl.DataType], ...],
) -> tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...]]:
    """The stored columns :func:`_lead_updates` reads, and the columns it gives."""
    state_columns = [(n, t) for n, t in moved_types if n != c.LEAD_ID]
    score_columns = [(n, t) for n, t in changed_types if n != c.LEAD_ID]
    stored = (
        pl.col(c.LEAD_ID).cast(pl.String),
        *[pl.col(n).cast(t) for n, t in state_columns],
        *[pl.col(n).cast(t) for n, t in score_columns],
    )
    in_moved, in_changed = pl.col("__moved"), pl.col("__changed")
    columns = (
        pl.col(c.LEAD_ID),
        *[
            pl.when(in_moved.is_not_null()).then(pl.col(f"{n}__m")).otherwise(pl.col(n)).alias(n)
            for n, _ in state_columns
        ],
        *[
            pl.when(in_changed.is_not_null()).then(pl.col(f"{n}__c")).otherwise(pl.col(n)).alias(n)
            for n, _ in score_columns
        ],
    )
    return stored, columns


def _moved_state(moves: pl.DataFrame, leads: pl.DataFrame, as_of: datetime) -> pl.LazyFrame:
    """New stage, stage date, first-time lifecycle dates and recycle/disqualify details."""
    frame = moves.lazy().join(leads.lazy().select(_BECAME), on=c.LEAD_ID, how="left")
    return frame.with_columns(utc_literal(as_of).alias(_MOMENT)).select(_MOVED_COLUMNS)


def _moved_columns() -> tuple[pl.Expr, ...]:
    """:func:`_moved_state`'s columns; the moment of the moves is the column ``_MOMENT``."""
    moment = pl.col(_MOMENT)
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
    return tuple(columns)


_MOMENT: Final = "__moment"
_BECAME: Final = (c.LEAD_ID, *sorted(set(BECAME_AT.values())))
_MOVED_COLUMNS: Final = _moved_columns()
_HISTORY_COLUMNS: Final = (
    c.LEAD_ID,
    FROM_STAGE,
    TO_STAGE,
    "action",
    "actor",
    REASON,
    "occurred_at",
    c.MODEL_VERSION,
    c.FIT_SCORE,
    c.ENGAGEMENT_SCORE,
    c.PRODUCT_SCORE,
    c.GRADE,
)
"""The columns of :func:`_auto_history`."""


@functools.lru_cache(maxsize=32)
def _moved_types(moves: _Shape, leads: _Shape) -> tuple[tuple[str, pl.DataType], ...]:
    """The types of :func:`_moved_state` for inputs of these shapes."""
    frame = _empty(moves).join(_empty(leads).select(_BECAME), on=c.LEAD_ID, how="left")
    moment = pl.lit(None, pl.Datetime("us", "UTC")).alias(_MOMENT)  # as ``utc_literal``
    return tuple(frame.with_columns(moment).select(_MOVED_COLUMNS).collect_schema().items())


def _auto_history(
    moves: pl.DataFrame, scored: pl.DataFrame, version: str, as_of: datetime, action: str
) -> pl.LazyFrame:
    scores = scored.lazy().select(
        pl.col(c.LEAD_ID).cast(pl.String),
        c.FIT_SCORE,
        c.ENGAGEMENT_SCORE,
        c.PRODUCT_SCORE,
        c.GRADE,
    )
    return (
        moves.lazy()
        .join(scores, on=c.LEAD_ID, how="left")
        .select(
            c.LEAD_ID,
            FROM_STAGE,
            TO_STAGE,
            pl.lit(action).alias("action"),
            pl.lit("leadgate").alias("actor"),
            REASON,
            utc_literal(as_of).alias("occurred_at"),
            pl.lit(version).alias(c.MODEL_VERSION),
            c.FIT_SCORE,
            c.ENGAGEMENT_SCORE,
            c.PRODUCT_SCORE,
            c.GRADE,
        )
    )


__all__ = [
    "STAGE_CHANGED",
    "ActionResult",
    "AppliedScores",
    "FieldTypes",
    "HistoryReader",
    "RequalifySummary",
    "StoredModel",
    "apply_scores",
    "load_stored_model",
    "perform_action",
    "read_store",
    "read_store_for",
    "register_model",
    "requalify",
    "rescore_leads",
    "save_stored_model",
    "stage_messages",
]
