"""What the running service holds: settings, the store, the model, the writer and jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from leadgate.api.auth import AuthCache
from leadgate.api.background import PeriodicJob
from leadgate.api.limits import RateLimiter
from leadgate.api.writer import IngestWriter
from leadgate.services.lifecycle import StoredModel
from leadgate.services.webhooks import Sender
from leadgate.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass
class ServiceState:
    """Created in the app's lifespan and reached by routes through ``StateDep``."""

    settings: Settings
    engine: Engine
    stored: StoredModel
    clock: Callable[[], datetime]
    writer: IngestWriter
    limiter: RateLimiter
    auth_cache: AuthCache
    sweep: PeriodicJob
    webhooks: PeriodicJob
    sender: Sender | None


__all__ = ["ServiceState"]
