"""Reads the analytics need that ``frames.py`` does not offer: sales feedback and SLA clocks."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t
from leadgate.storage.frames import _fetch, _names


def read_feedback(conn: Connection) -> pl.DataFrame:
    """Sales feedback: ``lead_id, verdict, reason, created_at`` (no notes or actors)."""
    names = ["lead_id", "verdict", "reason", "created_at"]
    return _fetch(conn, t.feedback, names, order_by='"id"')


def read_sla_clocks(conn: Connection) -> pl.DataFrame | None:
    """SLA clocks when this schema has them (``None`` otherwise)."""
    table = t.metadata.tables.get("sla_clocks")
    if not isinstance(table, sa.Table) or not sa.inspect(conn).has_table(table.name):
        return None
    return _fetch(conn, table, _names(table), order_by='"id"')


__all__ = ["read_feedback", "read_sla_clocks"]
