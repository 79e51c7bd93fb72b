"""Events as columns: exact times, the checks' fast path, the frame and the receipts."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgate.exceptions import InputDataError
from leadgate.services import event_columns, ingest
from leadgate.services.event_columns import (
    EventColumns,
    EventInput,
    IngestOutcome,
    LeadState,
    Receipt,
    check_events,
    epoch_micros,
)

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(
    min_value=datetime(1960, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
)


@given(moments)
def test_epoch_micros_is_exact_whatever_the_offset(moment: datetime) -> None:
    expected = calendar.timegm(moment.utctimetuple()) * 1_000_000 + moment.microsecond
    assert epoch_micros(moment) == expected
    assert epoch_micros(moment.astimezone(UTC).replace(tzinfo=None)) == expected  # naive: UTC


def _events(draw: st.DrawFn) -> list[EventInput]:
    types = st.sampled_from(["page_view", "form_submit", "telepathy"])
    props = st.dictionaries(
        st.sampled_from(["url", "form", "lead_id", "received_at", "n"]),
        st.one_of(st.none(), st.integers(0, 3), st.text(max_size=3)),
        max_size=3,
    )
    when = st.one_of(
        st.just(NOW - timedelta(minutes=1)),
        st.just(NOW + event_columns.MAX_AHEAD),  # the limit itself is fine
        st.just(NOW + event_columns.MAX_AHEAD + timedelta(microseconds=1)),
        st.just(event_columns.EARLIEST),
        st.just(event_columns.EARLIEST - timedelta(microseconds=1)),
        moments,
    )
    return [
        EventInput(f"e{i}", "L1", draw(types), draw(when), draw(props))
        for i in range(draw(st.integers(1, 6)))
    ]


@settings(max_examples=300)
@given(st.data())
def test_the_columns_fast_path_refuses_exactly_what_the_event_checks_refuse(data) -> None:
    events = data.draw(st.composite(_events)())
    model = type("Model", (), {"event_types": ("page_view", "form_submit")})()
    try:
        check_events(events, model, now=NOW, field_prefix="events")  # type: ignore[arg-type]
        slow = None
    except InputDataError as error:
        slow = error.problems
    try:
        columns = EventColumns.of(events)
        check_events(events, model, now=NOW, field_prefix="events", columns=columns)  # type: ignore[arg-type]
        fast = None
    except InputDataError as error:
        fast = error.problems
    assert fast == slow


def test_columns_take_and_concat_keep_properties_with_their_events() -> None:
    at = NOW - timedelta(hours=1)
    first = EventColumns.of(
        [EventInput("a", "L1", "page_view", at, {}), EventInput("b", "L2", "x", at, {"u": 1})]
    )
    second = EventColumns.of([EventInput("c", "L3", "page_view", at, {"v": None})])
    both = EventColumns.concat([first, second])
    assert list(both.event_ids) == ["a", "b", "c"]
    assert dict(both.properties) == {1: {"u": 1}, 2: {"v": None}}
    taken = both.take([0, 2])
    assert list(taken.event_ids) == ["a", "c"]
    assert dict(taken.properties) == {1: {"v": None}}
    assert both.take([0, 1, 2]) is both


def test_the_event_frame_from_columns_is_the_frame_of_the_events() -> None:
    plus_two = timezone(timedelta(hours=2))
    events = [
        EventInput("a", "L1", "page_view", datetime(2026, 9, 30, 14, 0, 0, 7, plus_two), {}),
        EventInput("b", "L2", "form_submit", NOW, {"form": "demo", "n": 2}),
        EventInput("c", "L1", "page_view", NOW, {"n": "three", "x": None}),
    ]
    frame = ingest._event_frame(EventColumns.of(events))
    expected = pl.DataFrame(
        {
            "event_id": ["a", "b", "c"],
            "lead_id": ["L1", "L2", "L1"],
            "event_type": ["page_view", "form_submit", "page_view"],
            "occurred_at": [e.occurred_at for e in events],
        },
        schema_overrides={"occurred_at": pl.Datetime("us", "UTC")},
    ).hstack(
        pl.from_dicts([dict(e.properties) for e in events], infer_schema_length=None, strict=False)
    )
    assert frame.equals(expected)
    assert frame.schema == expected.schema
    assert frame.item(0, "occurred_at") == datetime(2026, 9, 30, 12, 0, 0, 7, UTC)
    bare = ingest._event_frame(EventColumns.of(events[:1]))
    assert bare.columns == ["event_id", "lead_id", "event_type", "occurred_at"]


def test_an_outcome_gives_every_event_its_receipt() -> None:
    earlier = NOW - timedelta(days=1)
    events = EventColumns(["a", "b", "a", "c"], ["L1", "L2", "L9", "L3"], ["x"] * 4, [0] * 4)
    outcome = IngestOutcome(
        NOW,
        {2: ("L1", NOW), 3: ("L7", earlier)},
        [("L1", "mql", "A1", 80.0, 40.0, None, "rep")],
    )
    assert outcome.receipts(events) == (
        Receipt("a", "L1", NOW, duplicate=False),
        Receipt("b", "L2", NOW, duplicate=False),
        Receipt("a", "L1", NOW, duplicate=True),
        Receipt("c", "L7", earlier, duplicate=True),
    )
    result = outcome.result(events)
    assert result.leads == (LeadState("L1", "mql", "A1", 80.0, 40.0, None, "rep"),)
    failed = IngestOutcome(error=ValueError("x")).result(events)
    assert failed.receipts == ()
    assert isinstance(failed.error, ValueError)


@pytest.mark.parametrize("count", [1, 3])
def test_unknown_leads_name_their_events(count: int) -> None:
    events = EventColumns(
        ["a", "b", "c"][:count], ["L1", "ghost", "L2"][:count], ["x"] * count, [0] * count
    )
    outcome = ingest._unknown_leads(events, {"L2"})
    assert outcome is not None
    assert isinstance(outcome.error, InputDataError)
    fields = [p.location.field for p in outcome.error.problems]
    assert fields == (["lead_id"] if count == 1 else ["events[0].lead_id", "events[1].lead_id"])
    assert ingest._unknown_leads(events, {"L1", "L2", "ghost"}) is None
