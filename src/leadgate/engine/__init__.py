"""The scoring engine (Polars only): one implementation used everywhere."""

from leadgate.engine.score import ScoreResult, score

__all__ = ["ScoreResult", "score"]
