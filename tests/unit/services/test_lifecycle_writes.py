"""What ``apply_scores`` writes back: only changed leads, both sides of each, nulls included.

The frames are built as lazy queries and collected together; these cases pin what they
must hold against the eager ``DataFrame.update`` semantics they replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from leadgate.model import columns as c
from leadgate.services import lifecycle as lc

AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)
VERSION = "m@1"
UTC_US = pl.Datetime("us", "UTC")


def stored() -> pl.DataFrame:
    """Four stored leads: 1 will rescore, 2 will move, 3 both, 4 neither."""
    became = {
        column: [None, None, AS_OF - timedelta(days=9), None] for column in c.BECAME_AT.values()
    }
    return pl.DataFrame(
        {
            c.LEAD_ID: ["1", "2", "3", "4"],
            c.STAGE: ["new", "iql", "new", "mql"],
            "stage_changed_at": [None, AS_OF - timedelta(days=3), None, AS_OF],
            "recheck_at": [None, None, None, None],
            "recycle_reason": [None, None, None, None],
            "disqualified_reason": [None, "stale", None, None],
            **became,
            **{name: [None] * 4 for name in lc.SCORE_COLUMNS},
            c.FIT_SCORE: [10.0, 20.0, 30.0, 40.0],
            c.GRADE: ["C1", "B2", "C3", "A1"],
            lc.RECOMMENDED: ["new", "iql", "new", "mql"],
            c.MODEL_VERSION: [VERSION] * 4,
            "scored_at": [AS_OF - timedelta(days=1)] * 4,
        },
        schema_overrides={
            "stage_changed_at": UTC_US,
            "recheck_at": UTC_US,
            "scored_at": UTC_US,
            "recycle_reason": pl.String,
            **dict.fromkeys(c.BECAME_AT.values(), UTC_US),
            **dict.fromkeys(lc.SCORE_COLUMNS, pl.String),
            c.FIT_SCORE: pl.Float64,
            c.ENGAGEMENT_SCORE: pl.Float64,
            c.PRODUCT_SCORE: pl.Float64,
            c.POTENTIAL_VALUE: pl.Float64,
        },
    )


def scored(leads: pl.DataFrame) -> pl.DataFrame:
    """The engine's view: lead 1 and 3 score differently (lead 1's grade becomes null)."""
    return leads.select(
        c.LEAD_ID,
        pl.Series(c.FIT_SCORE, [11.0, 20.0, 35.0, 40.0]),
        *[pl.col(n) for n in lc.SCORE_COLUMNS if n not in (c.FIT_SCORE, c.GRADE)],
        pl.Series(c.GRADE, [None, "B2", "C2", "A1"], dtype=pl.String),
        pl.col(c.STAGE),
        pl.lit(AS_OF).dt.cast_time_unit("us").alias(c.AS_OF),
    )


def moves() -> pl.DataFrame:
    return pl.DataFrame(
        {
            c.LEAD_ID: ["2", "3"],
            "from_stage": ["iql", "new"],
            "to_stage": ["mql", "disqualified"],
            "reason": ["recommended_mql", "competitor"],
            "recheck_at": [None, None],
        },
        schema_overrides={"recheck_at": UTC_US},
    )


@pytest.fixture
def updates() -> pl.DataFrame:
    leads = stored()
    changed = lc._changed_scores(leads, scored(leads), VERSION)
    query = lc._lead_updates(leads, changed, lc._moved_state(moves(), leads, AS_OF))
    return query.collect().sort(c.LEAD_ID)


def test_only_leads_whose_scores_or_stage_changed_are_written(updates):
    assert updates[c.LEAD_ID].to_list() == ["1", "2", "3"]


def test_a_rescored_lead_keeps_its_stage_and_takes_its_new_scores_even_null(updates):
    one = updates.row(0, named=True)
    assert one[c.STAGE] == "new"
    assert one["stage_changed_at"] is None
    assert one[c.FIT_SCORE] == 11.0
    assert one[c.GRADE] is None  # a null overwrites
    assert one["scored_at"] == AS_OF


def test_a_moved_lead_takes_its_new_stage_and_dates_and_keeps_its_scores(updates):
    two = updates.row(1, named=True)
    assert two[c.STAGE] == "mql"
    assert two["stage_changed_at"] == AS_OF
    assert two[c.BECAME_AT["mql"]] == AS_OF
    assert two["disqualified_reason"] is None  # only set by a move to disqualified
    assert two[c.FIT_SCORE] == 20.0
    assert two[c.GRADE] == "B2"
    assert two["scored_at"] == AS_OF - timedelta(days=1)  # as stored: it was not rescored


def test_a_lead_that_moved_and_rescored_takes_both(updates):
    three = updates.row(2, named=True)
    assert three[c.STAGE] == "disqualified"
    assert three["disqualified_reason"] == "competitor"
    assert three[c.FIT_SCORE] == 35.0
    assert three[c.GRADE] == "C2"
    # a first-time date already set is kept
    assert three[c.BECAME_AT["mql"]] == AS_OF - timedelta(days=9)


def test_the_same_as_two_eager_updates(updates):
    leads = stored()
    changed = lc._changed_scores(leads, scored(leads), VERSION).collect()
    moved = lc._moved_state(moves(), leads, AS_OF).collect()
    base = leads.select(
        c.LEAD_ID,
        *[pl.col(n).cast(moved.schema[n]) for n in moved.columns if n != c.LEAD_ID],
        *[pl.col(n).cast(changed.schema[n]) for n in changed.columns if n != c.LEAD_ID],
    ).filter(pl.col(c.LEAD_ID).is_in(["1", "2", "3"]))
    expected = base.update(moved, on=c.LEAD_ID, include_nulls=True).update(
        changed, on=c.LEAD_ID, include_nulls=True
    )
    assert updates.equals(expected.sort(c.LEAD_ID))


def test_given_types_give_the_same_updates_as_looked_up_ones(updates):
    # ``apply_scores`` hands ``_lead_updates`` the types it keeps per input shape instead
    # of resolving the two queries' schemas on every call.
    leads = stored()
    frame = scored(leads)
    changed = lc._changed_scores(leads, frame, VERSION)
    moved = lc._moved_state(moves(), leads, AS_OF)
    given = lc._lead_updates(
        leads,
        changed,
        moved,
        changed_types=lc._changed_exprs(lc._shape(frame, lc._SCORED), VERSION)[2],
        moved_types=lc._moved_types(
            lc._shape(moves(), moves().columns), lc._shape(leads, lc._BECAME)
        ),
    )
    assert given.collect().sort(c.LEAD_ID).equals(updates)
    assert (
        tuple(changed.collect_schema().items())
        == lc._changed_exprs(lc._shape(frame, lc._SCORED), VERSION)[2]
    )
    assert tuple(moved.collect_schema().items()) == lc._moved_types(
        lc._shape(moves(), moves().columns), lc._shape(leads, lc._BECAME)
    )


def test_kept_expressions_follow_the_input_types_and_the_model_version():
    # The same query over a frame whose fit score is another float type, and under another
    # model version: each run compares and writes with its own types and version.
    leads = stored()
    narrow = scored(leads).with_columns(pl.col(c.FIT_SCORE).cast(pl.Float32))
    first = lc._changed_scores(leads, narrow, VERSION).collect()
    assert first.schema[c.FIT_SCORE] == pl.Float32
    assert sorted(first[c.LEAD_ID].to_list()) == ["1", "3"]
    typed = lc._changed_scores(leads, scored(leads), VERSION).collect()
    assert typed.schema[c.FIT_SCORE] == pl.Float64
    assert sorted(typed[c.LEAD_ID].to_list()) == ["1", "3"]
    other = lc._changed_scores(leads, scored(leads), "m@2").collect()
    assert sorted(other[c.LEAD_ID].to_list()) == ["1", "2", "3", "4"]
    assert set(other[c.MODEL_VERSION].to_list()) == {"m@2"}


def test_one_query_adds_empty_fields_and_gives_empty_ones_their_earlier_type():
    frame = pl.DataFrame(
        {
            c.LEAD_ID: ["1", "2"],
            "budget": [None, None],  # all-empty now, was a Boolean before
            "seats": [3, None],  # typed now, first seen
            "plan": [None, None],  # all-empty, never seen typed
        }
    )
    names = ("budget", "seats", "plan", "region", "account.industry", "budget")
    seen = {("leads", "budget"): pl.Boolean(), ("leads", "region"): pl.String()}
    expected = pl.DataFrame(
        {
            c.LEAD_ID: ["1", "2"],
            "budget": [None, None],
            "seats": [3, None],
            "plan": [None, None],
            "region": [None, None],
        },
        schema_overrides={"budget": pl.Boolean, "region": pl.String},
    )
    shaped_types = lc.FieldTypes(dict(seen))
    shaped = shaped_types.shaped(frame, "leads", names)
    assert shaped.equals(expected)
    assert shaped.schema == expected.schema
    assert shaped.schema["budget"] == pl.Boolean
    assert shaped.schema["region"] == pl.String
    assert shaped.schema["plan"] == pl.Null
    assert "account.industry" not in shaped.columns
    assert shaped_types.seen == {**seen, ("leads", "seats"): pl.Int64()}  # ``seats`` remembered
