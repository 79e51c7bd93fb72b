"""The routing and slas sections: compiled values and located errors."""

from __future__ import annotations

import pytest

from leadgate.exceptions import ModelError
from leadgate.model.compiled import Routing, RoutingRule, Sla, parse_duration
from leadgate.model.compiler import compile_spec
from leadgate.model.loader import parse_spec
from testkit import SMALL_MODEL

GOOD = """
routing:
  rules:
    - {id: ent, when: {field: segment, equals: ent}, team: ae, method: capacity}
    - {id: rest, team: sdr}
slas:
  mql: {respond_within: 4h working, escalate: reassign}
  sal: {respond_within: 2d, stop_on: [convert], escalate: notify}
"""


def test_compiles_rules_and_slas():
    model = compile_spec(parse_spec(SMALL_MODEL + GOOD))
    assert model.routing.rules[1] == RoutingRule("rest", "", None, "sdr", "round_robin")
    assert model.routing.stages == ("mql", "pql")
    assert model.slas == (
        Sla("mql", 14400, True, ("accept", "recycle", "disqualify"), "reassign"),
        Sla("sal", 172800, False, ("convert",), "notify"),
    )


def test_a_model_without_routing_keeps_its_version():
    plain = compile_spec(parse_spec(SMALL_MODEL))
    assert plain.routing == Routing()
    assert plain.slas == ()
    assert plain.version != compile_spec(parse_spec(SMALL_MODEL + GOOD)).version


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h working", (14400, True)),
        ("30m", (1800, False)),
        ("1.5h working", (5400, True)),
        ("1d working", None),
        ("soon", None),
        ("0h", None),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


def problems(extra: str) -> list[str]:
    with pytest.raises(ModelError) as info:
        parse_spec(SMALL_MODEL + extra, "m.yaml")
    return [str(p) for p in info.value.problems]


def test_bad_duration_is_located():
    found = problems("slas:\n  mql: {respond_within: soon}\n")
    assert len(found) == 1
    assert "bad_duration" in found[0]
    assert "slas.mql.respond_within" in found[0]


def test_catch_all_rule_must_be_last_and_event_tests_are_refused():
    found = problems(
        "routing:\n  rules:\n    - {id: a, team: x}\n"
        "    - {id: b, team: y, when: {event: page_view}}\n"
    )
    codes = " ".join(found)
    assert "routing_default_not_last" in codes
    assert "routing_condition" in codes


def test_unknown_method_is_refused():
    found = problems("routing:\n  rules:\n    - {id: a, team: x, method: lottery}\n")
    assert "routing.rules[0].method" in found[0]
