"""Group commit for event ingest: one writer, many waiting requests, one transaction.

Every event request is checked on its own first (types, timestamps, event types), then
queued as columns. A single writer task takes whatever is waiting — up to ``max_events``
events — and hands the group to :func:`leadgate.services.ingest.ingest_columns` on its own
thread or in its own process: one transaction and one engine call for the lot, then each
request gets its own result. Requests travel as columns and results come back in the
compact form (:class:`~leadgate.services.event_columns.IngestOutcome`): nothing on the way to the
writer process and back is an object per event, whose pickling cost more CPU than the
rest of the hand-over.
Under load the groups grow, so the fixed cost of a transaction and of the engine is
shared; when idle a request is processed alone at once. A single writer also means event
writes never wait on each other's locks (SQLite allows one writer anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from leadgate.exceptions import LeadgateError, Problem
from leadgate.services.database import open_database
from leadgate.services.event_columns import EventColumns, IngestOutcome
from leadgate.services.ingest import ingest_columns
from leadgate.services.lifecycle import FieldTypes, load_stored_model
from leadgate.services.scoring_history import HistoryCache
from leadgate.settings import GC_THRESHOLDS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from leadgate.model.compiled import QualificationModel


log = logging.getLogger("leadgate.api.writer")


class WriterStoppedError(RuntimeError):
    """The service is shutting down and takes no more events."""


@dataclass
class _Pending:
    events: EventColumns
    done: asyncio.Future[IngestOutcome]


@dataclass
class IngestWriter:
    """The single event writer (start it in the app's lifespan, stop it on shutdown)."""

    engine: Engine
    model: QualificationModel
    clock: Callable[[], datetime]
    max_events: int = 1_000
    recheck_days: int = 30
    worker: Literal["thread", "process"] = "thread"
    linger: float = 0.0
    database_url: str = ""
    model_path: str = ""
    groups: int = 0
    largest_group: int = 0
    _queue: asyncio.Queue[_Pending] = field(default_factory=asyncio.Queue)
    _task: asyncio.Task[None] | None = None
    _inflight: list[_Pending] = field(default_factory=list)
    _executor: Executor | None = None
    _busy: bool = False
    _field_types: FieldTypes = field(default_factory=FieldTypes)
    _history: HistoryCache = field(default_factory=HistoryCache)

    async def start(self) -> None:
        if self.worker == "process":
            # A process of its own: the writer's Python work then never holds the event
            # loop's GIL, so requests keep being read and queued while a group is written.
            self._executor = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.database_url, self.model_path),
            )
            await asyncio.get_running_loop().run_in_executor(self._executor, _ready)
        else:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="leadgate-ingest")
        self._task = asyncio.create_task(self._run(), name="leadgate-ingest-writer")

    async def stop(self) -> None:
        """Finish the group in progress, then fail whatever is still queued."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        waiting = list(self._inflight)
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for pending in waiting:
            if not pending.done.done():
                pending.done.set_exception(WriterStoppedError("the service is stopping"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def submit(self, events: EventColumns) -> IngestOutcome:
        """Queue one request's events and wait for its result."""
        if self._task is None:
            raise WriterStoppedError("the ingest writer is not running")
        done: asyncio.Future[IngestOutcome] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(events, done))
        return await done

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            group = [await self._queue.get()]
            size = len(group[0].events)
            if self.linger > 0 and size < self.max_events and self._busy and self._queue.empty():
                # Under load, wait a moment for more requests: a group's cost is mostly
                # fixed, so fewer, larger groups leave more CPU to read the requests. When
                # others are already waiting (they came in while the last group was being
                # written), go at once: lingering would only add to their latency.
                await asyncio.sleep(self.linger)
            while not self._queue.empty() and size < self.max_events:
                nxt = self._queue.get_nowait()
                group.append(nxt)
                size += len(nxt.events)
            self._busy = len(group) > 1
            live = [p for p in group if not p.done.done()]  # callers gone: nothing to do
            if not live:
                continue
            self._inflight = live
            requests = [p.events for p in live]
            work: Callable[[], list[IngestOutcome]]
            if self.worker == "process":
                work = partial(_ingest_in_worker, requests, self.clock(), self.recheck_days)
            else:
                work = partial(
                    ingest_columns,
                    self.engine,
                    self.model,
                    requests,
                    now=self.clock(),
                    recheck_days=self.recheck_days,
                    field_types=self._field_types,
                    history=self._history,
                )
            # Shielded: a cancelled writer (shutdown) still finishes the group it started.
            began = time.perf_counter()
            try:
                results = await asyncio.shield(loop.run_in_executor(self._executor, work))
                results = [_revive(result) for result in results]
            except Exception as error:  # ingest_columns reports per request; this is a crash
                results = [IngestOutcome(error=error)] * len(live)
            self.groups += 1
            self.largest_group = max(self.largest_group, len(live))
            log.debug(
                "ingest group: %d requests, %d events, %.1f ms",
                len(live),
                size,
                (time.perf_counter() - began) * 1000,
            )
            for pending, result in zip(live, results, strict=True):
                if not pending.done.done():
                    pending.done.set_result(result)
            self._inflight = []


