"""The JSON Schema of the model format, for editors (YAML language servers)."""

from __future__ import annotations

import json
from typing import Any

from leadgate.model.spec import ModelSpec

SCHEMA_ID = "https://leadgate.dev/schema/model-v1.json"


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a qualification model file, schema version 1."""
    schema = ModelSpec.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "leadgate qualification model (schema version 1)",
        **schema,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
