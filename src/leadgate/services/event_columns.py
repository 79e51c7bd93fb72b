"""Events as the service takes them in, checks them and answers them.

A client's event arrives as an :class:`EventInput` (or an API body of the same shape) and
travels to the single writer as :class:`EventColumns`: a list per field, far cheaper to
build, to send to the writer's process and to turn into a frame than an object per event.
:func:`check_events` refuses a request that cannot be right before it joins a group. The
writer answers each request with an :class:`IngestOutcome` (compact: only the duplicates
are listed), which becomes :class:`Receipt` and :class:`LeadState` objects where wanted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import TYPE_CHECKING, Final, Protocol

from leadgate.exceptions import InputDataError, Location, Problem
from leadgate.model import columns as c

if TYPE_CHECKING:
    from leadgate.model.compiled import QualificationModel

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
                field_problem(
                    "future_timestamp",
                    f"occurred_at {event.occurred_at.isoformat()} is in the future.",
                    f"{where}occurred_at",
                    "Send the time the event happened, in UTC or with an offset.",
                )
            )
        elif event.occurred_at < EARLIEST:
            problems.append(
                field_problem(
                    "ancient_timestamp",
                    f"occurred_at {event.occurred_at.isoformat()} is before 2000.",
                    f"{where}occurred_at",
                    "Check the time zone and the date format (a zero date is not a date).",
                )
            )
        if known_types and event.event_type not in known_types:
            problems.append(
                field_problem(
                    "unknown_event_type",
                    f"event_type {event.event_type!r} is not declared by the model.",
                    f"{where}event_type",
                    "Use one of: " + ", ".join(sorted(known_types)) + ".",
                )
            )
        clash = sorted(RESERVED.intersection(event.properties))
        if clash:
            problems.append(
                field_problem(
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


def field_problem(code: str, message: str, field: str, hint: str) -> Problem:
    """A problem with one field of a request (``events[3].occurred_at``)."""
    return Problem(code, message, Location(field=field), field, hint)


__all__ = [
    "EARLIEST",
    "MAX_AHEAD",
    "RESERVED",
    "CheckedEvent",
    "EventColumns",
    "EventInput",
    "IngestOutcome",
    "IngestResult",
    "LeadRow",
    "LeadState",
    "PropertyValue",
    "Receipt",
    "SentEvent",
    "check_events",
    "epoch_micros",
    "field_problem",
]
