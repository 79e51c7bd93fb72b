"""Key lookups that imports need per batch: lead ids by e-mail, accounts by domain."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from leadgate.storage import tables as t

_CHUNK = 5_000  # bound parameters per statement (SQLite allows 32,766)
_PG_CHUNK = 200_000


def _lookup(
    conn: Connection, key: sa.Column[str], value: sa.Column[str], wanted: Sequence[str]
) -> pl.DataFrame:
    keys: list[str] = []
    values: list[str] = []
    unique = sorted({w for w in wanted if w is not None})
    postgres = conn.dialect.name == "postgresql"
    # PostgreSQL takes the whole list as one array parameter; SQLite needs one bound
    # parameter per value, so it gets chunks.
    size = _PG_CHUNK if postgres else _CHUNK
    for start in range(0, len(unique), size):
        chunk = unique[start : start + size]
        if postgres:
            wanted_ids = sa.bindparam("wanted", chunk, type_=postgresql.ARRAY(sa.String()))
            condition = key == sa.any_(wanted_ids)
        else:
            condition = key.in_(chunk)
        for found_key, found_value in conn.execute(sa.select(key, value).where(condition)):
            keys.append(found_key)
            values.append(found_value)
    return pl.DataFrame(
        {key.name: keys, value.name: values}, schema={key.name: pl.String, value.name: pl.String}
    )


def lead_ids_by_email(conn: Connection, emails: Sequence[str]) -> pl.DataFrame:
    """``email, lead_id`` of stored leads with one of these (normalised) e-mails."""
    return _lookup(conn, t.leads.c.email, t.leads.c.lead_id, emails)


def account_ids_by_domain(conn: Connection, domains: Sequence[str]) -> pl.DataFrame:
    """``domain, account_id`` of stored accounts with one of these (lower-case) domains."""
    return _lookup(conn, t.accounts.c.domain, t.accounts.c.account_id, domains)


def lead_ids_by_account(conn: Connection, account_ids: Sequence[str]) -> pl.DataFrame:
    """``account_id, lead_id`` of stored leads (erased ones too) at one of these accounts."""
    return _lookup(conn, t.leads.c.account_id, t.leads.c.lead_id, account_ids)


def existing_lead_ids(conn: Connection, lead_ids: Sequence[str]) -> pl.Series:
    """Which of these lead ids are stored (as strings)."""
    found = _lookup(conn, t.leads.c.lead_id, t.leads.c.lead_id, lead_ids)
    return found.get_column(found.columns[0]) if found.width else pl.Series([], dtype=pl.String)


def lead_count(conn: Connection) -> int:
    """How many leads are stored."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(t.leads)).scalar_one())


__all__ = ["account_ids_by_domain", "existing_lead_ids", "lead_count", "lead_ids_by_email"]
