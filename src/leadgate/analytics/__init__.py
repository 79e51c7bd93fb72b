"""Measurement (Polars only): funnel, velocity, validation, thresholds, maturity, report."""
