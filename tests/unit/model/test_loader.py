"""Model files: errors name the file, line, column and path, and suggest a fix."""

from __future__ import annotations

import pytest

from leadgate.exceptions import ModelError
from leadgate.model import load_model, parse_spec
from testkit import EXAMPLE_MODEL, SMALL_MODEL


def problems_of(text: str) -> list:
    with pytest.raises(ModelError) as info:
        parse_spec(text, "m.yaml")
    return list(info.value.problems)


def line_of(text: str) -> int:
    """1-based line of the first occurrence of ``text`` in the small model."""
    return SMALL_MODEL[: SMALL_MODEL.index(text)].count("\n") + 1


def edit(old: str, new: str) -> str:
    assert old in SMALL_MODEL, old
    return SMALL_MODEL.replace(old, new, 1)


def test_example_model_compiles():
    model = load_model(EXAMPLE_MODEL)
    assert model.name == "signalstack"
    assert len(model.fit_rules) >= 15
    assert len(model.engagement.rules) >= 15
    assert {fw.id for fw in model.frameworks} == {"bant", "meddic"}


def test_typo_in_key_names_line_column_and_suggestion():
    (p,) = problems_of(edit("decay: {half_life_days: 10}", "decay: {half_lif_days: 10}"))
    assert p.code == "unknown_key"
    assert p.path == "engagement.rules[0].decay.half_lif_days"
    assert (p.location.file, p.location.line) == ("m.yaml", line_of("half_life_days: 10"))
    assert p.location.column is not None
    assert "half_life_days" in p.hint


def test_negative_half_life_hints_at_window():
    (p,) = problems_of(edit("half_life_days: 10", "half_life_days: -5"))
    assert p.code == "bad_decay"
    assert p.path == "engagement.rules[0].decay.half_life_days"
    assert "got -5" in p.message
    assert "window_days" in p.hint


def test_unknown_event_type_in_rule_and_stage():
    text = edit("event: unsubscribe", "event: unsubscrbe")
    text = text.replace("warm: {event: email_open", "warm: {event: email_opened")
    found = {(p.code, p.path): p for p in problems_of(text)}
    rule = found["unknown_event_type", "engagement.rules[3].event"]
    assert "unsubscribe" in rule.hint
    stage = found["unknown_event_type", "temperature.warm.event"]
    assert stage.location.line is not None


def test_overlapping_grade_thresholds():
    (p,) = problems_of(edit("fit: {A: 40, B: 20, C: 10}", "fit: {A: 40, B: 20, C: 25}"))
    assert p.code == "overlapping_grades"
    assert p.path == "grades.fit.C"


def test_overlapping_segments():
    text = edit(
        "  - {id: smb}", "  - {id: mid, when: {field: account.employees, gte: 500}}\n  - {id: smb}"
    )
    (p,) = problems_of(text)
    assert p.code == "overlapping_segments"
    assert "ent" in p.message


def test_unknown_threshold_and_segment_reference():
    text = edit("{threshold: mql_eng}", "{threshold: mql_engagment}")
    text = text.replace("segments: {ent: {mql_fit: 20}}", "segments: {entreprise: {mql_fit: 20}}")
    found = {p.code: p for p in problems_of(text)}
    assert "mql_eng" in found["unknown_threshold"].hint
    assert "ent" in found["unknown_segment"].hint


def test_unknown_framework_template_and_criterion():
    text = edit("{id: bant, use: BANT}", "{id: bant, use: BNAT, pass: {required: [budget]}}")
    (p,) = problems_of(text)
    assert p.code == "unknown_framework"
    assert "bant" in p.hint


def test_framework_pass_rule_that_can_never_pass():
    text = edit("pass: {at_least: 1, required: [pain]}", "pass: {at_least: 3, required: [pian]}")
    codes = sorted(p.code for p in problems_of(text))
    assert codes == ["bad_pass_rule", "unknown_criterion"]


def test_condition_with_two_operators():
    (p,) = problems_of(edit("{field: seats, gt: 5}", "{field: seats, gt: 5, lt: 3}"))
    assert p.code == "condition_shape"
    assert "gt, lt" in p.message


def test_score_field_in_fit_rule_is_not_ready():
    (p,) = problems_of(
        edit("{field: phone, is_missing: true}", "{field: engagement_score, gte: 3}")
    )
    assert p.code == "field_not_ready"


def test_misspelt_derived_field():
    (p,) = problems_of(edit("{field: product_score, gte: 15}", "{field: product_scor, gte: 15}"))
    assert p.code == "unknown_field"
    assert "product_score" in p.hint


def test_invalid_regex_and_lookaround():
    codes = [p.code for p in problems_of(edit('"^(vp|chief)"', '"^(vp|chief"'))]
    assert codes == ["bad_regex"]
    codes = [p.code for p in problems_of(edit('"^(vp|chief)"', '"(?!vp)chief"'))]
    assert codes == ["bad_regex"]


def test_duplicate_rule_ids():
    (p,) = problems_of(edit("{id: mid_size,", "{id: software,"))
    assert p.code == "duplicate_id"
    assert p.path == "fit.rules[1].id"


def test_yaml_syntax_error_has_line():
    (p,) = problems_of("schema_version: 1\nname: [unclosed\n")
    assert p.code == "yaml_syntax"
    assert p.location.line is not None


def test_not_a_mapping():
    (p,) = problems_of("- just\n- a list\n")
    assert p.code == "not_a_mapping"


def test_missing_required_section():
    problems = problems_of("schema_version: 1\nname: x\nevent_types: []\n")
    assert {p.path for p in problems} >= {"grades", "temperature", "stages"}
    assert all(p.code == "missing_key" for p in problems)


def test_bad_id_format():
    (p,) = problems_of(edit("{id: software,", "{id: Software Rule,"))
    assert p.code == "bad_id"


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="Cannot read model"):
        load_model(tmp_path / "nope.yaml")


def test_error_text_is_one_readable_block():
    with pytest.raises(ModelError) as info:
        parse_spec(edit("half_life_days: 10", "half_life_days: -5"), "m.yaml")
    text = str(info.value)
    assert text.startswith("m.yaml: 1 problem")
    assert f"m.yaml:{line_of('half_life_days: 10')}:" in text
    assert "Hint:" in text


def test_yaml_is_loaded_safely(tmp_path):
    marker = tmp_path / "hacked"
    text = SMALL_MODEL.replace(
        "name: small", f"name: !!python/object/apply:os.system ['touch {marker}']"
    )
    (p,) = problems_of(text)
    assert p.path == "name"
    assert not marker.exists()
