"""Real-time ingest: store events and rescore the leads they name, in one transaction.

The service's single writer hands this module a *group* of requests (each one event, or a
batch of up to a thousand) and gets one result per request back. The whole group is one
transaction and one engine call: events are stored (idempotent by ``event_id``; a replay
is answered with the original receipt), the leads they name are rescored as of ``now``
with the stored model, automatic stage moves are applied with their SLA clocks and outbox
messages, and newly routable leads are assigned — committed together or not at all.

A request is checked on its own before it joins a group (:func:`check_events`), and one
whose leads do not exist is answered with an error inside the group without touching the
others. Should the shared transaction still fail, every request is retried alone, so a
bad request can only fail itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import TYPE_CHECKING, Final, Protocol

import polars as pl

from leadgate.engine.transitions import TO_STAGE
from leadgate.exceptions import ConflictError, InputDataError, Location, Problem
from leadgate.io import COMPANY, COMPANY_DOMAIN
from leadgate.io.normalise import domain_problem, email_problem, normalise_domain, normalise_email
from leadgate.model import columns as c

# The API creates and links accounts exactly as a file import does.
from leadgate.services.importing import ACCOUNT_FIELDS, ensure_named_accounts, link_accounts
from leadgate.services.lifecycle import AppliedScores, FieldTypes, HistoryReader, rescore_leads
from leadgate.services.scoring_history import HistoryCache
from leadgate.storage import (
    insert_events,
    read_leads,
    transaction,
    upsert_accounts,
    upsert_leads,
)
from leadgate.storage import tables as t
from leadgate.storage.live import STATE_COLUMNS, event_receipts, lead_states, live_lead_ids
from leadgate.storage.lookups import existing_lead_ids, lead_ids_by_account, lead_ids_by_email

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from leadgate.model.compiled import QualificationModel

log = logging.getLogger("leadgate.services.ingest")
MAX_AHEAD: Final = timedelta(minutes=5)
"""How far in the future an event may be (clock skew between systems)."""
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Events before this are refused as typos or zero dates."""
RESERVED: Final = frozenset(
    {c.EVENT_ID, c.LEAD_ID, c.EVENT_TYPE, c.OCCURRED_AT, "received_at", "properties"}
)
PropertyValue = str | int | float | bool | None
LeadRow = tuple[str, str, str | None, float | None, float | None, float | None, str | None]
"""A :class:`LeadState`'s fields, in order."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


@dataclass(frozen=True)
class EventInput:
    """One event as a client sent it (already type-checked by the entry point)."""

    event_id: str
    lead_id: str
    event_type: str
    occurred_at: datetime
    properties: Mapping[str, PropertyValue]


class CheckedEvent(Protocol):
    """What :func:`check_events` looks at (an :class:`EventInput` or an API body)."""

    @property
    def occurred_at(self) -> datetime: ...
    @property
    def event_type(self) -> str: ...
    @property
    def properties(self) -> Mapping[str, PropertyValue]: ...


class SentEvent(CheckedEvent, Protocol):
    """An event with its ids (an :class:`EventInput` or an API body)."""

    @property
    def event_id(self) -> str: ...
    @property
    def lead_id(self) -> str: ...


def epoch_micros(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class EventColumns:
    """A request's events as columns: the shape the service's single writer is handed.

    A list per field costs far less than an object per event to build, to send to the
    writer's process and to turn into a frame there. ``occurred_at`` holds epoch
    microseconds (UTC, see :func:`epoch_micros`); ``properties`` only the events that have
    any, by position.
    """

    event_ids: Sequence[str]
    lead_ids: Sequence[str]
    event_types: Sequence[str]
    occurred_at: Sequence[int]
    properties: Mapping[int, Mapping[str, PropertyValue]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.event_ids)

    @classmethod
    def of(cls, events: Sequence[SentEvent]) -> EventColumns:
        """The columns of some events."""
        return cls(
            [event.event_id for event in events],
            [event.lead_id for event in events],
            [event.event_type for event in events],
            [epoch_micros(event.occurred_at) for event in events],
            {i: event.properties for i, event in enumerate(events) if event.properties},
        )

    def take(self, positions: Sequence[int]) -> EventColumns:
        """The events at ``positions`` (ascending), as columns of their own."""
        if len(positions) == len(self):
            return self
        ids, leads, types, times = self.event_ids, self.lead_ids, self.event_types, self.occurred_at
        kept = {p: i for i, p in enumerate(positions)} if self.properties else {}
        return EventColumns(
            [ids[p] for p in positions],
            [leads[p] for p in positions],
            [types[p] for p in positions],
            [times[p] for p in positions],
            {kept[p]: props for p, props in self.properties.items() if p in kept},
        )

    @staticmethod
    def concat(parts: Sequence[EventColumns]) -> EventColumns:
        """Several requests' events, one after the other."""
        if len(parts) == 1:
            return parts[0]
        properties: dict[int, Mapping[str, PropertyValue]] = {}
        offset = 0
        for part in parts:
            properties.update((offset + i, props) for i, props in part.properties.items())
            offset += len(part)
        return EventColumns(
            [x for part in parts for x in part.event_ids],
            [x for part in parts for x in part.lead_ids],
            [x for part in parts for x in part.event_types],
            [x for part in parts for x in part.occurred_at],
            properties,
        )


