"""Real-time ingest: store events and rescore the leads they name, in one transaction.

The service's single writer hands this module a *group* of requests (each one event, or a
batch of up to a thousand) and gets one result per request back. The whole group is one
transaction and one engine call: events are stored (idempotent by ``event_id``; a replay
is answered with the original receipt), the leads they name are rescored as of ``now``
with the stored model, automatic stage moves are applied with their SLA clocks and outbox
messages, and newly routable leads are assigned — committed together or not at all.

A request is checked on its own before it joins a group
(:func:`~leadgate.services.event_columns.check_events`), and one whose leads do not exist is
answered with an error inside the group without touching the others. Should the shared
transaction still fail, every request is retried alone, so a bad request can only fail
itself. Lead and account upserts live in ``records``, the events' own types in
``event_columns``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from leadgate.engine.transitions import TO_STAGE
from leadgate.exceptions import InputDataError
from leadgate.model import columns as c
from leadgate.services.event_columns import (
    EventColumns,
    EventInput,
    IngestOutcome,
    IngestResult,
    LeadRow,
    LeadState,
    field_problem,
)
from leadgate.services.lifecycle import AppliedScores, FieldTypes, HistoryReader, rescore_leads
from leadgate.services.scoring_history import HistoryCache
from leadgate.storage import insert_events, transaction
from leadgate.storage.live import STATE_COLUMNS, event_receipts, lead_states, live_lead_ids

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from leadgate.model.compiled import QualificationModel

log = logging.getLogger("leadgate.services.ingest")


def ingest_events(
    engine: Engine,
    model: QualificationModel,
    requests: Sequence[Sequence[EventInput]],
    *,
    now: datetime,
    recheck_days: int = 30,
    field_types: FieldTypes | None = None,
    history: HistoryCache | None = None,
) -> list[IngestResult]:
    """Store a group of event requests and rescore their leads in one transaction.

    Args:
        engine: The store (the model's version must be saved in it).
        model: Scores the leads.
        requests: Each request's events, checked with
            :func:`~leadgate.services.event_columns.check_events`.
        now: The server's clock: the receipt time and the moment the leads are scored at.
        recheck_days: When a lead decays out of MQL, look again after this many days.
        field_types: Kept by a long-lived caller so that every group is scored with the
            same input shape (see :class:`~leadgate.services.lifecycle.FieldTypes`).
        history: Kept by a long-lived caller (the service's single writer): the scoring
            history of the leads it rescored, used while the store says it is current (see
            :class:`~leadgate.services.scoring_history.HistoryCache`).

    Returns:
        One result per request, in order.
    """
    columns = [EventColumns.of(request) for request in requests]
    outcomes = ingest_columns(
        engine,
        model,
        columns,
        now=now,
        recheck_days=recheck_days,
        field_types=field_types,
        history=history,
    )
    return [outcome.result(events) for outcome, events in zip(outcomes, columns, strict=True)]


def ingest_columns(
    engine: Engine,
    model: QualificationModel,
    requests: Sequence[EventColumns],
    *,
    now: datetime,
    recheck_days: int = 30,
    field_types: FieldTypes | None = None,
    history: HistoryCache | None = None,
) -> list[IngestOutcome]:
    """:func:`ingest_events` for requests given as columns, answered in the compact form.

    The service's single writer uses this one: nothing in it is an object per event.
    """
    try:
        return _ingest_committed(engine, model, requests, now, recheck_days, field_types, history)
    except Exception as error:
        if len(requests) == 1:
            return [IngestOutcome(error=error)]
    # The shared transaction failed: retry each request alone so only the bad one fails.
    outcomes: list[IngestOutcome] = []
    for request in requests:
        try:
            outcomes += _ingest_committed(
                engine, model, [request], now, recheck_days, field_types, history
            )
        except Exception as error:  # reported to that request's caller only
            outcomes.append(IngestOutcome(error=error))
    return outcomes


def _ingest_committed(
    engine: Engine,
    model: QualificationModel,
    requests: Sequence[EventColumns],
    now: datetime,
    recheck_days: int,
    field_types: FieldTypes | None,
    history: HistoryCache | None,
) -> list[IngestOutcome]:
    try:
        with transaction(engine) as conn:
            outcomes = _ingest(conn, model, requests, now, recheck_days, field_types, history)
    except BaseException:
        if history is not None:  # what this transaction read was rolled back with it
            history.clear()
        raise
    if history is not None:
        try:
            history.commit()
        except Exception as error:  # the group is committed: only the copy may be lost
            history.clear()
            log.error("history cache dropped after %s", type(error).__name__)
    return outcomes


def _ingest(
    conn: Connection,
    model: QualificationModel,
    requests: Sequence[EventColumns],
    now: datetime,
    recheck_days: int,
    field_types: FieldTypes | None,
    history: HistoryCache | None = None,
) -> list[IngestOutcome]:
    if history is not None:  # first: it holds off every other writer of events
        history.begin(conn, model.event_fields)
    wanted = sorted(set().union(*(request.lead_ids for request in requests)))
    known = set(live_lead_ids(conn, wanted).to_list())
    outcomes: list[IngestOutcome | None] = [_unknown_leads(r, known) for r in requests]
    accepted = [i for i, outcome in enumerate(outcomes) if outcome is None]
    group = EventColumns.concat([requests[i] for i in accepted])  # the first of equal ids wins
    ids = group.event_ids
    stored = event_receipts(conn, sorted(set(ids)))
    before: dict[str, tuple[str, datetime]] = {
        event_id: (lead_id, received_at)
        for event_id, lead_id, received_at in stored.iter_rows()  # at most a group's events
    }
    # Where each event id first appears (of equal keys, the last one given stays).
    first = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1), strict=True))
    fresh = group.take(
        sorted(p for event_id, p in first.items() if event_id not in before)
        if before
        else sorted(first.values())
    )
    inserted = _event_frame(fresh) if len(fresh) else None
    if inserted is not None:
        insert_events(conn, inserted, now=now)
    touched = sorted(set(fresh.lead_ids))
    states: dict[str, LeadRow] = {}
    if touched:
        _, applied = rescore_leads(
            conn,
            model,
            touched,
            as_of=now,
            now=now,
            recheck_days=recheck_days,
            action="auto",
            field_types=field_types,
            history=None if history is None else _history_reader(history, fresh, inserted),
        )
        route_leads(conn, model, unassigned_in_routed_stage(model, applied, touched), now)
        states = _states(conn, touched)
    if history is not None:
        history.finish(conn)
    repeats = bool(before) or len(first) < len(ids)
    offset = 0
    for i in accepted:
        request = requests[i]
        duplicates: dict[int, tuple[str, datetime]] = {}
        if repeats:
            for j, event_id in enumerate(request.event_ids):
                if event_id in before:
                    duplicates[j] = before[event_id]
                elif first[event_id] != offset + j:
                    duplicates[j] = (group.lead_ids[first[event_id]], now)
        named = dict.fromkeys(request.lead_ids)
        leads = [states[lead_id] for lead_id in named if lead_id in states]
        outcomes[i] = IngestOutcome(now, duplicates, leads)
        offset += len(request)
    return [outcome if outcome is not None else IngestOutcome() for outcome in outcomes]


def _history_reader(
    history: HistoryCache, fresh: EventColumns, inserted: pl.DataFrame | None
) -> HistoryReader:
    """The cache's reader, told which events this group inserted.

    An event without any property is stored and read back as exactly its lead, type and
    time, so those are handed over as a frame; the others are read back from the store.
    """
    with_properties = [
        p
        for p, props in fresh.properties.items()
        if any(value is not None for value in props.values())
    ]
    frame = None
    if inserted is not None and len(with_properties) < len(fresh):
        frame = inserted.select(c.LEAD_ID, c.EVENT_TYPE, c.OCCURRED_AT)
        if with_properties:
            bare = [True] * len(fresh)
            for p in with_properties:
                bare[p] = False
            frame = frame.filter(pl.Series(bare, dtype=pl.Boolean))
    ids, leads = fresh.event_ids, fresh.lead_ids
    return history.reader({ids[p]: leads[p] for p in with_properties}, frame)


def _unknown_leads(request: EventColumns, known: set[str]) -> IngestOutcome | None:
    if known.issuperset(request.lead_ids):
        return None
    problems = [
        field_problem(
            "unknown_lead",
            f"lead_id {lead_id!r} is not in the database.",
            f"events[{i}].lead_id" if len(request) > 1 else "lead_id",
            "Create the lead first (PUT /v1/leads/{lead_id}), then send its events.",
        )
        for i, lead_id in enumerate(request.lead_ids)
        if lead_id not in known
    ]
    summary = (
        problems[0].message
        if len(problems) == 1
        else f"{len(problems)} events name leads that are not in the database."
    )
    return IngestOutcome(error=InputDataError(problems, summary=summary))


def _event_frame(events: EventColumns) -> pl.DataFrame:
    """The events as a frame; each property becomes a column (mixed types become text)."""
    base = pl.DataFrame(
        [
            pl.Series(c.EVENT_ID, events.event_ids, dtype=pl.String),
            pl.Series(c.LEAD_ID, events.lead_ids, dtype=pl.String),
            pl.Series(c.EVENT_TYPE, events.event_types, dtype=pl.String),
            pl.Series(c.OCCURRED_AT, events.occurred_at, dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            ),
        ]
    )
    if not events.properties:
        return base
    given = events.properties
    props = pl.from_dicts(
        [dict(given.get(i, {})) for i in range(len(events))], infer_schema_length=None, strict=False
    )
    return base.hstack(props) if props.width else base


def route_leads(
    conn: Connection, model: QualificationModel, lead_ids: list[str], now: datetime
) -> None:
    """Assign those of ``lead_ids`` that routing picks up (none without routing rules)."""
    if not model.routing.rules or not lead_ids:
        return
    from leadgate.services.routing import route_within

    route_within(conn, model, lead_ids=lead_ids, at=now)


def unassigned_in_routed_stage(
    model: QualificationModel, applied: AppliedScores, touched: list[str]
) -> list[str]:
    """The rescored leads that routing would pick up: in a routed stage, with no owner.

    Worked out from the leads as read and their moves, so that a group in which no lead is
    routable (most of them: a page view rarely moves a lead) reads nothing more. Without
    the leads as read, every touched lead is handed to routing (which then reads them).
    """
    stored = applied.leads
    if stored is None:
        return touched
    if not stored.height or not model.routing.rules:
        return []
    moved = applied.moves.lazy().select(pl.col(c.LEAD_ID).cast(pl.String), pl.col(TO_STAGE))
    routable = (  # one unoptimised query: a group's few leads
        stored.lazy()
        .select(pl.col(c.LEAD_ID).cast(pl.String), c.STAGE, "owner_id")
        .join(moved, on=c.LEAD_ID, how="left")
        .filter(
            pl.coalesce(TO_STAGE, c.STAGE).is_in(list(model.routing.stages))
            & pl.col("owner_id").is_null()
        )
        .collect(engine="in-memory", optimizations=pl.QueryOptFlags.none())
    )
    return sorted(set(routable.get_column(c.LEAD_ID).to_list()))


def read_lead_states(conn: Connection, lead_ids: list[str]) -> dict[str, LeadState]:
    """Where each of ``lead_ids`` stands now, by id."""
    return {lead_id: LeadState(*row) for lead_id, row in _states(conn, lead_ids).items()}


def _states(conn: Connection, lead_ids: list[str]) -> dict[str, LeadRow]:
    rows = lead_states(conn, lead_ids).select(STATE_COLUMNS).iter_rows()
    return {row[0]: row for row in rows}


__all__ = [
    "ingest_columns",
    "ingest_events",
    "read_lead_states",
    "route_leads",
    "unassigned_in_routed_stage",
]
