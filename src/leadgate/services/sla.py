"""SLA use cases: start and stop clocks with stage changes, and sweep for breaches.

Clocks start when a lead enters a stage the model gives an SLA (inside the transaction of
the stage change), and stop on the first stage change after it: *met* or *breached* when
the action is one the SLA names (``stop_on``), *left* otherwise. The sweep marks clocks past
due as breached and escalates as the model says — ``reassign`` to the next eligible rep of
the team (a new clock starts for them) or ``notify`` the team's manager — writing the
outbox messages in the same transaction. The clock is read by the entry point, never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

import polars as pl

from leadgate.engine import routing as rt
from leadgate.engine import sla as eng
from leadgate.engine.inputs import utc_literal
from leadgate.model import columns as c
from leadgate.model.cache import ModelCache
from leadgate.services.routing import (
    message_id,
    read_roster,
    record_assignments,
    team_calendars,
)
from leadgate.storage import read_leads, subsets, transaction
from leadgate.storage import routing as store
from leadgate.storage.jobs import lock_job

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from leadgate.model.compiled import QualificationModel

REASSIGN_RULE: Final = "sla_reassign"
SWEEP_JOB: Final = "sla_sweep"
_UTC = pl.Datetime("us", "UTC")
#: Queries over a few clocks run unoptimised: optimising them costs more than it saves.
_PLAIN: Final = pl.QueryOptFlags.none()


def due_for(conn: Connection, clocks: pl.DataFrame) -> pl.Series:
    """Due times of ``clocks`` (``started_at, budget_seconds, working, team_id``)."""
    frame = clocks.select(
        pl.col("started_at"),
        pl.col("budget_seconds").alias(eng.SECONDS),
        pl.col("working"),
        pl.col("team_id"),
    )
    return eng.due_times(frame, team_calendars(conn)).alias("due_at")


def start_clocks(
    conn: Connection, model: QualificationModel, entered: pl.DataFrame, *, at: datetime
) -> int:
    """Start a clock for each lead that entered a stage with an SLA.

    Args:
        conn: Open transaction.
        model: Declares the SLAs.
        entered: ``lead_id, stage, team_id, owner_id`` (team: whose calendar counts).
        at: When the leads entered the stage.
    """
    return _start(conn, model, entered.lazy(), at)


def _sla_frame(model: QualificationModel) -> pl.LazyFrame:
    """The model's SLAs, one row per stage (kept per model: a pure function of it)."""
    return _SLA_FRAMES.get(model.version, model, lambda: _build_sla_frame(model))


def _build_sla_frame(model: QualificationModel) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "stage": [s.stage for s in model.slas],
            "budget_seconds": [s.seconds for s in model.slas],
            "working": [s.working for s in model.slas],
            "stop_on": [",".join(s.stop_on) for s in model.slas],
            "escalation": [s.escalate for s in model.slas],
        },
        schema={
            "stage": pl.String,
            "budget_seconds": pl.Int64,
            "working": pl.Boolean,
            "stop_on": pl.String,
            "escalation": pl.String,
        },
    )


_SLA_FRAMES: ModelCache[pl.LazyFrame] = ModelCache(8)


def _start(conn: Connection, model: QualificationModel, entered: pl.LazyFrame, at: datetime) -> int:
    clocks = (
        entered.join(_sla_frame(model), on="stage", how="inner")
        .with_columns(
            utc_literal(at).alias("started_at"),
            pl.lit(model.version).alias(c.MODEL_VERSION),
            pl.lit("open").alias("outcome"),
        )
        .collect(engine="in-memory", optimizations=_PLAIN)
    )
    if clocks.height == 0:
        return 0
    clocks = clocks.with_columns(due_for(conn, clocks))
    return store.insert_clocks(conn, clocks)


def stop_clocks(conn: Connection, lead_ids: list[str], action: str, *, at: datetime) -> int:
    """Stop the running clocks of leads whose stage changed by ``action`` at ``at``."""
    clocks = store.read_clocks(conn, open_only=True, lead_ids=lead_ids)
    if clocks.height == 0:
        return 0
    named = pl.col("stop_on").str.split(",").list.contains(pl.lit(action))
    in_time = pl.col("breached_at").is_null() & (
        pl.col("due_at").is_null() | (pl.col("due_at") >= at)
    )
    outcome = (
        pl.when(~named)
        .then(pl.lit("left"))
        .when(in_time)
        .then(pl.lit("met"))
        .otherwise(pl.lit("breached"))
    )
    stopped = clocks.select(
        "id",
        utc_literal(at).alias("stopped_at"),
        outcome.alias("outcome"),
        pl.lit(action).alias("stopped_by"),
    )
    return store.update_clocks(conn, stopped)


