"""leadgate: a qualification model as code, scored the same way everywhere."""

from leadgate.engine import ScoreResult, score
from leadgate.exceptions import (
    ArtifactError,
    InputDataError,
    LeadgateError,
    ModelError,
    Problem,
    UsageError,
)
from leadgate.model import (
    QualificationModel,
    load_model,
    load_spec,
    parse_spec,
    read_artifact,
    write_artifact,
)

__version__ = "0.1.0"

__all__ = [
    "ArtifactError",
    "InputDataError",
    "LeadgateError",
    "ModelError",
    "Problem",
    "QualificationModel",
    "ScoreResult",
    "UsageError",
    "load_model",
    "load_spec",
    "parse_spec",
    "read_artifact",
    "score",
    "write_artifact",
]
