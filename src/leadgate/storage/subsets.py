"""Reads limited to a few accounts, for use cases that work on a handful of leads.

The service routes the leads one request touched; reading every account or every owned
lead for that would cost as much as a batch run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadgate.storage import _sql
from leadgate.storage import tables as t
from leadgate.storage.frames import _expand_json, _fetch, _ids_filter, _names
from leadgate.storage.live import FEW_LEADS, fetch_few


def read_accounts(conn: Connection, account_ids: Sequence[str]) -> pl.DataFrame:
    """These accounts (as :func:`leadgate.storage.read_accounts` reads them)."""
    where, params = _ids_filter(conn, "account_id", list(account_ids))
    fetch = fetch_few if len(account_ids) <= FEW_LEADS else _fetch
    frame = fetch(conn, t.accounts, _names(t.accounts), where, params, order_by='"account_id"')
    return _expand_json(frame, "attributes")


def account_owners(conn: Connection, account_ids: Sequence[str]) -> pl.DataFrame:
    """``account_id, owner_id`` for these accounts, as
    :func:`leadgate.storage.routing.account_owners` computes it for all."""
    where, params = _ids_filter(conn, "account_id", list(account_ids))
    fetch = fetch_few if len(account_ids) <= FEW_LEADS else _fetch
    frame = fetch(
        conn,
        t.leads,
        ["account_id", "owner_id", "updated_at"],
        ['"owner_id" IS NOT NULL', *where],
        params,
    )
    latest = (
        frame.lazy()
        .sort("updated_at", "owner_id", descending=[True, False])
        .unique("account_id", keep="first", maintain_order=True)
        .select("account_id", "owner_id")
        .sort("account_id")
    )
    return _sql.collect(latest)  # one query for a group's few accounts


def assignment_load(
    conn: Connection, owners_since: Mapping[datetime, Sequence[str]]
) -> pl.DataFrame:
    """``owner_id, assigned``: assignments each rep got since the start of its period.

    ``owners_since`` maps a period start to the reps it applies to (a rep is listed under
    its team's start only). One grouped query ORs a condition per start, each served by the
    ``(owner_id, assigned_at)`` index: one round trip however many time zones and periods
    the teams have.
    """
    table = t.assignments
    periods = [
        sa.and_(table.c.owner_id.in_(list(owners)), table.c.assigned_at >= since)
        for since, owners in owners_since.items()
        if owners
    ]
    rows: list[tuple[str, int]] = []
    if periods:
        stmt = (
            sa.select(table.c.owner_id, sa.func.count())
            .where(sa.or_(*periods))
            .group_by(table.c.owner_id)
        )
        rows = [(str(owner), int(n)) for owner, n in conn.execute(stmt)]
    return pl.DataFrame(rows, schema={"owner_id": pl.String, "assigned": pl.Int64}, orient="row")


__all__ = ["account_owners", "assignment_load", "read_accounts"]