def on_stage_change(
    conn: Connection,
    model: QualificationModel | None,
    moves: pl.DataFrame,
    *,
    action: str,
    at: datetime,
    teams: pl.DataFrame | pl.LazyFrame | None = None,
) -> None:
    """Stop the moved leads' clocks and start the clocks of the stages they entered.

    Args:
        moves: ``lead_id, to_stage``.
        teams: ``lead_id, team_id, owner_id`` for the calendar (else the stored owner's);
            a query (see :func:`calendar_teams`) is collected with the clocks it starts.
    """
    if moves.height == 0:
        return
    ids = moves.get_column(c.LEAD_ID).cast(pl.String).to_list()
    stop_clocks(conn, ids, action, at=at)
    if model is None or not model.slas:
        return
    entered = moves.lazy().select(
        pl.col(c.LEAD_ID).cast(pl.String), pl.col("to_stage").alias("stage")
    )
    if teams is None:
        teams = _owner_teams(conn, ids)
    _start(conn, model, entered.join(teams.lazy(), on=c.LEAD_ID, how="left"), at)


def _owner_teams(
    conn: Connection, lead_ids: list[str], leads: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """``lead_id, team_id, owner_id``: the stored owner's team (a query over what is read)."""
    if leads is None:
        leads = read_leads(conn, lead_ids)
    owners = (
        leads.lazy()
        .select(pl.col(c.LEAD_ID).cast(pl.String), pl.col("owner_id").cast(pl.String))
        .filter(pl.col(c.LEAD_ID).is_in(lead_ids))
    )
    if leads.get_column("owner_id").null_count() == leads.height:  # nobody owns any of them
        return owners.select(c.LEAD_ID, _NO_TEAM, "owner_id")
    owned = owners.collect(engine="in-memory", optimizations=_PLAIN)
    if owned.get_column("owner_id").null_count() == owned.height:  # no read needed
        return owned.lazy().select(c.LEAD_ID, _NO_TEAM, "owner_id")
    roster = store.read_owners(conn).lazy().select("owner_id", "team_id")
    return (
        owned.lazy()
        .join(roster, on="owner_id", how="left")
        .select(c.LEAD_ID, "team_id", "owner_id")
    )


_NO_TEAM: Final = pl.lit(None, pl.String).alias("team_id")


def teams_for(
    conn: Connection,
    model: QualificationModel,
    scored: pl.DataFrame,
    lead_ids: list[str],
    *,
    leads: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Whose calendar counts for each lead: its owner's team, else the team routing picks.

    ``leads`` are the stored leads (with ``owner_id``) when the caller has just read them.
    """
    teams = calendar_teams(conn, model, scored, lead_ids, leads=leads)
    return teams.collect(engine="in-memory", optimizations=_PLAIN)


def calendar_teams(
    conn: Connection,
    model: QualificationModel,
    scored: pl.DataFrame,
    lead_ids: list[str],
    *,
    leads: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """:func:`teams_for` as a query (what it needs from the store is read now).

    For :func:`on_stage_change`, which collects it with the clocks it starts: on a
    real-time group's few leads each separate query's fixed cost is the work.
    """
    if leads is None:
        leads = read_leads(conn, lead_ids)
    owned = _owner_teams(conn, lead_ids, leads)
    frame, columns = _routing_input(conn, model, scored, leads, lead_ids)
    picked = rt.rule_matches(frame, columns, model)
    return (
        owned.lazy()
        .join(
            picked.select(c.LEAD_ID, pl.col("team_id").alias("__rule_team")),
            on=c.LEAD_ID,
            how="left",
        )
        .select(c.LEAD_ID, pl.coalesce("team_id", "__rule_team").alias("team_id"), "owner_id")
    )


def _routing_input(
    conn: Connection,
    model: QualificationModel,
    scored: pl.DataFrame,
    leads: pl.DataFrame,
    lead_ids: list[str],
) -> tuple[pl.LazyFrame, list[str]]:
    """What the routing rules read of these leads, as routing itself would see it (a query,
    and its columns).

    The segment is the new score's; every other field is the stored lead's (the engine's
    frame does not carry them: an EMEA rule on ``country`` would otherwise never match and
    the clock would run on another team's calendar); ``account.`` fields come from the
    leads' accounts.
    """
    fields = rt.routing_fields(model)
    own = [f for f in fields if not f.startswith(c.ACCOUNT_PREFIX) and f != c.SEGMENT]
    scored_segment = [c.SEGMENT] if c.SEGMENT in scored.columns else []
    stored_columns = [f for f in dict.fromkeys([c.ACCOUNT_ID, *own]) if f in leads.columns]
    stored = leads.lazy().select(
        pl.col(c.LEAD_ID).cast(pl.String), *[pl.col(f) for f in stored_columns]
    )
    frame = (
        scored.lazy()
        .select(pl.col(c.LEAD_ID).cast(pl.String), *[pl.col(f) for f in scored_segment])
        .filter(pl.col(c.LEAD_ID).is_in(lead_ids))
        .join(stored, on=c.LEAD_ID, how="left", maintain_order="left")
    )
    columns = [c.LEAD_ID, *scored_segment, *[f for f in stored_columns if f != c.LEAD_ID]]
    wanted = [f for f in fields if f.startswith(c.ACCOUNT_PREFIX)]
    if not wanted or c.ACCOUNT_ID not in columns:
        return frame, columns
    read = frame.collect(engine="in-memory", optimizations=_PLAIN)  # the accounts to read
    account_ids = read.get_column(c.ACCOUNT_ID).drop_nulls().unique().to_list()
    accounts = subsets.read_accounts(conn, [str(i) for i in account_ids])
    present = [f for f in wanted if f.removeprefix(c.ACCOUNT_PREFIX) in accounts.columns]
    named = accounts.select(
        pl.col(c.ACCOUNT_ID).cast(read.schema[c.ACCOUNT_ID]),
        *[pl.col(f.removeprefix(c.ACCOUNT_PREFIX)).alias(f) for f in present],
    )
    joined = read.lazy().join(named.lazy(), on=c.ACCOUNT_ID, how="left", maintain_order="left")
    return joined, [*columns, *present]


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep found and did, and the SLA figures as of ``now``."""

    now: datetime
    breached: int
    reassigned: int
    notified: int
    attainment: pl.DataFrame  # stage, met, breached, open, median/p90 response, attainment


def sweep(engine: Engine, model: QualificationModel, *, now: datetime) -> SweepSummary:
    """Mark clocks past due at ``now`` as breached and escalate each once.

    Sweeps are serialised across processes (the service's periodic sweep, a cron job, an
    admin call): a second sweep waits for the first to commit and then finds its breaches
    already marked, so none is escalated twice.
    """
    with transaction(engine) as conn:
        lock_job(conn, SWEEP_JOB, now=now)
        due = eng.breaches(store.read_clocks(conn, open_only=True), now)
        managers = {t["team_id"]: t.get("manager_id") for t in store.read_teams(conn)}
        reassign = due.filter(pl.col("escalation") == "reassign")
        moved = _reassign(conn, model, reassign, now) if reassign.height else reassign.head(0)
        moved_ids = set(moved.get_column(c.LEAD_ID).to_list()) if moved.height else set()
        marks = due.select(
            "id",
            utc_literal(now).alias("breached_at"),
            pl.when(pl.col("escalation") != "none").then(utc_literal(now)).alias("escalated_at"),
            pl.when(pl.col(c.LEAD_ID).is_in(list(moved_ids)))
            .then(utc_literal(now))
            .alias("stopped_at"),
            pl.lit("breached").alias("outcome"),
            pl.when(pl.col(c.LEAD_ID).is_in(list(moved_ids)))
            .then(pl.lit("reassign"))
            .alias("stopped_by"),
        )
        store.update_clocks(conn, marks)
        store.add_to_outbox(conn, _breach_messages(due, managers, moved_ids, now))
        figures = eng.attainment(store.read_clocks(conn), now)
    notified = due.filter(pl.col("escalation") == "notify").height
    return SweepSummary(now, due.height, len(moved_ids), notified, figures)


def _reassign(
    conn: Connection, model: QualificationModel, due: pl.DataFrame, now: datetime
) -> pl.DataFrame:
    """Give breached leads to the next eligible rep of their team; restart their clocks."""
    roster, load = read_roster(conn, now)
    nxt = rt.next_reps(due.select(c.LEAD_ID, "team_id", "owner_id"), roster, load)
    moved = (
        due.drop("owner_id")
        .join(nxt, on=c.LEAD_ID, how="inner")
        .filter(pl.col("owner_id").is_not_null())
    )
    if moved.height == 0:
        return moved
    assignments = moved.select(
        c.LEAD_ID,
        "owner_id",
        "team_id",
        pl.lit(REASSIGN_RULE).alias("rule_id"),
        pl.lit(None, pl.String).alias("method"),
        pl.lit("sla_breach").alias("reason"),
        pl.lit(None, pl.String).alias("escalate_to"),
    )
    record_assignments(conn, assignments, model.version, now)
    restarted = moved.select(
        c.LEAD_ID,
        "stage",
        "team_id",
        "owner_id",
        "budget_seconds",
        "working",
        "stop_on",
        "escalation",
        utc_literal(now).alias("started_at"),
        pl.lit(model.version).alias(c.MODEL_VERSION),
        pl.lit("open").alias("outcome"),
    )
    restarted = restarted.with_columns(due_for(conn, restarted))
    store.insert_clocks(conn, restarted)
    return moved


def _breach_messages(
    due: pl.DataFrame, managers: dict[str, str | None], moved: set[str], now: datetime
) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    for row in due.to_dicts():
        payload = {
            "lead_id": row[c.LEAD_ID],
            "stage": row["stage"],
            "owner_id": row["owner_id"],
            "team_id": row["team_id"],
            "due_at": row["due_at"].isoformat(),
            "escalation": row["escalation"],
            "reassigned": row[c.LEAD_ID] in moved,
            "notify": managers.get(row["team_id"]) if row["escalation"] == "notify" else None,
        }
        messages.append(
            {
                "message_id": message_id("sla.breached", str(row["id"])),
                "kind": "sla.breached",
                "payload": payload,
                "created_at": now,
            }
        )
    return messages


__all__ = [
    "SweepSummary",
    "calendar_teams",
    "due_for",
    "on_stage_change",
    "start_clocks",
    "stop_clocks",
    "sweep",
    "teams_for",
]