@dataclass(frozen=True)
class Receipt:
    """The acknowledgement of one event; a replay gets the first one back."""

    event_id: str
    lead_id: str
    received_at: datetime
    duplicate: bool


@dataclass(frozen=True)
class LeadState:
    """Where a lead stands right after the events were applied."""

    lead_id: str
    stage: str
    grade: str | None
    fit_score: float | None
    engagement_score: float | None
    product_score: float | None
    owner_id: str | None


@dataclass(frozen=True)
class IngestResult:
    """What happened to one request of a group: receipts and leads, or its error."""

    receipts: tuple[Receipt, ...] = ()
    leads: tuple[LeadState, ...] = ()
    error: Exception | None = None


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one request of a group, in the compact form the writer sends back.

    Every event's receipt is its own ``event_id`` and ``lead_id``, ``received_at`` and not
    a duplicate, except the duplicates': ``duplicates`` maps their positions in the request
    to the first receipt's ``lead_id`` and ``received_at``. ``leads`` hold the fields of a
    :class:`LeadState` each. A request that failed has only its ``error``.
    """

    received_at: datetime | None = None
    duplicates: Mapping[int, tuple[str, datetime]] = field(default_factory=dict)
    leads: Sequence[LeadRow] = ()
    error: Exception | None = None

    def receipts(self, events: EventColumns) -> tuple[Receipt, ...]:
        """The receipt of each of the request's ``events``, in order."""
        at, ids = self.received_at, events.event_ids
        if at is None:  # a failed request
            return ()
        receipts = list(map(Receipt, ids, events.lead_ids, repeat(at), repeat(False)))
        for i, (lead_id, received_at) in self.duplicates.items():
            receipts[i] = Receipt(ids[i], lead_id, received_at, duplicate=True)
        return tuple(receipts)

    def result(self, events: EventColumns) -> IngestResult:
        """The same, as receipt and lead-state objects."""
        if self.error is not None:
            return IngestResult(error=self.error)
        return IngestResult(self.receipts(events), tuple(LeadState(*row) for row in self.leads))


