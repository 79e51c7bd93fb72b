"""The lifecycle state machine: every sales action and every automatic move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest

from leadgate.engine.transitions import ACTIONS, STAGES, apply_action, auto_transitions
from leadgate.exceptions import TransitionError

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)

ALLOWED = {
    ("mql", "accept"): "sal",
    ("pql", "accept"): "sal",
    ("iql", "recycle"): "recycled",
    ("mql", "recycle"): "recycled",
    ("pql", "recycle"): "recycled",
    ("sal", "recycle"): "recycled",
    ("sql", "recycle"): "recycled",
    ("sal", "convert"): "opportunity",
    ("sql", "convert"): "opportunity",
    ("opportunity", "won"): "won",
    ("opportunity", "lost"): "lost",
    ("lost", "reopen"): "new",
    ("disqualified", "reopen"): "new",
    **{
        (s, "disqualify"): "disqualified"
        for s in ("new", "iql", "mql", "pql", "sal", "sql", "recycled")
    },
}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_from_every_stage(stage, action):
    expected = ALLOWED.get((stage, action))
    if expected is None:
        with pytest.raises(TransitionError) as info:
            apply_action(stage, action, reason="because", at=AT)
        assert info.value.code == "transition_not_allowed"
        assert stage in info.value.message
        assert info.value.hint
    else:
        move = apply_action(stage, action, reason="because", at=AT)
        assert (move.from_stage, move.to_stage, move.action) == (stage, expected, action)


@pytest.mark.parametrize("action", ["recycle", "disqualify", "lost"])
def test_actions_that_must_say_why(action):
    stage = "opportunity" if action == "lost" else "mql"
    with pytest.raises(TransitionError) as info:
        apply_action(stage, action, reason="  ", at=AT)
    assert info.value.code == "reason_required"


def test_recycle_sets_a_recheck_date_default_or_given():
    move = apply_action("mql", "recycle", reason="timing", at=AT, recheck_days=45)
    assert move.recheck_at == AT + timedelta(days=45)
    given = AT + timedelta(days=3)
    assert apply_action("sal", "recycle", reason="x", at=AT, recheck_at=given).recheck_at == given
    with pytest.raises(TransitionError):
        apply_action("sal", "recycle", reason="x", at=AT, recheck_at=AT - timedelta(days=1))


def test_unknown_action_lists_the_known_ones():
    with pytest.raises(TransitionError) as info:
        apply_action("mql", "promote", at=AT)
    assert info.value.code == "unknown_action"
    assert "accept" in info.value.hint


def test_final_stage_hint_mentions_reopen():
    with pytest.raises(TransitionError) as info:
        apply_action("won", "accept", at=AT)
    assert "final" in info.value.hint


CASES = [
    # current, recheck_at, recommended, exclusion → expected (to_stage, reason) or None
    ("new", None, "mql", None, ("mql", "recommended_mql")),
    ("new", None, "sql", None, ("mql", "recommended_sql")),
    ("new", None, "pql", None, ("pql", "recommended_pql")),
    ("new", None, "iql", None, ("iql", "recommended_iql")),
    ("new", None, "new", None, None),
    ("iql", None, "mql", None, ("mql", "recommended_mql")),
    ("iql", None, "iql", None, None),
    ("iql", None, "new", None, None),  # no demotion inside marketing stages
    ("new", None, "disqualified", "competitor", ("disqualified", "competitor")),
    ("mql", None, "disqualified", "student", ("disqualified", "student")),
    ("mql", None, "mql", None, None),
    ("mql", None, "pql", None, None),
    ("mql", None, "iql", None, ("recycled", "decayed")),
    ("pql", None, "new", None, ("recycled", "decayed")),
    ("recycled", "future", "mql", None, None),
    ("recycled", "past", "mql", None, ("mql", "requalified")),
    ("recycled", None, "pql", None, ("pql", "requalified")),
    ("recycled", "past", "iql", None, None),
    ("sal", None, "sql", None, ("sql", "framework_passed")),
    ("sal", None, "iql", None, None),  # sales owns accepted leads
    ("sal", None, "disqualified", "competitor", None),
    ("sql", None, "new", None, None),
    ("opportunity", None, "sql", None, None),
    ("won", None, "disqualified", "student", None),
]


def case_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lifecycle state and the engine's recommendations of ``CASES``, one lead per case."""
    recheck = {None: None, "past": AT - timedelta(days=1), "future": AT + timedelta(days=1)}
    state = pl.DataFrame(
        {
            "lead_id": list(range(len(CASES))),
            "stage": [case[0] for case in CASES],
            "recheck_at": [recheck[case[1]] for case in CASES],
        },
        schema_overrides={"recheck_at": pl.Datetime("us", "UTC")},
    )
    scores = pl.DataFrame(
        {
            "lead_id": list(range(len(CASES))),
            "stage": [case[2] for case in CASES],
            "exclusion_reason": [case[3] for case in CASES],
        }
    )
    return state, scores


def test_automatic_moves_case_by_case():
    state, scores = case_frames()
    moves = auto_transitions(state, scores, as_of=AT, recheck_days=30)
    got = {row["lead_id"]: (row["to_stage"], row["reason"]) for row in moves.to_dicts()}
    expected = {i: case[4] for i, case in enumerate(CASES) if case[4] is not None}
    assert got == expected
    recycled = moves.filter(pl.col("to_stage") == "recycled")
    assert recycled["recheck_at"].to_list() == [AT + timedelta(days=30)] * recycled.height
    assert moves.filter(pl.col("to_stage") != "recycled")["recheck_at"].null_count() == (
        moves.height - recycled.height
    )
    assert (moves["from_stage"] == state["stage"].gather(moves["lead_id"])).all()


def test_applying_the_moves_and_running_again_changes_nothing():
    state, scores = case_frames()
    moves = auto_transitions(state, scores, as_of=AT)
    updated = state.update(
        moves.select("lead_id", pl.col("to_stage").alias("stage"), "recheck_at"),
        on="lead_id",
        include_nulls=False,
    )
    assert auto_transitions(updated, scores, as_of=AT).height == 0


def test_a_moment_with_another_offset_is_the_same_instant_in_utc():
    state, scores = case_frames()
    in_utc = auto_transitions(state, scores, as_of=AT, recheck_days=30).sort("lead_id")
    berlin = AT.astimezone(timezone(timedelta(hours=2)))
    elsewhere = auto_transitions(state, scores, as_of=berlin, recheck_days=30).sort("lead_id")
    assert elsewhere.schema["recheck_at"] == pl.Datetime("us", "UTC")
    assert elsewhere.equals(in_utc)


def test_a_recycled_lead_is_due_again_exactly_at_its_recheck_moment():
    state = pl.DataFrame(
        {"lead_id": [1, 2], "stage": ["recycled", "recycled"], "recheck_at": [AT, AT]},
        schema_overrides={"recheck_at": pl.Datetime("us", "UTC")},
    )
    scores = pl.DataFrame(
        {"lead_id": [1, 2], "stage": ["mql", "pql"], "exclusion_reason": [None, None]},
        schema_overrides={"exclusion_reason": pl.String},
    )
    before = auto_transitions(state, scores, as_of=AT - timedelta(microseconds=1))
    assert before.height == 0
    moves = auto_transitions(state, scores, as_of=AT).sort("lead_id")
    assert moves["to_stage"].to_list() == ["mql", "pql"]
    assert moves["reason"].to_list() == ["requalified", "requalified"]
