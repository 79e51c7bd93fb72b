"""Predictive scoring trained on outcomes: features as of a decision moment, learners, artifacts.

LightGBM and scikit-learn are imported only inside the functions that fit or predict, so
importing this package stays cheap.
"""

from leadgate.learn.explain import explain_rows, global_importances, reason_columns
from leadgate.learn.features import DECISION_AT, DEFAULT_NEVER_FEATURES, LABEL, WINDOWS
from leadgate.learn.metrics import Metrics, evaluate
from leadgate.learn.predictor import Predictor, load_predictor, save_predictor
from leadgate.learn.suggest import PointSuggestions, suggest_points
from leadgate.learn.trainer import TrainingConfig, TrainingReport, TrainingSet, train
from leadgate.learn.value import DealSizes, learn_deal_sizes

__all__ = [
    "DECISION_AT",
    "DEFAULT_NEVER_FEATURES",
    "LABEL",
    "WINDOWS",
    "DealSizes",
    "Metrics",
    "PointSuggestions",
    "Predictor",
    "TrainingConfig",
    "TrainingReport",
    "TrainingSet",
    "evaluate",
    "explain_rows",
    "global_importances",
    "learn_deal_sizes",
    "load_predictor",
    "reason_columns",
    "save_predictor",
    "suggest_points",
    "train",
]
