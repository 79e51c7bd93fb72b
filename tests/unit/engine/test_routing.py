"""Routing decisions on hand-checked cases: rule order, turns, weights, capacity, ownership."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from leadgate.engine.routing import assign, match_rules, next_reps
from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from testkit import SMALL_MODEL

ROUTING = """
routing:
  escalate_to: revops
  rules:
    - {id: ent, when: {field: segment, equals: ent}, team: ae, method: capacity}
    - {id: us, when: {field: country, equals: US}, team: us, method: weighted}
    - {id: rest, when: {field: country, not_equals: XX}, team: sdr}
"""


@pytest.fixture(scope="module")
def model():
    return compile_spec(parse_spec(SMALL_MODEL + ROUTING))


def roster(rows):
    cols = ["owner_id", "team_id", "position", "weight", "capacity", "eligible"]
    return pl.DataFrame(
        [dict(zip(cols, r, strict=True)) for r in rows],
        schema={
            "owner_id": pl.String,
            "team_id": pl.String,
            "position": pl.Int64,
            "weight": pl.Float64,
            "capacity": pl.Int64,
            "eligible": pl.Boolean,
        },
    )


def leads(n, **cols):
    data = {"lead_id": [str(i) for i in range(n)], **cols}
    return pl.DataFrame(data)


def owners(result):
    return result.assignments["owner_id"].to_list()


def test_first_matching_rule_wins_and_no_match_is_recorded(model):
    frame = leads(3, segment=["ent", "smb", "smb"], country=["US", "US", "XX"])
    matched = match_rules(frame, model)
    assert matched["rule_id"].to_list() == ["ent", "us", None]
    assert matched["team_id"].to_list() == ["ae", "us", None]
    result = assign(frame, model, roster([]))
    assert result.assignments["reason"].to_list() == [
        "no_eligible_rep",
        "no_eligible_rep",
        "no_rule_matched",
    ]
    assert result.assignments["escalate_to"].to_list() == ["revops"] * 3


def test_round_robin_is_fair_and_continues_from_the_cursor(model):
    team = roster(
        [
            ("a", "sdr", 1, 1, None, True),
            ("b", "sdr", 2, 1, None, True),
            ("c", "sdr", 3, 1, None, True),
        ]
    )
    frame = leads(4, segment=["smb"] * 4, country=["DE"] * 4)
    first = assign(frame, model, team)
    assert owners(first) == ["a", "b", "c", "a"]
    assert first.cursors.to_dicts() == [{"team_id": "sdr", "last_owner_id": "a"}]
    second = assign(frame, model, team, cursors=first.cursors)
    assert owners(second) == ["b", "c", "a", "b"]
    assert set(first.assignments["rule_id"]) == {"rest"}


def test_out_of_office_and_inactive_reps_are_skipped(model):
    team = roster(
        [
            ("a", "sdr", 1, 1, None, True),
            ("b", "sdr", 2, 1, None, False),
            ("c", "sdr", 3, 1, None, True),
        ]
    )
    cursor = pl.DataFrame({"team_id": ["sdr"], "last_owner_id": ["a"]})
    result = assign(leads(3, segment=["smb"] * 3, country=["DE"] * 3), model, team, cursors=cursor)
    assert owners(result) == ["c", "a", "c"]


def test_weights_share_leads_proportionally(model):
    team = roster([("d", "us", 1, 2, None, True), ("e", "us", 2, 1, None, True)])
    result = assign(leads(6, segment=["smb"] * 6, country=["US"] * 6), model, team)
    # keys: d 0.5, 1, 1.5, 2 ...; e 1, 2 ...; ties go to the earlier turn (d)
    assert owners(result) == ["d", "d", "e", "d", "d", "e"]


def test_capacity_is_respected_exactly_and_full_reps_are_skipped(model):
    team = roster([("f", "ae", 1, 1, 3, True), ("g", "ae", 2, 1, 4, True)])
    load = pl.DataFrame({"owner_id": ["f", "g"], "assigned": [1, 1]})
    result = assign(leads(7, segment=["ent"] * 7, country=["US"] * 7), model, team, load=load)
    # f: 2/3, 3/3   g: 2/4, 3/4, 4/4  → g f g f g, then nobody has room
    assert owners(result) == ["g", "f", "g", "f", "g", None, None]
    assert result.assignments["reason"].to_list()[-2:] == ["capacity_full"] * 2


def test_account_owner_wins_and_colleagues_follow_the_first_lead(model):
    team = roster(
        [
            ("a", "sdr", 1, 1, None, True),
            ("b", "sdr", 2, 1, None, True),
            ("x", "old", 1, 1, None, True),
        ]
    )
    frame = leads(
        4, segment=["smb"] * 4, country=["DE"] * 4, account_id=["owned", "new", "new", None]
    )
    known = pl.DataFrame({"account_id": ["owned"], "owner_id": ["x"]})
    result = assign(frame, model, team, account_owners=known)
    rows = result.assignments.select("owner_id", "team_id", "rule_id", "reason").rows()
    assert rows == [
        ("x", "old", "account_owner", "account_owner"),
        ("a", "sdr", "rest", "rule"),
        ("a", "sdr", "account_owner", "account_owner"),
        ("b", "sdr", "rest", "rule"),
    ]


def test_an_absent_account_owner_does_not_get_the_lead(model):
    team = roster([("a", "sdr", 1, 1, None, True), ("x", "sdr", 2, 1, None, False)])
    frame = leads(1, segment=["smb"], country=["DE"], account_id=["owned"])
    known = pl.DataFrame({"account_id": ["owned"], "owner_id": ["x"]})
    assert owners(assign(frame, model, team, account_owners=known)) == ["a"]


def test_next_rep_skips_the_current_owner_absent_and_full_reps():
    team = roster(
        [
            ("a", "sdr", 1, 1, None, True),
            ("b", "sdr", 2, 1, 1, True),
            ("c", "sdr", 3, 1, None, False),
            ("d", "sdr", 4, 1, None, True),
        ]
    )
    load = pl.DataFrame({"owner_id": ["b"], "assigned": [1]})
    current = pl.DataFrame(
        {"lead_id": ["1", "2", "3"], "team_id": ["sdr", "sdr", "zz"], "owner_id": ["a", "d", "a"]}
    )
    assert next_reps(current, team, load)["owner_id"].to_list() == ["d", "a", None]


def test_leads_without_account_or_rule_fields_are_routed_as_if_those_were_empty(model):
    reps = roster([("a", "sdr", 1, 1.0, None, True), ("b", "sdr", 2, 1.0, None, True)])
    bare = leads(3, country=["DE", "FR", None])  # no account_id or segment column at all
    empty = leads(
        3,
        country=["DE", "FR", None],
        account_id=pl.Series([None] * 3, dtype=pl.String),
        segment=pl.Series([None] * 3, dtype=pl.String),
    )
    got, expected = assign(bare, model, reps), assign(empty, model, reps)
    assert got.assignments.equals(expected.assignments)
    assert got.cursors.equals(expected.cursors)
    # a missing country matches no rule; the others take turns in the catch-all team
    assert got.assignments["rule_id"].to_list() == ["rest", "rest", None]
    assert owners(got) == ["a", "b", None]
    assert got.cursors.to_dicts() == [{"team_id": "sdr", "last_owner_id": "b"}]


def test_rules_kept_per_model_never_serve_another_model_of_the_same_version(model):
    # The compiled rules are kept per model version; a model that differs but carries the
    # same version (a test double, a hand-built copy) is matched by its own rules.
    frame = leads(2, segment=["ent", "smb"], country=["US", "US"])
    assert match_rules(frame, model)["rule_id"].to_list() == ["ent", "us"]
    reordered = dataclasses.replace(
        model,
        routing=dataclasses.replace(model.routing, rules=tuple(reversed(model.routing.rules))),
    )
    assert reordered.version == model.version
    assert match_rules(frame, reordered)["rule_id"].to_list() == ["rest", "rest"]
    assert match_rules(frame, model)["rule_id"].to_list() == ["ent", "us"]
    equal = dataclasses.replace(model)  # an equal copy is served the same rules
    assert match_rules(frame, equal)["rule_id"].to_list() == ["ent", "us"]
