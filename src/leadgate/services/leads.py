"""Read views of the service — one lead in full, a rep's queue — and lead-scoped writes.

The lead view shows the stored scores and lifecycle, the consent flag, the ledger that
explains the scores *now* (the lead is scored again with the same engine, as of ``now``),
a timeline of events, stage changes and assignments, and the open SLA clock. The queue
ranks a rep's open leads for the next call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from leadgate.engine.explain import describe
from leadgate.engine.score import score
from leadgate.exceptions import NotFoundError
from leadgate.model import columns as c
from leadgate.services.lifecycle import read_store_for
from leadgate.services.privacy import (
    CONSENT_OK,
    CONSENT_REASON,
    ConsentPolicy,
    consent_flags,
    erase_lead,
)
from leadgate.services.privacy import record_consent as store_consent
from leadgate.storage import read_leads, read_stage_history, transaction, upsert_outcomes
from leadgate.storage import routing as routing_store
from leadgate.storage.live import read_lead_assignments, read_owner_leads
from leadgate.storage.repositories import get_lead_state

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from leadgate.model.compiled import QualificationModel
    from leadgate.services.privacy import ErasureSummary

TIMELINE_EVENTS: Final = 200
"""The lead view lists at most this many of the latest events."""
QUEUE_ORDER: Final = {"mql": 0, "pql": 0, "sal": 1, "sql": 2, "opportunity": 3, "iql": 4}
"""A rep's queue, most urgent first: new qualified leads (their SLA clock runs), then
accepted, then sales-qualified, then open opportunities, then information-qualified."""
QUEUE_STAGES: Final = (*QUEUE_ORDER, "new")
_CONTACT: Final = (c.EMAIL, c.FIRST_NAME, c.LAST_NAME, c.TITLE, c.COUNTRY, c.SOURCE)
_SCORES: Final = (
    c.FIT_SCORE,
    c.ENGAGEMENT_SCORE,
    c.PRODUCT_SCORE,
    c.POTENTIAL_VALUE,
    c.GRADE,
    c.TEMPERATURE,
    c.SEGMENT,
    c.PERSONA,
    c.BUYING_ROLE,
    "recommended_stage",
    "scored_at",
    c.MODEL_VERSION,
)


@dataclass(frozen=True)
class LedgerLine:
    """One rule's contribution to a score, in words."""

    kind: str
    rule_id: str
    description: str | None
    points: float
    events: int | None
    decay_factor: float | None


@dataclass(frozen=True)
class TimelineItem:
    """Something that happened to a lead: an event, a stage change or an assignment."""

    at: datetime
    kind: str  # event | stage | assignment
    summary: str
    details: dict[str, Any]


@dataclass(frozen=True)
class SlaClock:
    """An SLA clock that is still running."""

    stage: str
    started_at: datetime
    due_at: datetime | None
    breached_at: datetime | None
    owner_id: str | None
    team_id: str | None


@dataclass(frozen=True)
class LeadDetail:
    """Everything the service shows about one lead."""

    lead_id: str
    account_id: str | None
    owner_id: str | None
    stage: str
    stage_changed_at: datetime | None
    contact: dict[str, Any]
    scores: dict[str, Any]
    consent_ok: bool
    consent_reason: str | None
    why_as_of: datetime
    why: tuple[LedgerLine, ...]
    missing_fields: str | None
    timeline: tuple[TimelineItem, ...]
    sla: tuple[SlaClock, ...]


