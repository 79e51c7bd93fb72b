"""The compiled artifact: stable content hash, round trip, tamper detection."""

from __future__ import annotations

import json

import pytest

from leadgate.exceptions import ArtifactError
from leadgate.model import load_model, load_spec, parse_spec, read_artifact, write_artifact
from leadgate.model.compiler import compile_spec
from leadgate.model.schema import json_schema
from testkit import EXAMPLE_MODEL, SMALL_MODEL


def test_round_trip_gives_the_same_model(tmp_path):
    spec = load_spec(EXAMPLE_MODEL)
    path = tmp_path / "model.json"
    version = write_artifact(spec, path)
    loaded = read_artifact(path)
    assert loaded == compile_spec(spec)
    assert loaded.version == version
    assert load_model(path) == loaded


def test_version_ignores_formatting_but_not_meaning():
    base = compile_spec(parse_spec(SMALL_MODEL)).version
    reformatted = SMALL_MODEL.replace("name: small", "# a comment\nname:    small")
    assert compile_spec(parse_spec(reformatted)).version == base
    changed = SMALL_MODEL.replace("points: 20, when", "points: 21, when")
    assert compile_spec(parse_spec(changed)).version != base


def test_framework_templates_are_expanded_into_the_artifact(tmp_path):
    path = tmp_path / "m.json"
    write_artifact(parse_spec(SMALL_MODEL), path)
    document = json.loads(path.read_text())
    bant = next(f for f in document["model"]["frameworks"] if f["id"] == "bant")
    assert [c["id"] for c in bant["criteria"]] == ["budget", "authority", "need", "timeline"]
    assert bant["pass"]["at_least"] == 3
    assert "use" not in bant


def test_tampered_artifact_is_refused(tmp_path):
    path = tmp_path / "m.json"
    write_artifact(parse_spec(SMALL_MODEL), path)
    document = json.loads(path.read_text())
    document["model"]["fit"]["rules"][0]["points"] = 99
    path.write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match="changed after it was compiled"):
        read_artifact(path)


def test_not_an_artifact(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{}")
    with pytest.raises(ArtifactError, match="not a leadgate model artifact"):
        read_artifact(path)


def test_json_schema_describes_the_format():
    schema = json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"schema_version", "event_types", "grades", "stages"} <= set(schema["required"])
    assert "half_life_days" in json.dumps(schema)


def test_published_schema_is_up_to_date():
    from pathlib import Path

    from leadgate.model.schema import json_schema_text

    published = Path(__file__).parents[3] / "docs" / "model.schema.json"
    assert published.read_text() == json_schema_text(), (
        "docs/model.schema.json is stale: run `leadgate schema --out docs/model.schema.json`"
    )
