"""The compiled model as a versioned JSON artifact that every part of leadgate loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from leadgate.exceptions import ArtifactError
from leadgate.model.compiled import QualificationModel
from leadgate.model.compiler import compile_spec, content_hash, normalised_document
from leadgate.model.spec import ModelSpec

FORMAT = "leadgate.qualification-model"
ARTIFACT_VERSION = 1


def is_artifact_path(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def artifact_document(spec: ModelSpec) -> dict[str, Any]:
    """The artifact for a checked spec: format, versions, hash and the normalised model."""
    document = normalised_document(spec)
    digest = content_hash(document)
    return {
        "format": FORMAT,
        "artifact_version": ARTIFACT_VERSION,
        "model_version": f"{spec.name}@{digest[:12]}",
        "sha256": digest,
        "model": document,
    }


def write_artifact(spec: ModelSpec, path: str | Path) -> str:
    """Write the artifact as stable, sorted JSON; returns the model version."""
    document = artifact_document(spec)
    Path(path).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", "utf-8")
    return str(document["model_version"])


def read_artifact(path: str | Path) -> QualificationModel:
    """Load a compiled artifact, refusing one whose content does not match its hash."""
    path = Path(path)
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"Cannot read model artifact {path}: {exc}",
            hint="compile one with 'leadgate compile MODEL.yaml --out model.json'",
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ArtifactError(
            f"{path} is not a leadgate model artifact.",
            hint="compile one with 'leadgate compile MODEL.yaml --out model.json'",
        )
    if document.get("artifact_version") != ARTIFACT_VERSION:
        raise ArtifactError(
            f"{path} has artifact version {document.get('artifact_version')!r}; this leadgate "
            f"reads version {ARTIFACT_VERSION}.",
            hint="recompile the model from its YAML with this version of leadgate",
        )
    body = document.get("model")
    if not isinstance(body, dict) or content_hash(body) != document.get("sha256"):
        raise ArtifactError(
            f"{path} was changed after it was compiled (its hash does not match).",
            hint="edit the YAML model and compile it again instead of editing the artifact",
        )
    try:
        spec = ModelSpec.model_validate(body)
    except ValidationError as exc:
        raise ArtifactError(f"{path} holds an invalid model: {exc.error_count()} errors.") from None
    return compile_spec(spec)
