"""The predictor artifact: a versioned JSON document holding everything needed to predict.

Version = the SHA-256 of the canonical JSON (like compiled models), so two identical
predictors have the same version and a tampered file is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from leadgate.exceptions import ArtifactError
from leadgate.learn.blend import Blend
from leadgate.learn.calibration import Calibration
from leadgate.learn.metrics import Metrics
from leadgate.learn.value import DealSizes

Floats = npt.NDArray[np.float64]
FORMAT = "leadgate-predictor"
#: 2: target-encoded categories one-hot in the linear model, numeric clipping bounds,
#: probability-grade bounds.
FORMAT_VERSION = 2


@dataclass(frozen=True)
class Predictor:
    """A trained, calibrated predictor of conversion and what it knows about its training."""

    blend: Blend
    calibration: Calibration
    features: tuple[str, ...]
    event_types: tuple[str, ...] = ()
    windows: tuple[int, ...] = ()
    decision_delay_days: float = 0.0
    segment_column: str | None = None
    segment_calibrations: dict[str, Calibration] = field(default_factory=dict)
    metrics: dict[str, Metrics] = field(default_factory=dict)
    importances: tuple[tuple[str, float], ...] = ()
    training: dict[str, Any] = field(default_factory=dict)
    deal_sizes: DealSizes | None = None
    warnings: tuple[str, ...] = ()
    #: Lower bounds of p for the probability letters A, B, C (from training, see grades.py).
    probability_grades: tuple[tuple[str, float], ...] = ()
    version: str = ""

    def raw(self, frame: pl.DataFrame) -> Floats:
        return self.blend.raw(frame)

    def calibrate(self, frame: pl.DataFrame, raw: Floats) -> Floats:
        """Calibrated probabilities; a segment with its own calibration uses it."""
        p = self.calibration.apply(raw)
        if self.segment_column and self.segment_calibrations and self.segment_column in frame:
            segments = frame.get_column(self.segment_column).cast(pl.String).to_numpy()
            for segment, calibration in self.segment_calibrations.items():
                rows = segments == segment
                if rows.any():
                    p[rows] = calibration.apply(raw[rows])
        return p

    def predict(self, frame: pl.DataFrame) -> Floats:
        """Probability of conversion for each row of a feature frame."""
        return self.calibrate(frame, self.raw(frame))

    def to_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "features": list(self.features),
            "event_types": list(self.event_types),
            "windows": list(self.windows),
            "decision_delay_days": self.decision_delay_days,
            "segment_column": self.segment_column,
            "calibration": self.calibration.to_dict(),
            "segment_calibrations": {
                k: v.to_dict() for k, v in sorted(self.segment_calibrations.items())
            },
            "metrics": {k: v.to_dict() for k, v in sorted(self.metrics.items())},
            "importances": [[n, v] for n, v in self.importances],
            "training": self.training,
            "deal_sizes": None if self.deal_sizes is None else self.deal_sizes.to_dict(),
            "warnings": list(self.warnings),
            "probability_grades": [[letter, bound] for letter, bound in self.probability_grades],
            "blend": self.blend.to_dict(),
        }


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=True)


def content_version(document: dict[str, Any]) -> str:
    return "p-" + hashlib.sha256(_canonical(document).encode()).hexdigest()[:16]


def with_version(predictor: Predictor) -> Predictor:
    from dataclasses import replace

    return replace(predictor, version=content_version(predictor.to_document()))


def save_predictor(predictor: Predictor, path: Path) -> str:
    """Write the artifact; returns its version."""
    document = predictor.to_document()
    version = content_version(document)
    payload = {"version": version, **document}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True, allow_nan=True) + "\n", "utf-8")
    return version


def predictor_from_document(data: dict[str, Any], source: str = "predictor") -> Predictor:
    """Rebuild a predictor from its document, refusing unknown formats and altered content."""
    if data.get("format") != FORMAT:
        raise ArtifactError(
            f"{source} is not a leadgate predictor (format {FORMAT} v{FORMAT_VERSION}).",
            hint="train one with `leadgate train ... --out predictor.json`",
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{source} is a predictor of format v{data.get('format_version')}; this leadgate "
            f"reads v{FORMAT_VERSION} (its encodings changed).",
            hint="retrain it with `leadgate train` (the same files and options)",
        )
    document = {k: v for k, v in data.items() if k != "version"}
    version = content_version(document)
    if data.get("version") != version:
        raise ArtifactError(
            f"{source} was changed after training (its version does not match).",
            hint="retrain the predictor instead of editing the file",
        )
    try:
        return Predictor(
            blend=Blend.from_dict(data["blend"]),
            calibration=Calibration.from_dict(data["calibration"]),
            features=tuple(data["features"]),
            event_types=tuple(data["event_types"]),
            windows=tuple(int(w) for w in data["windows"]),
            decision_delay_days=float(data["decision_delay_days"]),
            segment_column=data["segment_column"],
            segment_calibrations={
                k: Calibration.from_dict(v) for k, v in data["segment_calibrations"].items()
            },
            metrics={k: Metrics.from_dict(v) for k, v in data["metrics"].items()},
            importances=tuple((str(n), float(v)) for n, v in data["importances"]),
            training=dict(data["training"]),
            deal_sizes=None
            if data["deal_sizes"] is None
            else DealSizes.from_dict(data["deal_sizes"]),
            warnings=tuple(data["warnings"]),
            probability_grades=tuple(
                (str(letter), float(bound)) for letter, bound in data["probability_grades"]
            ),
            version=version,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ArtifactError(
            f"{source} is incomplete: {error}.",
            hint="retrain the predictor with this leadgate version",
        ) from None


def load_predictor(path: Path) -> Predictor:
    """Read a predictor artifact written by :func:`save_predictor`.

    Raises:
        ArtifactError: not a predictor, changed after training, or incomplete.
    """
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as error:
        raise ArtifactError(
            f"{path} is not JSON ({error.msg}, line {error.lineno}).",
            hint="pass the file `leadgate train --out` wrote",
        ) from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path} is not a leadgate predictor.")
    return predictor_from_document(data, str(path))