# --- the writer process ---------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(database_url: str, model_path: str) -> None:
    """Open the store and load the model once, in the writer process."""
    stack = ExitStack()
    _WORKER["stack"] = stack
    _WORKER["engine"] = stack.enter_context(open_database(database_url))
    _WORKER["model"] = load_stored_model(Path(model_path)).model
    _WORKER["field_types"] = FieldTypes()
    _WORKER["history"] = HistoryCache()
    # What is loaded now lives as long as the process: the cyclic collector need never look
    # at it again. A group then allocates many short-lived objects (rows, frames' Python
    # values); with the default thresholds they set off young collections all the time and
    # full ones over the whole heap every few groups.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _ready() -> bool:
    return "engine" in _WORKER


@dataclass(frozen=True)
class _Failure:
    """An error carried back from the writer process (exceptions with extra fields do not
    survive pickling)."""

    kind: str
    message: str
    hint: str
    code: str
    problems: tuple[Problem, ...]


def _ingest_in_worker(
    requests: list[EventColumns], now: datetime, recheck_days: int
) -> list[IngestOutcome]:
    results = ingest_columns(
        _WORKER["engine"],
        _WORKER["model"],
        requests,
        now=now,
        recheck_days=recheck_days,
        field_types=_WORKER["field_types"],
        history=_WORKER["history"],
    )
    return [_portable(result) for result in results]


def _portable(result: IngestOutcome) -> IngestOutcome:
    error = result.error
    if error is None:
        return result
    if isinstance(error, LeadgateError):
        problems = tuple(getattr(error, "problems", ()))
        failure = _Failure(type(error).__name__, error.message, error.hint, error.code, problems)
    else:  # an unexpected error: only its type travels (its message may hold data)
        where = " < ".join(
            f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
            for frame in reversed(traceback.extract_tb(error.__traceback__))
        )
        log.error("ingest failed with %s at %s", type(error).__name__, where)
        failure = _Failure(type(error).__name__, "", "", "", ())
    return IngestOutcome(error=failure)  # type: ignore[arg-type]


def _revive(result: IngestOutcome) -> IngestOutcome:
    failure = result.error
    if not isinstance(failure, _Failure):
        return result
    kinds = {k.__name__: k for k in _error_classes(LeadgateError)}
    kind = kinds.get(failure.kind)
    if kind is None:
        return IngestOutcome(error=RuntimeError(f"ingest failed ({failure.kind})"))
    error = kind.__new__(kind)
    Exception.__init__(error, failure.message)
    error.message, error.hint, error.code = failure.message, failure.hint, failure.code
    if failure.problems:
        error.problems = failure.problems
    return IngestOutcome(error=error)


def _error_classes(root: type[LeadgateError]) -> list[type[LeadgateError]]:
    found = [root]
    for sub in root.__subclasses__():
        found += _error_classes(sub)
    return found


__all__ = ["IngestWriter", "WriterStoppedError"]
