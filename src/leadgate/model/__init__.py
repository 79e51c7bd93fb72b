"""The qualification model: spec, checks, compiler and artifact (plain Python)."""

from leadgate.model.artifact import read_artifact, write_artifact
from leadgate.model.compiled import QualificationModel
from leadgate.model.loader import load_model, load_spec, parse_spec

__all__ = [
    "QualificationModel",
    "load_model",
    "load_spec",
    "parse_spec",
    "read_artifact",
    "write_artifact",
]
