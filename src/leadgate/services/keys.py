"""API keys: create (the token is shown once), authenticate, revoke, list.

A token reads ``lg_<key_id>_<secret>``. The key id is public (it names the key in logs and
the audit log); the secret is 32 random bytes (``secrets.token_urlsafe(32)``) and only its
SHA-256 is stored. A fast hash is right for a high-entropy secret: nobody can guess it, so
there is nothing for a slow hash to slow down, and every request pays for the check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from leadgate.exceptions import NotFoundError, UsageError
from leadgate.storage import audit
from leadgate.storage import keys as store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

PREFIX: Final = "lg_"
_KEY_ID: Final = re.compile(r"[0-9a-f]{16}")
_SECRET: Final = re.compile(r"[A-Za-z0-9_-]{20,100}")
LAST_USED_PRECISION: Final = timedelta(hours=1)
"""``last_used_at`` is refreshed at most this often, so requests do not write."""


class Role(StrEnum):
    """What a key may do."""

    ADMIN = "admin"  # everything
    REVOPS = "revops"  # models, reports, all leads
    SALES = "sales"  # only its owner's leads and queue
    INGEST = "ingest"  # events and lead/account upserts only


@dataclass(frozen=True)
class CreatedKey:
    """A new key. ``token`` is shown once and cannot be recovered later."""

    key_id: str
    token: str
    role: Role
    owner_id: str | None
    name: str


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    key_id: str
    role: Role
    owner_id: str | None
    name: str
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed (never its secret or hash)."""

    key_id: str
    name: str
    role: str
    owner_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_role(role: str | Role) -> Role:
    """``role`` as a :class:`Role`.

    Raises:
        UsageError: An unknown role.
    """
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise UsageError(
            f"Unknown role {role!r}.",
            hint="use one of " + ", ".join(r.value for r in Role),
            code="bad_role",
        ) from None


def create_key(
    conn: Connection,
    *,
    role: str | Role,
    name: str,
    owner_id: str | None = None,
    now: datetime,
    actor: str = "system",
) -> CreatedKey:
    """Create a key and record it in the audit log (in the caller's transaction).

    Raises:
        UsageError: An unknown role, an empty name, a sales key without an owner, or an
            owner on another role.
        NotFoundError: The sales key's owner is not a stored rep.
    """
    kind = parse_role(role)
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError(
            "A key needs a name of 1 to 200 characters.",
            hint="name it after what uses it, e.g. 'website-forms'",
            code="bad_key_name",
        )
    if kind is Role.SALES and not owner_id:
        raise UsageError(
            "A sales key must name its rep.",
            hint="pass the rep's owner id (--owner), as in the team roster",
            code="owner_required",
        )
    if kind is not Role.SALES and owner_id:
        raise UsageError(
            f"Only sales keys belong to a rep; a {kind.value} key sees every lead.",
            hint="drop --owner, or create a sales key",
            code="owner_not_allowed",
        )
    if owner_id and not store.owner_exists(conn, owner_id):
        raise NotFoundError(
            f"No rep with id {owner_id!r}.",
            hint="import the team roster first (`leadgate team import`)",
        )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    store.insert_key(
        conn,
        key_id=key_id,
        name=name,
        role=kind.value,
        owner_id=owner_id,
        secret_hash=_hash(secret),
        created_at=now,
    )
    audit.append_audit(
        conn,
        at=now,
        actor=actor,
        action="key.created",
        subject_kind="api_key",
        subject_id=key_id,
        details={"role": kind.value},
    )
    return CreatedKey(key_id, f"{PREFIX}{key_id}_{secret}", kind, owner_id, name)


def split_token(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed token, else ``None``."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or not _KEY_ID.fullmatch(key_id) or not _SECRET.fullmatch(secret):
        return None
    return key_id, secret


def authenticate(conn: Connection, token: str, *, now: datetime) -> Principal | None:
    """The principal a bearer token stands for; ``None`` if malformed, unknown or revoked.

    One primary-key read and no write: call :func:`mark_used` when
    ``principal.last_used_at`` is older than :data:`LAST_USED_PRECISION` if usage matters.
    ``now`` is accepted for expiry rules; keys do not expire today.
    """
    del now  # keys have no expiry yet; the argument keeps callers honest about the clock
    parts = split_token(token)
    if parts is None:
        return None
    key_id, secret = parts
    row = store.get_key(conn, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    return Principal(row.key_id, Role(row.role), row.owner_id, row.name, row.last_used_at)


def mark_used(conn: Connection, key_id: str, *, now: datetime) -> bool:
    """Refresh a key's ``last_used_at`` if it is older than the precision; ``True`` if written."""
    return store.touch_key(conn, key_id, at=now, older_than=now - LAST_USED_PRECISION)


def revoke_key(conn: Connection, key_id: str, *, actor: str, now: datetime) -> bool:
    """Revoke a key at once; ``False`` if it was already revoked (then nothing is logged).

    Raises:
        NotFoundError: No key with this id.
    """
    if store.get_key(conn, key_id) is None:
        raise NotFoundError(f"No API key {key_id!r}.", hint="`leadgate keys list` shows the ids")
    if not store.revoke_key(conn, key_id, at=now):
        return False
    audit.append_audit(
        conn, at=now, actor=actor, action="key.revoked", subject_kind="api_key", subject_id=key_id
    )
    return True


def list_keys(conn: Connection) -> list[KeyInfo]:
    """Every key, oldest first, without secrets."""
    return [
        KeyInfo(
            row.key_id,
            row.name,
            row.role,
            row.owner_id,
            row.created_at,
            row.revoked_at,
            row.last_used_at,
        )
        for row in store.list_keys(conn)
    ]


__all__ = [
    "CreatedKey",
    "KeyInfo",
    "Principal",
    "Role",
    "authenticate",
    "create_key",
    "list_keys",
    "mark_used",
    "parse_role",
    "revoke_key",
    "split_token",
]
