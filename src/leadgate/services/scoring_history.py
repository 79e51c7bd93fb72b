"""The ingest writer's copy of the scoring history of the leads it has rescored.

Rescoring a lead reads every event it ever had, so as a busy service's history grows, a
group of events spends most of its time re-reading history it read a moment ago. The
single writer therefore keeps the scoring columns of the events it read (as
:func:`~leadgate.storage.live.read_scoring_events` returns them) and, for a lead it holds,
reads from the store only the events the group itself inserted.

The copy is exact, never merely recent: every write to ``events``, by any code path or
plain SQL, moves a counter kept by database triggers (migration 0004). Each group claims
that counter first, inside its transaction, which locks out every other writer of events
until it commits; the copy is used only if the counter still has the value the last
committed group left it at, and is dropped otherwise. A group whose transaction fails
drops it too, so a rolled-back read can never be served.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from leadgate.model import columns as c
from leadgate.storage.live import (
    claim_events_generation,
    events_generation,
    read_scoring_events,
    read_scoring_events_by_id,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from leadgate.services.lifecycle import HistoryReader

_BASE = (c.LEAD_ID, c.EVENT_TYPE, c.OCCURRED_AT)
_MAX_CHUNKS = 8


@dataclass
class HistoryCache:
    """Scoring events of the leads a long-lived writer rescored, checked on every use.

    One group at a time: :meth:`begin` inside the group's transaction (first statement),
    :meth:`reader` for :func:`~leadgate.services.lifecycle.rescore_leads`, :meth:`finish`
    after the group's last write, then :meth:`commit` once the transaction committed — or
    :meth:`clear` when it did not.

    Attributes:
        max_events: Most events held (~80 bytes each); past it only the latest group's
            leads are kept.
        min_leads: A group rescoring fewer leads reads their history from the store (a
            small read) and forgets them, rather than paying for the copy's upkeep.
        served: Leads whose history came from memory (a figure for benchmarks).
        read: Leads whose history was read from the store.
    """

    max_events: int = 2_000_000
    min_leads: int = 100
    served: int = 0
    read: int = 0
    _generation: int | None = None
    _fields: tuple[str, ...] = ()
    _events: pl.DataFrame | None = None
    _leads: set[str] = field(default_factory=set)
    _claimed: int | None = None
    _pending: tuple[list[str], pl.DataFrame] | None = None
    _after: int | None = None

    def begin(self, conn: Connection, fields: Sequence[str]) -> None:
        """Claim the events generation; forget everything if it moved since the last commit."""
        generation = claim_events_generation(conn)
        if generation != self._generation or tuple(fields) != self._fields:
            self.clear()
        self._fields = tuple(fields)
        self._claimed = generation
        self._pending = None
        self._after = None

    def reader(
        self, inserted: Mapping[str, str], bare: pl.DataFrame | None = None
    ) -> HistoryReader:
        """The history of some leads after this group's inserts.

        The events this group inserted are the only writes to ``events`` since
        :meth:`begin` (which held off every other writer); for the leads held in memory
        they are added to what is held.

        Args:
            inserted: ``event_id -> lead_id`` of the inserted events to read back from the
                store (those with properties: their JSON is read as every read decodes it).
            bare: ``lead_id, event_type, occurred_at`` of the inserted events without any
                property, which a read would give back exactly so (not read back).
        """
        if self._claimed is None:
            raise RuntimeError("HistoryCache.reader() before begin()")

        def read(conn: Connection, lead_ids: list[str], fields: Sequence[str]) -> pl.DataFrame:
            if len(lead_ids) < self.min_leads:  # what is held of them is stale from now on
                self._leads.difference_update(lead_ids)
                self.read += len(lead_ids)
                return read_scoring_events(conn, lead_ids, fields)
            events = self._assemble(conn, lead_ids, fields, inserted, bare)
            self._pending = (lead_ids, events)
            return events

        return read

    def _assemble(
        self,
        conn: Connection,
        lead_ids: list[str],
        fields: Sequence[str],
        inserted: Mapping[str, str],
        bare: pl.DataFrame | None,
    ) -> pl.DataFrame:
        held = [lead for lead in lead_ids if lead in self._leads]
        missing = [lead for lead in lead_ids if lead not in self._leads]
        self.served += len(held)
        self.read += len(missing)
        parts: list[pl.DataFrame] = []
        if held and self._events is not None:
            ids = pl.Series(c.LEAD_ID, held, dtype=pl.String)
            parts.append(self._events.filter(pl.col(c.LEAD_ID).is_in(ids.implode())))
            wanted = set(held)
            new = [event_id for event_id, lead in inserted.items() if lead in wanted]
            if new:
                parts.append(read_scoring_events_by_id(conn, new, fields))
            if bare is not None and bare.height:
                parts.append(bare.filter(pl.col(c.LEAD_ID).is_in(ids.implode())))
        if missing or not parts:
            parts.append(read_scoring_events(conn, missing, fields))
        events = pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]
        present = [name for name in dict.fromkeys(fields) if name in events.columns]
        # One chunk: the engine and the next group's filter are slower on many small ones.
        return events.select(*_BASE, *present).rechunk()

    def finish(self, conn: Connection) -> None:
        """Note the generation after this group's own writes (call after the last one)."""
        self._after = events_generation(conn)

    def commit(self) -> None:
        """The group's transaction committed: keep what it read, at its generation."""
        if self._claimed is None or self._after is None:
            self.clear()
            return
        if self._pending is not None:
            lead_ids, events = self._pending
            kept = self._events
            if kept is not None:  # the other leads still held (rows of forgotten ones go)
                still = pl.Series(c.LEAD_ID, list(self._leads - set(lead_ids)), dtype=pl.String)
                kept = kept.filter(pl.col(c.LEAD_ID).is_in(still.implode()))
                if kept.height + events.height > self.max_events:
                    kept, self._leads = None, set()
            if events.height > self.max_events:
                self.clear()
                return
            merged = (
                events
                if kept is None
                else pl.concat([kept, events], how="diagonal_relaxed", rechunk=False)
            )
            if merged.n_chunks() > _MAX_CHUNKS:  # copy now and then, not every group
                merged = merged.rechunk()
            self._events = merged
            self._leads.update(lead_ids)
        self._generation = self._after
        self._claimed = self._pending = self._after = None

    def clear(self) -> None:
        """Forget every lead's history (the next group reads what it needs)."""
        self._generation = None
        self._events = None
        self._leads = set()
        self._claimed = self._pending = self._after = None

    @property
    def events(self) -> int:
        """How many events are held."""
        return 0 if self._events is None else self._events.height


__all__ = ["HistoryCache"]
