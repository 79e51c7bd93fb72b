"""Bearer API keys: ``Authorization: Bearer lg_<key id>_<secret>``.

A verified key is remembered for ``auth_cache_seconds`` (by the SHA-256 of the token, never
the token itself), so a busy client does not cost a database read per request; a revoked
key stops working within that time. Every request then spends a token of its key's rate
limit bucket.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock

from leadgate.services.keys import Principal


@dataclass
class AuthCache:
    """Principals of recently verified tokens, for ``ttl`` seconds."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    max_entries: int = 10_000
    _entries: dict[str, tuple[Principal, float]] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Principal | None:
        if self.ttl <= 0:
            return None
        key = self._key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] < self.clock():
                del self._entries[key]
                return None
            return entry[0]

    def put(self, token: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self._key(token)] = (principal, self.clock() + self.ttl)


__all__ = ["AuthCache"]