def check_events(
    events: Sequence[CheckedEvent],
    model: QualificationModel,
    *,
    now: datetime,
    field_prefix: str = "",
    columns: EventColumns | None = None,
) -> None:
    """Refuse a request whose events cannot be right, before it joins a group.

    Args:
        events: The request's events.
        model: Declares the event types.
        now: The server's clock.
        field_prefix: Names the events in problems (``events`` → ``events[3].event_type``).
        columns: The same events as columns, if the caller has them: a request with
            nothing wrong is then passed without looking at each event.

    Raises:
        InputDataError: An event dated more than five minutes ahead of ``now`` or before
            2000, an event type the model does not declare, or a property named like a
            core field. Each problem names its field (e.g. ``events[3].occurred_at``).
    """
    if columns is not None and _nothing_wrong(columns, model, now):
        return
    problems: list[Problem] = []
    known_types = set(model.event_types)
    for i, event in enumerate(events):
        where = f"{field_prefix}[{i}]." if field_prefix else ""
        if event.occurred_at > now + MAX_AHEAD:
            problems.append(
                _problem(
                    "future_timestamp",
                    f"occurred_at {event.occurred_at.isoformat()} is in the future.",
                    f"{where}occurred_at",
                    "Send the time the event happened, in UTC or with an offset.",
                )
            )
        elif event.occurred_at < EARLIEST:
            problems.append(
                _problem(
                    "ancient_timestamp",
                    f"occurred_at {event.occurred_at.isoformat()} is before 2000.",
                    f"{where}occurred_at",
                    "Check the time zone and the date format (a zero date is not a date).",
                )
            )
        if known_types and event.event_type not in known_types:
            problems.append(
                _problem(
                    "unknown_event_type",
                    f"event_type {event.event_type!r} is not declared by the model.",
                    f"{where}event_type",
                    "Use one of: " + ", ".join(sorted(known_types)) + ".",
                )
            )
        clash = sorted(RESERVED.intersection(event.properties))
        if clash:
            problems.append(
                _problem(
                    "reserved_property",
                    f"properties may not be named {', '.join(clash)}.",
                    f"{where}properties.{clash[0]}",
                    "Rename the property; those names are the event's own fields.",
                )
            )
    if problems:
        raise InputDataError(problems, summary=problems[0].message)


_EARLIEST_MICROS: Final = epoch_micros(EARLIEST)


def _nothing_wrong(events: EventColumns, model: QualificationModel, now: datetime) -> bool:
    """Whether :func:`check_events` would find no problem, from whole columns at once."""
    times = events.occurred_at
    if times and (max(times) > epoch_micros(now + MAX_AHEAD) or min(times) < _EARLIEST_MICROS):
        return False
    known_types = set(model.event_types)
    if known_types and not known_types.issuperset(events.event_types):
        return False
    return not any(RESERVED.intersection(props) for props in events.properties.values())