def lead_detail(
    engine: Engine, model: QualificationModel, lead_id: str, *, now: datetime
) -> LeadDetail:
    """One lead with its scores, consent flag, ledger as of ``now``, timeline and SLA clock.

    Raises:
        NotFoundError: No such lead, or it was erased.
    """
    with engine.connect() as conn:
        leads, accounts, events = read_store_for(conn, model, [lead_id])
        if not leads.height or leads.item(0, "erased_at") is not None:
            raise NotFoundError(f"No lead {lead_id!r}.", hint="Check the lead id.")
        flags = consent_flags(conn, [lead_id], policy=ConsentPolicy.of(model))
        history = read_stage_history(conn, lead_id)
        assignments = read_lead_assignments(conn, lead_id)
        clocks = routing_store.read_clocks(conn, open_only=True, lead_ids=[lead_id])
    result = score(leads, accounts, events, model, as_of=now, explain_points=True)
    assert result.ledger is not None
    lead = leads.row(0, named=True)
    flag: dict[str, Any] = (
        flags.row(0, named=True) if flags.height else {CONSENT_OK: True, CONSENT_REASON: None}
    )
    return LeadDetail(
        lead_id=str(lead[c.LEAD_ID]),
        account_id=lead.get(c.ACCOUNT_ID),
        owner_id=lead.get("owner_id"),
        stage=str(lead[c.STAGE]),
        stage_changed_at=lead.get("stage_changed_at"),
        contact={name: lead.get(name) for name in _CONTACT},
        scores={name: lead.get(name) for name in _SCORES},
        consent_ok=bool(flag[CONSENT_OK]),
        consent_reason=flag[CONSENT_REASON],
        why_as_of=now,
        why=_ledger_lines(result.ledger, model),
        missing_fields=result.leads.item(0, c.MISSING_FIELDS),
        timeline=_timeline(events, history, assignments),
        sla=tuple(
            SlaClock(
                row["stage"],
                row["started_at"],
                row["due_at"],
                row["breached_at"],
                row["owner_id"],
                row["team_id"],
            )
            for row in clocks.iter_rows(named=True)
        ),
    )


def _ledger_lines(ledger: pl.DataFrame, model: QualificationModel) -> tuple[LedgerLine, ...]:
    described = (
        describe(ledger.lazy(), model)
        .filter(pl.col(c.POINTS) != 0)
        .sort(pl.col(c.POINTS).abs(), descending=True)
        .collect()
    )
    return tuple(
        LedgerLine(
            kind=str(row[c.RULE_KIND]),
            rule_id=str(row[c.RULE_ID]),
            description=row[c.DESCRIPTION],
            points=float(row[c.POINTS]),
            events=row[c.EVENT_COUNT],
            decay_factor=row[c.DECAY_FACTOR],
        )
        for row in described.iter_rows(named=True)  # one lead's rules: a few dozen rows
    )


def _timeline(
    events: pl.DataFrame, history: pl.DataFrame, assignments: pl.DataFrame
) -> tuple[TimelineItem, ...]:
    core = {c.EVENT_ID, c.LEAD_ID, c.EVENT_TYPE, c.OCCURRED_AT}
    items: list[TimelineItem] = []
    latest = events.sort(c.OCCURRED_AT, c.EVENT_ID).tail(TIMELINE_EVENTS)
    for row in latest.iter_rows(named=True):
        props = {k: v for k, v in row.items() if k not in core and v is not None}
        items.append(
            TimelineItem(
                row[c.OCCURRED_AT],
                "event",
                str(row[c.EVENT_TYPE]),
                {"event_id": row[c.EVENT_ID], "properties": props},
            )
        )
    for row in history.iter_rows(named=True):
        items.append(
            TimelineItem(
                row["occurred_at"],
                "stage",
                f"{row['from_stage'] or '—'} → {row['to_stage']}",
                {k: row[k] for k in ("from_stage", "to_stage", "action", "reason")},
            )
        )
    for row in assignments.iter_rows(named=True):
        items.append(
            TimelineItem(
                row["assigned_at"],
                "assignment",
                f"assigned to {row['owner_id'] or 'nobody'}",
                {k: row[k] for k in ("owner_id", "team_id", "rule_id", "reason")},
            )
        )
    order = {"event": 0, "stage": 1, "assignment": 2}
    return tuple(sorted(items, key=lambda item: (item.at, order[item.kind])))


@dataclass(frozen=True)
class QueueItem:
    """One lead in a rep's queue, with what ranked it there."""

    rank: int
    lead_id: str
    stage: str
    grade: str | None
    fit_score: float | None
    engagement_score: float | None
    expected_value: float | None
    p_convert: float | None
    potential_value: float | None
    due_at: datetime | None
    breached: bool


