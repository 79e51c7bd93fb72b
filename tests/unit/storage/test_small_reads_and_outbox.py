"""A live group's small paths give what the bulk paths give.

The outbox write binds plain parameters for a few messages and streams with COPY for many
(PostgreSQL); reads by a few ids run one plain query instead of COPY; timestamp text for
one moment is built in Python rather than by Polars. Each case runs both paths on the same
data and compares every row (on SQLite both runs take the plain path).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from leadgate.storage import _sql, bulk, frames, live, privacy
from leadgate.storage import tables as t
from leadgate.storage.tables import SQLITE_TIMESTAMP_FORMAT

T0 = datetime(2026, 3, 1, 9, 0, 0, 123_457, tzinfo=UTC)
UTC_DT = pl.Datetime("us", "UTC")


def _messages(ids: list[str], created: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "message_id": ids,
            "kind": ["lead.assigned" if i % 2 else "lead.stage_changed" for i in range(len(ids))],
            "payload": [
                json.dumps({"lead_id": f"L{i}", "owner_id": None, "score": i / 3})
                for i in range(len(ids))
            ],
            "created_at": [created + timedelta(microseconds=i) for i in range(len(ids))],
        },
        schema_overrides={"created_at": UTC_DT},
    )


def _outbox(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = sa.select(t.outbox).order_by(t.outbox.c.message_id)
        return [tuple(row) for row in conn.execute(query)]


def _write_outbox(engine: Engine) -> list[int]:
    """Three writes: new messages, then a mix of known and new ids (one repeated)."""
    first = [f"m{i:03d}" for i in range(6)]
    again = ["m001", "m004", "m100", "m101", "m100"]
    with engine.begin() as conn:
        counts = [live.append_outbox(conn, _messages(first, T0))]
    with engine.begin() as conn:
        counts.append(live.append_outbox(conn, _messages(again, T0 + timedelta(hours=1))))
        counts.append(live.append_outbox(conn, _messages([], T0)))
    return counts


@pytest.mark.parametrize("threshold", [_sql.SMALL_WRITE_ROWS, -1])
def test_outbox_plain_and_copy_writes_store_the_same(
    engine: Engine, threshold: int, copies: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres = engine.dialect.name == "postgresql"
    monkeypatch.setattr(_sql, "SMALL_WRITE_ROWS", threshold)
    counts = _write_outbox(engine)
    assert counts == [6, 2, 0]  # known ids and the repeat are skipped
    assert len(copies) == (2 if postgres and threshold < 0 else 0)
    rows = {row[0]: row for row in _outbox(engine)}
    assert sorted(rows) == [*(f"m{i:03d}" for i in range(6)), "m100", "m101"]
    names = [col.name for col in t.outbox.c]
    first = dict(zip(names, rows["m001"], strict=True))
    assert first["payload"] == {"lead_id": "L1", "owner_id": None, "score": 1 / 3}
    assert first["created_at"] == T0 + timedelta(microseconds=1)  # the first write kept
    assert first["kind"] == "lead.assigned"
    assert first["delivered_at"] is None
    new = dict(zip(names, rows["m100"], strict=True))
    assert new["created_at"] == T0 + timedelta(hours=1, microseconds=2)


def test_outbox_paths_agree_row_for_row(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    natural = _write_outbox(engine)
    natural_rows = _outbox(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(t.outbox))
    monkeypatch.setattr(_sql, "SMALL_WRITE_ROWS", -1)
    assert _write_outbox(engine) == natural
    assert _outbox(engine) == natural_rows


@pytest.mark.parametrize(
    "moment",
    [
        T0,
        datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3))),
        datetime(812, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 1, 12, 0),  # naive: taken as UTC, as Polars takes it
    ],
)
@pytest.mark.parametrize("postgres", [False, True])
def test_now_text_matches_polars_text(moment: datetime, postgres: bool) -> None:
    fmt = _sql.PG_TIMESTAMP_FORMAT if postgres else SQLITE_TIMESTAMP_FORMAT
    expected = pl.select(pl.lit(moment).dt.convert_time_zone("UTC").dt.strftime(fmt)).item()
    assert _sql.now_text(postgres, moment) == expected
    if moment.tzinfo is not None:
        frame = pl.DataFrame({"at": [moment]}).with_columns(
            pl.col("at").dt.convert_time_zone("UTC")
        )
        values = frame.select(_sql.sql_values(frame, ["at"], postgres=postgres))
        assert values.item() == _sql.now_text(postgres, moment)


def _store_leads(engine: Engine) -> None:
    leads = pl.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(6)],
            "email": [f"p{i}@example.com" for i in range(6)],
            "title": ["VP Sales", None, "CEO", "CTO", None, "Intern"],
            "seats": [1, None, 3, 4, 5, None],
            "created_at": [T0 + timedelta(minutes=i) for i in range(6)],
        },
        schema_overrides={"created_at": UTC_DT},
    )
    with engine.begin() as conn:
        bulk.upsert_leads(conn, leads, now=T0)
        conn.execute(sa.update(t.leads).where(t.leads.c.lead_id == "L3").values(erased_at=T0))
        conn.execute(
            sa.insert(t.consents),
            [
                {
                    "lead_id": lead,
                    "channel": channel,
                    "status": status,
                    "lawful_basis": "consent",
                    "recorded_at": T0 + timedelta(seconds=n),
                }
                for n, (lead, channel, status) in enumerate(
                    [
                        ("L1", "email", "granted"),
                        ("L1", "phone", "withdrawn"),
                        ("L4", "email", "granted"),
                    ]
                )
            ],
        )


def _reads(conn: Connection, ids: list[str]) -> list[pl.DataFrame]:
    return [
        frames.read_leads(conn, ids),
        privacy.read_erased(conn, ids),
        privacy.read_consents(conn, ids),
    ]


@pytest.mark.parametrize("ids", [["L1"], ["L0", "L3", "L4", "nope"], []])
def test_reads_by_few_ids_match_streamed_reads(
    engine: Engine, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_leads(engine)
    streamed: list[bool] = []
    real = frames._fetch

    def spy(*args: Any, **kwargs: Any) -> pl.DataFrame:
        streamed.append(kwargs.get("stream", True))
        return real(*args, **kwargs)

    monkeypatch.setattr(frames, "_fetch", spy)
    monkeypatch.setattr(privacy, "_fetch", spy)
    with engine.connect() as conn:
        plain = _reads(conn, ids)
        assert streamed == [False, False, False]
        monkeypatch.setattr(frames, "FEW_IDS", -1)
        copied = _reads(conn, ids)
        assert streamed[3:] == [True, True, True]
    for small, big in zip(plain, copied, strict=True):
        assert small.schema == big.schema
        assert small.sort(small.columns).equals(big.sort(big.columns))
    leads = plain[0]
    assert sorted(leads.get_column("lead_id").to_list()) == sorted(i for i in ids if i != "nope")
    if "L3" in ids:
        erased = plain[1].filter(pl.col("lead_id") == "L3").get_column("erased_at").item()
        assert erased == T0


def _live(conn: Connection, ids: list[str]) -> pl.DataFrame:
    return live.live_lead_ids(conn, ids).to_frame()  # erased L3 left out


@pytest.mark.parametrize(
    "ids", [["L1"], ["L0", "L3", "L4", "nope", "L0"], [], ["it's"], ['say "hi"', "L1", "a\\b"]]
)
def test_ids_as_array_and_as_json_match_the_same_rows(
    engine: Engine, ids: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL matches up to ``ANY_IDS`` ids with ``= ANY(array)`` (the array goes as
    one literal unless an id needs escaping), up to ``PROBE_IDS`` with ``= ANY`` of an
    array built from JSON, more by joining a JSON array; all select the same rows (SQLite
    always joins JSON)."""
    _store_leads(engine)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        where, params = frames._ids_filter(conn, "lead_id", ids)
        assert ("ANY(%s::text[])" in where[0]) is postgres
        literal = "{" + ",".join(f'"{i}"' for i in ids) + "}"
        escaped = any('"' in i or "\\" in i for i in ids)
        assert params == ([list(ids) if escaped else literal] if postgres else [json.dumps(ids)])
        probed = [*_reads(conn, ids), live.lead_states(conn, ids), _live(conn, ids)]
        monkeypatch.setattr(frames, "ANY_IDS", -1)
        where, params = frames._ids_filter(conn, "lead_id", ids)
        assert ("ANY(ARRAY(SELECT jsonb_array_elements_text" in where[0]) is postgres
        assert params == [json.dumps(ids)]
        built = [*_reads(conn, ids), live.lead_states(conn, ids), _live(conn, ids)]
        monkeypatch.setattr(frames, "PROBE_IDS", -1)
        assert "ANY" not in frames._ids_filter(conn, "lead_id", ids)[0][0]
        joined = [*_reads(conn, ids), live.lead_states(conn, ids), _live(conn, ids)]
    for by_array, by_built, by_json in zip(probed, built, joined, strict=True):
        # row order is not promised
        assert by_array.schema == by_built.schema == by_json.schema
        assert by_array.sort(by_array.columns).equals(by_json.sort(by_json.columns))
        assert by_built.sort(by_built.columns).equals(by_json.sort(by_json.columns))
    assert sorted(probed[0].get_column("lead_id").to_list()) == sorted(
        {i for i in ids if i in {"L0", "L1", "L4", "L3"}}
    )
    assert sorted(probed[-1]["lead_id"]) == sorted({i for i in ids if i in {"L0", "L1", "L4"}})
