"""The only package that speaks SQL: tables, engines, migrations, bulk writes, frame reads.

Nothing here creates an engine at import; callers pass an ``Engine`` or a ``Connection`` and
own the transaction (writers and repositories never commit).
"""

from __future__ import annotations

from leadgate.storage.bulk import (
    WriteCounts,
    append_stage_history,
    insert_events,
    save_model,
    update_lead_state,
    upsert_accounts,
    upsert_leads,
    upsert_outcomes,
    write_in_batches,
)
from leadgate.storage.database import make_engine, session_scope, transaction
from leadgate.storage.frames import (
    read_accounts,
    read_events,
    read_leads,
    read_outcomes,
    read_stage_history,
)
from leadgate.storage.migrate import current_revision, head_revision, require_current, upgrade

__all__ = [
    "WriteCounts",
    "append_stage_history",
    "current_revision",
    "head_revision",
    "insert_events",
    "make_engine",
    "read_accounts",
    "read_events",
    "read_leads",
    "read_outcomes",
    "read_stage_history",
    "require_current",
    "save_model",
    "session_scope",
    "transaction",
    "update_lead_state",
    "upgrade",
    "upsert_accounts",
    "upsert_leads",
    "upsert_outcomes",
    "write_in_batches",
]
