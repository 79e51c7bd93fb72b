"""The service's own access log: method, route template, status, milliseconds, key id.

No query strings, bodies, client addresses or path values (a path may hold a lead id that
an outsider could tie to a person): the route *template* (``/v1/leads/{lead_id}``) is
logged instead. Uvicorn's own access log is switched off by ``leadgate serve``.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("leadgate.api.access")


class AccessLog:
    """ASGI middleware writing one line per request to ``leadgate.api.access``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", None) or "-"
            key_id = (scope.get("state") or {}).get("key_id") or "-"
            log.info(
                "%s %s %d %.1fms key=%s",
                scope["method"],
                route,
                status,
                (time.perf_counter() - start) * 1000,
                key_id,
            )


__all__ = ["AccessLog"]
