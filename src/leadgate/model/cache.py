"""What is built from a qualification model, kept per model version (and whatever else the
built thing depends on).

Compiled plans, routing expressions and SLA tables are pure functions of the (frozen)
model; building them costs more than using them on a real-time group's few leads, so a
long-lived process keeps them. A hit must be the same model object or an equal one: a
version string never serves something built from other content (an equal copy is compared
once, then kept as the entry's model so the next hit is an identity check).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from leadgate.model.compiled import QualificationModel

V = TypeVar("V")


class ModelCache(Generic[V]):
    """Values built from a model, by key, the least recently used dropped past ``size``.

    Thread-safe: two callers that miss at once may both build; either value is kept.
    ``size`` may be changed; it applies from the next value kept.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[QualificationModel, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, model: QualificationModel, build: Callable[[], V]) -> V:
        """The value kept for ``key`` if it was built from this model, else ``build()``,
        kept. ``key`` should hold ``model.version`` (so that versions do not evict each
        other on every call)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and (entry[0] is model or entry[0] == model):
            if entry[0] is not model:
                with self._lock:
                    if key in self._entries:
                        self._entries[key] = (model, entry[1])
            return entry[1]
        value = build()
        with self._lock:
            self._entries[key] = (model, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every value (they are rebuilt on demand)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


__all__ = ["ModelCache"]
