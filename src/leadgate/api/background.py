"""Periodic work inside the service: the SLA sweep and webhook delivery.

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
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

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


__all__ = ["PeriodicJob"]
