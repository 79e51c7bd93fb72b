"""Predictive scoring trained on outcomes: features as of a decision moment, learners, artifacts."""
