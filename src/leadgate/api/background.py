"""Periodic work inside the service: the SLA sweep, webhook delivery and retention.

Each job runs in one task that awaits its own run before sleeping again, and holds a lock
that the admin endpoints take too, so a job never runs concurrently with itself in this
process. (Run one service process per database; several would each sweep.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from starlette.concurrency import run_in_threadpool

from leadgate.services.webhooks import DeliverySummary, Sender, deliver_due, prune

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("leadgate.api")
T = TypeVar("T")


@dataclass
class PeriodicJob:
    """A blocking job run every ``seconds`` on a worker thread, never twice at once."""

    name: str
    seconds: float
    work: Callable[[], object]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    runs: int = 0
    failures: int = 0
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.seconds > 0:
            self._task = asyncio.create_task(self._loop(), name=f"leadgate-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_now(self, work: Callable[[], T]) -> T:
        """Run ``work`` (this job or a variant of it) under the job's lock."""
        async with self.lock:
            return await run_in_threadpool(work)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await self.run_now(self.work)
                self.runs += 1
            except Exception as error:  # a failed run is logged and retried next time
                self.failures += 1
                log.warning("%s failed: %s", self.name, type(error).__name__)


def webhook_work(
    engine: Engine,
    clock: Callable[[], datetime],
    send: Sender | None,
    *,
    retention_days: int,
    prune_every: timedelta = timedelta(hours=1),
) -> Callable[[], DeliverySummary]:
    """The webhook job: a delivery pass, and a retention prune at most every ``prune_every``.

    With ``retention_days`` 0 nothing is pruned. The first prune runs on the first pass.
    """
    last_prune: datetime | None = None

    def work() -> DeliverySummary:
        nonlocal last_prune
        now = clock()
        summary = deliver_due(engine, now=now, send=send)
        if retention_days > 0 and (last_prune is None or now - last_prune >= prune_every):
            pruned = prune(engine, now=now, older_than=timedelta(days=retention_days))
            last_prune = now
            if pruned.deliveries or pruned.messages:
                log.info(
                    "webhook retention pruned %d deliveries and %d messages",
                    pruned.deliveries,
                    pruned.messages,
                )
        return summary

    return work


__all__ = ["PeriodicJob", "webhook_work"]