def _problem(code: str, message: str, field: str, hint: str) -> Problem:
    return Problem(code, message, Location(field=field), field, hint)


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
        requests: Each request's events, checked with :func:`check_events`.
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
        _route(conn, model, _unassigned_in_routed_stage(model, applied, touched), now)
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
        _problem(
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


def upsert_lead_records(
    engine: Engine,
    model: QualificationModel,
    records: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    recheck_days: int = 30,
) -> list[LeadState]:
    """Create or update leads from API records and rescore them, in one transaction.

    Records are flat: the ``leads`` columns (``lead_id``, ``email``, names, ``title``,
    ``country``, ``source``, ``account_id``, ``created_at``), company fields that create or
    link an account as an import does (``company``, ``company_domain``, ``industry``,
    ``employees``, ``annual_revenue``) and custom fields, which merge into the lead's
    attributes. The leads are then scored as of ``now`` and routed if they qualify.

    Raises:
        InputDataError: An e-mail or company domain that is not one.
        ConflictError: An e-mail stored on another lead, or a lead that was erased.
    """
    reserved = {*t.leads.columns.keys(), COMPANY, COMPANY_DOMAIN, *ACCOUNT_FIELDS}
    frame = _frame(records, reserved, "leads")
    frame = _clean_contacts(frame)
    if c.CREATED_AT in frame.columns:
        frame = frame.with_columns(pl.col(c.CREATED_AT).fill_null(pl.lit(now)))
    ids = frame.get_column(c.LEAD_ID).to_list()
    with transaction(engine) as conn:
        _refuse_conflicts(conn, frame, ids)
        ensure_named_accounts(conn, frame, now)
        given = c.ACCOUNT_ID in frame.columns
        frame, accounts = link_accounts(conn, frame)
        if not given:  # a partial update keeps the stored account unless a domain links one
            stored = read_leads(conn, ids).select(c.LEAD_ID, pl.col(c.ACCOUNT_ID).alias("__a"))
            frame = (
                frame.join(stored, on=c.LEAD_ID, how="left", maintain_order="left")
                .with_columns(pl.coalesce(c.ACCOUNT_ID, "__a").alias(c.ACCOUNT_ID))
                .drop("__a")
            )
        if accounts.height:
            upsert_accounts(conn, accounts, now=now)
        company = [n for n in (COMPANY, COMPANY_DOMAIN, *ACCOUNT_FIELDS) if n in frame.columns]
        upsert_leads(conn, frame.drop(company), now=now)
        rescore_leads(
            conn, model, ids, as_of=now, now=now, recheck_days=recheck_days, action="auto"
        )
        _route(conn, model, ids, now)
        states = _lead_states(conn, ids)
    return [states[lead_id] for lead_id in dict.fromkeys(ids)]


@dataclass(frozen=True)
class AccountUpsert:
    """What an account upsert did: accounts created, and the new state of their leads."""

    created: int
    leads: tuple[LeadState, ...]


def upsert_account_records(
    engine: Engine,
    model: QualificationModel,
    records: Sequence[Mapping[str, object]],
    *,
    now: datetime,
    recheck_days: int = 30,
) -> AccountUpsert:
    """Create or update accounts from API records and rescore their leads, in one transaction.

    An account's fields (industry, size, revenue, ...) feed its contacts' fit, so the live
    leads at these accounts are scored again as of ``now`` — stage moves, SLA clocks, outbox
    messages and routing included, exactly as after a lead upsert.

    Raises:
        InputDataError: A domain that is not one.
        StorageError: A domain that another account already has.
    """
    frame = _frame(records, set(t.accounts.columns.keys()), "accounts")
    frame = _clean_domain(frame, c.DOMAIN)
    account_ids = [str(i) for i in frame.get_column(c.ACCOUNT_ID).unique().to_list()]
    with transaction(engine) as conn:
        created = upsert_accounts(conn, frame, now=now).inserted
        at_accounts = lead_ids_by_account(conn, account_ids).get_column(c.LEAD_ID).to_list()
        ids = sorted(live_lead_ids(conn, at_accounts).to_list()) if at_accounts else []
        if not ids:
            return AccountUpsert(created, ())
        _, applied = rescore_leads(
            conn, model, ids, as_of=now, now=now, recheck_days=recheck_days, action="auto"
        )
        _route(conn, model, _unassigned_in_routed_stage(model, applied, ids), now)
        states = _lead_states(conn, ids)
    return AccountUpsert(created, tuple(states[lead_id] for lead_id in ids if lead_id in states))


def _frame(records: Sequence[Mapping[str, object]], reserved: set[str], what: str) -> pl.DataFrame:
    """Records as a frame; each one's ``attributes`` become columns (custom fields)."""
    flat: list[dict[str, object]] = []
    problems: list[Problem] = []
    for i, record in enumerate(records):
        row = {k: v for k, v in record.items() if k != "attributes"}
        extra = record.get("attributes") or {}
        assert isinstance(extra, Mapping)
        for name in sorted(reserved.intersection(extra)):
            where = f"{what}[{i}].attributes.{name}" if len(records) > 1 else f"attributes.{name}"
            problems.append(
                _problem(
                    "reserved_attribute",
                    f"attributes may not set {name!r}: it is a field of its own.",
                    where,
                    "Send it as a top-level field, or rename the custom field.",
                )
            )
        flat.append(row | dict(extra))
    if problems:
        raise InputDataError(problems, summary=problems[0].message)
    return pl.from_dicts(flat, infer_schema_length=None, strict=False)


def _clean_contacts(frame: pl.DataFrame) -> pl.DataFrame:
    if c.EMAIL in frame.columns:
        frame = frame.with_columns(normalise_email(c.EMAIL).alias(c.EMAIL))
        _raise_problems(frame, c.EMAIL, email_problem(pl.col(c.EMAIL)), "bad_email")
    return _clean_domain(frame, COMPANY_DOMAIN)


def _clean_domain(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    if column not in frame.columns:
        return frame
    frame = frame.with_columns(normalise_domain(column).alias(column))
    _raise_problems(frame, column, domain_problem(pl.col(column)), "bad_domain")
    return frame


def _raise_problems(frame: pl.DataFrame, column: str, why: pl.Expr, code: str) -> None:
    found = frame.with_row_index("__i").select("__i", why.alias("__why")).drop_nulls("__why")
    if not found.height:
        return
    problems = [
        _problem(code, f"{column} is not valid: {reason}.", _at(frame, i, column), "")
        for i, reason in found.head(20).iter_rows()
    ]
    raise InputDataError(problems, summary=problems[0].message)


def _at(frame: pl.DataFrame, index: int, column: str) -> str:
    return column if frame.height == 1 else f"leads[{index}].{column}"


def _refuse_conflicts(conn: Connection, frame: pl.DataFrame, ids: list[str]) -> None:
    live = set(live_lead_ids(conn, ids).to_list())
    erased = set(existing_lead_ids(conn, ids).to_list()) - live
    if erased:
        raise ConflictError(
            f"Lead {sorted(erased)[0]!r} was erased and cannot be written again.",
            hint="A person who asked to be erased is not re-created; use a new lead id only "
            "with a new, lawful basis for processing.",
            code="lead_erased",
        )
    if c.EMAIL not in frame.columns:
        return
    owners = lead_ids_by_email(conn, frame.get_column(c.EMAIL).drop_nulls().to_list())
    clash = frame.join(owners.rename({c.LEAD_ID: "__owner"}), on=c.EMAIL, how="inner").filter(
        pl.col("__owner") != pl.col(c.LEAD_ID)
    )
    dupes = frame.filter(pl.col(c.EMAIL).is_not_null() & pl.col(c.EMAIL).is_duplicated())
    if clash.height or dupes.height:
        raise ConflictError(
            "An e-mail address belongs to another lead.",
            hint="Send the person under their stored lead id; one e-mail is one person.",
            code="email_taken",
        )


def _route(conn: Connection, model: QualificationModel, lead_ids: list[str], now: datetime) -> None:
    if not model.routing.rules or not lead_ids:
        return
    from leadgate.services.routing import route_within

    route_within(conn, model, lead_ids=lead_ids, at=now)


def _unassigned_in_routed_stage(
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


def _lead_states(conn: Connection, lead_ids: list[str]) -> dict[str, LeadState]:
    return {lead_id: LeadState(*row) for lead_id, row in _states(conn, lead_ids).items()}


def _states(conn: Connection, lead_ids: list[str]) -> dict[str, LeadRow]:
    rows = lead_states(conn, lead_ids).select(STATE_COLUMNS).iter_rows()
    return {row[0]: row for row in rows}


__all__ = [
    "EARLIEST",
    "MAX_AHEAD",
    "AccountUpsert",
    "CheckedEvent",
    "EventColumns",
    "EventInput",
    "IngestOutcome",
    "IngestResult",
    "LeadRow",
    "LeadState",
    "Receipt",
    "SentEvent",
    "check_events",
    "epoch_micros",
    "ingest_columns",
    "ingest_events",
    "upsert_account_records",
    "upsert_lead_records",
]
