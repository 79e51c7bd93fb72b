"""API keys on a real store (SQLite and PostgreSQL): tokens shown once and stored as hashes,
authentication by one indexed read without writes, revocation, roles, the audit log."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from leadgate.exceptions import NotFoundError, UsageError
from leadgate.services.keys import (
    Role,
    authenticate,
    create_key,
    list_keys,
    mark_used,
    revoke_key,
    split_token,
)
from leadgate.storage import audit
from leadgate.storage import tables as t

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)


def _rep(engine: sa.Engine, owner_id: str = "rep-1") -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(t.owners).values(owner_id=owner_id, name="Rep"))


def test_a_created_token_authenticates_and_only_its_hash_is_stored(engine: sa.Engine) -> None:
    _rep(engine)
    with engine.begin() as conn:
        key = create_key(conn, role="sales", name="rep one", owner_id="rep-1", now=NOW)
    assert key.token.startswith(f"lg_{key.key_id}_")
    parts = split_token(key.token)
    assert parts is not None
    secret = parts[1]
    assert len(secret) >= 40
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.api_keys)).one()
        principal = authenticate(conn, key.token, now=NOW)
    assert secret not in str(tuple(row))
    assert key.token not in str(tuple(row))
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert principal is not None
    assert (principal.key_id, principal.role, principal.owner_id, principal.name) == (
        key.key_id,
        Role.SALES,
        "rep-1",
        "rep one",
    )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda tok: tok[:-1] + ("A" if tok[-1] != "A" else "B"),  # wrong secret
        lambda tok: tok.replace("lg_", "xx_", 1),  # wrong prefix
        lambda tok: tok.split("_")[0] + "_" + tok.split("_")[1],  # no secret
        lambda tok: "lg_0123456789abcdef_" + tok.split("_", 2)[2],  # another key id
        lambda _tok: "",
        lambda _tok: "lg_' OR 1=1 --_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        lambda tok: tok + "\n",
    ],
)
def test_malformed_or_wrong_tokens_are_refused(engine: sa.Engine, mangle) -> None:
    with engine.begin() as conn:
        key = create_key(conn, role="admin", name="ops", now=NOW)
    with engine.connect() as conn:
        assert authenticate(conn, mangle(key.token), now=NOW) is None


def test_authentication_is_one_read_and_no_write(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        key = create_key(conn, role="ingest", name="forms", now=NOW)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.connect() as conn:
            for _ in range(3):
                assert authenticate(conn, key.token, now=NOW) is not None
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 3
    assert all(s.lstrip().upper().startswith("SELECT") for s in statements)
    assert all("key_id" in s.split("WHERE", 1)[1] for s in statements)


def test_last_used_is_refreshed_at_most_hourly(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        key = create_key(conn, role="revops", name="bi", now=NOW)
    with engine.begin() as conn:
        assert mark_used(conn, key.key_id, now=NOW)
        assert not mark_used(conn, key.key_id, now=NOW + timedelta(minutes=30))
        assert mark_used(conn, key.key_id, now=NOW + timedelta(minutes=61))
        principal = authenticate(conn, key.token, now=NOW)
    assert principal is not None
    assert principal.last_used_at == NOW + timedelta(minutes=61)


def test_revoked_keys_stop_working_and_everything_is_audited(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        key = create_key(conn, role="admin", name="ops", now=NOW, actor="alice")
        other = create_key(conn, role="ingest", name="forms", now=NOW)
    later = NOW + timedelta(days=1)
    with engine.begin() as conn:
        assert revoke_key(conn, key.key_id, actor="bob", now=later)
        assert not revoke_key(conn, key.key_id, actor="bob", now=later)  # already revoked
    with engine.connect() as conn:
        assert authenticate(conn, key.token, now=later) is None
        assert authenticate(conn, other.token, now=later) is not None
        listed = {k.key_id: k for k in list_keys(conn)}
        entries = audit.read_audit(conn, subject_id=key.key_id)
    assert listed[key.key_id].revoked_at == later
    assert listed[other.key_id].revoked_at is None
    assert not any(hasattr(k, "secret_hash") for k in listed.values())
    assert [(e.action, e.actor, e.details) for e in reversed(entries)] == [
        ("key.created", "alice", {"role": "admin"}),
        ("key.revoked", "bob", None),
    ]
    with pytest.raises(NotFoundError), engine.begin() as conn:
        revoke_key(conn, "0000000000000000", actor="bob", now=later)


@pytest.mark.parametrize(
    ("role", "owner", "code"),
    [
        ("wizard", None, "bad_role"),
        ("sales", None, "owner_required"),
        ("admin", "rep-1", "owner_not_allowed"),
    ],
)
def test_bad_key_requests_are_explained(engine: sa.Engine, role, owner, code) -> None:
    _rep(engine)
    with pytest.raises(UsageError) as info, engine.begin() as conn:
        create_key(conn, role=role, name="x", owner_id=owner, now=NOW)
    assert info.value.code == code
    assert info.value.hint


def test_a_sales_key_needs_a_stored_rep(engine: sa.Engine) -> None:
    with pytest.raises(NotFoundError, match="ghost"), engine.begin() as conn:
        create_key(conn, role="sales", name="x", owner_id="ghost", now=NOW)
    with engine.connect() as conn:
        assert list_keys(conn) == []
