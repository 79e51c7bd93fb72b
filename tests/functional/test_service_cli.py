"""``leadgate keys``, ``leadgate webhooks`` and ``leadgate erase`` on both databases: secrets
are printed once and never listed, bad input is a message and an exit code, not a traceback."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from leadgate.cli.app import main
from leadgate.services.keys import authenticate
from leadgate.storage import make_engine
from leadgate.storage import tables as t


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_webhooks_and_erase(db_url, capsys):
    db = ["--database", db_url]
    assert cli(capsys, "db", "upgrade", *db)[0] == 0
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(t.owners).values(owner_id="rep_a", name="A"))
        conn.execute(
            sa.insert(t.leads).values(
                lead_id="L1", email="erase.me@mail.example", created_at=now, updated_at=now
            )
        )

    code, out, err = cli(
        capsys, "keys", "create", "--role", "sales", "--name", "rep a", "--owner", "rep_a", *db
    )
    assert code == 0, err
    token = re.search(r"lg_[0-9a-f]{16}_\S+", out)
    assert token is not None
    with engine.connect() as conn:
        principal = authenticate(conn, token.group(0), now=now)
    assert principal is not None
    assert principal.owner_id == "rep_a"
    code, out, _ = cli(capsys, "keys", "list", *db)
    assert code == 0
    assert principal.key_id in out
    assert token.group(0) not in out
    code, out, _ = cli(capsys, "keys", "revoke", principal.key_id, "--actor", "ops", *db)
    assert code == 0
    assert "revoked" in out

    code, out, err = cli(
        capsys,
        "webhooks",
        "add",
        "http://127.0.0.1:9/h",
        "--kinds",
        "lead.assigned,sla.breached",
        *db,
    )
    assert code == 0, err
    secret = re.search(r"whsec_\S+", out)
    endpoint = re.search(r"wh_[0-9a-f]{12}", out)
    assert secret is not None
    assert endpoint is not None
    code, out, _ = cli(capsys, "webhooks", "list", *db)
    assert code == 0
    assert endpoint.group(0) in out
    assert secret.group(0) not in out
    code, out, _ = cli(capsys, "webhooks", "deliver", "--once", *db)
    assert code == 0
    assert "0 sent" in out
    code, out, _ = cli(capsys, "webhooks", "remove", endpoint.group(0), *db)
    assert code == 0

    code, out, err = cli(capsys, "erase", "L1", "--actor", "dpo", *db)
    assert code == 0, err
    assert "lead L1 erased" in out
    assert "erase.me" not in out
    with engine.connect() as conn:
        assert conn.execute(sa.select(t.leads.c.email)).scalar_one() is None
    engine.dispose()


def test_bad_input_is_a_message_not_a_traceback(db_url, capsys):
    db = ["--database", db_url]
    assert cli(capsys, "db", "upgrade", *db)[0] == 0
    cases = [
        (["keys", "create", "--role", "wizard", "--name", "x"], 4, "Unknown role"),
        (["keys", "create", "--role", "sales", "--name", "x"], 4, "must name its rep"),
        (["keys", "create", "--role", "sales", "--name", "x", "--owner", "ghost"], 8, "ghost"),
        (["keys", "revoke", "0123456789abcdef"], 8, "No API key"),
        (["webhooks", "add", "ftp://x/y"], 4, "not an http(s) URL"),
        (["webhooks", "remove", "wh_nope"], 8, "No webhook endpoint"),
        (["erase", "nobody", "--actor", "dpo"], 8, "No lead"),
    ]
    for args, expected, message in cases:
        code, _, err = cli(capsys, *args, *db)
        assert (code, message in err) == (expected, True), (args, err)
        assert "Traceback" not in err