def rep_queue(engine: Engine, owner_id: str, *, limit: int = 100) -> list[QueueItem]:
    """A rep's open leads, most urgent first.

    Ranked by stage (:data:`QUEUE_ORDER`), then expected value and probability to convert
    when a predictor has stored them, then fit + engagement, then the SLA due time.
    """
    with engine.connect() as conn:
        leads = read_owner_leads(conn, owner_id, QUEUE_STAGES)
        clocks = routing_store.read_clocks(
            conn, open_only=True, lead_ids=leads.get_column(c.LEAD_ID).to_list()
        )
    due = clocks.group_by(c.LEAD_ID).agg(
        pl.col("due_at").min(), pl.col("breached_at").is_not_null().any().alias("breached")
    )
    for name in ("expected_value", "p_convert"):
        if name not in leads.columns:
            leads = leads.with_columns(pl.lit(None, pl.Float64).alias(name))
    ranked = (
        leads.with_columns(
            pl.col(c.STAGE).replace_strict(QUEUE_ORDER, default=9).alias("__stage"),
            (pl.col(c.FIT_SCORE).fill_null(0) + pl.col(c.ENGAGEMENT_SCORE).fill_null(0)).alias(
                "__total"
            ),
            pl.col("expected_value").cast(pl.Float64, strict=False),
            pl.col("p_convert").cast(pl.Float64, strict=False),
        )
        .join(due, on=c.LEAD_ID, how="left")
        .sort(
            ["__stage", "expected_value", "p_convert", "__total", "due_at", c.LEAD_ID],
            descending=[False, True, True, True, False, False],
            nulls_last=True,
        )
        .head(limit)
    )
    return [
        QueueItem(
            rank=i + 1,
            lead_id=row[c.LEAD_ID],
            stage=row[c.STAGE],
            grade=row[c.GRADE],
            fit_score=row[c.FIT_SCORE],
            engagement_score=row[c.ENGAGEMENT_SCORE],
            expected_value=row["expected_value"],
            p_convert=row["p_convert"],
            potential_value=row[c.POTENTIAL_VALUE],
            due_at=row["due_at"],
            breached=bool(row["breached"]),
        )
        for i, row in enumerate(ranked.iter_rows(named=True))
    ]


def erase(engine: Engine, lead_id: str, *, actor: str, now: datetime) -> ErasureSummary:
    """Erase a person (see :func:`leadgate.services.privacy.erase_lead`) in one transaction."""
    with transaction(engine) as conn:
        return erase_lead(conn, lead_id, actor=actor, now=now)


def add_consent(
    engine: Engine,
    lead_id: str,
    *,
    channel: str,
    status: str,
    lawful_basis: str | None,
    source: str | None,
    recorded_at: datetime,
) -> int:
    """Record a consent for a lead; returns the record's id."""
    with transaction(engine) as conn:
        return store_consent(
            conn,
            lead_id,
            channel,
            status,
            recorded_at=recorded_at,
            lawful_basis=lawful_basis,
            source=source,
        )


def record_outcomes(engine: Engine, records: Sequence[Mapping[str, object]]) -> int:
    """Store opportunity outcomes (upsert by ``opportunity_id``); returns how many were new.

    Raises:
        NotFoundError: An outcome names a lead that is not stored.
    """
    frame = pl.from_dicts(list(records), infer_schema_length=None, strict=False)
    with transaction(engine) as conn:
        for lead_id in frame.get_column(c.LEAD_ID).unique().to_list():
            state = get_lead_state(conn, lead_id)
            if state is None or state.erased_at is not None:
                raise NotFoundError(f"No lead {lead_id!r}.", hint="Check the lead id.")
        return upsert_outcomes(conn, frame).inserted


def lead_ids_owned(engine: Engine, lead_ids: Sequence[str]) -> dict[str, str | None]:
    """The owner of each stored lead among ``lead_ids``."""
    with engine.connect() as conn:
        leads = read_leads(conn, list(lead_ids))
    return dict(leads.select(c.LEAD_ID, "owner_id").iter_rows())


__all__ = [
    "QUEUE_ORDER",
    "LeadDetail",
    "LedgerLine",
    "QueueItem",
    "SlaClock",
    "TimelineItem",
    "add_consent",
    "erase",
    "lead_detail",
    "lead_ids_owned",
    "record_outcomes",
    "rep_queue",
]
